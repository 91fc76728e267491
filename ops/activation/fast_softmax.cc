// Fused last-axis softmax: see fast_softmax.h. One body, compiled per ISA.
#include "ops/activation/fast_softmax.h"

#include <vector>

namespace onyx::fast {
namespace {

// Rows up to this many floats go through a per-thread buffer (64 KiB: in L2).
constexpr int64_t kRowBuffer = 16384;
constexpr int kLanes = 16;  // partial max / sum lanes: the loops vectorize without fast-math

// exp(x - max) into out[0, cols) and returns its sum.
ONYX_FAST_INLINE float ExpShiftedSum(const float* x, float* out, int64_t cols) {
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
  float lane_sum[kLanes] = {};
  i = 0;
  for (; i + kLanes <= cols; i += kLanes) {
    // The next row, one line per 16 floats: its load overlaps this compute-bound pass.
    __builtin_prefetch(x + cols + i);
    for (int l = 0; l < kLanes; ++l) {
      const float e = FastExp(x[i + l] - max);
      out[i + l] = e;
      lane_sum[l] += e;
    }
  }
  float sum = 0.f;
  for (; i < cols; ++i) {
    out[i] = FastExp(x[i] - max);
    sum += out[i];
  }
  for (int l = 0; l < kLanes; ++l) sum += lane_sum[l];
  return sum;
}

ONYX_FAST_INLINE void Scale(const float* in, float* out, int64_t cols, float s) {
  for (int64_t i = 0; i < cols; ++i) out[i] = in[i] * s;
}

#if defined(__x86_64__)
// exp(x - max) and its sum for AVX-512 with intrinsics (the generic body is
// vectorized by GCC but its exp costs twice these: scalef applies 2^n with
// correct underflow, so no two-step scaling or clamping is needed).
ONYX_TARGET_AVX512 float ExpShiftedSumAvx512(const float* x, float* out, int64_t cols) {
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
  if (nan != 0) max = __builtin_nanf("");  // NaN poisons the row, as in the formula
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
  i = 0;
  for (; i + 16 <= cols; i += 16) {
    __builtin_prefetch(x + cols + i);  // the next row, as ExpShiftedSum does
    const __m512 e = exp_of(_mm512_loadu_ps(x + i));
    _mm512_storeu_ps(out + i, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (tail != 0) {
    const __m512 e = _mm512_maskz_mov_ps(tail, exp_of(_mm512_mask_loadu_ps(vm, tail, x + i)));
    _mm512_mask_storeu_ps(out + i, tail, e);
    sum = _mm512_add_ps(sum, e);
  }
  _mm512_store_ps(lanes, sum);
  float total = 0.f;
  for (int l = 0; l < 16; ++l) total += lanes[l];
  return total;
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
// `stream_copy` (non-temporal row writer) is set, else rows are computed in y.
// `exp_sum`: a per-ISA replacement for ExpShiftedSum, or nullptr.
ONYX_FAST_INLINE void Rows(const float* x, float* y, int64_t rows, int64_t cols, float* buffer,
                           void (*stream_copy)(float*, const float*, int64_t),
                           float (*exp_sum)(const float*, float*, int64_t) = nullptr) {
  if (cols < kLanes) return ShortRows(x, y, rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float* work = stream_copy != nullptr ? buffer : yr;
    const float sum =
        exp_sum != nullptr ? exp_sum(xr, work, cols) : ExpShiftedSum(xr, work, cols);
    Scale(work, work, cols, 1.f / sum);
    if (stream_copy != nullptr) stream_copy(yr, work, cols);
  }
}

#if defined(__x86_64__)
// Plain stores to dst's first 64-byte boundary, non-temporal after, plain tail.
#define ONYX_STREAM_COPY(name, target, width, store, load)                       \
  target void name(float* dst, const float* src, int64_t n) {                    \
    int64_t head = static_cast<int64_t>(                                         \
                       (64 - (reinterpret_cast<uintptr_t>(dst) & 63)) & 63) / 4; \
    if (head > n) head = n;                                                      \
    for (int64_t i = 0; i < head; ++i) dst[i] = src[i];                          \
    int64_t i = head;                                                            \
    for (; i + (width) <= n; i += (width)) store(dst + i, load(src + i));        \
    for (; i < n; ++i) dst[i] = src[i];                                          \
    _mm_sfence();                                                                \
  }
ONYX_STREAM_COPY(StreamCopyAvx512, ONYX_TARGET_AVX512, 16, _mm512_stream_ps, _mm512_loadu_ps)
ONYX_STREAM_COPY(StreamCopyAvx2, ONYX_TARGET_AVX2, 8, _mm256_stream_ps, _mm256_loadu_ps)
ONYX_STREAM_COPY(StreamCopySse, , 4, _mm_stream_ps, _mm_loadu_ps)
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
#else
void RowsBaseline(const float* x, float* y, int64_t rows, int64_t cols, float*) {
  Rows(x, y, rows, cols, nullptr, nullptr);
}
#endif

void RowsOn(Isa isa, const float* x, float* y, int64_t rows, int64_t cols, float* buffer) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return RowsAvx512(x, y, rows, cols, buffer);
  if (isa == Isa::kAvx2) return RowsAvx2(x, y, rows, cols, buffer);
#endif
  RowsBaseline(x, y, rows, cols, buffer);
}

}  // namespace

void SoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols, Isa isa,
                     bool stream) {
  const bool buffered = stream && cols <= kRowBuffer;
  if (rows * cols < kParallelMinElements) {
    std::vector<float> buffer(buffered ? static_cast<size_t>(cols) : 0);
    return RowsOn(isa, x, y, rows, cols, buffered ? buffer.data() : nullptr);
  }
#pragma omp parallel
  {
    std::vector<float> buffer(buffered ? static_cast<size_t>(cols) : 0);
    const int64_t threads = omp_get_num_threads();
    const int64_t chunk = (rows + threads - 1) / threads;
    const int64_t begin = omp_get_thread_num() * chunk;
    const int64_t end = begin + chunk < rows ? begin + chunk : rows;
    if (begin < end) {
      RowsOn(isa, x + begin * cols, y + begin * cols, end - begin, cols,
             buffered ? buffer.data() : nullptr);
    }
  }
}

void SoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols) {
  const bool stream = x != y && rows * cols * int64_t{sizeof(float)} >= kStreamMinBytes;
  SoftmaxLastAxis(x, y, rows, cols, BestIsa(), stream);
}

}  // namespace onyx::fast
