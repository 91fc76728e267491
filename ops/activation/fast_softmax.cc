// Fused last-axis softmax: see fast_softmax.h. One body, compiled per ISA.
#include "ops/activation/fast_softmax.h"

#include <cmath>
#include <vector>

namespace onyx::fast {
namespace {

// Rows up to this many floats go through a per-thread buffer (64 KiB: in L2).
constexpr int64_t kRowBuffer = 16384;
constexpr int kLanes = 16;  // partial max / sum lanes: the loops vectorize without fast-math

// The row's max (a NaN in the row may or may not survive; the exp pass turns it
// into a NaN sum either way).
ONYX_FAST_INLINE float RowMax(const float* x, int64_t cols) {
  float lane_max[kLanes];
  for (int l = 0; l < kLanes; ++l) lane_max[l] = -__builtin_inff();
  int64_t i = 0;
  for (; i + kLanes <= cols; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float v = x[i + l];
      lane_max[l] = lane_max[l] > v ? lane_max[l] : v;  // NaN sticks: v wins unless v < max
    }
  }
  float max = -__builtin_inff();
  for (int l = 0; l < kLanes; ++l) max = max > lane_max[l] ? max : lane_max[l];
  for (; i < cols; ++i) max = max > x[i] ? max : x[i];
  return max;
}

// exp(x - max) into out[0, cols) when kStore, and its sum.
template <bool kStore>
ONYX_FAST_INLINE float SumExpShifted(const float* x, float* out, int64_t cols, float max) {
  float lane_sum[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= cols; i += kLanes) {
    // The next row, one line per 16 floats: its load overlaps this compute-bound pass.
    __builtin_prefetch(x + cols + i);
    for (int l = 0; l < kLanes; ++l) {
      const float e = FastExp(x[i + l] - max);
      if constexpr (kStore) out[i + l] = e;
      lane_sum[l] += e;
    }
  }
  float sum = 0.f;
  for (; i < cols; ++i) {
    const float e = FastExp(x[i] - max);
    if constexpr (kStore) out[i] = e;
    sum += e;
  }
  for (int l = 0; l < kLanes; ++l) sum += lane_sum[l];
  return sum;
}

// exp(x - max) into out[0, cols) and returns its sum.
ONYX_FAST_INLINE float ExpShiftedSum(const float* x, float* out, int64_t cols) {
  return SumExpShifted<true>(x, out, cols, RowMax(x, cols));
}

// out = x - max - log(sum exp(x - max)): (x - max) first, so the element at the
// max comes out as -log(sum) even when |max| is large.
ONYX_FAST_INLINE void LogSoftmaxRow(const float* x, float* out, int64_t cols) {
  const float max = RowMax(x, cols);
  const float log_sum = std::log(SumExpShifted<false>(x, nullptr, cols, max));
  for (int64_t i = 0; i < cols; ++i) out[i] = (x[i] - max) - log_sum;
}

ONYX_FAST_INLINE void Scale(const float* in, float* out, int64_t cols, float s) {
  for (int64_t i = 0; i < cols; ++i) out[i] = in[i] * s;
}

#if defined(__x86_64__)
// The row's max for AVX-512; NaN when the row has a NaN (as in the formula).
ONYX_TARGET_AVX512 float RowMaxAvx512(const float* x, int64_t cols) {
  const __mmask16 all = 0xFFFF;
  const __m512 neg_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 vmax = neg_inf;
  __mmask16 nan = 0;
  int64_t i = 0;
  for (; i + 16 <= cols; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    vmax = _mm512_maskz_max_ps(all, vmax, v);
  }
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols - i)) - 1);
  if (tail != 0) {
    const __m512 v = _mm512_mask_loadu_ps(neg_inf, tail, x + i);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    vmax = _mm512_maskz_max_ps(all, vmax, v);
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, vmax);
  float max = lanes[0];
  for (int l = 1; l < 16; ++l) max = max > lanes[l] ? max : lanes[l];
  return nan != 0 ? __builtin_nanf("") : max;
}

