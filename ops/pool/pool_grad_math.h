// Per-element math of the CUDA MaxPoolGrad / AveragePoolGrad kernels
// (pool_grad_cuda.cu), written as __host__ __device__ functions so the CPU
// unit tests run the very same code against the CPU loops (pool_loops.h).
//
// The backward is a gather: each dX element walks, in increasing output order,
// the outputs whose window has a tap on it, and adds their share. No atomics,
// so every run gives the same bits, and the additions happen in the order the
// CPU loops' scatter makes them (0 + dy[o1] + dy[o2] ...): equal results.
//
// Max: an output's gradient goes to the FIRST maximum of its window, taps in
// row-major order with a strict `>` (a NaN wins only as the first tap), as
// ArgMaxInWindow picks it on the CPU. cuDNN's cudnnPoolingBackward documents
// no rule for ties and has no dilations or ceil_mode windows, hence this kernel.
#pragma once

#include <cstdint>

#ifndef ONYX_HD
#ifdef __CUDACC__
#define ONYX_HD __host__ __device__ __forceinline__
#else
#define ONYX_HD inline
#endif
#endif

namespace onyx::pool {

// pool_geometry.h's PoolGeometry as plain arrays (3 right-aligned spatial
// slots, leading ones of extent 1), passed by value to the CUDA kernels.
struct PoolGradDims {
  int64_t planes = 0;  // N * C
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, kernel[3] = {1, 1, 1}, stride[3] = {1, 1, 1},
          dilation[3] = {1, 1, 1}, pad_begin[3] = {0, 0, 0}, pad_end[3] = {0, 0, 0};

  ONYX_HD int64_t in_plane() const { return in[0] * in[1] * in[2]; }
  ONYX_HD int64_t out_plane() const { return out[0] * out[1] * out[2]; }
};

namespace pool_grad_math {

// The window of output `o` on axis `s`: first tap inside the input, how many
// taps land inside it, and how many inside it or its pads (the
// count_include_pad divisor), as MakeAxisWindows (pool_loops.h) computes them.
struct AxisWindow {
  int64_t first = 0, count = 0, padded = 0;
};

ONYX_HD int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }
ONYX_HD int64_t Max(int64_t a, int64_t b) { return a > b ? a : b; }

// ceil(a / d) for a >= 0, d >= 1; undilated windows (d == 1) skip the
// 64-bit division, which GPUs emulate in many instructions.
ONYX_HD int64_t CeilDiv(int64_t a, int64_t d) { return d == 1 ? a : (a + d - 1) / d; }

ONYX_HD AxisWindow WindowOf(const PoolGradDims& g, int s, int64_t o) {
  const int64_t in = g.in[s], d = g.dilation[s], k = g.kernel[s];
  const int64_t start = o * g.stride[s] - g.pad_begin[s];
  const int64_t lo = start < 0 ? CeilDiv(-start, d) : 0;
  const int64_t hi = in - start > 0 ? Min(k, CeilDiv(in - start, d)) : 0;
  const int64_t padded_room = in + g.pad_end[s] - start;
  const int64_t padded_hi = padded_room > 0 ? Min(k, CeilDiv(padded_room, d)) : 0;
  AxisWindow w;
  w.first = start + lo * d;
  w.count = Max(0, hi - lo);
  w.padded = padded_hi;
  return w;
}

// The outputs [lo, hi] of axis `s` whose window may have a tap at input `i`
// (empty when lo > hi); HasTap says whether one really does (dilation gaps).
ONYX_HD void CandidateOutputs(const PoolGradDims& g, int s, int64_t i, int64_t& lo, int64_t& hi) {
  const int64_t stride = g.stride[s];
  const int64_t top = i + g.pad_begin[s];  // o * stride <= top
  const int64_t bottom = top - (g.kernel[s] - 1) * g.dilation[s];
  lo = bottom <= 0 ? 0 : (bottom + stride - 1) / stride;
  hi = Min(top / stride, g.out[s] - 1);
}

ONYX_HD bool HasTap(const PoolGradDims& g, int s, int64_t o, int64_t i) {
  const int64_t offset = i - (o * g.stride[s] - g.pad_begin[s]);
  const int64_t d = g.dilation[s];
  if (d == 1) return offset >= 0 && offset < g.kernel[s];
  return offset >= 0 && offset % d == 0 && offset / d < g.kernel[s];
}

// In-plane offset of the first maximum of output (o0, o1, o2)'s window in `xp`,
// or -1 when the window holds no input element.
template <typename T>
ONYX_HD int64_t ArgMax(const PoolGradDims& g, const T* xp, int64_t o0, int64_t o1, int64_t o2) {
  const AxisWindow w0 = WindowOf(g, 0, o0), w1 = WindowOf(g, 1, o1), w2 = WindowOf(g, 2, o2);
  int64_t best_at = -1;
  T best{};
  for (int64_t a = 0, x0 = w0.first; a < w0.count; ++a, x0 += g.dilation[0]) {
    for (int64_t b = 0, x1 = w1.first; b < w1.count; ++b, x1 += g.dilation[1]) {
      const int64_t row = (x0 * g.in[1] + x1) * g.in[2];
      for (int64_t c = 0, x2 = w2.first; c < w2.count; ++c, x2 += g.dilation[2]) {
        const T v = xp[row + x2];
        if (best_at < 0 || v > best) {
          best = v;
          best_at = row + x2;
        }
      }
    }
  }
  return best_at;
}

// Calls visit(o0, o1, o2) for every output whose window has a tap at input
// (i0, i1, i2), in increasing output order.
template <typename Visit>
ONYX_HD void ForOutputsOf(const PoolGradDims& g, int64_t i0, int64_t i1, int64_t i2,
                          Visit&& visit) {
  int64_t lo0, hi0, lo1, hi1, lo2, hi2;
  CandidateOutputs(g, 0, i0, lo0, hi0);
  CandidateOutputs(g, 1, i1, lo1, hi1);
  CandidateOutputs(g, 2, i2, lo2, hi2);
  for (int64_t o0 = lo0; o0 <= hi0; ++o0) {
    if (!HasTap(g, 0, o0, i0)) continue;
    for (int64_t o1 = lo1; o1 <= hi1; ++o1) {
      if (!HasTap(g, 1, o1, i1)) continue;
      for (int64_t o2 = lo2; o2 <= hi2; ++o2) {
        if (HasTap(g, 2, o2, i2)) visit(o0, o1, o2);
      }
    }
  }
}

}  // namespace pool_grad_math

