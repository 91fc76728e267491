// fast_exp_loops.h: every functor on every ISA variant this CPU supports
// (AVX-512 intrinsics bodies, AVX2 and baseline vectorized by GCC), plain and
// non-temporal stores, misaligned outputs and lengths covering the aligned head,
// whole blocks and the tail, against double-precision formulas written here.
// Inputs cover tiny |x| (where expm1 must keep relative precision), large |x|,
// results in the denormal range, denormal inputs, +-0, +-inf and NaN.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/activation/fast_exp_loops.h"
#include "tests/unit/activation/fast_test_util.h"

namespace onyx {
namespace {

using fast::Isa;

using fast_test::kInf;
using fast_test::kMinDenormal;
using fast_test::SupportedIsas;
constexpr double kUlp = 5.9604644775390625e-08;           // 2^-24, half an ulp of 1

// Specials, a sweep of [-110, 100], a sweep of [-1, 1], then random values in
// [-30, 30] and random signed magnitudes 10^[-30, 1].
std::vector<float> Inputs(int64_t n) {
  const std::vector<float> special = {
      0.f, -0.f, 1e-40f, -1e-40f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 1e-3f, -1e-3f, 1.f, -1.f,
      0.5f, -0.5f, 0.34657359f, -0.34657359f, 0.35f, -0.35f, 88.7f, 88.72f, 88.73f, 89.f,
      100.f, -79.f, -81.f, -87.3f, -87.4f, -100.f, -103.f, -104.f, -104.5f, -110.f, 1e4f,
      -1e4f, 1e20f, -1e20f, kInf, -kInf, std::nanf(""), 20.f, -20.f, 3.f, -3.f, 2.f, -2.f,
      6.f, -6.f, 10.5f, -14.8f, -15.f};
  std::vector<float> v(special);
  for (int i = 0; i <= 2000; ++i) v.push_back(-110.f + 210.f * float(i) / 2000.f);
  for (int i = 0; i <= 2000; ++i) v.push_back(-1.f + 2.f * float(i) / 2000.f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> wide(-30.f, 30.f), exponent(-30.f, 1.f);
  while (int64_t(v.size()) < n) {
    const float m = std::pow(10.f, exponent(rng));
    v.push_back(v.size() % 2 ? wide(rng) : (v.size() % 4 ? m : -m));
  }
  v.resize(n);
  return v;
}

// Allowed |got - want| at x for a finite expected value `want`.
using Tolerance = std::function<double(double x, double want)>;

// x times an exp that landed in the denormals (rounded to 2^-149 steps).
double Denormals(double x) { return 2 * kMinDenormal * (1 + std::fabs(x)); }

Tolerance Relative(double rtol, double atol) {
  return [=](double, double want) { return atol + rtol * std::fabs(want); };
}

template <typename Fn>
void CheckEveryVariant(const std::string& name, const Fn& fn,
                       const std::function<double(double)>& ref, const Tolerance& tol) {
  fast_test::CheckEveryVariant(name, fn, Inputs, ref, tol);
}

struct Expm1Fn {
  template <typename T> T Forward(T x) const { return fast::FastExpm1(x); }
};

TEST(FastExpLoops, Expm1KeepsRelativePrecisionEverywhere) {
  CheckEveryVariant("expm1", Expm1Fn{}, [](double x) { return std::expm1(x); },
                    Relative(5 * kUlp, kMinDenormal));
}

TEST(FastExpLoops, EluSeluCeluMatchDouble) {
  auto elu = [](double alpha) {
    return [alpha](double x) { return x > 0 ? x : alpha * std::expm1(x); };
  };
  CheckEveryVariant("elu", fast::FastEluFn{1.f, 1.f, 1.f}, elu(1.0),
                    Relative(5 * kUlp, kMinDenormal));
  CheckEveryVariant("elu alpha=0.3", fast::FastEluFn{1.f, 0.3f, 1.f}, elu(double(0.3f)),
                    Relative(6 * kUlp, kMinDenormal));
  const double alpha = 1.6732632423543772, gamma = 1.0507009873554805;
  CheckEveryVariant("selu",
                    fast::FastEluFn{float(gamma), float(gamma) * float(alpha), 1.f},
                    [&](double x) { return gamma * (x > 0 ? x : alpha * std::expm1(x)); },
                    Relative(8 * kUlp, kMinDenormal));
  for (double a : {2.0, 0.5, 3.0, -1.5}) {  // x * (1/alpha): one more rounding of the argument
    CheckEveryVariant("celu alpha=" + std::to_string(a),
                      fast::FastEluFn{1.f, float(a), 1.f / float(a)},
                      [a](double x) { return x > 0 ? x : a * std::expm1(x / a); },
                      [a](double x, double want) {
                        // x / alpha in the denormals rounds in steps of 2^-149 too
                        return (6 * kUlp + kUlp * std::fabs(x)) * std::fabs(want) +
                               (1 + std::fabs(a)) * kMinDenormal;
                      });
  }
}

TEST(FastExpLoops, SwishAndGeluTanhMatchDouble) {
  for (double alpha : {1.0, 0.5, 1.702, -2.0}) {
    CheckEveryVariant("swish alpha=" + std::to_string(alpha), fast::FastSwishFn{float(alpha)},
                      [&](double x) { return x / (1 + std::exp(-double(float(alpha)) * x)); },
                      // alpha * x rounds: its error times |d log sigmoid / dv| <= |v|
                      [&](double x, double want) {
                        return (8 * kUlp + kUlp * std::fabs(alpha * x)) * std::fabs(want) +
                               Denormals(x);
                      });
  }
  // x/2 (1 + tanh(u)) written as x * sigmoid(2u) (no cancellation in double either).
  CheckEveryVariant(
      "gelu tanh", fast::FastGeluTanhFn{},
      [](double x) {
        const double u = 0.79788456080286535588 * (x + 0.044715 * x * x * x);
        return x / (1 + std::exp(-2 * u));
      },
      // u is computed in float: a few roundings of a value up to |u| ~ 0.07 |x|^3
      [](double x, double want) {
        const double u = 0.79788456080286535588 * std::fabs(x + 0.044715 * x * x * x);
        return (10 * kUlp + 6 * kUlp * u) * std::fabs(want) + Denormals(x);
      });
}

TEST(FastExpLoops, MishMatchesDouble) {
  CheckEveryVariant("mish", fast::FastMishFn{},
                    [](double x) { return x * std::tanh(std::log1p(std::exp(x))); },
                    [](double x, double want) {
                      return 10 * kUlp * std::fabs(want) + Denormals(x);
                    });
}

TEST(FastExpLoops, HardSwishMatchesDouble) {
  auto clamp01 = [](double v) { return v < 0 ? 0.0 : (v > 1 ? 1.0 : v); };
  CheckEveryVariant("hardswish", fast::FastHardSwishFn{},
                    [&](double x) { return x * clamp01(x / 6 + 0.5); },
                    Relative(3 * kUlp, 2e-7));  // v = x/6 + 1/2 is off by an ulp of 1 at most
}

}  // namespace
}  // namespace onyx
