// Unary elementwise ops against double-precision references written here, on
// ordinary values and ±0, ±inf, NaN; float32 (oneDNN or loop) and float64;
// integer Abs/Neg/Sign including INT_MIN.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::RunOneNode;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct UnaryCase {
  std::string op;
  std::function<double(double)> ref;
  double lo, hi;       // range of the random part of the input
  double float_ulps;   // allowed float32 error in units of float epsilon (relative)
  int64_t opset = 13;
};

void PrintTo(const UnaryCase& c, std::ostream* os) { *os << c.op; }

// sign with ±0 and NaN kept.
double RefSign(double x) { return x > 0 ? 1 : (x < 0 ? -1 : x); }
// round half to even, written out.
double RefRound(double x) {
  if (!std::isfinite(x)) return x;
  const double f = std::floor(x), d = x - f;
  double r = d > 0.5 ? f + 1 : (d < 0.5 ? f : (std::fmod(f, 2.0) == 0 ? f : f + 1));
  return r == 0 ? std::copysign(0.0, x) : r;  // -0.4 rounds to -0, as NumPy
}

std::vector<UnaryCase> Cases() {
  return {
      {"Sqrt", [](double x) { return std::sqrt(x); }, 0, 100, 1},
      {"Exp", [](double x) { return std::exp(x); }, -80, 80, 4},
      {"Log", [](double x) { return std::log(x); }, 1e-3, 1e3, 2},
      {"Neg", [](double x) { return -x; }, -10, 10, 0},
      {"Abs", [](double x) { return std::fabs(x); }, -10, 10, 0},
      {"Erf", [](double x) { return std::erf(x); }, -4, 4, 2},
      {"Reciprocal", [](double x) { return 1.0 / x; }, -10, 10, 1},
      {"Sign", RefSign, -3, 3, 0},
      {"Floor", [](double x) { return std::floor(x); }, -10, 10, 0},
      {"Ceil", [](double x) { return std::ceil(x); }, -10, 10, 0},
      {"Round", RefRound, -10, 10, 0},
      {"Sin", [](double x) { return std::sin(x); }, -10, 10, 2},
      {"Cos", [](double x) { return std::cos(x); }, -10, 10, 2},
      // x / (1 + |x|) is inf / inf = NaN at ±inf, as the ONNX reference computes it.
      {"Softsign", [](double x) { return x / (1 + std::fabs(x)); }, -10, 10, 2},
  };
}

std::vector<double> Inputs(const UnaryCase& c) {
  std::vector<double> v = {0.0, -0.0, kInf, -kInf, kNaN, 0.5, -0.5, 1.5, 2.5, -2.5, 1.0, -1.0};
  uint32_t state = 12345;
  for (int i = 0; i < 200; ++i) {
    state = state * 1664525u + 1013904223u;
    v.push_back(static_cast<float>(c.lo + (c.hi - c.lo) * (state >> 8) / double(1 << 24)));
  }
  return v;
}

// Both NaN, equal (incl. inf), or within tol relative / tiny absolute.
void ExpectClose(double got, double want, double rel, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(std::isnan(got)) << what << ": got " << got << ", want NaN";
  } else if (std::isinf(want) || want == 0) {
    EXPECT_EQ(got, want) << what;
    if (want == 0) {
      EXPECT_EQ(std::signbit(got), std::signbit(want)) << what << " sign of zero";
    }
  } else {
    EXPECT_NEAR(got, want, rel * std::fabs(want) + 1e-300) << what;
  }
}

class UnaryTest : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryTest, Float32MatchesDoubleReference) {
  const UnaryCase& c = GetParam();
  const std::vector<double> x = Inputs(c);
  std::vector<float> xf(x.begin(), x.end());
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::FromVector<float>({static_cast<int64_t>(xf.size())}, xf));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(c.op, {}, {t}, c.opset));
  ASSERT_EQ(y.dtype(), DataType::kFloat32);
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = static_cast<float>(c.ref(static_cast<double>(xf[i])));
    // Results that underflow float32 may flush differently: compare absolutely there.
    if (std::fabs(want) < 1e-37 && want != 0) continue;
    ExpectClose(y.data<float>()[i], want, (c.float_ulps + 0.5) * 1.1920929e-7,
                c.op + "(" + std::to_string(xf[i]) + ")");
  }
}