// dX at element `index` (of planes * in_plane) of MaxPool's backward.
template <typename T>
ONYX_HD T MaxPoolGradAt(const PoolGradDims& g, const T* dy, const T* x, int64_t index) {
  const int64_t in_plane = g.in_plane(), plane = index / in_plane, at = index % in_plane;
  const int64_t i2 = at % g.in[2], i1 = at / g.in[2] % g.in[1], i0 = at / (g.in[1] * g.in[2]);
  const T* xp = x + plane * in_plane;
  const T* dyp = dy + plane * g.out_plane();
  T acc = T(0);
  pool_grad_math::ForOutputsOf(g, i0, i1, i2, [&](int64_t o0, int64_t o1, int64_t o2) {
    if (pool_grad_math::ArgMax(g, xp, o0, o1, o2) == at)
      acc += dyp[(o0 * g.out[1] + o1) * g.out[2] + o2];
  });
  return acc;
}

// dX at element `index` of AveragePool's backward: dy / divisor from every
// output whose window covers it (divisor as the forward's count_include_pad rule).
template <typename T>
ONYX_HD T AveragePoolGradAt(const PoolGradDims& g, bool count_include_pad, const T* dy,
                            int64_t index) {
  const int64_t in_plane = g.in_plane(), plane = index / in_plane, at = index % in_plane;
  const int64_t i2 = at % g.in[2], i1 = at / g.in[2] % g.in[1], i0 = at / (g.in[1] * g.in[2]);
  const T* dyp = dy + plane * g.out_plane();
  T acc = T(0);
  pool_grad_math::ForOutputsOf(g, i0, i1, i2, [&](int64_t o0, int64_t o1, int64_t o2) {
    using pool_grad_math::WindowOf;
    const pool_grad_math::AxisWindow w0 = WindowOf(g, 0, o0), w1 = WindowOf(g, 1, o1),
                                     w2 = WindowOf(g, 2, o2);
    const int64_t divisor =
        count_include_pad ? w0.padded * w1.padded * w2.padded : w0.count * w1.count * w2.count;
    if (divisor > 0) acc += dyp[(o0 * g.out[1] + o1) * g.out[2] + o2] / static_cast<T>(divisor);
  });
  return acc;
}

}  // namespace onyx::pool
