// Per-element math of the elementwise losses: l(x, t) and dl/dx, written once for
// the CPU kernels (and any future CUDA kernel). T is float or double.
#pragma once

#include <algorithm>
#include <cmath>

#ifndef ONYX_HD
#ifdef __CUDACC__
#define ONYX_HD __host__ __device__ __forceinline__
#else
#define ONYX_HD inline
#endif
#endif

namespace onyx::loss_math {

// MseLoss (torch.nn.MSELoss): l = (x - t)^2;  dl/dx = 2·(x - t).
struct MseFn {
  template <typename T>
  ONYX_HD T Forward(T x, T t) const {
    const T d = x - t;
    return d * d;
  }
  template <typename T>
  ONYX_HD T Backward(T x, T t) const {
    return T(2) * (x - t);
  }
};

// BceLoss (torch.nn.BCELoss), x = probability in [0, 1]:
//   l = -(t·max(log x, -100) + (1 - t)·max(log(1 - x), -100))
// The clamp keeps l finite at x = 0 or 1 (as PyTorch does). The backward is
// PyTorch's: dl/dx = (x - t) / max(x·(1 - x), 1e-12), finite at the end points.
struct BceFn {
  template <typename T>
  ONYX_HD T Forward(T x, T t) const {
    const T log_x = std::max(T(std::log(x)), T(-100));
    const T log_1mx = std::max(T(std::log1p(-x)), T(-100));
    return -(t * log_x + (T(1) - t) * log_1mx);
  }
  template <typename T>
  ONYX_HD T Backward(T x, T t) const {
    return (x - t) / std::max((T(1) - x) * x, T(1e-12));
  }
};

// BceWithLogitsLoss (torch.nn.BCEWithLogitsLoss), x = logit:
//   l = max(x, 0) - x·t + log1p(exp(-|x|))     (= -(t·log σ(x) + (1-t)·log(1-σ(x))),
//                                               stable for any |x|)
//   dl/dx = σ(x) - t, with σ split on sign(x) so exp never overflows.
struct BceWithLogitsFn {
  template <typename T>
  ONYX_HD T Forward(T x, T t) const {
    return std::max(x, T(0)) - x * t + std::log1p(std::exp(-std::abs(x)));
  }
  template <typename T>
  ONYX_HD T Backward(T x, T t) const {
    const T e = std::exp(-std::abs(x));  // in (0, 1]
    const T sigmoid = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    return sigmoid - t;
  }
};

}  // namespace onyx::loss_math
