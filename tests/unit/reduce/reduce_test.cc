// Reduce* forward against a reference written here: every output's values are
// gathered in double and reduced by the op's formula. Covers attribute and
// input axes, keepdims, noop_with_empty_axes, negative and non-adjacent axes,
// empty sets, NaN/inf, integer types and bool max/min.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::IntAttr;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using op_test::IntsAttr;

double RefReduce(const std::string& op, const std::vector<double>& v) {
  const double n = v.size();
  double s = 0, p = 1, mx = -kInf, mn = kInf, l1 = 0, sq = 0;
  bool nan = false;
  for (double x : v) {
    s += x;
    p *= x;
    l1 += std::fabs(x);
    sq += x * x;
    nan |= std::isnan(x);
    mx = std::max(mx, x);
    mn = std::min(mn, x);
  }
  if (op == "ReduceSum") return s;
  if (op == "ReduceMean") return s / n;
  if (op == "ReduceProd") return p;
  if (op == "ReduceL1") return l1;
  if (op == "ReduceL2") return std::sqrt(sq);
  if (op == "ReduceSumSquare") return sq;
  if (op == "ReduceLogSum") return std::log(s);
  if (op == "ReduceMax") return nan ? kNaN : mx;
  if (op == "ReduceMin") return nan ? kNaN : mn;
  // ReduceLogSumExp: log(sum(exp(x))) evaluated stably around the max.
  if (nan) return kNaN;
  if (std::isinf(mx)) return mx;
  double e = 0;
  for (double x : v) e += std::exp(x - mx);
  return mx + std::log(e);
}

// Reference output (keepdims layout) of `op` over the axes in `mask`.
std::vector<double> Reference(const std::string& op, const std::vector<double>& x,
                              const Shape& shape, const std::vector<bool>& mask) {
  Shape keep = shape;
  for (size_t d = 0; d < shape.size(); ++d) if (mask[d]) keep[d] = 1;
  std::vector<std::vector<double>> groups(NumElements(keep));
  for (int64_t i = 0; i < NumElements(shape); ++i) {
    int64_t rest = i, out = 0, mul = 1;
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      const int64_t c = rest % shape[d];
      rest /= shape[d];
      out += (mask[d] ? 0 : c) * mul;
      mul *= keep[d];
    }
    groups[out].push_back(x[i]);
  }
  std::vector<double> y;
  for (const auto& g : groups) y.push_back(RefReduce(op, g));
  return y;
}

void ExpectSame(double got, double want, double rel, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << " got " << got;
  } else if (std::isinf(want)) {
    EXPECT_EQ(got, want) << what;
  } else {
    EXPECT_NEAR(got, want, rel * (1 + std::fabs(want))) << what;
  }
}

const char* kOps[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                      "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                      "ReduceSumSquare"};

// Runs `op` with axes as attribute (opset 11) or input (opset 18), checks shape and values.
void CheckOp(const std::string& op, DataType dtype, const Shape& shape,
             const std::vector<double>& x, const std::vector<int64_t>& axes, bool keepdims,
             bool axes_as_input) {
  const int rank = static_cast<int>(shape.size());
  std::vector<bool> mask(rank, axes.empty());
  for (int64_t a : axes) mask[a < 0 ? a + rank : a] = true;
  Shape out;
  for (int d = 0; d < rank; ++d) {
    if (!mask[d]) out.push_back(shape[d]);
    else if (keepdims) out.push_back(1);
  }
  Tensor tx = dtype == DataType::kFloat32
                  ? Tensor::FromVector<float>(shape, std::vector<float>(x.begin(), x.end())).value()
                  : Tensor::FromVector<double>(shape, x).value();
  std::vector<Attribute> attrs = {IntAttr("keepdims", keepdims)};
  std::vector<Tensor> inputs = {tx};
  int64_t opset = 11;
  if (axes_as_input) {
    opset = 18;
    if (!axes.empty()) {
      inputs.push_back(Tensor::FromVector<int64_t>({static_cast<int64_t>(axes.size())}, axes).value());
    }
  } else if (!axes.empty()) {
    attrs.push_back(IntsAttr("axes", axes));
  }
  const std::string what = op + " " + ShapeToString(shape) + " axes " +
                           ShapeToString(axes) + (keepdims ? " keep" : "") +
                           (axes_as_input ? " input" : " attr") + " " + DataTypeName(dtype);
  auto y = op_test::RunOneNode(op, attrs, inputs, opset);
  ASSERT_TRUE(y.ok()) << what << ": " << y.status();
  ASSERT_EQ(y->shape(), out) << what;
  ASSERT_EQ(y->dtype(), dtype) << what;
  const std::vector<double> want = Reference(op, x, shape, mask);
  const double rel = dtype == DataType::kFloat32 ? 2e-6 : 1e-12;
  for (size_t i = 0; i < want.size(); ++i) {
    const double got = dtype == DataType::kFloat32 ? y->data<float>()[i] : y->data<double>()[i];
    ExpectSame(got, want[i], rel, what + " at " + std::to_string(i));
  }
}

std::vector<double> Values(int64_t n, uint32_t seed, double lo, double hi) {
  std::vector<double> v(n);
  for (double& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(lo + (hi - lo) * (seed >> 8) / double(1 << 24));
  }
  return v;
}

TEST(ReduceTest, EveryOpOverAxisPatterns) {
  const Shape shape = {3, 4, 2, 5};
  const std::vector<std::vector<int64_t>> axes_list = {
      {}, {0}, {1}, {3}, {-1}, {1, 2}, {0, 2}, {0, 3}, {1, 3}, {0, 1, 2, 3}, {-4, 2}};
  for (const char* op : kOps) {
    const bool positive = std::string(op) == "ReduceLogSum" || std::string(op) == "ReduceProd";
    const std::vector<double> x = Values(NumElements(shape), 5, positive ? 0.5 : -2, 2);
    for (const auto& axes : axes_list) {
      for (bool keepdims : {true, false}) {
        for (bool as_input : {false, true}) {
          CheckOp(op, DataType::kFloat32, shape, x, axes, keepdims, as_input);
        }
        CheckOp(op, DataType::kFloat64, shape, x, axes, keepdims, false);
      }
    }
  }
}

TEST(ReduceTest, LargeInputsTakeTheParallelPaths) {
  const Shape shape = {64, 50, 40};
  const std::vector<double> x = Values(NumElements(shape), 9, -1, 1);
  for (const char* op : {"ReduceSum", "ReduceMax", "ReduceLogSumExp"}) {
    for (const auto& axes : std::vector<std::vector<int64_t>>{{1}, {2}, {0}, {0, 2}}) {
      CheckOp(op, DataType::kFloat32, shape, x, axes, false, false);
    }
  }
}

TEST(ReduceTest, SpecialValues) {
  const Shape shape = {4, 3};
  const std::vector<double> x = {1, kNaN, 2, kInf, 1, -3, -kInf, -kInf, 0, 5, -kInf, kInf};
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceLogSumExp",
                         "ReduceL1", "ReduceL2", "ReduceSumSquare"}) {
    CheckOp(op, DataType::kFloat32, shape, x, {1}, true, false);
    CheckOp(op, DataType::kFloat64, shape, x, {0}, false, false);
  }
}

