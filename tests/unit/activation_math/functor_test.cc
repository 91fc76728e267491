// The activation functors of ops/activation/activation_math.h, which the CUDA
// kernels instantiate, checked on the CPU in every build: Forward in double
// against formulas written here independently, Forward in float against
// double, and Backward against central differences of those formulas.
#include <algorithm>
#include <cmath>
#include <limits>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/activation/activation_math.h"

namespace onyx {
namespace {

struct Row {
  std::string name;
  std::function<double(double)> reference;                   // y(x) from the ONNX formula
  std::function<double(double)> forward_double;              // functor, T = double
  std::function<float(float)> forward_float;                 // functor, T = float
  std::function<double(double, double)> backward;            // functor: (dy, saved)
  bool saves_output;
};

template <typename Fn>
Row MakeRow(std::string name, Fn fn, std::function<double(double)> reference) {
  return Row{std::move(name),
             std::move(reference),
             [fn](double x) { return fn.Forward(x); },
             [fn](float x) { return fn.Forward(x); },
             [fn](double dy, double s) { return fn.Backward(dy, s); },
             Fn::kSaved == Saved::kOutput};
}

double Sig(double x) { return 1 / (1 + std::exp(-x)); }
double Softplus(double x) { return x > 30 ? x : std::log(1 + std::exp(x)); }

std::vector<Row> Rows() {
  const double kSeluAlpha = 1.67326319217681884765625, kSeluGamma = 1.05070102214813232421875;
  const double pi = 3.14159265358979323846;
  return {
      MakeRow("Relu", ReluFn{}, [](double x) { return x > 0 ? x : 0; }),
      MakeRow("LeakyRelu", LeakyReluFn{0.2f}, [](double x) { return x >= 0 ? x : 0.2f * x; }),
      MakeRow("Sigmoid", SigmoidFn{}, Sig),
      MakeRow("Tanh", TanhFn{}, [](double x) { return std::tanh(x); }),
      MakeRow("Softplus", SoftplusFn{}, Softplus),
      MakeRow("Elu", EluFn{0.5f}, [](double x) { return x > 0 ? x : 0.5 * (std::exp(x) - 1); }),
      MakeRow("Selu", SeluFn{}, [=](double x) {
        return kSeluGamma * (x > 0 ? x : kSeluAlpha * (std::exp(x) - 1));
      }),
      MakeRow("Gelu", GeluFn{}, [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }),
      MakeRow("GeluTanh", GeluTanhFn{}, [=](double x) {
        return 0.5 * x * (1 + std::tanh(std::sqrt(2 / pi) * (x + 0.044715 * x * x * x)));
      }),
      MakeRow("Mish", MishFn{}, [](double x) { return x * std::tanh(Softplus(x)); }),
      MakeRow("HardSwish", HardSwishFn{}, [](double x) {
        return x * std::fmax(0.0, std::fmin(1.0, x / 6 + 0.5));
      }),
      MakeRow("Swish", SwishFn{1.5f}, [](double x) { return x * Sig(1.5 * x); }),
  };
}

std::vector<double> Points() {
  std::vector<double> xs;
  for (double x = -9.75; x <= 9.75; x += 0.37) xs.push_back(x);
  for (double x : {-1e-3, 1e-3, 0.5, -0.5, 2.9, -2.9, 3.1, -3.1}) xs.push_back(x);
  return xs;
}

class FunctorTest : public ::testing::TestWithParam<Row> {};

TEST_P(FunctorTest, ForwardMatchesReferenceInDoubleAndFloat) {
  const Row& r = GetParam();
  for (double x : Points()) {
    const double expected = r.reference(x);
    EXPECT_NEAR(r.forward_double(x), expected, 1e-12 + 1e-12 * std::fabs(expected)) << "x=" << x;
    const float xf = static_cast<float>(x);
    const double expected_f = r.reference(xf);
    EXPECT_NEAR(r.forward_float(xf), expected_f, 1e-6 + 2e-6 * std::fabs(expected_f))
        << "float x=" << x;
  }
}

TEST_P(FunctorTest, BackwardMatchesCentralDifference) {
  const Row& r = GetParam();
  const double h = 1e-6, dy = 0.75;
  for (double x : Points()) {
    // Skip kinks (0 for the relu family, +-3 for HardSwish), where the two
    // one-sided slopes differ.
    if (std::fabs(x) < 2 * h || std::fabs(std::fabs(x) - 3) < 2 * h) continue;
    const double numeric = dy * (r.reference(x + h) - r.reference(x - h)) / (2 * h);
    const double saved = r.saves_output ? r.reference(x) : x;
    EXPECT_NEAR(r.backward(dy, saved), numeric, 1e-6 + 1e-6 * std::fabs(numeric))
        << r.name << " x=" << x;
  }
}

INSTANTIATE_TEST_SUITE_P(All, FunctorTest, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) { return info.param.name; });

// Where naive formulas overflow or cancel, the functors stay finite and exact.
TEST(FunctorEdges, LargeMagnitudes) {
  EXPECT_FLOAT_EQ(SigmoidFn{}.Forward(-100.f), static_cast<float>(Sig(-100)));
  EXPECT_EQ(SigmoidFn{}.Forward(100.f), 1.f);
  EXPECT_FLOAT_EQ(SoftplusFn{}.Forward(100.f), 100.f);
  EXPECT_GT(SoftplusFn{}.Forward(-50.f), 0.f);
  EXPECT_LE(MishFn{}.Forward(-100.f), 0.f);
  EXPECT_GT(MishFn{}.Forward(-100.f), -1e-30f);
  EXPECT_LT(GeluFn{}.Forward(-10.0), 0.0);  // erfc keeps the tiny negative tail
  EXPECT_TRUE(std::isnan(ReluFn{}.Forward(std::nanf(""))));
}

// Mish's one-exp backward in float against the textbook form in double,
// tanh(sp) + x (1 - tanh(sp)^2) sigmoid(x), over the whole range (incl. the cutoff).
TEST(FunctorEdges, MishBackwardInFloatMatchesTheDoubleFormula) {
  for (int i = -6000; i <= 6000; ++i) {
    const float x = static_cast<float>(i) / 200.f;
    const double xd = x, t = std::tanh(Softplus(xd));
    const double expected = t + xd * (1 - t * t) * Sig(xd);
    EXPECT_NEAR(MishFn{}.Backward(1.f, x), expected, 4e-7 * std::max(1.0, std::fabs(expected)))
        << "x=" << x;
  }
  EXPECT_EQ(MishFn{}.Backward(2.f, std::numeric_limits<float>::infinity()), 2.f);
  EXPECT_EQ(MishFn{}.Backward(2.f, -200.f), 0.f);
  EXPECT_TRUE(std::isnan(MishFn{}.Backward(1.f, std::nanf(""))));
}

// Gelu in float (a fitted normal tail, not erfc) against erfc in double over
// the whole range, relatively, so the negative tail keeps float's precision.
TEST(FunctorEdges, GeluInFloatMatchesErfcInDouble) {
  const double inv_sqrt_2pi = 1 / std::sqrt(2 * 3.14159265358979323846);
  for (int i = -14000; i <= 14000; ++i) {
    const float x = static_cast<float>(i) / 1000.f;
    const double xd = x, cdf = 0.5 * std::erfc(-xd / std::sqrt(2.0));
    const double y = xd * cdf, slope = cdf + xd * inv_sqrt_2pi * std::exp(-0.5 * xd * xd);
    if (std::fabs(y) > 1e-36) {  // normal floats
      EXPECT_NEAR(GeluFn{}.Forward(x), y, 1e-6 * std::fabs(y)) << "x=" << x;
    }
    EXPECT_NEAR(GeluFn{}.Backward(1.f, x), slope, 1e-7 + 1e-6 * std::fabs(slope)) << "x=" << x;
  }
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(GeluFn{}.Forward(inf), inf);
  EXPECT_EQ(GeluFn{}.Forward(0.f), 0.f);
  EXPECT_EQ(GeluFn{}.Forward(-30.f), 0.f);
  EXPECT_EQ(GeluFn{}.Backward(2.f, 30.f), 2.f);
  EXPECT_TRUE(std::isnan(GeluFn{}.Forward(std::nanf(""))));
  EXPECT_TRUE(std::isnan(GeluFn{}.Backward(1.f, std::nanf(""))));
}

// Mish's one-exp forward in float against the textbook form in double.
TEST(FunctorEdges, MishForwardInFloatMatchesTheDoubleFormula) {
  for (int i = -8000; i <= 8000; ++i) {
    const float x = static_cast<float>(i) / 200.f;
    const double xd = x;
    const double expected = xd * std::tanh(xd > 30 ? xd : std::log1p(std::exp(xd)));
    EXPECT_NEAR(MishFn{}.Forward(x), expected, 1e-37 + 1e-6 * std::fabs(expected)) << "x=" << x;
  }
  EXPECT_EQ(MishFn{}.Forward(std::numeric_limits<float>::infinity()),
            std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(MishFn{}.Forward(std::nanf(""))));
}

}  // namespace
}  // namespace onyx
