// fast_prelu.h called directly: misaligned input and output, in place, every
// [outer, mid, inner] pattern and lengths around the 16-float vectors and the
// 16384-float work items, small and streaming-sized, against a double formula.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/activation/fast_prelu.h"

namespace onyx {
namespace {

void Check(int64_t outer, int64_t mid, int64_t inner, int offset, bool in_place) {
  const int64_t n = outer * mid * inner;
  std::vector<float> x(n + 16), slope(mid), out(n + 16, -7.f);
  const float specials[] = {0.f, -0.f, -1e-40f, 1e4f, -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::infinity(), std::nanf("")};
  for (int64_t i = 0; i < n; ++i) {
    x[i + offset] = i < 7 ? specials[i] : float((i * 7919) % 2001 - 1000) * 0.01f;
  }
  for (int64_t m = 0; m < mid; ++m) slope[m] = 0.05f + 0.01f * float(m % 50) - (m % 3 ? 0 : 1);
  float* y = in_place ? x.data() + offset : out.data() + offset;
  const std::vector<float> input(x);
  fast::PReluForward(x.data() + offset, slope.data(), y, outer, mid, inner);
  for (int64_t i = 0; i < n; ++i) {
    const double xi = input[i + offset];
    const double s = slope[(i / inner) % mid];
    const double want = xi < 0 ? s * xi : xi;
    const std::string where = "outer=" + std::to_string(outer) + " mid=" + std::to_string(mid) +
                              " inner=" + std::to_string(inner) + " i=" + std::to_string(i);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(y[i])) << where;
    } else if (std::isinf(want)) {
      ASSERT_EQ(y[i], want) << where;
    } else {
      // one float rounding of s * x (the denormal -1e-40 * s: one 2^-149 step)
      ASSERT_NEAR(y[i], want, 6e-8 * std::fabs(want) + 1.5e-45) << where;
      if (want == 0) {
        ASSERT_EQ(std::signbit(y[i]), std::signbit(want)) << where;
      }
    }
  }
  if (!in_place) {
    EXPECT_EQ(out[n + offset], -7.f) << "wrote past the end";
  }
}

TEST(FastPRelu, MatchesDoubleForEveryPattern) {
  for (int offset : {0, 1, 3}) {
    for (bool in_place : {false, true}) {
      Check(1, 1, 1, offset, in_place);
      Check(1, 1, 40000, offset, in_place);    // scalar slope, several items
      Check(7, 1, 33, offset, in_place);
      Check(3, 5, 17, offset, in_place);       // per channel
      Check(2, 3, 200000, offset, in_place);   // per channel, streaming size
      Check(9, 31, 1, offset, in_place);       // per element of the last dims
      Check(1100, 1000, 1, offset, in_place);  // streaming size
      Check(1, 40001, 1, offset, in_place);    // one row split into items
    }
  }
}

}  // namespace
}  // namespace onyx
