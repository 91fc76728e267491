// Tick selection, tick labels and the linear scale.
#include "tools/plot/axis.h"

#include <cmath>

#include "gtest/gtest.h"

namespace onyx::plot {
namespace {

TEST(NiceTicksTest, FixedDomainKeepsItsEndsAndPicksWholeSteps) {
  const Ticks t = NiceTicks(-5, 5, 6, /*widen=*/false);
  EXPECT_EQ(t.lo, -5);
  EXPECT_EQ(t.hi, 5);
  EXPECT_EQ(t.step, 2);
  EXPECT_EQ(t.values, (std::vector<double>{-4, -2, 0, 2, 4}));
}

TEST(NiceTicksTest, WidenedDomainEndsOnTicks) {
  const Ticks t = NiceTicks(0.03, 0.97, 5, /*widen=*/true);
  EXPECT_DOUBLE_EQ(t.step, 0.2);
  EXPECT_DOUBLE_EQ(t.lo, 0);
  EXPECT_DOUBLE_EQ(t.hi, 1);
  ASSERT_EQ(t.values.size(), 6u);
  EXPECT_DOUBLE_EQ(t.values[3], 0.6);
  // Steps are 1, 2 or 5 times a power of ten, and the ticks count stays near the target.
  for (double span : {0.0007, 0.3, 1.0, 7.0, 42.0, 1234.0, 9e7}) {
    const Ticks w = NiceTicks(-span, 2 * span, 5, true);
    const double mantissa = w.step / std::pow(10.0, std::floor(std::log10(w.step) + 1e-12));
    EXPECT_TRUE(std::fabs(mantissa - 1) < 1e-9 || std::fabs(mantissa - 2) < 1e-9 ||
                std::fabs(mantissa - 5) < 1e-9)
        << span << ": step " << w.step;
    EXPECT_GE(w.values.size(), 3u) << span;
    EXPECT_LE(w.values.size(), 12u) << span;
    EXPECT_LE(w.lo, -span);
    EXPECT_GE(w.hi, 2 * span);
  }
}

TEST(NiceTicksTest, DegenerateAndNonFiniteRanges) {
  const Ticks single = NiceTicks(3, 3, 5, true);
  EXPECT_LT(single.lo, 3);
  EXPECT_GT(single.hi, 3);
  const Ticks zero = NiceTicks(0, 0, 5, true);
  EXPECT_LT(zero.lo, zero.hi);
  const Ticks nan = NiceTicks(NAN, NAN, 5, true);
  EXPECT_TRUE(std::isfinite(nan.lo) && std::isfinite(nan.hi) && nan.lo < nan.hi);
  const Ticks inf = NiceTicks(1, INFINITY, 5, true);
  EXPECT_TRUE(std::isfinite(inf.hi));
  const Ticks reversed = NiceTicks(5, -5, 6, false);
  EXPECT_EQ(reversed.lo, -5);
  EXPECT_EQ(reversed.hi, 5);
}

TEST(NiceTicksTest, IntegerAxisHasWholeSteps) {
  const Ticks t = NiceTicks(1, 3, 6, true, /*integer=*/true);
  EXPECT_EQ(t.step, 1);
  for (double v : t.values) EXPECT_EQ(v, std::round(v));
  const Ticks one = NiceTicks(1, 1, 6, true, true);
  EXPECT_EQ(one.step, 1);
  EXPECT_LE(one.lo, 1);
  EXPECT_GE(one.hi, 1);
}

TEST(FormatTickTest, DecimalsFollowTheStep) {
  EXPECT_EQ(FormatTick(-2.5, 0.5), "-2.5");
  EXPECT_EQ(FormatTick(4, 2), "4");
  EXPECT_EQ(FormatTick(0.05, 0.05), "0.05");
  EXPECT_EQ(FormatTick(-1e-17, 0.2), "0.0");  // no "-0.0"
  EXPECT_EQ(FormatTick(2e6, 1e6), "2e+06");
  EXPECT_EQ(FormatTick(-5e-7, 5e-7), "-5e-07");
  // Tiny steps on a larger value keep the digits that tell ticks apart.
  EXPECT_EQ(FormatTick(0.004975, 5e-7), "0.004975");
  EXPECT_EQ(FormatTick(1234567, 1), "1234567");
}

TEST(LinearScaleTest, MapsEndsAndMidpoint) {
  const LinearScale y{-1, 3, 200, 40};  // a y axis growing upwards
  EXPECT_DOUBLE_EQ(y(-1), 200);
  EXPECT_DOUBLE_EQ(y(3), 40);
  EXPECT_DOUBLE_EQ(y(1), 120);
}

}  // namespace
}  // namespace onyx::plot
