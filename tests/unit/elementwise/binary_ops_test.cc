// Pow, Clip and the variadic Min/Max/Sum/Mean against references computed here
// in double with explicit NumPy broadcasting.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::FloatAttr;
using op_test::Make;
using op_test::RunOneNode;
using op_test::Values;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

using testing_util::BroadcastSource;
using testing_util::Unravel;

void ExpectSame(double got, double want, double rel, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what;
  } else if (std::isinf(want)) {
    EXPECT_EQ(got, want) << what;
  } else {
    EXPECT_NEAR(got, want, rel * std::fabs(want) + 1e-300) << what;
  }
}

TEST(PowTest, FloatBroadcastingMatchesDoublePow) {
  const Shape as = {2, 3, 4}, bs = {3, 1};
  std::vector<float> a(24), b(3);
  for (int i = 0; i < 24; ++i) a[i] = 0.1f + 0.37f * i;
  b = {-1.5f, 0.5f, 3.f};
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Pow", {}, {Make(as, a), Make(bs, b)}, 15));
  ASSERT_EQ(y.shape(), as);
  for (int64_t o = 0; o < 24; ++o) {
    const auto idx = Unravel(o, as);
    const double want = std::pow(double(a[BroadcastSource(idx, as)]),
                                 double(b[BroadcastSource(idx, bs)]));
    ExpectSame(y.data<float>()[o], want, 3e-7, "pow at " + std::to_string(o));
  }
}

TEST(PowTest, SpecialValuesAndSquareFastPath) {
  const std::vector<double> a = {-2, -0.0, 0, kInf, -kInf, kNaN, 3, -8};
  for (double e : {2.0, 0.5, -0.5, -1.0, 0.0, 3.0}) {
    ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Pow", {}, {Make<double>({8}, a), Make<double>({}, {e})}, 13));
    for (size_t i = 0; i < a.size(); ++i) {
      ExpectSame(y.data<double>()[i], std::pow(a[i], e), 1e-15,
                 "pow(" + std::to_string(a[i]) + ", " + std::to_string(e) + ")");
    }
  }
}

TEST(PowTest, MixedTypes) {
  // int base, int exponent: exact, including beyond 2^53.
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Pow", {}, {Make<int64_t>({3}, {3, -2, 7}),
                                                        Make<int64_t>({3}, {39, 3, 0})}, 15));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{4052555153018976267LL, -8, 1}));
  // float base, int exponent; int base, float exponent (truncated).
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Pow", {}, {Make<float>({2}, {1.5f, -2.f}),
                                                 Make<int32_t>({2}, {2, 3})}, 15));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{2.25f, -8.f}));
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Pow", {}, {Make<int32_t>({2}, {2, 10}),
                                                 Make<float>({2}, {0.5f, 2.f})}, 15));
  EXPECT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{1, 100}));
  // Negative integer exponents.
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Pow", {}, {Make<int32_t>({4}, {2, 1, -1, -1}),
                                                 Make<int32_t>({4}, {-1, -5, -3, -2})}, 15));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{0, 1, -1, 1}));
}

TEST(PowTest, IncompatibleShapesAreAnError) {
  auto y = RunOneNode("Pow", {}, {Make<float>({2}, {1, 2}), Make<float>({3}, {1, 2, 3})}, 15);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(y.status().message()).find("n0"), std::string::npos) << y.status();
}

double RefClip(double x, double lo, double hi) {
  if (std::isnan(x)) return x;
  return std::min(std::max(x, lo), hi);
}

TEST(ClipTest, Opset6AttributesAndOpset13Inputs) {
  const std::vector<float> x = {-5, -1, 0, 0.5f, 2, 7, static_cast<float>(kNaN), static_cast<float>(kInf)};
  ASSERT_OK_AND_ASSIGN(Tensor y6, RunOneNode("Clip", {FloatAttr("min", -1.5f), FloatAttr("max", 2.5f)},
                                             {Make<float>({8}, x)}, 6));
  ASSERT_OK_AND_ASSIGN(Tensor y13, RunOneNode("Clip", {}, {Make<float>({8}, x), Make<float>({}, {-1.5f}),
                                                           Make<float>({}, {2.5f})}, 13));
  for (size_t i = 0; i < x.size(); ++i) {
    ExpectSame(y6.data<float>()[i], RefClip(x[i], -1.5, 2.5), 0, "opset 6");
    ExpectSame(y13.data<float>()[i], RefClip(x[i], -1.5, 2.5), 0, "opset 13");
  }
  // No bounds: identity.
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Clip", {}, {Make<float>({8}, x)}, 13));
  for (size_t i = 0; i < x.size(); ++i) ExpectSame(y.data<float>()[i], x[i], 0, "no bounds");
}

