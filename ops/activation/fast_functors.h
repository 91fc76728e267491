// Float32 functors for fast_loops.h whose math needs exp or log: each has a
// scalar Forward<float> written as straight-line float/int arithmetic (no libm
// calls) for AVX2 and baseline x86-64, and an AVX-512 body `Avx512` in
// intrinsics (rcp14 plus a Newton step instead of a division, roundscale /
// scalef for the exponent), which fast_loops.h runs on 16 lanes.
// Note: GCC 12 does not vectorize the scalar forms (their clamps and selects
// become branches it cannot if-convert without -fno-trapping-math), so on CPUs
// without AVX-512 they run one float at a time; activation_cpu.cc picks oneDNN
// there where oneDNN has the op.
// Both forms are within a few ulp of the double-precision formula; the tests in
// tests/unit/activation/fast_loops_test.cc check every ISA against it.
#pragma once

#include <bit>
#include <cstdint>

#include "ops/activation/fast_loops.h"

namespace onyx::fast {

namespace internal {

inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2 = 0.693147180559945309f;

// (exp(r) - 1) / r for |r| <= ln2 / 2: Taylor to degree 6 (error < 1.6e-8 relative).
ONYX_FAST_INLINE float Expm1OverR(float r) {
  return (((((r * (1.f / 5040.f) + 1.f / 720.f) * r + 1.f / 120.f) * r + 1.f / 24.f) * r +
           1.f / 6.f) * r + 0.5f) * r + 1.f;
}

// 2 atanh(s) / (2 s) - 1 = s^2/3 + s^4/5 + ... as z P(z), z = s^2 <= 0.04, P
// truncated after s^8/9 (error < 1e-8 relative). Returns P.
ONYX_FAST_INLINE float AtanhTail(float z) {
  return ((z * (1.f / 9.f) + 1.f / 7.f) * z + 1.f / 5.f) * z + 1.f / 3.f;
}

}  // namespace internal

// Sigmoid without overflow. Scalar: e = exp(-|x|), y = 1/(1+e) or e/(1+e), e
// with its argument clamped to [-87.33, 0] (one normal power of two; NaN flows
// through). AVX-512: y = 1 / (1 + exp(-x)) with x clamped to [-87.33, 87], which
// is relative-accurate on both sides (the reciprocal has no cancellation) and
// needs no sign select. Either way, for x < -87.33 the result is FLT_MIN-sized
// instead of smaller (absolute error below 1.2e-38).
struct FastSigmoidFn {
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    const float ax = x < 0.f ? -x : x;
    const float t = ax > 87.33f ? -87.33f : -ax;  // NaN stays NaN
    const float m = t * internal::kLog2e + kRoundMagic;
    const float n = m - kRoundMagic;
    const int32_t ni = std::bit_cast<int32_t>(m) - std::bit_cast<int32_t>(kRoundMagic);
    const float p = ExpOfReduced(t, n);
    const float e = p * std::bit_cast<float>((ni + 127) << 23);
    const float s = 1.f / (1.f + e);
    return x >= 0.f ? s : e * s;  // NaN: e * s is NaN
  }
#if defined(__x86_64__)
  ONYX_TARGET_AVX512 __m512 Avx512(__m512 x) const;
#endif
};

// Tanh. Scalar form from expm1 of t = -2|x| (clamped at -20, where tanh rounds to 1):
// tanh|x| = -expm1(t) / (2 + expm1(t)); expm1(t) = 2^n (1 + r P(r)) - 1 =
// s r P(r) + (s - 1) keeps full relative precision near 0 (n = 0, s = 1: no
// cancellation), and the denominator lies in [1, 2]. The sign of x is put back
// last; NaN propagates. The AVX-512 form is a rational function (see Avx512).
struct FastTanhFn {
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    const float ax = x < 0.f ? -x : x;
    float t = -2.f * ax;
    t = t < -20.f ? -20.f : t;  // NaN stays NaN
    const float m = t * internal::kLog2e + kRoundMagic;
    const float n = m - kRoundMagic;
    const int32_t ni = std::bit_cast<int32_t>(m) - std::bit_cast<int32_t>(kRoundMagic);
    const float r = ReduceLn2(t, n);
    const float pm1 = r * internal::Expm1OverR(r);
    const float s = std::bit_cast<float>((ni + 127) << 23);  // 2^n, n in [-29, 0]
    const float neg_em1 = (1.f - s) - s * pm1;                // -expm1(t), in [0, 1)
    const float y = neg_em1 / (2.f - neg_em1);
    return x < 0.f ? -y : y;
  }