TEST(ReduceTest, EmptySetsAndNoop) {
  // Reducing a 0-sized axis gives each op's identity.
  const Tensor empty = Tensor::Zeros(DataType::kFloat32, {2, 0, 3}).value();
  const std::vector<std::pair<std::string, double>> ids = {
      {"ReduceSum", 0}, {"ReduceProd", 1}, {"ReduceMax", -kInf}, {"ReduceMin", kInf},
      {"ReduceL1", 0}, {"ReduceL2", 0}, {"ReduceSumSquare", 0}, {"ReduceLogSum", -kInf},
      {"ReduceLogSumExp", -kInf}, {"ReduceMean", kNaN}};
  const Tensor axes = Tensor::FromVector<int64_t>({1}, std::vector<int64_t>{1}).value();
  for (const auto& [op, id] : ids) {
    auto y = op_test::RunOneNode(op, {}, {empty, axes}, 18);
    ASSERT_TRUE(y.ok()) << op << y.status();
    ASSERT_EQ(y->shape(), (Shape{2, 1, 3}));
    for (int i = 0; i < 6; ++i) ExpectSame(y->data<float>()[i], id, 0, op);
  }
  // noop_with_empty_axes with no axes: ReduceSum is the identity.
  const Tensor x = Tensor::FromVector<float>({2, 2}, std::vector<float>{1, -2, 3, 4}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, op_test::RunOneNode(
                                     "ReduceSum", {IntAttr("noop_with_empty_axes", 1)}, {x}, 13));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(std::vector<float>(y.data<float>(), y.data<float>() + 4),
            (std::vector<float>{1, -2, 3, 4}));
}

TEST(ReduceTest, IntegerAndBoolInputs) {
  const Tensor x = Tensor::FromVector<int64_t>({2, 3}, std::vector<int64_t>{1, -5, 7, 4, 2, 9}).value();
  const Tensor axes = Tensor::FromVector<int64_t>({1}, std::vector<int64_t>{1}).value();
  auto run = [&](const std::string& op, int64_t opset) {
    auto y = op_test::RunOneNode(op, {IntAttr("keepdims", 0)}, {x, axes}, opset);
    EXPECT_TRUE(y.ok()) << y.status();
    return std::vector<int64_t>(y->data<int64_t>(), y->data<int64_t>() + 2);
  };
  EXPECT_EQ(run("ReduceSum", 13), (std::vector<int64_t>{3, 15}));
  EXPECT_EQ(run("ReduceProd", 18), (std::vector<int64_t>{-35, 72}));
  EXPECT_EQ(run("ReduceMax", 18), (std::vector<int64_t>{7, 9}));
  EXPECT_EQ(run("ReduceMin", 18), (std::vector<int64_t>{-5, 2}));
  EXPECT_EQ(run("ReduceMean", 18), (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(run("ReduceL1", 18), (std::vector<int64_t>{13, 15}));
  Tensor b = Tensor::Uninitialized(DataType::kBool, {2, 2}).value();
  const bool bv[4] = {true, false, false, false};
  std::copy(bv, bv + 4, b.data<bool>());
  ASSERT_OK_AND_ASSIGN(Tensor mx, op_test::RunOneNode("ReduceMax", {IntAttr("keepdims", 0)},
                                                           {b, axes}, 20));
  ASSERT_EQ(mx.dtype(), DataType::kBool);
  EXPECT_TRUE(mx.data<bool>()[0]);
  EXPECT_FALSE(mx.data<bool>()[1]);
}

TEST(ReduceTest, BadAxesAreErrorsNamingTheNode) {
  const Tensor x = Tensor::Zeros(DataType::kFloat32, {2, 3}).value();
  for (const std::vector<int64_t>& axes : {std::vector<int64_t>{2}, {-3}, {1, -1}}) {
    auto y = op_test::RunOneNode("ReduceMean", {IntsAttr("axes", axes)}, {x}, 13);
    ASSERT_FALSE(y.ok());
    EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(y.status().message()).find("n0"), std::string::npos) << y.status();
  }
  // The attribute form is gone at opset 18.
  auto y = op_test::RunOneNode("ReduceMean", {IntsAttr("axes", {0})}, {x}, 18);
  EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace onyx
