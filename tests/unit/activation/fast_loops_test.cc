// fast_loops.h / fast_functors.h / fast_softmax.h: every ISA variant this CPU supports (AVX-512,
// AVX2, baseline), with plain and non-temporal stores, at misaligned offsets and
// lengths that cover the aligned head, whole blocks and the tail, against
// double-precision formulas written here. Values cover large |x|, results in the
// denormal range, denormal inputs, +-0, +-inf and NaN.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/activation/activation_math.h"
#include "ops/activation/fast_functors.h"
#include "ops/activation/fast_loops.h"
#include "ops/activation/fast_softmax.h"
#include "tests/unit/activation/fast_test_util.h"

namespace onyx {
namespace {

using fast::Isa;

using fast_test::kInf;
using fast_test::kMinDenormal;
using fast_test::SupportedIsas;

// Specials, then a sweep of [-110, 100] and random values in [-30, 30].
std::vector<float> Inputs(int64_t n) {
  const std::vector<float> special = {
      0.f, -0.f, 1e-40f, -1e-40f, 1e-30f, -1e-30f, 1.f, -1.f, 0.5f, -0.5f, 88.7f, 88.72f,
      88.73f, 89.f, 100.f, -87.3f, -87.4f, -100.f, -103.f, -103.9f, -104.f, -104.5f, -110.f,
      1e4f, -1e4f, kInf, -kInf, std::nanf(""), 0.34657359f, -0.34657359f, 20.f, -20.f,
      3.f, -3.f, 2.f, -2.f};
  std::vector<float> v;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-30.f, 30.f);
  for (int64_t i = 0; i < n; ++i) {
    if (i < int64_t(special.size())) {
      v.push_back(special[i]);
    } else if (i < 2100) {
      v.push_back(-110.f + 210.f * float(i - special.size()) / 2064.f);
    } else {
      v.push_back(dist(rng));
    }
  }
  return v;
}

struct ExpFn {
  template <typename T> T Forward(T x) const { return fast::FastExp(x); }
};

// fast_test::CheckEveryVariant over Inputs, within atol + rtol * |want|.
template <typename Fn, typename Ref>
void CheckEveryVariant(const std::string& name, const Fn& fn, Ref ref, double rtol,
                       double atol) {
  fast_test::CheckEveryVariant(name, fn, Inputs, ref, [rtol, atol](double, double want) {
    return atol + rtol * std::fabs(want);
  });
}

TEST(FastLoops, ReportsBaselineSupported) {
  EXPECT_TRUE(fast::IsaSupported(Isa::kBaseline));
  EXPECT_TRUE(fast::IsaSupported(fast::BestIsa()));
}

TEST(FastLoops, ExpMatchesDoubleIncludingDenormalResults) {
  // 3 ulp relative; in the denormal range a result is off by at most 2 of its ulps.
  CheckEveryVariant("exp", ExpFn{}, [](double x) { return std::exp(x); }, 3.6e-7,
                    2 * kMinDenormal);
}

TEST(FastLoops, SigmoidMatchesDouble) {
  CheckEveryVariant("sigmoid", fast::FastSigmoidFn{},
                    [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, 5e-7,
                    1.2e-38);  // about FLT_MIN: results below it (x < -87.33) are not resolved
}

TEST(FastLoops, TanhMatchesDoubleWithRelativePrecisionNearZero) {
  // 4 * 2^-23 relative everywhere, tiny and denormal x included (tanh x = x there);
  // the AVX-512 rational form is the least precise: 5.7 ulp just below 1 (|x| ~ 8.4).
  CheckEveryVariant("tanh", fast::FastTanhFn{}, [](double x) { return std::tanh(x); }, 4.8e-7,
                    2 * kMinDenormal);
}

TEST(FastLoops, SoftplusMatchesDoubleFromTheDenormalTailToY_EqualsX) {
  // Relative everywhere: log1p(exp(x)) ~ exp(x) for x < -15 and results in the
  // denormal range (x down to -103.3), x + log1p(exp(-x)) rounding to x for large x.
  auto softplus = [](double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); };
  CheckEveryVariant("softplus", fast::FastSoftplusFn{}, softplus, 4.8e-7, 2 * kMinDenormal);
  // A narrow sweep around 0 and -ln2 (e = 0.5: the k = 0 / k = 1 switch), all lanes.
  std::vector<float> x;
  for (int i = -3000; i <= 3000; ++i) x.push_back(float(i) * 1e-3f);
  for (int i = -2000; i <= 2000; ++i) x.push_back(0.69314718f + float(i) * 1e-7f);
  for (Isa isa : SupportedIsas()) {
    std::vector<float> y(x.size());
    fast::ForwardFloat(fast::FastSoftplusFn{}, x.data(), y.data(), int64_t(x.size()), isa, false);
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = softplus(double(x[i]));
      ASSERT_NEAR(y[i], want, 4.8e-7 * want) << fast::IsaName(isa) << " x=" << x[i];
    }
  }
}

