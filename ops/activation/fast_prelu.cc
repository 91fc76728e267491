// fast_prelu.h: row segments with a per-element slope (inner == 1) or one slope
// (inner > 1), AVX-512 intrinsics where the CPU has them (a masked multiply and
// streaming stores), a plain loop otherwise.
#include "ops/activation/fast_prelu.h"

#include <algorithm>

#include "ops/activation/fast_loops.h"

namespace onyx::fast {
namespace {

// Elements per work item: threads get whole items (a multiple of 16 floats, so
// the 64-byte alignment of a row carries over to its items).
constexpr int64_t kItem = int64_t{1} << 14;

// y[i] = x[i] < 0 ? s * x[i] : x[i], s = slope[0] if `broadcast` else slope[i].
void SegmentPlain(const float* x, const float* slope, bool broadcast, float* y, int64_t n) {
  if (broadcast) {
    const float s = slope[0];
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? s * x[i] : x[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.f ? slope[i] * x[i] : x[i];
  }
}

#if defined(__x86_64__)
// `stream`: plain stores up to y's first 64-byte boundary, then non-temporal ones.
ONYX_TARGET_AVX512 void SegmentAvx512(const float* x, const float* slope, bool broadcast,
                                      float* y, int64_t n, bool stream) {
  int64_t i = 0;
  if (stream) {
    i = std::min<int64_t>(((64 - (reinterpret_cast<uintptr_t>(y) & 63)) & 63) / 4, n);
    SegmentPlain(x, slope, broadcast, y, i);
  }
  const __m512 zero = _mm512_setzero_ps();
  const __m512 one_slope = _mm512_set1_ps(slope[0]);
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    const __m512 s = broadcast ? one_slope : _mm512_loadu_ps(slope + i);
    const __mmask16 negative = _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ);
    const __m512 out = _mm512_mask_mul_ps(v, negative, v, s);
    if (stream) {
      _mm512_stream_ps(y + i, out);
    } else {
      _mm512_storeu_ps(y + i, out);
    }
  }
  if (stream) _mm_sfence();
  SegmentPlain(x + i, broadcast ? slope : slope + i, broadcast, y + i, n - i);
}
#endif

}  // namespace

void PReluForward(const float* x, const float* slope, float* y, int64_t outer, int64_t mid,
                  int64_t inner) {
  const int64_t n = outer * mid * inner;
  const bool per_element = inner == 1;
  const int64_t rows = per_element ? outer : outer * mid;
  const int64_t length = per_element ? mid : inner;
  const int64_t items = (length + kItem - 1) / kItem;
  const bool stream = x != y && n * int64_t{sizeof(float)} >= kStreamMinBytes;
#if defined(__x86_64__)
  const bool avx512 = BestIsa() == Isa::kAvx512;
#else
  const bool avx512 = false;
#endif
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
  for (int64_t w = 0; w < rows * items; ++w) {
    const int64_t row = w / items;
    const int64_t begin = (w % items) * kItem;
    const int64_t count = std::min(kItem, length - begin);
    const int64_t offset = row * length + begin;
    const float* s = per_element ? slope + begin : slope + row % mid;
#if defined(__x86_64__)
    if (avx512) {
      SegmentAvx512(x + offset, s, !per_element, y + offset, count, stream);
      continue;
    }
#endif
    SegmentPlain(x + offset, s, !per_element, y + offset, count);
  }
}

}  // namespace onyx::fast
