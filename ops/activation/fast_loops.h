// Float32 elementwise loops compiled for AVX-512, AVX2 and baseline x86-64 in the
// same binary (function target attributes, chosen at run time by a CPU check, so
// the build needs no -march), with non-temporal stores for outputs larger than
// the caches: writing a big output with plain stores first reads every line
// (read-for-ownership), a third of the traffic of an elementwise op.
//
// Functors are activation_math.h's (Forward<float>) or the ones below; a functor
// whose Forward calls libm stays a scalar call in any ISA, so ops that need exp
// use FastExp, written as straight-line float/int arithmetic that vectorizes.
#pragma once

#include <bit>
#include <cstdint>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <omp.h>

namespace onyx::fast {

enum class Isa { kBaseline, kAvx2, kAvx512 };

// The best ISA this CPU (and OS) supports; computed once.
Isa BestIsa();
bool IsaSupported(Isa isa);
const char* IsaName(Isa isa);

// Outputs of at least this many bytes are written with non-temporal stores
// (larger than a core's L2, so the output would leave the cache anyway).
inline constexpr int64_t kStreamMinBytes = int64_t{4} << 20;
// Below this many elements a loop runs on one thread (an OpenMP fork costs more).
inline constexpr int64_t kParallelMinElements = int64_t{1} << 15;

#define ONYX_FAST_INLINE inline __attribute__((always_inline))

// Adding 1.5 * 2^23 to a float of magnitude below 2^22 rounds it to an integer,
// which then sits in the sum's low mantissa bits.
inline constexpr float kRoundMagic = 12582912.f;

// t - n ln2 with ln2 split in two parts (n * hi is exact for the n exp uses): the
// reduced argument of exp, expm1 and friends.
ONYX_FAST_INLINE float ReduceLn2(float t, float n) {
  const float r = t - n * 0.693145751953125f;
  return r - n * 1.428606765330187e-06f;
}

// exp(t - n ln2) for n = round(t / ln2): t reduced by ReduceLn2, then exp's degree-6
// Taylor polynomial on |r| <= ln2 / 2 (error < 1.3e-7 relative). Callers scale the
// result by 2^n in their own way.
ONYX_FAST_INLINE float ExpOfReduced(float t, float n) {
  const float r = ReduceLn2(t, n);
  float p = 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  return p;
}

// exp(x) for float with ~2 ulp error: exp(x) = 2^n * exp(r), n = round(x / ln2),
// |r| <= ln2 / 2, exp(r) by its degree-6 Taylor polynomial (error < 1.3e-7
// relative). 2^n is applied as two normal powers of two so results in the
// denormal range (x down to -103.3) come out right; x > 88.73 gives +inf,
// x < -104 gives 0, NaN propagates.
ONYX_FAST_INLINE float FastExp(float x) {
  float xc = x > 88.8f ? 88.8f : x;
  xc = xc < -104.f ? -104.f : xc;
  const float t = xc * 1.44269504088896341f + kRoundMagic;
  const float n = t - kRoundMagic;
  const int32_t ni = std::bit_cast<int32_t>(t) - std::bit_cast<int32_t>(kRoundMagic);
  const float p = ExpOfReduced(xc, n);
  const int32_t n1 = ni >> 1, n2 = ni - n1;  // each in [-75, 64]
  const float s1 = std::bit_cast<float>((n1 + 127) << 23);
  const float s2 = std::bit_cast<float>((n2 + 127) << 23);
  const float result = p * s1 * s2;
  return x != x ? x : result;
}

namespace internal {

template <typename Fn>
ONYX_FAST_INLINE void PlainRange(const Fn& fn, const float* x, float* y, int64_t n) {
  const Fn local = fn;  // a copy: its attributes cannot alias y, so the loop vectorizes
  for (int64_t i = 0; i < n; ++i) y[i] = local.template Forward<float>(x[i]);
}

// Floats computed into an L1 block before being streamed out.
inline constexpr int64_t kBlock = 1024;

// Plain stores up to y's first 64-byte boundary, then blocks computed in L1 and
// written out by `stream_block`, then a plain tail.
template <typename Fn>
ONYX_FAST_INLINE void StreamRange(const Fn& fn, const float* x, float* y, int64_t n,
                                  void (*stream_block)(float*, const float*)) {
  int64_t head = static_cast<int64_t>((64 - (reinterpret_cast<uintptr_t>(y) & 63)) & 63) / 4;
  if (head > n) head = n;
  PlainRange(fn, x, y, head);
  alignas(64) float block[kBlock];
  int64_t i = head;
  for (; i + kBlock <= n; i += kBlock) {
    // The next block's input, one line per 16 floats: its load overlaps this
    // block's compute (which for exp-based ops is long enough to stall on memory).
    if (i + 2 * kBlock <= n) {
      for (int64_t j = 0; j < kBlock; j += 16) __builtin_prefetch(x + i + kBlock + j);
    }
    PlainRange(fn, x + i, block, kBlock);
    stream_block(y + i, block);
  }
  PlainRange(fn, x + i, y + i, n - i);
}

#if defined(__x86_64__)
#define ONYX_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#define ONYX_TARGET_AVX2 __attribute__((target("avx2,fma")))

// Non-temporal stores of a kBlock-float block from L1 to 64-byte-aligned memory
// (called once per block: these cannot inline into the ISA-neutral StreamRange).
ONYX_TARGET_AVX512 inline void StreamBlockAvx512(float* d, const float* s) {
  for (int64_t j = 0; j < kBlock; j += 16) _mm512_stream_ps(d + j, _mm512_load_ps(s + j));
}
ONYX_TARGET_AVX2 inline void StreamBlockAvx2(float* d, const float* s) {
  for (int64_t j = 0; j < kBlock; j += 8) _mm256_stream_ps(d + j, _mm256_load_ps(s + j));
}
inline void StreamBlockSse(float* d, const float* s) {
  for (int64_t j = 0; j < kBlock; j += 4) _mm_stream_ps(d + j, _mm_load_ps(s + j));
}

template <typename Fn>
ONYX_TARGET_AVX512 void RangeAvx512(const Fn& fn, const float* x, float* y, int64_t n,
                                    bool stream) {
  if (!stream) return PlainRange(fn, x, y, n);
  StreamRange(fn, x, y, n, StreamBlockAvx512);
  _mm_sfence();
}

// ReduceLn2 on 16 lanes (with fused multiply-adds).
ONYX_TARGET_AVX512 inline __m512 ReduceLn2Avx512(__m512 t, __m512 n) {
  const __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), t);
  return _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
}