TEST(FastLoops, PiecewiseOpsMatchDouble) {
  auto clamp01 = [](double v) { return v < 0 ? 0.0 : (v > 1 ? 1.0 : v); };
  CheckEveryVariant("hardsigmoid", HardSigmoidFn{0.2f, 0.5f},
                    [&](double x) { return clamp01(double(0.2f) * x + double(0.5f)); }, 1.2e-7,
                    6e-8);  // alpha * x + beta rounds to float: half an ulp of 1
  CheckEveryVariant("thresholdedrelu", ThresholdedReluFn{1.f},
                    [](double x) { return x > 1.0 ? x : 0.0; }, 0, 0);
  CheckEveryVariant("relu", ReluFn{}, [](double x) { return x < 0 ? 0.0 : x; }, 0, 0);
  CheckEveryVariant("leakyrelu", LeakyReluFn{0.1f},
                    [](double x) { return x < 0 ? double(0.1f) * x : x; }, 6e-8, kMinDenormal);
  CheckEveryVariant("hardswish", HardSwishFn{},
                    [&](double x) { return x * clamp01(x / 6 + 0.5); }, 3e-7, 2e-7);
}

// Softmax (or LogSoftmax) rows against the double formula; in place and out of place.
void CheckSoftmax(bool log, Isa isa, bool stream, bool in_place, int64_t rows, int64_t cols) {
  std::vector<float> x(rows * cols);
  std::mt19937 rng(rows * 31 + cols);
  std::uniform_real_distribution<float> dist(-20.f, 20.f);
  for (float& v : x) v = dist(rng);
  if (cols >= 3 && rows >= 4) {
    x[0] = 1e4f;                  // row 0: a huge value dominates
    x[cols] = -kInf;              // row 1: exp(-inf) = 0
    x[2 * cols + 1] = std::nanf("");  // row 2: NaN poisons the row
    x[3 * cols + 2] = -100.f;     // row 3: a denormal-range exp
  }
  if (rows >= 5) {  // row 4: all -inf gives 0 / 0 = NaN
    for (int64_t c = 0; c < cols; ++c) x[4 * cols + c] = -kInf;
  }
  std::vector<double> want(x.size()), shifted_size(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double max = -INFINITY;
    bool nan = false;
    for (int64_t c = 0; c < cols; ++c) {
      nan |= std::isnan(x[r * cols + c]);
      max = std::max(max, double(x[r * cols + c]));
    }
    double sum = 0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(double(x[r * cols + c]) - max);
    for (int64_t c = 0; c < cols; ++c) {
      const double shifted = double(x[r * cols + c]) - max;
      shifted_size[r * cols + c] = std::fabs(shifted);
      want[r * cols + c] = nan ? NAN : log ? shifted - std::log(sum) : std::exp(shifted) / sum;
    }
  }
  std::vector<float> out = x;
  float* y = in_place ? out.data() : nullptr;
  std::vector<float> separate(in_place ? 0 : x.size() + 1);
  if (!in_place) y = separate.data() + 1;  // misaligned rows
  const float* in = in_place ? y : x.data();
  if (log) {
    fast::LogSoftmaxLastAxis(in, y, rows, cols, isa, stream && !in_place);
  } else {
    fast::SoftmaxLastAxis(in, y, rows, cols, isa, stream && !in_place);
  }
  for (int64_t i = 0; i < rows * cols; ++i) {
    auto where = [&] {
      return std::string(log ? "log " : "") + fast::IsaName(isa) +
             " rows=" + std::to_string(rows) +
             " cols=" + std::to_string(cols) + " i=" + std::to_string(i);
    };
    if (std::isnan(want[i])) {
      ASSERT_TRUE(std::isnan(y[i])) << where();
    } else if (std::isinf(want[i])) {
      ASSERT_EQ(y[i], want[i]) << where();  // log(0) for the -inf element
    } else if (log) {
      // (x - max) and its difference with log(sum) each round once: about an ulp
      // of |x - max| (up to 1e4 for row 0) and of |y|, plus log(sum)'s absolute
      // error, the float sum's relative error (a few ulp of 1: sum >= 1).
      ASSERT_NEAR(y[i], want[i], 1.2e-7 * (std::fabs(want[i]) + shifted_size[i]) + 3e-7)
          << where();
    } else {
      // x - max rounds to float: half an ulp of |x - max| (< 64 here) is 4e-6 of exp.
      ASSERT_NEAR(y[i], want[i], 5e-6 * want[i] + 4 * kMinDenormal) << where();
    }
  }
}

TEST(FastSoftmax, SoftmaxAndLogSoftmaxMatchDoubleOnEveryVariant) {
  for (Isa isa : SupportedIsas()) {
    for (bool stream : {false, true}) {
      for (bool in_place : {false, true}) {
        for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{
                 {1, 1}, {5, 2}, {4, 15}, {4, 16}, {7, 17}, {800, 2}, {40, 1000}, {4, 20000}}) {
          CheckSoftmax(false, isa, stream, in_place, rows, cols);
          CheckSoftmax(true, isa, stream, in_place, rows, cols);
        }
      }
    }
  }
}

}  // namespace
}  // namespace onyx
