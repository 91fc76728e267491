// Loop implementations of windowed pooling (forward and backward) over the
// 3-slot PoolGeometry, for any element type. Per axis the valid part of each
// window is precomputed once, so the inner loops have no bounds tests.
// Used where oneDNN does not fit: float64, integer MaxPool, Indices, LpPool,
// dilated or ceil-extended AveragePool, and the backward of MaxPool/AveragePool.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "ops/pool/pool_geometry.h"

namespace onyx::pool {

// Per output position of one axis: first valid input index, how many window taps
// land in the input (step = dilation), and how many land in the input or its
// explicit pads (the count_include_pad divisor, PyTorch's rule).
struct AxisWindows {
  std::vector<int64_t> first, count, padded;
};

inline AxisWindows MakeAxisWindows(const PoolGeometry& g, int slot) {
  AxisWindows w;
  const int64_t in = g.in[slot], d = g.dilation[slot], k = g.kernel[slot];
  for (int64_t o = 0; o < g.out[slot]; ++o) {
    const int64_t start = o * g.stride[slot] - g.pad_begin[slot];
    const int64_t lo = start < 0 ? (-start + d - 1) / d : 0;
    const int64_t hi = in - start > 0 ? std::min(k, (in - start + d - 1) / d) : 0;
    const int64_t padded_hi = std::min(k, (in + g.pad_end[slot] - start + d - 1) / d);
    w.first.push_back(start + lo * d);
    w.count.push_back(std::max<int64_t>(0, hi - lo));
    w.padded.push_back(std::max<int64_t>(0, padded_hi));
  }
  return w;
}

struct Windows3 {
  AxisWindows a[3];
  explicit Windows3(const PoolGeometry& g)
      : a{MakeAxisWindows(g, 0), MakeAxisWindows(g, 1), MakeAxisWindows(g, 2)} {}
};

// Calls visit(offset_in_plane) for every valid tap of output (o0, o1, o2).
template <typename Visit>
inline void ForWindow(const PoolGeometry& g, const Windows3& w, int64_t o0, int64_t o1, int64_t o2,
                      Visit&& visit) {
  const int64_t d0 = g.dilation[0], d1 = g.dilation[1], d2 = g.dilation[2];
  const int64_t f2 = w.a[2].first[o2], c2 = w.a[2].count[o2];
  for (int64_t i = 0, x0 = w.a[0].first[o0]; i < w.a[0].count[o0]; ++i, x0 += d0) {
    for (int64_t j = 0, x1 = w.a[1].first[o1]; j < w.a[1].count[o1]; ++j, x1 += d1) {
      const int64_t row = (x0 * g.in[1] + x1) * g.in[2];
      for (int64_t l = 0, x2 = f2; l < c2; ++l, x2 += d2) visit(row + x2);
    }
  }
}

// Offset of the first maximum of output (o0, o1, o2)'s window in the plane, or
// -1 when the window holds no input element.
template <typename T>
inline int64_t ArgMaxInWindow(const PoolGeometry& g, const Windows3& w, const T* xp, int64_t o0,
                              int64_t o1, int64_t o2) {
  int64_t best_at = -1;
  T best{};
  // Select without branches: which tap wins is data-dependent and mispredicts.
  ForWindow(g, w, o0, o1, o2, [&](int64_t at) {
    const T v = xp[at];
    const bool take = (best_at < 0) | (v > best);
    best = take ? v : best;
    best_at = take ? at : best_at;
  });
  return best_at;
}

// Rows (plane, o0, o1) are independent in the forward: parallel over them.
inline int64_t ForwardRows(const PoolGeometry& g) { return g.planes * g.out[0] * g.out[1]; }
inline bool WorthThreads(int64_t work) { return work >= (int64_t{1} << 15); }

// MaxPool: y = max over the window; `indices` (may be null) gets the flat index
// of the maximum in X, row-major or (column_major) with the spatial dims reversed.
template <typename T>
void MaxPoolLoop(const PoolGeometry& g, const T* x, T* y, int64_t* indices, bool column_major) {
  const Windows3 w(g);
  const int64_t rows = ForwardRows(g);
  const int64_t in_plane = g.in_plane();
  const T empty = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                       : std::numeric_limits<T>::lowest();
#pragma omp parallel for schedule(static) if (WorthThreads(rows * g.out[2] * g.kernel[2]))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t plane = r / (g.out[0] * g.out[1]);
    const int64_t o0 = r / g.out[1] % g.out[0], o1 = r % g.out[1];
    const T* xp = x + plane * in_plane;
    for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
      const int64_t at = ArgMaxInWindow(g, w, xp, o0, o1, o2);
      const int64_t out = r * g.out[2] + o2;
      y[out] = at < 0 ? empty : xp[at];
      if (indices == nullptr) continue;
      int64_t index = std::max<int64_t>(at, 0);
      if (column_major) {
        const int64_t i2 = index % g.in[2], i1 = index / g.in[2] % g.in[1],
                      i0 = index / (g.in[1] * g.in[2]);
        index = i0 + i1 * g.in[0] + i2 * g.in[0] * g.in[1];
      }
      indices[out] = plane * in_plane + index;
    }
  }
}

