// SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss and CrossEntropyLoss: forward
// against a double-precision reference written from the definition, backward ops
// against central finite differences of the float64 forward kernel, and errors.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "runtime/gradient.h"
#include "tests/status_matchers.h"
#include "tests/unit/loss/loss_test_util.h"

namespace onyx::loss_test {
namespace {

enum class Op { kSce, kNll, kCe };

const char* OpName(Op op) {
  switch (op) {
    case Op::kSce:
      return "SoftmaxCrossEntropyLoss";
    case Op::kNll:
      return "NegativeLogLikelihoodLoss";
    case Op::kCe:
      return "CrossEntropyLoss";
  }
  return "";
}
const char* OpDomain(Op op) { return op == Op::kCe ? kOnyxDomain : kOnnxDomain; }

struct Case {
  Op op = Op::kSce;
  Shape x_shape;          // [N, C, d...]
  std::string reduction;  // none | sum | mean
  bool weights = false;
  bool ignore = false;  // ignore_index = 1 (a valid class)
  double eps = 0;       // CrossEntropyLoss label_smoothing
  DataType dtype = DataType::kFloat32;
  DataType label_dtype = DataType::kInt64;

  std::string Name() const {
    return absl::StrFormat("%s %s %s w=%d ii=%d eps=%g %s labels=%s", OpName(op),
                           ShapeToString(x_shape), reduction, weights, ignore, eps,
                           DataTypeName(dtype), DataTypeName(label_dtype));
  }
};

struct Data {
  std::vector<double> x;
  std::vector<int64_t> labels;
  std::vector<double> w;
  int64_t n = 0, c = 0, d = 1;
};

Data MakeData(const Case& cs, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-3, 3);
  Data data;
  data.n = cs.x_shape[0];
  data.c = cs.x_shape[1];
  for (size_t i = 2; i < cs.x_shape.size(); ++i) data.d *= cs.x_shape[i];
  for (int64_t i = 0; i < NumElements(cs.x_shape); ++i) data.x.push_back(u(rng));
  std::uniform_int_distribution<int64_t> label(0, data.c - 1);
  for (int64_t i = 0; i < data.n * data.d; ++i) data.labels.push_back(label(rng));
  data.labels[0] = 1;  // at least one ignored target when ignore_index = 1
  data.labels[1 % data.labels.size()] = 0;
  if (cs.weights) {
    std::uniform_real_distribution<double> uw(0.2, 2.0);
    for (int64_t c = 0; c < data.c; ++c) data.w.push_back(uw(rng));
  }
  return data;
}

// Reference from the definition: p_c = exp(x_c) / Σ_k exp(x_k) (direct, no
// log-sum-exp; inputs are small), q_c = (1-eps)·[c = y] + eps/C, and
//   loss_i = -Σ_c w_c·q_c·log p_c   (NLL: log p_c = x_c),
// mean divides by Σ_{i not ignored} w_{y_i}. Returns the none-shaped loss or {scalar}.
std::vector<double> Reference(const Case& cs, const Data& data) {
  std::vector<double> per(data.n * data.d, 0.0);
  double total = 0, denom = 0;
  for (int64_t n = 0; n < data.n; ++n) {
    for (int64_t d = 0; d < data.d; ++d) {
      const int64_t i = n * data.d + d;
      const int64_t y = data.labels[i];
      const bool ignored =
          cs.op == Op::kCe ? (cs.ignore ? y == 1 : y == -100) : (cs.ignore && y == 1);
      if (ignored) continue;
      auto x_at = [&](int64_t c) { return data.x[(n * data.c + c) * data.d + d]; };
      double z = 0;
      for (int64_t c = 0; c < data.c; ++c) z += std::exp(x_at(c));
      double l = 0;
      for (int64_t c = 0; c < data.c; ++c) {
        const double log_p = cs.op == Op::kNll ? x_at(c) : std::log(std::exp(x_at(c)) / z);
        const double q = (1 - cs.eps) * (c == y ? 1.0 : 0.0) + cs.eps / data.c;
        const double wc = data.w.empty() ? 1.0 : data.w[c];
        l -= wc * q * log_p;
      }
      per[i] = l;
      total += l;
      denom += data.w.empty() ? 1.0 : data.w[y];
    }
  }
  if (cs.reduction == "none") return per;
  return {cs.reduction == "sum" ? total : total / denom};
}

std::vector<Attribute> Attrs(const Case& cs) {
  std::vector<Attribute> attrs = {StringAttr("reduction", cs.reduction)};
  if (cs.ignore) attrs.push_back(IntAttr("ignore_index", 1));
  if (cs.op == Op::kCe && cs.eps > 0) {
    attrs.push_back(FloatAttr("label_smoothing", static_cast<float>(cs.eps)));
  }
  return attrs;
}

Tensor LabelTensor(const Case& cs, const Data& data) {
  Shape shape = cs.x_shape;
  shape.erase(shape.begin() + 1);
  if (cs.label_dtype == DataType::kInt32) {
    return Make<int32_t>(shape, std::vector<int32_t>(data.labels.begin(), data.labels.end()));
  }
  return Make<int64_t>(shape, data.labels);
}

std::vector<Tensor> Inputs(const Case& cs, const Data& data, const std::vector<double>& x) {
  std::vector<Tensor> in = {FloatTensor(cs.dtype, cs.x_shape, x), LabelTensor(cs, data)};
  if (cs.weights) in.push_back(FloatTensor(cs.dtype, {data.c}, data.w));
  return in;
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (Op op : {Op::kSce, Op::kNll, Op::kCe}) {
    for (const Shape& shape : {Shape{5, 4}, Shape{3, 4, 2, 3}}) {
      for (const char* red : {"none", "sum", "mean"}) {
        for (int flags = 0; flags < 4; ++flags) {
          Case cs;
          cs.op = op;
          cs.x_shape = shape;
          cs.reduction = red;
          cs.weights = flags & 1;
          cs.ignore = flags & 2;
          cs.eps = op == Op::kCe && (flags & 1) ? double{0.15f} : 0.0;  // a float attribute
          cs.dtype = flags == 3 ? DataType::kFloat64 : DataType::kFloat32;
          cs.label_dtype = flags == 1 ? DataType::kInt32 : DataType::kInt64;
          cases.push_back(cs);
        }
      }
    }
  }
  return cases;
}

TEST(ClassLossTest, ForwardMatchesReference) {
  uint32_t seed = 1;
  for (const Case& cs : AllCases()) {
    SCOPED_TRACE(cs.Name());
    const Data data = MakeData(cs, seed++);
    const bool softmax = cs.op != Op::kNll;
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                         RunNode(OpDomain(cs.op), OpName(cs.op), Inputs(cs, data, data.x),
                                 Attrs(cs), softmax ? 2 : 1));
    const std::vector<double> want = Reference(cs, data);
    Shape want_shape = cs.x_shape;
    want_shape.erase(want_shape.begin() + 1);
    EXPECT_EQ(out[0].shape(), cs.reduction == "none" ? want_shape : Shape{});
    EXPECT_EQ(out[0].dtype(), cs.dtype);
    const std::vector<double> got = ToDoubles(out[0]);
    ASSERT_EQ(got.size(), want.size());
    const double tol = cs.dtype == DataType::kFloat64 ? 1e-12 : 2e-6;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << i;
    }
    if (!softmax) continue;
    // log_prob = x_c - log Σ exp(x_k), same shape as the scores.
    const std::vector<double> lp = ToDoubles(out[1]);
    ASSERT_EQ(out[1].shape(), cs.x_shape);
    for (int64_t n = 0; n < data.n; ++n) {
      for (int64_t d = 0; d < data.d; ++d) {
        double z = 0;
        for (int64_t c = 0; c < data.c; ++c) z += std::exp(data.x[(n * data.c + c) * data.d + d]);
        for (int64_t c = 0; c < data.c; ++c) {
          const int64_t k = (n * data.c + c) * data.d + d;
          EXPECT_NEAR(lp[k], std::log(std::exp(data.x[k]) / z), tol * 4) << k;
        }
      }
    }
  }
}

