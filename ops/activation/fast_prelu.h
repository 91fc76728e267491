// Float32 PRelu as one streaming pass (fast_loops.h's ISA choice and
// non-temporal stores for large outputs) for the broadcast patterns that cover
// the usual slopes: x viewed as [outer, mid, inner] with slope [mid] (a scalar
// slope is mid = 1, a per-channel one inner = H*W, a per-column one inner = 1).
#pragma once

#include <cstdint>

namespace onyx::fast {

// y[o, m, i] = x < 0 ? slope[m] * x : x (NaN and -0 pass through), split over
// the OpenMP threads. In place (x == y) is allowed.
void PReluForward(const float* x, const float* slope, float* y, int64_t outer, int64_t mid,
                  int64_t inner);

}  // namespace onyx::fast