#if defined(__x86_64__)
  ONYX_TARGET_AVX512 __m512 Avx512(__m512 x) const;
#endif
};

// Softplus = max(x, 0) + log1p(e), e = exp(-|x|) in [0, 1]. log1p(e) = k ln2 +
// log(m), 1 + e = m 2^k, m in [0.75, 1.5): k = 0 (e < 0.5) gives m - 1 = e and
// k = 1 gives m - 1 = (e - 1) / 2, both exact, so no rounding of 1 + e is ever
// taken. log(m) = 2 atanh(f / (2 + f)), f = m - 1, by its odd series. For large
// x the log1p term vanishes below x's ulp (y = x); for x below -104 it is 0.
struct FastSoftplusFn {
  template <typename T> ONYX_FAST_INLINE T Forward(T x) const {
    const float ax = x < 0.f ? -x : x;
    const float e = FastExp(-ax);  // 0 below -104; NaN stays NaN
    const bool upper = e >= 0.5f;
    const float f = upper ? (e - 1.f) * 0.5f : e;
    const float s = f / (2.f + f);
    const float s2 = s + s;
    const float z = s * s;
    float log1p = s2 + s2 * (z * internal::AtanhTail(z));
    log1p = upper ? log1p + internal::kLn2 : log1p;
    const float y = (x > 0.f ? x : 0.f) + log1p;
    return x != x ? x : y;
  }
#if defined(__x86_64__)
  ONYX_TARGET_AVX512 __m512 Avx512(__m512 x) const;
#endif
};

#if defined(__x86_64__)
namespace internal {

// Expm1OverR and AtanhTail on 16 lanes (written again: an always-inline template
// would compile for the default target, not its AVX-512 caller).
ONYX_TARGET_AVX512 ONYX_FAST_INLINE __m512 Expm1OverR512(__m512 r) {
  __m512 p = _mm512_set1_ps(1.f / 5040.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  return _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
}
ONYX_TARGET_AVX512 ONYX_FAST_INLINE __m512 AtanhTail512(__m512 z) {
  __m512 p = _mm512_set1_ps(1.f / 9.f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.f / 7.f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.f / 5.f));
  return _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.f / 3.f));
}

// 1 / d: rcp14 plus one Newton step (relative error ~2^-28).
// (The maskz_ forms with a full mask: GCC 12 warns about the unmasked forms'
// undefined pass-through register.)
ONYX_TARGET_AVX512 ONYX_FAST_INLINE __m512 Reciprocal512(__m512 d) {
  const __m512 s = _mm512_maskz_rcp14_ps(0xFFFF, d);
  return _mm512_mul_ps(s, _mm512_fnmadd_ps(d, s, _mm512_set1_ps(2.f)));
}