// The backward op for `cs` with upstream `dloss`; `use_log_prob` feeds the forward's
// log_prob (default input_kind) instead of the scores (input_kind = scores).
absl::StatusOr<Tensor> RunGrad(const Case& cs, const Data& data, const Tensor& dloss,
                               bool use_log_prob) {
  std::vector<Tensor> fwd = Inputs(cs, data, data.x);
  std::vector<Attribute> attrs = Attrs(cs);
  Tensor in = fwd[0];
  if (cs.op != Op::kNll) {
    if (use_log_prob) {
      auto out = RunNode(OpDomain(cs.op), OpName(cs.op), fwd, Attrs(cs), 2);
      if (!out.ok()) return out.status();
      in = (*out)[1];
    } else {
      attrs.push_back(StringAttr("input_kind", "scores"));
    }
  }
  std::vector<Tensor> inputs = {dloss, in, fwd[1]};
  if (cs.weights) inputs.push_back(fwd[2]);
  return RunOne(kOnyxDomain, std::string(OpName(cs.op)) + "Grad", inputs, attrs);
}

// Σ_i r_i·loss_i of the forward kernel run in float64 (r: upstream weights).
double WeightedLoss(const Case& cs, const Data& data, const std::vector<double>& x,
                    const std::vector<double>& r) {
  Case c64 = cs;
  c64.dtype = DataType::kFloat64;
  auto out = RunOne(OpDomain(cs.op), OpName(cs.op), Inputs(c64, data, x), Attrs(c64));
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return NAN;
  const std::vector<double> l = ToDoubles(*out);
  double s = 0;
  for (size_t i = 0; i < l.size(); ++i) s += r[i] * l[i];
  return s;
}