// exp(x - max) (into out when kStore) and its sum for AVX-512 with intrinsics (the
// generic body is vectorized by GCC but its exp costs twice these: scalef applies
// 2^n with correct underflow, so no two-step scaling or clamping is needed).
template <bool kStore>
ONYX_TARGET_AVX512 float SumExpShiftedAvx512(const float* x, float* out, int64_t cols,
                                             float max) {
  const __mmask16 all = 0xFFFF;
  const __m512 vm = _mm512_set1_ps(max);
  __m512 sum = _mm512_setzero_ps();
  auto exp_of = [&](__m512 v) ONYX_TARGET_AVX512 {
    // Clamped at -110, whose exp rounds to 0, as is a NaN x - max (a row with NaN, or
    // all -inf): such a row sums to 0 and scales to 0 * inf = NaN.
    const __m512 t = _mm512_maskz_max_ps(all, _mm512_sub_ps(v, vm), _mm512_set1_ps(-110.f));
    const __m512 n = _mm512_maskz_roundscale_ps(
        all, _mm512_mul_ps(t, _mm512_set1_ps(1.44269504088896341f)),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 p = internal::ExpOfReducedAvx512(t, n);
    return _mm512_maskz_scalef_ps(all, p, n);
  };
  int64_t i = 0;
  for (; i + 16 <= cols; i += 16) {
    __builtin_prefetch(x + cols + i);  // the next row, as SumExpShifted does
    const __m512 e = exp_of(_mm512_loadu_ps(x + i));
    if constexpr (kStore) _mm512_storeu_ps(out + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  const __mmask16 tail = static_cast<__mmask16>((1u << (cols - i)) - 1);
  if (tail != 0) {
    const __m512 e = _mm512_maskz_mov_ps(tail, exp_of(_mm512_mask_loadu_ps(vm, tail, x + i)));
    if constexpr (kStore) _mm512_mask_storeu_ps(out + i, tail, e);
    sum = _mm512_add_ps(sum, e);
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0.f;
  for (int l = 0; l < 16; ++l) total += lanes[l];
  return total;
}

ONYX_TARGET_AVX512 float ExpShiftedSumAvx512(const float* x, float* out, int64_t cols) {
  return SumExpShiftedAvx512<true>(x, out, cols, RowMaxAvx512(x, cols));
}

// LogSoftmaxRow for AVX-512, writing y directly: masked stores up to y's 64-byte
// boundary and for the tail, non-temporal (stream) or plain stores between. A NaN
// max (row with NaN) or a zero sum (row of -inf) gives NaN, as the formula does.
ONYX_TARGET_AVX512 void LogSoftmaxRowAvx512(const float* x, float* y, int64_t cols,
                                            bool stream) {
  const float max = RowMaxAvx512(x, cols);
  const float log_sum = std::log(SumExpShiftedAvx512<false>(x, nullptr, cols, max));
  const __m512 vm = _mm512_set1_ps(max);
  const __m512 vl = _mm512_set1_ps(log_sum);
  auto at = [&](int64_t i, __mmask16 m) ONYX_TARGET_AVX512 {
    return _mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm), vl);
  };
  int64_t head = static_cast<int64_t>((64 - (reinterpret_cast<uintptr_t>(y) & 63)) & 63) / 4;
  if (head > cols) head = cols;
  if (head > 0) {
    const __mmask16 m = static_cast<__mmask16>((1u << head) - 1);
    _mm512_mask_storeu_ps(y, m, at(0, m));
  }
  int64_t i = head;
  if (stream) {
    for (; i + 16 <= cols; i += 16) _mm512_stream_ps(y + i, at(i, 0xFFFF));
  } else {
    for (; i + 16 <= cols; i += 16) _mm512_storeu_ps(y + i, at(i, 0xFFFF));
  }
  if (i < cols) {
    const __mmask16 m = static_cast<__mmask16>((1u << (cols - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, at(i, m));
  }
}
#endif

// Rows shorter than a vector: x - max per row, then one vectorized exp pass over
// all rows, then the per-row sums and scales (the per-row path would be scalar).
ONYX_FAST_INLINE void ShortRows(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float max = xr[0];
    for (int64_t c = 1; c < cols; ++c) max = max > xr[c] ? max : xr[c];
    for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = xr[c] - max;
  }
  const int64_t n = rows * cols;
  for (int64_t i = 0; i < n; ++i) y[i] = FastExp(y[i]);
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * cols;
    float sum = 0.f;
    for (int64_t c = 0; c < cols; ++c) sum += yr[c];
    const float inv = 1.f / sum;
    for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
  }
}

// The per-ISA body over rows [0, rows): `buffer` holds cols floats when
// `stream_copy` (non-temporal row writer, scaling as it copies) is set, else rows
// are computed in y.
// `exp_sum`: a per-ISA replacement for ExpShiftedSum, or nullptr.
ONYX_FAST_INLINE void Rows(const float* x, float* y, int64_t rows, int64_t cols, float* buffer,
                           void (*stream_copy)(float*, const float*, int64_t, float),
                           float (*exp_sum)(const float*, float*, int64_t) = nullptr) {
  if (cols < kLanes) return ShortRows(x, y, rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float* work = stream_copy != nullptr ? buffer : yr;
    const float sum =
        exp_sum != nullptr ? exp_sum(xr, work, cols) : ExpShiftedSum(xr, work, cols);
    if (stream_copy != nullptr) {
      stream_copy(yr, work, cols, 1.f / sum);
    } else {
      Scale(work, work, cols, 1.f / sum);
    }
  }
}

// Rows() for LogSoftmax: each row into `buffer` then streamed out when
// `stream_copy` is set, else computed in y.
ONYX_FAST_INLINE void LogRows(const float* x, float* y, int64_t rows, int64_t cols,
                              float* buffer,
                              void (*stream_copy)(float*, const float*, int64_t, float)) {
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * cols;
    LogSoftmaxRow(x + r * cols, stream_copy != nullptr ? buffer : yr, cols);
    if (stream_copy != nullptr) stream_copy(yr, buffer, cols, 1.f);
  }
}

#if defined(__x86_64__)
// dst = src * s: plain stores to dst's first 64-byte boundary, non-temporal after,
// plain tail. (Softmax's scale by 1 / sum rides on the copy out: one pass over the
// row less; LogSoftmax passes s = 1, exact for every float.)
#define ONYX_STREAM_COPY(name, target, width, store, load, set1, mul)               \
  target void name(float* dst, const float* src, int64_t n, float s) {              \
    int64_t head = static_cast<int64_t>(                                            \
                       (64 - (reinterpret_cast<uintptr_t>(dst) & 63)) & 63) / 4;    \
    if (head > n) head = n;                                                         \
    for (int64_t i = 0; i < head; ++i) dst[i] = src[i] * s;                         \
    int64_t i = head;                                                               \
    const auto vs = set1(s);                                                        \
    for (; i + (width) <= n; i += (width)) store(dst + i, mul(load(src + i), vs));  \
    for (; i < n; ++i) dst[i] = src[i] * s;                                         \
    _mm_sfence();                                                                   \
  }
ONYX_STREAM_COPY(StreamCopyAvx512, ONYX_TARGET_AVX512, 16, _mm512_stream_ps, _mm512_loadu_ps,
                 _mm512_set1_ps, _mm512_mul_ps)
ONYX_STREAM_COPY(StreamCopyAvx2, ONYX_TARGET_AVX2, 8, _mm256_stream_ps, _mm256_loadu_ps,
                 _mm256_set1_ps, _mm256_mul_ps)
ONYX_STREAM_COPY(StreamCopySse, , 4, _mm_stream_ps, _mm_loadu_ps, _mm_set1_ps, _mm_mul_ps)
#undef ONYX_STREAM_COPY

// No OpenMP region inside these: GCC compiles an outlined parallel body for the
// default target, whatever its enclosing function's target attribute.
ONYX_TARGET_AVX512 void RowsAvx512(const float* x, float* y, int64_t rows, int64_t cols,
                                   float* buffer) {
  Rows(x, y, rows, cols, buffer, buffer != nullptr ? StreamCopyAvx512 : nullptr,
       ExpShiftedSumAvx512);
}
ONYX_TARGET_AVX2 void RowsAvx2(const float* x, float* y, int64_t rows, int64_t cols,
                               float* buffer) {
  Rows(x, y, rows, cols, buffer, buffer != nullptr ? StreamCopyAvx2 : nullptr);
}
void RowsBaseline(const float* x, float* y, int64_t rows, int64_t cols, float* buffer) {
  Rows(x, y, rows, cols, buffer, buffer != nullptr ? StreamCopySse : nullptr);
}
// LogSoftmax: AVX-512 streams straight from its registers (`buffer` only says
// whether to stream), the others go through LogRows.
ONYX_TARGET_AVX512 void LogRowsAvx512(const float* x, float* y, int64_t rows, int64_t cols,
                                      float* buffer) {
  for (int64_t r = 0; r < rows; ++r) {
    LogSoftmaxRowAvx512(x + r * cols, y + r * cols, cols, buffer != nullptr);
  }
  if (buffer != nullptr) _mm_sfence();
}
ONYX_TARGET_AVX2 void LogRowsAvx2(const float* x, float* y, int64_t rows, int64_t cols,
                                  float* buffer) {
  LogRows(x, y, rows, cols, buffer, buffer != nullptr ? StreamCopyAvx2 : nullptr);
}
void LogRowsBaseline(const float* x, float* y, int64_t rows, int64_t cols, float* buffer) {
  LogRows(x, y, rows, cols, buffer, buffer != nullptr ? StreamCopySse : nullptr);
}
#else
void RowsBaseline(const float* x, float* y, int64_t rows, int64_t cols, float*) {
  Rows(x, y, rows, cols, nullptr, nullptr);
}
void LogRowsBaseline(const float* x, float* y, int64_t rows, int64_t cols, float*) {
  LogRows(x, y, rows, cols, nullptr, nullptr);
}
#endif

void RowsOn(bool log, Isa isa, const float* x, float* y, int64_t rows, int64_t cols,
            float* buffer) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) {
    return log ? LogRowsAvx512(x, y, rows, cols, buffer) : RowsAvx512(x, y, rows, cols, buffer);
  }
  if (isa == Isa::kAvx2) {
    return log ? LogRowsAvx2(x, y, rows, cols, buffer) : RowsAvx2(x, y, rows, cols, buffer);
  }