TEST(ClipTest, IntegerTypesAndMinGreaterThanMax) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Clip", {}, {Make<int64_t>({4}, {-9, 0, 3, 100}),
                                                         Make<int64_t>({}, {-2}),
                                                         Make<int64_t>({}, {5})}, 13));
  EXPECT_EQ(Values<int64_t>(y), (std::vector<int64_t>{-2, 0, 3, 5}));
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Clip", {}, {Make<int8_t>({3}, {-100, 0, 100}),
                                                  Make<int8_t>({}, {10}), Make<int8_t>({}, {-10})},
                                     13));
  EXPECT_EQ(Values<int8_t>(y), (std::vector<int8_t>{-10, -10, -10}));  // hi wins, as np.clip
  auto bad = RunOneNode("Clip", {}, {Make<float>({2}, {1, 2}), Make<float>({2}, {0, 1})}, 13);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

double RefVariadic(const std::string& op, const std::vector<double>& v) {
  double acc = v[0];
  for (size_t i = 1; i < v.size(); ++i) {
    if (op == "Sum" || op == "Mean") {
      acc += v[i];
    } else if (std::isnan(acc) || std::isnan(v[i])) {
      acc = kNaN;
    } else {
      acc = op == "Max" ? std::max(acc, v[i]) : std::min(acc, v[i]);
    }
  }
  return op == "Mean" ? acc / v.size() : acc;
}

TEST(VariadicTest, BroadcastingOfThreeInputsWithNaN) {
  const std::vector<Shape> shapes = {{2, 1, 3}, {4, 1}, {3}};
  const Shape out = {2, 4, 3};
  std::vector<std::vector<double>> vals;
  std::vector<Tensor> inputs;
  for (size_t k = 0; k < shapes.size(); ++k) {
    std::vector<double> v(NumElements(shapes[k]));
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(3.0 * i + k) * 5;
    if (k == 1) v[2] = kNaN;
    vals.push_back(v);
    inputs.push_back(Make<double>(shapes[k], v));
  }
  for (const std::string op : {"Min", "Max", "Sum", "Mean"}) {
    ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(op, {}, inputs, 13));
    ASSERT_EQ(y.shape(), out) << op;
    for (int64_t o = 0; o < NumElements(out); ++o) {
      const auto idx = Unravel(o, out);
      std::vector<double> operands;
      for (size_t k = 0; k < shapes.size(); ++k) {
        operands.push_back(vals[k][BroadcastSource(idx, shapes[k])]);
      }
      ExpectSame(y.data<double>()[o], RefVariadic(op, operands), 1e-15, op + " " + std::to_string(o));
    }
  }
}

TEST(VariadicTest, OneInputRepeatedInputsAndIntegers) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Max", {}, {Make<int32_t>({3}, {1, -5, 3})}, 13));
  EXPECT_EQ(Values<int32_t>(y), (std::vector<int32_t>{1, -5, 3}));
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Min", {}, {Make<uint64_t>({2}, {5, 1}), Make<uint64_t>({1}, {3})}, 13));
  EXPECT_EQ(Values<uint64_t>(y), (std::vector<uint64_t>{3, 1}));
  Tensor x = Make<float>({2}, {1, 2});
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Sum", {}, {x, Make<float>({2}, {10, 20}), x}, 13));
  EXPECT_EQ(Values<float>(y), (std::vector<float>{12, 24}));
  auto bad = RunOneNode("Sum", {}, {x, Make<double>({2}, {1, 2})}, 13);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace onyx