TEST(ClassLossTest, BackwardMatchesFiniteDifferences) {
  uint32_t seed = 100;
  for (const Case& base : AllCases()) {
    for (bool use_log_prob : {true, false}) {
      if (base.op == Op::kNll && !use_log_prob) continue;
      Case cs = base;
      cs.dtype = DataType::kFloat64;
      SCOPED_TRACE(cs.Name() + (use_log_prob ? " via log_prob" : " via scores"));
      const Data data = MakeData(cs, seed++);
      std::mt19937 rng(seed);
      std::uniform_real_distribution<double> u(0.5, 1.5);
      std::vector<double> r(cs.reduction == "none" ? data.n * data.d : 1);
      for (double& v : r) v = u(rng);
      Shape dloss_shape = cs.x_shape;
      dloss_shape.erase(dloss_shape.begin() + 1);
      const Tensor dloss =
          cs.reduction == "none" ? Make<double>(dloss_shape, r) : Make<double>({}, r);
      ASSERT_OK_AND_ASSIGN(Tensor dx, RunGrad(cs, data, dloss, use_log_prob));
      ASSERT_EQ(dx.shape(), cs.x_shape);
      const std::vector<double> got = ToDoubles(dx);
      const double h = 1e-6;
      for (size_t k = 0; k < data.x.size(); ++k) {
        std::vector<double> xp = data.x, xm = data.x;
        xp[k] += h;
        xm[k] -= h;
        const double fd = (WeightedLoss(cs, data, xp, r) - WeightedLoss(cs, data, xm, r)) / (2 * h);
        EXPECT_NEAR(got[k], fd, 1e-7 + 1e-6 * std::abs(fd)) << k;
      }
    }
  }
}

TEST(ClassLossTest, GradKernelInFloat32AgreesWithFloat64) {
  Case cs;
  cs.op = Op::kCe;
  cs.x_shape = {3, 4, 2};
  cs.reduction = "mean";
  cs.weights = true;
  cs.ignore = true;
  cs.eps = 0.1;
  const Data data = MakeData(cs, 7);
  ASSERT_OK_AND_ASSIGN(Tensor dx32, RunGrad(cs, data, Make<float>({}, {1.f}), true));
  Case c64 = cs;
  c64.dtype = DataType::kFloat64;
  ASSERT_OK_AND_ASSIGN(Tensor dx64, RunGrad(c64, data, Make<double>({}, {1.0}), false));
  EXPECT_EQ(dx32.dtype(), DataType::kFloat32);
  const std::vector<double> a = ToDoubles(dx32), b = ToDoubles(dx64);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6) << i;
}

