// Float32 forward functors for the exp-family activations (Elu, Selu, Celu,
// Swish, Gelu-tanh, Mish) and the piecewise HardSwish, for fast_loops.h's
// per-ISA loops (fast::ForwardFloat). Each Forward is straight-line float/int
// arithmetic (FastExp-style), which GCC vectorizes for AVX2 and the baseline in a
// TU built with -fno-trapping-math, as activation_cpu.cc is (otherwise GCC keeps
// the selects as branches). The exp ones also have AVX-512 bodies written with
// intrinsics (fast_exp_loops_avx512.h: scalef for 2^n, rcp14 plus a Newton step
// instead of a division, as SigmoidAvx512). Error bounds are stated per functor
// and checked in tests/unit/activation/fast_exp_loops_test.cc.
#pragma once

#include <bit>
#include <cstdint>

#include "ops/activation/fast_loops.h"

namespace onyx::fast {

// expm1(x) = 2^n * expm1(r) + (2^n - 1), n = round(x / ln2), |r| <= ln2 / 2, with
// expm1(r) = r + r^2 (1/2 + r/6 + ... + r^5/5040) (degree-7 Taylor, error < 2e-8
// relative), so results near 0 keep full relative precision (exp(x) - 1 would
// not). Written as 2 * (s p + (s - 1/2)), s = 2^(n-1), so n = 128 (x up to
// 88.8) stays a normal power of two. Error about 2 ulp; x < -80 gives -1 (the
// float nearest), x > 88.72 gives +inf; NaN propagates.
ONYX_FAST_INLINE float FastExpm1(float x) {
  float xc = x > 88.8f ? 88.8f : x;
  xc = xc < -80.f ? -80.f : xc;
  const float t = xc * 1.44269504088896341f + kRoundMagic;
  const float n = t - kRoundMagic;
  const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRoundMagic);
  const float r = ReduceLn2(xc, n);
  float c = 1.f / 5040.f;
  c = c * r + 1.f / 720.f;
  c = c * r + 1.f / 120.f;
  c = c * r + 1.f / 24.f;
  c = c * r + 1.f / 6.f;
  c = c * r + 0.5f;
  const float p = c * (r * r) + r;
  const float s = std::bit_cast<float>((ni - 1 + 127) << 23);
  return 2.f * (s * p + (s - 0.5f));
}

// Elu, Selu and Celu: y = x > 0 ? pos_scale * x : neg_scale * expm1(x * inv_alpha).
// Elu: (1, alpha, 1); Selu: (gamma, gamma * alpha, 1); Celu: (1, alpha, 1 / alpha).
struct FastEluFn {
  float pos_scale = 1.f;
  float neg_scale = 1.f;
  float inv_alpha = 1.f;
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    const float e = FastExpm1(x * inv_alpha);
    return x > 0.f ? pos_scale * x : neg_scale * e;
  }
};

// x * sigmoid(v) where exp(-|v|) underflows into the denormals and to 0 (unlike
// FastSigmoidFn's FLT_MIN floor, which x would scale up), so x = -inf gives
// -inf * 0 = NaN as the double formula does. Error about 3 ulp.
ONYX_FAST_INLINE float TimesSigmoid(float x, float v) {
  const float av = v < 0.f ? -v : v;
  const float e = FastExp(-av);
  const float s = 1.f / (1.f + e);
  return x * (v >= 0.f ? s : e * s);  // NaN v: e is NaN
}

// Swish: y = x * sigmoid(alpha * x).
struct FastSwishFn {
  float alpha = 1.f;
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    return TimesSigmoid(x, alpha * x);
  }
};

// Gelu, approximate="tanh": x/2 (1 + tanh(u)) = x * sigmoid(2u),
// u = sqrt(2/pi) (x + 0.044715 x^3).
inline constexpr float kGeluTanhLinear = 2.f * 0.79788456080286535588f;
inline constexpr float kGeluTanhCubic = 2.f * 0.79788456080286535588f * 0.044715f;
struct FastGeluTanhFn {
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    return TimesSigmoid(x, x * (kGeluTanhLinear + kGeluTanhCubic * (x * x)));
  }
};

// Mish: x * tanh(log1p(e)), e = exp(x): tanh(log1p(e)) = m / (m + 2), m = e (e + 2).
// exp's argument is capped at 20 (where m / (m + 2) rounds to 1: no overflow of
// m); results in the denormal range come out of FastExp. Error about 4 ulp.
struct FastMishFn {
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    const float e = FastExp(x < 20.f ? x : 20.f);  // NaN: 20 (x * 1 is NaN)
    const float m = e * (e + 2.f);
    return x * (m / (m + 2.f));
  }
};

// HardSwish: x * clamp(x / 6 + 1/2, 0, 1), with x * (1/6) instead of the
// division (which GCC keeps without -ffast-math); 1 ulp of v at most.
struct FastHardSwishFn {
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    const float v = x * (1.f / 6.f) + 0.5f;
    return x * (v < 0.f ? 0.f : (v > 1.f ? 1.f : v));
  }
};

}  // namespace onyx::fast

#if defined(__x86_64__)
#include "ops/activation/fast_exp_loops_avx512.h"
#endif
