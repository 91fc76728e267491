// CUDA class-index losses: one routine per (n, d) row of the [N, C, D] scores,
// run by a thread, a warp or a block (class_loss_plan.h), with a numerically
// stable log-sum-exp. Reduced losses leave one double partial per block, which
// a single final block sums in a fixed order (deterministic, no float atomics).
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ops/activation/activation_cuda.h"
#include "ops/loss/class_loss_cuda.h"
#include "ops/loss/class_loss_plan.h"

namespace onyx::cuda {
namespace {

using loss_plan::kBlockThreads;
using loss_plan::kWarpSize;

constexpr int kWarps = kBlockThreads / kWarpSize;

// The larger of a and b, NaN never winning (as std::max(a, b) with a the running max).
__device__ __forceinline__ double MaxNoNan(double a, double b) { return a < b ? b : a; }

struct SumOp {
  __device__ double operator()(double a, double b) const { return a + b; }
};
struct MaxOp {
  __device__ double operator()(double a, double b) const { return MaxNoNan(a, b); }
};

// Reduces `v` over the kGroup threads of one row; every one of them gets the
// result. xor butterflies give every lane the same bits (a + b == b + a).
template <int kGroup, typename Op>
__device__ double GroupReduce(double v, Op op, double* shared) {
  if constexpr (kGroup == 1) {
    return v;
  } else {
    for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
      v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
    }
    if constexpr (kGroup == kWarpSize) {
      return v;
    } else {
      static_assert(kGroup == kBlockThreads, "a row is a thread, a warp or the block");
      __syncthreads();  // shared may still be read by the previous reduction
      if (threadIdx.x % kWarpSize == 0) shared[threadIdx.x / kWarpSize] = v;
      __syncthreads();
      double r = shared[0];
      for (int w = 1; w < kWarps; ++w) r = op(r, shared[w]);
      return r;
    }
  }
}

// Sum over the block of one value per thread, in a fixed tree order; the
// result is valid in thread 0.
__device__ double BlockSum(double v, double* shared /* kBlockThreads */) {
  __syncthreads();
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int half = kBlockThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  return shared[0];
}

// Σ values[0..count) by one block, each thread striding then a tree: a fixed order.
__device__ double BlockSumOf(const double* values, int64_t count, double* shared) {
  double acc = 0;
  for (int64_t i = threadIdx.x; i < count; i += kBlockThreads) acc += values[i];
  return BlockSum(acc, shared);
}

// log Σ_k exp(x[k·stride]) over the row, the max subtracted first; an infinite
// max (all -inf, or a +inf) is returned as it is, as the CPU kernel does.
template <int kGroup>
__device__ double LogSumExp(const float* x, int64_t c, int64_t stride, int lane, double* shared) {
  double m = -INFINITY;
  for (int64_t k = lane; k < c; k += kGroup) m = MaxNoNan(m, x[k * stride]);
  m = GroupReduce<kGroup>(m, MaxOp{}, shared);
  if (isinf(m)) return m;
  const float mf = static_cast<float>(m);  // m is one of the floats: exact
  double s = 0;
  for (int64_t k = lane; k < c; k += kGroup) s += expf(x[k * stride] - mf);
  s = GroupReduce<kGroup>(s, SumOp{}, shared);
  return m + log(s);
}

struct RowLabel {
  int64_t y = 0;
  bool ignored = false;
  bool valid = false;  // in [0, C) and not ignored
};

template <typename L>
__device__ RowLabel ReadLabel(const ClassLossArgs& a, const L* labels, int64_t r,
                              unsigned long long* bad_row, int lane) {
  RowLabel l;
  l.y = static_cast<int64_t>(labels[r]);
  l.ignored = a.has_ignore && l.y == a.ignore_index;
  l.valid = !l.ignored && l.y >= 0 && l.y < a.c;
  if (!l.ignored && !l.valid && lane == 0) {
    atomicMin(bad_row, static_cast<unsigned long long>(r));
  }
  return l;
}

__device__ __forceinline__ double WeightOf(const float* w, int64_t k) {
  return w != nullptr ? static_cast<double>(w[k]) : 1.0;
}

// Per row: log_prob (when asked), the loss (none) or the block's partial sums of
// the loss and of w[y] over valid rows (partials[block], partials[blocks + block]).
template <int kGroup, typename L>
__global__ void __launch_bounds__(kBlockThreads)
    ForwardRows(ClassLossArgs a, const float* x, const L* labels, float* loss, float* log_prob,
                double* partials, unsigned long long* bad_row) {
  __shared__ double shared[kBlockThreads];
  const int lane = threadIdx.x % kGroup;
  const int64_t rows = a.n * a.d;
  const double on = 1.0 - a.label_smoothing;
  const double off = a.label_smoothing / static_cast<double>(a.c);
  double loss_sum = 0, weight_sum = 0;
  const int64_t step = loss_plan::RowStep(gridDim.x, kGroup);
  for (int64_t r = loss_plan::FirstRow(blockIdx.x, threadIdx.x, kGroup); r < rows; r += step) {
    const loss_plan::RowView v = loss_plan::RowOf(r, a.c, a.d);
    const float* xs = x + v.base;
    const RowLabel y = ReadLabel(a, labels, r, bad_row, lane);
    const double lse = a.softmax ? LogSumExp<kGroup>(xs, a.c, v.stride, lane, shared) : 0.0;
    if (log_prob != nullptr) {
      for (int64_t k = lane; k < a.c; k += kGroup) {
        log_prob[v.base + k * v.stride] = static_cast<float>(xs[k * v.stride] - lse);
      }
    }
    double l = 0;
    if (y.valid) {  // the same for every thread of the row
      const double wy = WeightOf(a.weights, y.y);
      l = -on * wy * (xs[y.y * v.stride] - lse);
      if (off > 0) {
        double s = 0;
        for (int64_t k = lane; k < a.c; k += kGroup) {
          s += WeightOf(a.weights, k) * (xs[k * v.stride] - lse);
        }
        l -= off * GroupReduce<kGroup>(s, SumOp{}, shared);
      }
      weight_sum += lane == 0 ? wy : 0.0;
    }
    if (lane == 0) {
      if (a.reduction == LossReduce::kNone) {
        loss[r] = static_cast<float>(l);
      } else {
        loss_sum += l;
      }
    }
  }
  if (a.reduction == LossReduce::kNone) return;
  const double block_loss = BlockSum(loss_sum, shared);
  const double block_weight = BlockSum(weight_sum, shared);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = block_loss;
    partials[gridDim.x + blockIdx.x] = block_weight;
  }
}

