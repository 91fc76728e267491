// AVX-512 bodies of fast_exp_loops.h's exp functors (Elu/Selu/Celu, Swish,
// Gelu-tanh, Mish): the same math with rcp14 plus one Newton step (relative
// error ~2^-28) in place of a division, and scalef for 2^n (right into the
// denormals), and
// the RangeAvx512 specializations that run them 16 floats at a time.
// Included by fast_exp_loops.h only.
#pragma once

#include <cstdint>

#include <immintrin.h>

#include "ops/activation/fast_exp_loops.h"
#include "ops/activation/fast_loops.h"

namespace onyx::fast {
namespace avx512 {

// (The maskz_ forms with a full mask, as in fast_loops.h: GCC 12 warns about
// the unmasked forms' undefined pass-through register.)
inline constexpr __mmask16 kAll = 0xFFFF;

// exp(t) for t in [-150, 88]: below about -103.3 the result is a denormal or 0.
ONYX_TARGET_AVX512 inline __m512 Exp(__m512 t) {
  const __m512 n = _mm512_maskz_roundscale_ps(
      kAll, _mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm512_maskz_scalef_ps(kAll, internal::ExpOfReducedAvx512(t, n), n);
}

// 1 / d for d >= 1 (no zero, infinity or NaN comes in).
ONYX_TARGET_AVX512 inline __m512 Reciprocal(__m512 d) {
  const __m512 r = _mm512_maskz_rcp14_ps(kAll, d);
  return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.f)));
}

// TimesSigmoid: x * sigmoid(v). A NaN v comes only from a NaN x (Swish with a
// finite alpha, Gelu-tanh), which makes the product NaN.
ONYX_TARGET_AVX512 inline __m512 TimesSigmoid(__m512 x, __m512 v) {
  const __m512 av = _mm512_maskz_min_ps(kAll, _mm512_abs_ps(v), _mm512_set1_ps(104.f));
  const __m512 e = Exp(_mm512_sub_ps(_mm512_setzero_ps(), av));
  const __m512 s = Reciprocal(_mm512_add_ps(_mm512_set1_ps(1.f), e));
  const __mmask16 negative = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
  return _mm512_mul_ps(x, _mm512_mask_mul_ps(s, negative, e, s));
}

ONYX_TARGET_AVX512 inline __m512 Swish(__m512 x, float alpha) {
  return TimesSigmoid(x, _mm512_mul_ps(_mm512_set1_ps(alpha), x));
}

ONYX_TARGET_AVX512 inline __m512 GeluTanh(__m512 x) {
  const __m512 x2 = _mm512_mul_ps(x, x);
  const __m512 k = _mm512_fmadd_ps(_mm512_set1_ps(kGeluTanhCubic), x2,
                                   _mm512_set1_ps(kGeluTanhLinear));
  return TimesSigmoid(x, _mm512_mul_ps(x, k));
}

// exp's argument clamped to [-120, 20]: -inf gives e = 0 (so -inf * 0 = NaN).
ONYX_TARGET_AVX512 inline __m512 Mish(__m512 x) {
  const __m512 xc = _mm512_maskz_max_ps(
      kAll, _mm512_maskz_min_ps(kAll, x, _mm512_set1_ps(20.f)), _mm512_set1_ps(-120.f));
  const __m512 e = Exp(xc);
  const __m512 m = _mm512_mul_ps(e, _mm512_add_ps(e, _mm512_set1_ps(2.f)));
  const __m512 t = _mm512_mul_ps(m, Reciprocal(_mm512_add_ps(m, _mm512_set1_ps(2.f))));
  return _mm512_mul_ps(x, t);
}

// FastEluFn: the FastExpm1 math with roundscale/scalef instead of the integer
// tricks and clamps (about a third fewer instructions than GCC's version).
// min/max take the NaN from their second operand, so a NaN x stays NaN.
ONYX_TARGET_AVX512 inline __m512 Elu(__m512 x, float pos_scale, float neg_scale,
                                     float inv_alpha) {
  __m512 a = _mm512_mul_ps(x, _mm512_set1_ps(inv_alpha));
  a = _mm512_maskz_min_ps(kAll, _mm512_set1_ps(88.8f), a);
  a = _mm512_maskz_max_ps(kAll, _mm512_set1_ps(-80.f), a);
  const __m512 n = _mm512_maskz_roundscale_ps(
      kAll, _mm512_mul_ps(a, _mm512_set1_ps(1.44269504088896341f)),
      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = internal::ReduceLn2Avx512(a, n);
  __m512 c = _mm512_set1_ps(1.f / 5040.f);
  c = _mm512_fmadd_ps(c, r, _mm512_set1_ps(1.f / 720.f));
  c = _mm512_fmadd_ps(c, r, _mm512_set1_ps(1.f / 120.f));
  c = _mm512_fmadd_ps(c, r, _mm512_set1_ps(1.f / 24.f));
  c = _mm512_fmadd_ps(c, r, _mm512_set1_ps(1.f / 6.f));
  c = _mm512_fmadd_ps(c, r, _mm512_set1_ps(0.5f));
  const __m512 p = _mm512_fmadd_ps(c, _mm512_mul_ps(r, r), r);  // expm1(r)
  const __m512 s = _mm512_maskz_scalef_ps(kAll, _mm512_set1_ps(0.5f), n);  // 2^(n-1)
  const __m512 half_expm1 = _mm512_fmadd_ps(s, p, _mm512_sub_ps(s, _mm512_set1_ps(0.5f)));
  const __m512 negative_side = _mm512_mul_ps(half_expm1, _mm512_set1_ps(2.f * neg_scale));
  const __mmask16 positive = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GT_OQ);
  return _mm512_mask_mul_ps(negative_side, positive, x, _mm512_set1_ps(pos_scale));
}