enum class Reduce { kAverage, kLp };

// AveragePool (divisor: taps in the input, or in input+pads with count_include_pad)
// and LpPool (y = (sum |x|^p)^(1/p); pads add 0). Sums in double.
template <typename T>
void AverageOrLpPoolLoop(const PoolGeometry& g, Reduce reduce, bool count_include_pad, double p,
                         const T* x, T* y) {
  const Windows3 w(g);
  const int64_t rows = ForwardRows(g);
  const int64_t in_plane = g.in_plane();
#pragma omp parallel for schedule(static) if (WorthThreads(rows * g.out[2] * g.kernel[2]))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t plane = r / (g.out[0] * g.out[1]);
    const int64_t o0 = r / g.out[1] % g.out[0], o1 = r % g.out[1];
    const T* xp = x + plane * in_plane;
    for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
      double acc = 0;
      if (reduce == Reduce::kAverage) {
        ForWindow(g, w, o0, o1, o2, [&](int64_t at) { acc += double(xp[at]); });
        const auto& a = w.a;
        const int64_t divisor = count_include_pad
                                    ? a[0].padded[o0] * a[1].padded[o1] * a[2].padded[o2]
                                    : a[0].count[o0] * a[1].count[o1] * a[2].count[o2];
        y[r * g.out[2] + o2] = static_cast<T>(divisor > 0 ? acc / divisor : 0.0);
      } else if (p == 2) {
        ForWindow(g, w, o0, o1, o2, [&](int64_t at) { acc += double(xp[at]) * xp[at]; });
        y[r * g.out[2] + o2] = static_cast<T>(std::sqrt(acc));
      } else if (p == 1) {
        ForWindow(g, w, o0, o1, o2, [&](int64_t at) { acc += std::fabs(double(xp[at])); });
        y[r * g.out[2] + o2] = static_cast<T>(acc);
      } else {
        ForWindow(g, w, o0, o1, o2,
                  [&](int64_t at) { acc += std::pow(std::fabs(double(xp[at])), p); });
        y[r * g.out[2] + o2] = static_cast<T>(std::pow(acc, 1.0 / p));
      }
    }
  }
}

// MaxPool backward: dx = 0, then dy of each output added at its window's first
// maximum (the tap the forward picked). Planes are independent: parallel over them.
template <typename T>
void MaxPoolBackwardLoop(const PoolGeometry& g, const T* dy, const T* x, T* dx) {
  const Windows3 w(g);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (WorthThreads(g.planes * out_plane))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    const T* xp = x + plane * in_plane;
    T* dxp = dx + plane * in_plane;
    const T* dyp = dy + plane * out_plane;
    std::fill(dxp, dxp + in_plane, T(0));
    for (int64_t o0 = 0, out = 0; o0 < g.out[0]; ++o0) {
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++out) {
          const int64_t at = ArgMaxInWindow(g, w, xp, o0, o1, o2);
          if (at >= 0) dxp[at] += dyp[out];
        }
      }
    }
  }
}

// AveragePool backward: each output's dy / divisor is added to every tap of its window.
template <typename T>
void AveragePoolBackwardLoop(const PoolGeometry& g, bool count_include_pad, const T* dy, T* dx) {
  const Windows3 w(g);
  const int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
#pragma omp parallel for schedule(static) if (WorthThreads(g.planes * out_plane))
  for (int64_t plane = 0; plane < g.planes; ++plane) {
    T* dxp = dx + plane * in_plane;
    const T* dyp = dy + plane * out_plane;
    std::fill(dxp, dxp + in_plane, T(0));
    for (int64_t o0 = 0, out = 0; o0 < g.out[0]; ++o0) {
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++out) {
          const auto& a = w.a;
          const int64_t divisor = count_include_pad
                                      ? a[0].padded[o0] * a[1].padded[o1] * a[2].padded[o2]
                                      : a[0].count[o0] * a[1].count[o1] * a[2].count[o2];
          if (divisor == 0) continue;
          const T share = static_cast<T>(dyp[out] / static_cast<T>(divisor));
          ForWindow(g, w, o0, o1, o2, [&](int64_t at) { dxp[at] += share; });
        }
      }
    }
  }
}

}  // namespace onyx::pool