#endif
  return log ? LogRowsBaseline(x, y, rows, cols, buffer) : RowsBaseline(x, y, rows, cols, buffer);
}

// Rows split over the OpenMP threads in equal static chunks.
void LastAxis(bool log, const float* x, float* y, int64_t rows, int64_t cols, Isa isa,
              bool stream) {
  const bool buffered = stream && cols <= kRowBuffer;
  if (rows * cols < kParallelMinElements) {
    std::vector<float> buffer(buffered ? static_cast<size_t>(cols) : 0);
    return RowsOn(log, isa, x, y, rows, cols, buffered ? buffer.data() : nullptr);
  }
#pragma omp parallel
  {
    std::vector<float> buffer(buffered ? static_cast<size_t>(cols) : 0);
    const int64_t threads = omp_get_num_threads();
    const int64_t chunk = (rows + threads - 1) / threads;
    const int64_t begin = omp_get_thread_num() * chunk;
    const int64_t end = begin + chunk < rows ? begin + chunk : rows;
    if (begin < end) {
      RowsOn(log, isa, x + begin * cols, y + begin * cols, end - begin, cols,
             buffered ? buffer.data() : nullptr);
    }
  }
}

}  // namespace

void SoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols, Isa isa,
                     bool stream) {
  LastAxis(false, x, y, rows, cols, isa, stream);
}

void SoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols) {
  const bool stream = x != y && rows * cols * int64_t{sizeof(float)} >= kStreamMinBytes;
  SoftmaxLastAxis(x, y, rows, cols, BestIsa(), stream);
}

void LogSoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols, Isa isa,
                        bool stream) {
  LastAxis(true, x, y, rows, cols, isa, stream);
}

void LogSoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols) {
  const bool stream = x != y && rows * cols * int64_t{sizeof(float)} >= kStreamMinBytes;
  LogSoftmaxLastAxis(x, y, rows, cols, BestIsa(), stream);
}

}  // namespace onyx::fast