// ExpOfReduced on 16 lanes (with fused multiply-adds).
ONYX_TARGET_AVX512 inline __m512 ExpOfReducedAvx512(__m512 t, __m512 n) {
  const __m512 r = ReduceLn2Avx512(t, n);
  __m512 p = _mm512_set1_ps(1.f / 720.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return p;
}

// A functor with an `Avx512(__m512) -> __m512` member (fast_functors.h) runs it
// on 16 lanes here: intrinsics where GCC's vectorization of the scalar Forward
// would be slower (no rcp14, roundscale or scalef without -ffast-math). The head
// before y's 64-byte boundary and the tail run the same body on masked lanes, so
// every element gets the same math.
template <typename Fn>
concept HasAvx512Body = requires(const Fn& fn, __m512 v) {
  fn.Avx512(v);
};

template <typename Fn>
  requires HasAvx512Body<Fn>
ONYX_TARGET_AVX512 void RangeAvx512(const Fn& fn, const float* x, float* y, int64_t n,
                                    bool stream) {
  const Fn local = fn;
  auto masked = [&](int64_t i, int64_t count) ONYX_TARGET_AVX512 {
    const __mmask16 m = static_cast<__mmask16>((1u << count) - 1);
    _mm512_mask_storeu_ps(y + i, m, local.Avx512(_mm512_maskz_loadu_ps(m, x + i)));
  };
  int64_t i = 0;
  if (stream) {  // masked up to y's 64-byte boundary, then aligned streaming stores
    int64_t head = static_cast<int64_t>((64 - (reinterpret_cast<uintptr_t>(y) & 63)) & 63) / 4;
    if (head > n) head = n;
    if (head > 0) masked(0, head);
    i = head;
    for (; i + 16 <= n; i += 16) {
      if (((i - head) & 1023) == 0) {  // the next 4 KiB of input, as StreamRange does
        for (int64_t j = 0; j < 1024; j += 16) __builtin_prefetch(x + i + 1024 + j);
      }
      _mm512_stream_ps(y + i, local.Avx512(_mm512_loadu_ps(x + i)));
    }
    _mm_sfence();
  } else {
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, local.Avx512(_mm512_loadu_ps(x + i)));
  }
  if (i < n) masked(i, n - i);
}

template <typename Fn>
ONYX_TARGET_AVX2 void RangeAvx2(const Fn& fn, const float* x, float* y, int64_t n,
                                bool stream) {
  if (!stream) return PlainRange(fn, x, y, n);
  StreamRange(fn, x, y, n, StreamBlockAvx2);
  _mm_sfence();
}

template <typename Fn>
void RangeBaseline(const Fn& fn, const float* x, float* y, int64_t n, bool stream) {
  if (!stream) return PlainRange(fn, x, y, n);
  StreamRange(fn, x, y, n, StreamBlockSse);
  _mm_sfence();
}
#else
template <typename Fn>
void RangeBaseline(const Fn& fn, const float* x, float* y, int64_t n, bool) {
  PlainRange(fn, x, y, n);
}
#endif

template <typename Fn>
void Range(Isa isa, const Fn& fn, const float* x, float* y, int64_t n, bool stream) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return RangeAvx512(fn, x, y, n, stream);
  if (isa == Isa::kAvx2) return RangeAvx2(fn, x, y, n, stream);
#endif
  RangeBaseline(fn, x, y, n, stream);
}

}  // namespace internal

// y[i] = fn.Forward(x[i]) for float32 on `isa` (which must be supported), split
// over the OpenMP threads in 64-byte-aligned chunks. `stream`: non-temporal
// stores (for outputs that leave the cache; never in place).
template <typename Fn>
void ForwardFloat(const Fn& fn, const float* x, float* y, int64_t n, Isa isa, bool stream) {
  if (n < kParallelMinElements) return internal::Range(isa, fn, x, y, n, stream);
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads();
    const int64_t chunk = ((n + threads - 1) / threads + 15) / 16 * 16;
    const int64_t begin = omp_get_thread_num() * chunk;
    const int64_t end = begin + chunk < n ? begin + chunk : n;
    if (begin < end) internal::Range(isa, fn, x + begin, y + begin, end - begin, stream);
  }
}

// The choice the kernels make: best ISA, streaming when the output is large and
// not the input.
template <typename Fn>
void ForwardFloat(const Fn& fn, const float* x, float* y, int64_t n) {
  const bool stream = x != y && n * int64_t{sizeof(float)} >= kStreamMinBytes;
  ForwardFloat(fn, x, y, n, BestIsa(), stream);
}

}  // namespace onyx::fast