ONYX_TARGET_AVX512 ONYX_FAST_INLINE __m512 RoundToInt512(__m512 v) {
  return _mm512_maskz_roundscale_ps(0xFFFF, v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// exp(t) for t in [-110, 88]: scalef applies 2^n with correct underflow.
ONYX_TARGET_AVX512 ONYX_FAST_INLINE __m512 Exp512(__m512 t) {
  const __m512 n = RoundToInt512(_mm512_mul_ps(t, _mm512_set1_ps(kLog2e)));
  return _mm512_maskz_scalef_ps(0xFFFF, ExpOfReducedAvx512(t, n), n);
}

}  // namespace internal

ONYX_TARGET_AVX512 inline __m512 FastSigmoidFn::Avx512(__m512 x) const {
  using namespace internal;
  // max/min return their second operand when either is NaN: NaN flows through.
  __m512 xc = _mm512_maskz_max_ps(0xFFFF, _mm512_set1_ps(-87.33f), x);
  xc = _mm512_maskz_min_ps(0xFFFF, _mm512_set1_ps(87.f), xc);
  // exp(-x) = 2^n exp(r), n = round(-x log2e) by the magic-number addition (its
  // low bits are n, so 2^n is an integer add and shift: n in [-126, 126]),
  // r = -x - n ln2 = -(x + n ln2): the polynomial takes v = x + n ln2 with
  // alternating signs. The polynomial is a degree-5 fit of exp on |r| <= ln2/2
  // for relative error (9e-8), one term shorter than ExpOfReduced's Taylor form.
  const __m512 magic = _mm512_set1_ps(kRoundMagic);
  const __m512 m = _mm512_fmadd_ps(xc, _mm512_set1_ps(-kLog2e), magic);
  const __m512 n = _mm512_sub_ps(m, magic);
  __m512 v = _mm512_fmadd_ps(n, _mm512_set1_ps(0.693145751953125f), xc);
  v = _mm512_fmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), v);
  __m512 p = _mm512_set1_ps(-0.008290314115583897f);
  p = _mm512_fmadd_ps(p, v, _mm512_set1_ps(0.04189793020486832f));
  p = _mm512_fmadd_ps(p, v, _mm512_set1_ps(-0.1666763573884964f));
  p = _mm512_fmadd_ps(p, v, _mm512_set1_ps(0.4999915063381195f));
  p = _mm512_fmadd_ps(p, v, _mm512_set1_ps(-0.9999997019767761f));
  p = _mm512_fmadd_ps(p, v, _mm512_set1_ps(1.f));
  const __m512i pow2 = _mm512_maskz_slli_epi32(
      0xFFFF,
      _mm512_add_epi32(_mm512_castps_si512(m),
                       _mm512_set1_epi32(127 - std::bit_cast<int32_t>(kRoundMagic))),
      23);
  const __m512 e = _mm512_mul_ps(p, _mm512_castsi512_ps(pow2));
  return Reciprocal512(_mm512_add_ps(_mm512_set1_ps(1.f), e));
}

// AVX-512 tanh as x P(x^2) / Q(x^2), P and Q of degree 4 (a rational fit of
// tanh(x) / x on [0, 9] for relative error, 2e-8 in exact arithmetic), x clamped
// to [-9, 9] (tanh rounds to +-1 beyond): 16 operations where the expm1 form takes
// 23, and as accurate in float (a few ulp: P and Q's roundings); Q >= 1.
ONYX_TARGET_AVX512 inline __m512 FastTanhFn::Avx512(__m512 x) const {
  __m512 xc = _mm512_maskz_max_ps(0xFFFF, _mm512_set1_ps(-9.f), x);  // NaN flows through
  xc = _mm512_maskz_min_ps(0xFFFF, _mm512_set1_ps(9.f), xc);
  const __m512 u = _mm512_mul_ps(xc, xc);
  __m512 p = _mm512_set1_ps(1.3354587657943284e-08f);
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(2.060911720036529e-05f));
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(0.003495594719424844f));
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(0.13381032645702362f));
  p = _mm512_fmadd_ps(p, u, _mm512_set1_ps(1.f));
  __m512 q = _mm512_set1_ps(7.776553161420452e-07f);
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(0.0003285642305854708f));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(0.025877011939883232f));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(0.4671434760093689f));
  q = _mm512_fmadd_ps(q, u, _mm512_set1_ps(1.f));
  return _mm512_mul_ps(_mm512_mul_ps(xc, p), internal::Reciprocal512(q));
}

ONYX_TARGET_AVX512 inline __m512 FastSoftplusFn::Avx512(__m512 x) const {
  using namespace internal;
  const __m512 neg_ax = _mm512_or_ps(x, _mm512_set1_ps(-0.f));
  const __m512 e = Exp512(_mm512_maskz_max_ps(0xFFFF, _mm512_set1_ps(-110.f), neg_ax));  // NaN flows
  const __mmask16 upper = _mm512_cmp_ps_mask(e, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 f = _mm512_mask_fmadd_ps(e, upper, _mm512_set1_ps(0.5f), _mm512_set1_ps(-0.5f));
  const __m512 s = _mm512_mul_ps(f, Reciprocal512(_mm512_add_ps(f, _mm512_set1_ps(2.f))));
  const __m512 s2 = _mm512_add_ps(s, s);
  const __m512 z = _mm512_mul_ps(s, s);
  __m512 log1p = _mm512_fmadd_ps(s2, _mm512_mul_ps(z, AtanhTail512(z)), s2);
  log1p = _mm512_mask_add_ps(log1p, upper, log1p, _mm512_set1_ps(kLn2));
  return _mm512_add_ps(_mm512_maskz_max_ps(0xFFFF, _mm512_setzero_ps(), x), log1p);  // NaN x: max gives x
}
#endif

}  // namespace onyx::fast
