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
ONYX_FAST_INLINE void Rows(const float* x, float* y, int64_t rows, int64_t cols, float* buffer,
                           void (*stream_copy)(float*, const float*, int64_t)) {
  if (cols < kLanes) return ShortRows(x, y, rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float* work = stream_copy != nullptr ? buffer : yr;
    const float inv = 1.f / ExpShiftedSum(xr, work, cols);
    Scale(work, work, cols, inv);
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
  Rows(x, y, rows, cols, buffer, buffer != nullptr ? StreamCopyAvx512 : nullptr);
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