// y = body(x) 16 floats at a time (non-temporal stores from y's first 64-byte
// boundary when `stream`), fn.Forward on the head and tail.
template <typename Fn, typename Body>
ONYX_TARGET_AVX512 inline void Range(const Fn& fn, const Body& body, const float* x, float* y,
                                     int64_t n, bool stream) {
  int64_t i = 0;
  if (stream) {
    int64_t head = static_cast<int64_t>((64 - (reinterpret_cast<uintptr_t>(y) & 63)) & 63) / 4;
    if (head > n) head = n;
    internal::PlainRange(fn, x, y, head);
    i = head;
    for (; i + 32 <= n; i += 32) {  // two independent vectors: more work in flight
      if (((i - head) & 1023) == 0) {  // the next 4 KiB of input, as StreamRange does
        for (int64_t j = 0; j < 1024; j += 16) __builtin_prefetch(x + i + 1024 + j);
      }
      const __m512 a = body(_mm512_loadu_ps(x + i));
      const __m512 b = body(_mm512_loadu_ps(x + i + 16));
      _mm512_stream_ps(y + i, a);
      _mm512_stream_ps(y + i + 16, b);
    }
    for (; i + 16 <= n; i += 16) _mm512_stream_ps(y + i, body(_mm512_loadu_ps(x + i)));
    _mm_sfence();
  } else {
    for (; i + 32 <= n; i += 32) {
      const __m512 a = body(_mm512_loadu_ps(x + i));
      const __m512 b = body(_mm512_loadu_ps(x + i + 16));
      _mm512_storeu_ps(y + i, a);
      _mm512_storeu_ps(y + i + 16, b);
    }
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, body(_mm512_loadu_ps(x + i)));
  }
  internal::PlainRange(fn, x + i, y + i, n - i);
}

// The bodies as function objects for Range (a lambda would not carry the
// AVX-512 target attribute).
struct EluBody {
  FastEluFn fn;
  ONYX_TARGET_AVX512 __m512 operator()(__m512 x) const {
    return Elu(x, fn.pos_scale, fn.neg_scale, fn.inv_alpha);
  }
};
struct SwishBody {
  float alpha;
  ONYX_TARGET_AVX512 __m512 operator()(__m512 x) const { return Swish(x, alpha); }
};
struct GeluTanhBody {
  ONYX_TARGET_AVX512 __m512 operator()(__m512 x) const { return GeluTanh(x); }
};
struct MishBody {
  ONYX_TARGET_AVX512 __m512 operator()(__m512 x) const { return Mish(x); }
};

}  // namespace avx512

namespace internal {

template <>
ONYX_TARGET_AVX512 inline void RangeAvx512<FastEluFn>(const FastEluFn& fn, const float* x,
                                                     float* y, int64_t n, bool stream) {
  avx512::Range(fn, avx512::EluBody{fn}, x, y, n, stream);
}
template <>
ONYX_TARGET_AVX512 inline void RangeAvx512<FastSwishFn>(const FastSwishFn& fn, const float* x,
                                                       float* y, int64_t n, bool stream) {
  avx512::Range(fn, avx512::SwishBody{fn.alpha}, x, y, n, stream);
}
template <>
ONYX_TARGET_AVX512 inline void RangeAvx512<FastGeluTanhFn>(const FastGeluTanhFn& fn,
                                                          const float* x, float* y, int64_t n,
                                                          bool stream) {
  avx512::Range(fn, avx512::GeluTanhBody{}, x, y, n, stream);
}
template <>
ONYX_TARGET_AVX512 inline void RangeAvx512<FastMishFn>(const FastMishFn& fn, const float* x,
                                                      float* y, int64_t n, bool stream) {
  avx512::Range(fn, avx512::MishBody{}, x, y, n, stream);
}

}  // namespace internal
}  // namespace onyx::fast