TEST(ClassLossTest, LabelOutOfRangeIsInvalidArgument) {
  const Tensor x = Make<float>({2, 3}, {0, 1, 2, 3, 4, 5});
  for (int64_t bad : {3, -1, 7}) {
    const Tensor y = Make<int64_t>({2}, {0, bad});
    auto out = RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {x, y});
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string msg(out.status().message());
    EXPECT_NE(msg.find("node \"n\""), std::string::npos) << msg;
    EXPECT_NE(msg.find(absl::StrFormat("label %d", bad)), std::string::npos) << msg;
    EXPECT_NE(msg.find("C = 3"), std::string::npos) << msg;
  }
  // ignore_index may lie outside [0, C): such labels are skipped, not rejected.
  const Tensor y = Make<int64_t>({2}, {2, -5});
  ASSERT_OK_AND_ASSIGN(Tensor loss, RunOne(kOnnxDomain, "NegativeLogLikelihoodLoss", {x, y},
                                           {IntAttr("ignore_index", -5)}));
  EXPECT_FLOAT_EQ(loss.data<float>()[0], -2.f);
  // CrossEntropyLoss ignores -100 by default, like torch; the backward checks too.
  const Tensor y100 = Make<int64_t>({2}, {2, -100});
  ASSERT_OK_AND_ASSIGN(loss, RunOne(kOnyxDomain, "CrossEntropyLoss", {x, y100}));
  EXPECT_NEAR(loss.data<float>()[0], -std::log(std::exp(2.0) / (1 + std::exp(1.0) + std::exp(2.0))),
              1e-6);
  auto grad = RunOne(kOnyxDomain, "NegativeLogLikelihoodLossGrad",
                     {Make<float>({}, {1.f}), x, Make<int64_t>({2}, {0, 9})});
  ASSERT_FALSE(grad.ok());
  EXPECT_EQ(grad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClassLossTest, BadShapesAndAttributesAreInvalidArgument) {
  const Tensor x = Make<float>({2, 3}, {0, 1, 2, 3, 4, 5});
  const Tensor y = Make<int64_t>({2}, {0, 1});
  auto expect_invalid = [](const absl::StatusOr<Tensor>& s) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
  };
  expect_invalid(
      RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {x, Make<int64_t>({3}, {0, 1, 2})}));
  expect_invalid(RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {x, y, Make<float>({2}, {1, 1})}));
  expect_invalid(RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {x, Make<float>({2}, {0, 1})}));
  expect_invalid(RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {Make<float>({3}, {0, 1, 2}), y}));
  expect_invalid(
      RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {x, y}, {StringAttr("reduction", "avg")}));
  expect_invalid(
      RunOne(kOnyxDomain, "CrossEntropyLoss", {x, y}, {FloatAttr("label_smoothing", 1.5f)}));
  // Reduced loss: the upstream gradient must be a scalar; none: shaped like labels.
  expect_invalid(
      RunOne(kOnyxDomain, "SoftmaxCrossEntropyLossGrad", {Make<float>({2}, {1, 1}), x, y}));
  expect_invalid(RunOne(kOnyxDomain, "SoftmaxCrossEntropyLossGrad", {Make<float>({}, {1}), x, y},
                        {StringAttr("reduction", "none")}));
}

TEST(ClassLossTest, MeanOverOnlyIgnoredTargetsIsNaN) {
  // 0/0, as ONNX's reference and torch give; the gradient is all zeros.
  const Tensor x = Make<float>({2, 3}, {0, 1, 2, 3, 4, 5});
  const Tensor y = Make<int64_t>({2}, {1, 1});
  ASSERT_OK_AND_ASSIGN(Tensor loss, RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {x, y},
                                           {IntAttr("ignore_index", 1)}));
  EXPECT_TRUE(std::isnan(loss.data<float>()[0]));
  ASSERT_OK_AND_ASSIGN(
      Tensor dx, RunOne(kOnyxDomain, "SoftmaxCrossEntropyLossGrad", {Make<float>({}, {1}), x, y},
                        {IntAttr("ignore_index", 1), StringAttr("input_kind", "scores")}));
  for (float v : dx.span<float>()) EXPECT_EQ(v, 0.f);
}

TEST(ClassLossTest, LargeLogitsStayFinite) {
  // log-sum-exp shifts by the max: logits of ±1e4 must not overflow.
  const Tensor x = Make<float>({2, 3}, {1e4f, 0, -1e4f, -1e4f, 1e4f - 2, 1e4f});
  const Tensor y = Make<int64_t>({2}, {0, 1});
  ASSERT_OK_AND_ASSIGN(Tensor loss, RunOne(kOnnxDomain, "SoftmaxCrossEntropyLoss", {x, y},
                                           {StringAttr("reduction", "none")}));
  EXPECT_NEAR(loss.data<float>()[0], 0.0, 1e-6);
  EXPECT_NEAR(loss.data<float>()[1], 2 + std::log1p(std::exp(-2.0)), 1e-4);
}

}  // namespace
}  // namespace onyx::loss_test