// loss = Σ partial losses (sum) or that over Σ partial weights (mean); an
// empty or all-ignored batch gives 0/0 = NaN for mean, as on the CPU.
__global__ void __launch_bounds__(kBlockThreads)
    FinishForward(const double* partials, int blocks, LossReduce reduction, float* loss) {
  __shared__ double shared[kBlockThreads];
  const double total = BlockSumOf(partials, blocks, shared);
  const double weights = BlockSumOf(partials + blocks, blocks, shared);
  if (threadIdx.x == 0) {
    loss[0] = static_cast<float>(reduction == LossReduce::kMean ? total / weights : total);
  }
}

// The mean's denominator Σ w[y] over valid rows, one partial per block; checks labels.
template <typename L>
__global__ void __launch_bounds__(kBlockThreads)
    WeightPartials(ClassLossArgs a, const L* labels, double* partials,
                   unsigned long long* bad_row) {
  __shared__ double shared[kBlockThreads];
  const int64_t rows = a.n * a.d;
  double sum = 0;
  const int64_t step = loss_plan::RowStep(gridDim.x, 1);
  for (int64_t r = loss_plan::FirstRow(blockIdx.x, threadIdx.x, 1); r < rows; r += step) {
    const RowLabel y = ReadLabel(a, labels, r, bad_row, 0);
    if (y.valid) sum += WeightOf(a.weights, y.y);
  }
  const double block = BlockSum(sum, shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = block;
}

// scalars[0] = the upstream scale of a reduced loss (dloss, over Σ w[y] for
// mean); scalars[1] = Σ_c w[c] (C without weights).
__global__ void __launch_bounds__(kBlockThreads)
    BackwardScalars(ClassLossArgs a, const float* dloss, const double* partials, int blocks,
                    double* scalars) {
  __shared__ double shared[kBlockThreads];
  double denominator = 1;
  if (a.reduction == LossReduce::kMean) denominator = BlockSumOf(partials, blocks, shared);
  double class_weights = static_cast<double>(a.c);
  if (a.weights != nullptr) {
    double acc = 0;
    for (int64_t k = threadIdx.x; k < a.c; k += kBlockThreads) acc += a.weights[k];
    class_weights = BlockSum(acc, shared);
  }
  if (threadIdx.x == 0) {
    scalars[0] = a.reduction == LossReduce::kNone ? 0.0 : dloss[0] / denominator;
    scalars[1] = class_weights;
  }
}

// dl_i/dx[k] = g_i·(p[k]·((1-eps)·w[y] + (eps/C)·W) - (1-eps)·w[y]·[k = y] - (eps/C)·w[k])
// for softmax scores, -g_i·w[y]·[k = y] for NLL; 0 on ignored rows.
template <int kGroup, typename L>
__global__ void __launch_bounds__(kBlockThreads)
    BackwardRows(ClassLossArgs a, const float* dloss, const float* in, bool scores_input,
                 const L* labels, const double* scalars, float* dx, unsigned long long* bad_row) {
  __shared__ double shared[kBlockThreads];
  const int lane = threadIdx.x % kGroup;
  const int64_t rows = a.n * a.d;
  const double on = 1.0 - a.label_smoothing;
  const double off = a.label_smoothing / static_cast<double>(a.c);
  const int64_t step = loss_plan::RowStep(gridDim.x, kGroup);
  for (int64_t r = loss_plan::FirstRow(blockIdx.x, threadIdx.x, kGroup); r < rows; r += step) {
    const loss_plan::RowView v = loss_plan::RowOf(r, a.c, a.d);
    float* dxs = dx + v.base;
    const RowLabel y = ReadLabel(a, labels, r, bad_row, lane);
    if (!y.valid) {  // ignored (or a bad label, reported after the kernel)
      for (int64_t k = lane; k < a.c; k += kGroup) dxs[k * v.stride] = 0.f;
      continue;
    }
    const double g = a.reduction == LossReduce::kNone ? static_cast<double>(dloss[r]) : scalars[0];
    const double wy = WeightOf(a.weights, y.y);
    if (!a.softmax) {
      for (int64_t k = lane; k < a.c; k += kGroup) {
        dxs[k * v.stride] = k == y.y ? static_cast<float>(-g * wy) : 0.f;
      }
      continue;
    }
    const float* xs = in + v.base;
    const double lse = scores_input ? LogSumExp<kGroup>(xs, a.c, v.stride, lane, shared) : 0.0;
    const double mass = on * wy + off * scalars[1];
    for (int64_t k = lane; k < a.c; k += kGroup) {
      const double p = expf(static_cast<float>(xs[k * v.stride] - lse));
      double val = p * mass - off * WeightOf(a.weights, k);
      if (k == y.y) val -= on * wy;
      dxs[k * v.stride] = static_cast<float>(g * val);
    }
  }
}

int MaxBlocks() { return GridStrideBlocks(int64_t{1} << 40, kBlockThreads); }

// Calls launch(group tag, labels) for the row grouping and the labels dtype.
template <typename Launch>
cudaError_t Dispatch(const ClassLossArgs& a, const void* labels, Launch&& launch) {
  const loss_plan::RowGrouping grouping = loss_plan::ChooseRowGrouping(a.c, a.d);
  auto with_labels = [&](auto group) {
    if (a.labels_int64) return launch(group, static_cast<const int64_t*>(labels));
    return launch(group, static_cast<const int32_t*>(labels));
  };
  switch (grouping.threads_per_row) {
    case 1:
      return with_labels(std::integral_constant<int, 1>{});
    case kWarpSize:
      return with_labels(std::integral_constant<int, kWarpSize>{});
    case kBlockThreads:
      return with_labels(std::integral_constant<int, kBlockThreads>{});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

int ClassLossBlocks(const ClassLossArgs& args) {
  return loss_plan::RowBlocks(args.n * args.d, loss_plan::ChooseRowGrouping(args.c, args.d),
                              MaxBlocks());
}

cudaError_t ClassLossForward(const ClassLossArgs& args, const float* x, const void* labels,
                             float* loss, float* log_prob, double* scratch, int blocks,
                             int64_t* bad_row, cudaStream_t stream) {
  cudaError_t error = cudaMemsetAsync(bad_row, 0xff, sizeof(int64_t), stream);
  if (error != cudaSuccess) return error;
  auto* bad = reinterpret_cast<unsigned long long*>(bad_row);
  if (args.n * args.d > 0) {
    error = Dispatch(args, labels, [&](auto group, const auto* typed_labels) {
      ForwardRows<decltype(group)::value><<<blocks, kBlockThreads, 0, stream>>>(
          args, x, typed_labels, loss, log_prob, scratch, bad);
      return cudaGetLastError();
    });
    if (error != cudaSuccess) return error;
  } else if (args.reduction != LossReduce::kNone) {
    // No row ran: the one block's partials are 0 (sum 0, mean 0/0).
    error = cudaMemsetAsync(scratch, 0, 2 * sizeof(double) * blocks, stream);
    if (error != cudaSuccess) return error;
  }
  if (args.reduction == LossReduce::kNone) return cudaSuccess;
  FinishForward<<<1, kBlockThreads, 0, stream>>>(scratch, blocks, args.reduction, loss);
  return cudaGetLastError();
}

cudaError_t ClassLossBackward(const ClassLossArgs& args, const float* dloss, const float* in,
                              bool scores_input, const void* labels, float* dx, double* scratch,
                              int blocks, int64_t* bad_row, cudaStream_t stream) {
  cudaError_t error = cudaMemsetAsync(bad_row, 0xff, sizeof(int64_t), stream);
  if (error != cudaSuccess) return error;
  auto* bad = reinterpret_cast<unsigned long long*>(bad_row);
  const int64_t rows = args.n * args.d;
  double* partials = scratch;
  double* scalars = scratch + ClassLossScratchDoubles(blocks) - 2;
  if (args.reduction == LossReduce::kMean) {
    if (rows > 0) {
      const int label_blocks = loss_plan::RowBlocks(rows, loss_plan::RowGrouping{}, blocks);
      error = cudaMemsetAsync(partials, 0, sizeof(double) * blocks, stream);
      if (error != cudaSuccess) return error;
      auto launch = [&](const auto* typed_labels) {
        WeightPartials<<<label_blocks, kBlockThreads, 0, stream>>>(args, typed_labels, partials,
                                                                   bad);
        return cudaGetLastError();
      };
      error = args.labels_int64 ? launch(static_cast<const int64_t*>(labels))
                                : launch(static_cast<const int32_t*>(labels));
    } else {
      error = cudaMemsetAsync(partials, 0, sizeof(double) * blocks, stream);
    }
    if (error != cudaSuccess) return error;
  }
  BackwardScalars<<<1, kBlockThreads, 0, stream>>>(args, dloss, partials, blocks, scalars);
  error = cudaGetLastError();
  if (error != cudaSuccess || rows == 0) return error;
  return Dispatch(args, labels, [&](auto group, const auto* typed_labels) {
    BackwardRows<decltype(group)::value><<<blocks, kBlockThreads, 0, stream>>>(
        args, dloss, in, scores_input, typed_labels, scalars, dx, bad);
    return cudaGetLastError();
  });
}

}  // namespace onyx::cuda
