// Per-element update math of the optimizers, written once and shared by the
// torch.optim-style optimizers (runtime/training/optimizer.cc) and the ONNX
// ai.onnx.preview.training kernels (ops/optim/). T is float or double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#ifndef ONYX_HD
#ifdef __CUDACC__
#define ONYX_HD __host__ __device__ __forceinline__
#else
#define ONYX_HD inline
#endif
#endif

namespace onyx::update_math {

// Why scalars arrive precomputed: torch forms every scalar (1 - beta, lr /
// bias_correction1, ...) in Python double and rounds it to the tensor type when
// the op runs; the per-element products below then round after each operation
// in the same order as torch's CPU kernels (mul_, add_(alpha), addcmul_,
// addcdiv_), so float32 results agree with torch to the last bit or two.

// Momentum / SGD (torch.optim.SGD; ONNX Momentum):
//   g' = g + wd * x
//   v  = v * momentum + grad_coef * g'      (grad_coef: 1 - dampening, or 1 on
//                                            the first step: torch clones g' into
//                                            the zeroed buffer; ONNX beta_adjusted)
//   x  = x - lr * (nesterov ? g' + momentum * v : v)
// Without kMomentum: x = x - lr * g' and v is untouched.
// The flags are template parameters so that every loop is branch-free.
template <typename T>
struct MomentumCoeffs {
  T weight_decay;
  T momentum;
  T grad_coef;
  T neg_lr;  // -lr
};

template <bool kMomentum, bool kNesterov, typename T>
ONYX_HD void MomentumUpdate(const MomentumCoeffs<T>& c, T& x, T g, T& v) {
  T d = g + c.weight_decay * x;
  if constexpr (kMomentum) {
    const T v_new = v * c.momentum + c.grad_coef * d;
    v = v_new;
    if constexpr (kNesterov) {
      d = d + c.momentum * v_new;
    } else {
      d = v_new;
    }
  }
  x = x + c.neg_lr * d;
}

// Adam / AdamW (torch.optim.Adam, AdamW; ONNX Adam):
//   x  = x * pre_scale                        (AdamW: 1 - lr * wd; else 1)
//   g' = g + wd * x                            (L2 form: Adam, ONNX norm_coefficient)
//   m  = m * beta1 + (1 - beta1) * g'
//   v  = v * beta2 + (1 - beta2) * g' * g'
//   vmax = max(vmax, v)                        (amsgrad; the denominator uses vmax)
//   x  = x + (neg_step * m) / (sqrt(v) / bc2_sqrt + eps)
//   x  = x * post_scale                        (ONNX: 1 - norm_coefficient_post)
// torch: neg_step = -lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t).
// ONNX puts eps outside the bias correction: bc2_sqrt = 1 and
// neg_step = -R * sqrt(1 - beta^T) / (1 - alpha^T) (just -R when T == 0).
template <typename T>
struct AdamCoeffs {
  T pre_scale;
  T weight_decay;
  T beta1, one_minus_beta1;
  T beta2, one_minus_beta2;
  T bc2_sqrt;
  T eps;
  T neg_step;
  T post_scale;
};

// `vmax` is only touched with kAmsgrad.
template <bool kAmsgrad, typename T>
ONYX_HD void AdamUpdate(const AdamCoeffs<T>& c, T& x, T g, T& m, T& v, T& vmax) {
  T xv = x * c.pre_scale;
  const T d = g + c.weight_decay * xv;
  const T m_new = m * c.beta1 + c.one_minus_beta1 * d;
  const T v_new = v * c.beta2 + (c.one_minus_beta2 * d) * d;
  m = m_new;
  v = v_new;
  T second = v_new;
  if constexpr (kAmsgrad) {
    const T old_max = vmax;  // a value, not a reference: keeps the loop vectorizable
    second = old_max > v_new ? old_max : v_new;  // torch.maximum (NaN handling aside)
    vmax = second;
  }
  const T denom = std::sqrt(second) / c.bc2_sqrt + c.eps;
  xv = xv + (c.neg_step * m_new) / denom;
  x = xv * c.post_scale;
}

// RMSprop (torch.optim.RMSprop):
//   g'  = g + wd * x
//   sq  = sq * alpha + (1 - alpha) * g' * g'
//   ga  = ga * alpha + (1 - alpha) * g'                     (centered only)
//   avg = sqrt(centered ? sq - ga * ga : sq) + eps
//   momentum > 0: buf = buf * momentum + g' / avg;  x = x - lr * buf
//   otherwise:    x = x - lr * g' / avg
template <typename T>
struct RmspropCoeffs {
  T weight_decay;
  T alpha, one_minus_alpha;
  T eps;
  T momentum;
  T neg_lr;
};

// `ga` is only touched with kCentered, `buf` only with kMomentum.
template <bool kCentered, bool kMomentum, typename T>
ONYX_HD void RmspropUpdate(const RmspropCoeffs<T>& c, T& x, T g, T& sq, T& ga, T& buf) {
  const T d = g + c.weight_decay * x;
  const T sq_new = sq * c.alpha + (c.one_minus_alpha * d) * d;
  sq = sq_new;
  T avg;
  if constexpr (kCentered) {
    const T ga_new = ga * c.alpha + c.one_minus_alpha * d;
    ga = ga_new;
    avg = std::sqrt(sq_new + (T(-1) * ga_new) * ga_new);
  } else {
    avg = std::sqrt(sq_new);
  }
  avg = avg + c.eps;
  if constexpr (kMomentum) {
    const T b = buf * c.momentum + d / avg;
    buf = b;
    x = x + c.neg_lr * b;
  } else {
    x = x + (c.neg_lr * d) / avg;
  }
}

// Adagrad (torch.optim.Adagrad; ONNX Adagrad):
//   g' = g + wd * x
//   h  = h + g' * g'
//   x  = x - clr * g' / (sqrt(h) + eps)
// torch: clr = lr / (1 + (t - 1) * lr_decay) for the 1-based step t;
// ONNX: r = R / (1 + T * decay_factor) for its (usually 0-based) T.
template <typename T>
struct AdagradCoeffs {
  T weight_decay;
  T eps;
  T neg_clr;
};

template <typename T>
ONYX_HD void AdagradUpdate(const AdagradCoeffs<T>& c, T& x, T g, T& h) {
  const T d = g + c.weight_decay * x;
  const T h_new = h + d * d;
  h = h_new;
  const T denom = std::sqrt(h_new) + c.eps;
  x = x + (c.neg_clr * d) / denom;
}

#ifndef __CUDACC__
// Runs fn(begin, end) over [0, n) in blocks of kBlockSize elements, the blocks
// spread over the OpenMP team (one thread below kParallelMin elements). Loops
// inside fn take __restrict pointers: without them GCC gives up on
// vectorizing the 5-stream updates (too many runtime alias checks).
inline constexpr int64_t kBlockSize = int64_t{1} << 13;
inline constexpr int64_t kParallelMin = int64_t{1} << 15;

template <typename Fn>
void ForBlocks(int64_t n, const Fn& fn) {
  const int64_t blocks = (n + kBlockSize - 1) / kBlockSize;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t begin = b * kBlockSize;
    fn(begin, std::min(n, begin + kBlockSize));
  }
}
#endif  // __CUDACC__

}  // namespace onyx::update_math