TEST_P(UnaryTest, Float64MatchesDoubleReference) {
  const UnaryCase& c = GetParam();
  const std::vector<double> x = Inputs(c);
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::FromVector<double>({static_cast<int64_t>(x.size())}, x));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(c.op, {}, {t}, c.opset));
  ASSERT_EQ(y.dtype(), DataType::kFloat64);
  for (size_t i = 0; i < x.size(); ++i) {
    ExpectClose(y.data<double>()[i], c.ref(x[i]), 4e-16, c.op + "(" + std::to_string(x[i]) + ")");
  }
}

TEST_P(UnaryTest, LargeFloat32InputRunsInParallelAndMatches) {
  const UnaryCase& c = GetParam();
  const int64_t n = 100000;
  std::vector<float> xf(n);
  for (int64_t i = 0; i < n; ++i) xf[i] = static_cast<float>(c.lo + (c.hi - c.lo) * i / n);
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::FromVector<float>({10, n / 10}, xf));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(c.op, {}, {t}, c.opset));
  ASSERT_EQ(y.shape(), (Shape{10, n / 10}));
  for (int64_t i = 0; i < n; i += 997) {
    const double want = static_cast<float>(c.ref(xf[i]));
    ExpectClose(y.data<float>()[i], want, (c.float_ulps + 0.5) * 1.1920929e-7, c.op);
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, UnaryTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.op; });

template <typename T>
std::vector<T> RunInt(const std::string& op, std::vector<T> x) {
  auto t = Tensor::FromVector<T>({static_cast<int64_t>(x.size())}, x).value();
  auto y = RunOneNode(op, {}, {t}, 13);
  EXPECT_TRUE(y.ok()) << y.status();
  if (!y.ok()) return {};
  const T* p = y->template data<T>();
  return std::vector<T>(p, p + y->num_elements());
}

TEST(UnaryIntTest, AbsNegSignOnInt32AndInt64WrapAtMin) {
  const int32_t min32 = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(RunInt<int32_t>("Abs", {-3, 0, 5, min32}), (std::vector<int32_t>{3, 0, 5, min32}));
  EXPECT_EQ(RunInt<int32_t>("Neg", {-3, 0, 5, min32}), (std::vector<int32_t>{3, 0, -5, min32}));
  EXPECT_EQ(RunInt<int64_t>("Sign", {-7, 0, 9}), (std::vector<int64_t>{-1, 0, 1}));
  EXPECT_EQ(RunInt<uint8_t>("Abs", {0, 200}), (std::vector<uint8_t>{0, 200}));
  EXPECT_EQ(RunInt<int8_t>("Neg", {-128, 127}), (std::vector<int8_t>{-128, -127}));
}

TEST(UnaryIntTest, FloatOnlyOpsRejectIntegersNamingTheNode) {
  auto t = Tensor::FromVector<int32_t>({2}, std::vector<int32_t>{1, 4}).value();
  auto y = RunOneNode("Sqrt", {}, {t}, 13);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(std::string(y.status().message()).find("n0"), std::string::npos) << y.status();
  EXPECT_NE(std::string(y.status().message()).find("int32"), std::string::npos) << y.status();
}

TEST(UnaryShapeTest, KeepsShapeIncludingScalarsAndEmpty) {
  for (const Shape& s : {Shape{}, Shape{0, 3}, Shape{2, 1, 3}}) {
    ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::Zeros(DataType::kFloat32, s));
    ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Exp", {}, {t}, 13));
    EXPECT_EQ(y.shape(), s);
    for (int64_t i = 0; i < y.num_elements(); ++i) EXPECT_EQ(y.data<float>()[i], 1.f);
  }
}

}  // namespace
}  // namespace onyx
