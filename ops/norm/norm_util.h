// Internal to ops/norm: factories, builders and ShapeFns of the family, and the
// per-channel reductions BatchNormalization and its gradient share.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"

namespace onyx::norm {

// batch_norm_cpu.cc: BatchNormalization (inference and training, opsets 1..15).
absl::StatusOr<std::unique_ptr<Kernel>> CreateBatchNormKernel(const Node& node, int64_t opset);
// batch_norm_grad_cpu.cc: com.onyx BatchNormalizationGrad.
absl::StatusOr<std::unique_ptr<Kernel>> CreateBatchNormGradKernel(const Node& node, int64_t opset);
// layer_norm_cpu.cc: LayerNormalization and com.onyx LayerNormalizationGrad.
absl::StatusOr<std::unique_ptr<Kernel>> CreateLayerNormKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> CreateLayerNormGradKernel(const Node& node, int64_t opset);
// instance_norm_cpu.cc: InstanceNormalization and com.onyx InstanceNormalizationGrad.
absl::StatusOr<std::unique_ptr<Kernel>> CreateInstanceNormKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> CreateInstanceNormGradKernel(const Node& node,
                                                                     int64_t opset);
// lrn_cpu.cc: LRN.
absl::StatusOr<std::unique_ptr<Kernel>> CreateLrnKernel(const Node& node, int64_t opset);
// norm_grad.cc / norm_shape.cc.
void RegisterNormGradients(OpRegistry& registry);
void RegisterNormShapeFns(OpRegistry& registry);

// LayerNormalization's X viewed as [outer, inner] rows, inner = prod(dims[axis:]),
// with its checks and messages; layer_norm_cpu.cc defines these for both the
// CPU kernels and the CUDA ones (layernorm_cuda.cc).
struct LayerNormRows {
  int axis = 0;
  int64_t outer = 1, inner = 1;
};
absl::StatusOr<LayerNormRows> LayerNormRowView(const Node& node, const Tensor& x, int64_t axis);
// LayerNormalizationGrad: FailedPrecondition unless dY matches X (shape and
// dtype), then X's row view.
absl::StatusOr<LayerNormRows> LayerNormGradRowView(const Node& node, const Tensor& dy,
                                                   const Tensor& x, int64_t axis);
// LayerNormalization's outputs: Y (X's shape) and, when wanted, Mean and
// InvStdDev (X's dims with dims[axis:] set to 1), all of X's dtype; null for
// the statistics the graph does not use.
struct LayerNormOutputs {
  Tensor* y = nullptr;
  Tensor* stats[2] = {nullptr, nullptr};  // Mean, InvStdDev
};
absl::StatusOr<LayerNormOutputs> AllocateLayerNormOutputs(KernelContext& ctx, const Tensor& x,
                                                          const LayerNormRows& v);
// The attributes axis (default -1) and epsilon (default 1e-5, must be >= 0).
absl::StatusOr<std::pair<int64_t, float>> LayerNormAxisEpsilon(const Node& node);

inline bool WorthThreads(int64_t work) { return work >= (int64_t{1} << 15); }

// InvalidArgument unless `t` is float32 or float64 and, when `like` is given, of
// its dtype; names the node and the tensor.
inline absl::Status CheckFloat(const Node& node, const char* name, const Tensor& t,
                               const Tensor* like = nullptr) {
  const bool ok = (t.dtype() == DataType::kFloat32 || t.dtype() == DataType::kFloat64) &&
                  (like == nullptr || t.dtype() == like->dtype());
  if (ok) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrFormat(
      "%s: input %s is %s; the CPU kernel takes float32 or float64%s", node.Describe(), name,
      t.DebugString(),
      like ? absl::StrFormat(" matching X (%s)", DataTypeName(like->dtype())) : std::string()));
}

// For an [N, P, Q] layout, per channel p: s0[p] = sum of f(i).first and
// s1[p] = sum of f(i).second over n and q (i the flat index), in double.
// Long q runs reduce per channel in parallel; short ones (Q small, e.g. [N, C]
// inputs) accumulate whole rows so reads stay contiguous.
template <typename F>
void ChannelSums(int64_t n_size, int64_t p_size, int64_t q_size, F f, double* s0, double* s1) {
  if (q_size >= 16 || n_size == 1) {
#pragma omp parallel for schedule(static) if (WorthThreads(n_size * p_size * q_size))
    for (int64_t p = 0; p < p_size; ++p) {
      double a = 0, b = 0;
      for (int64_t n = 0; n < n_size; ++n) {
        const int64_t base = (n * p_size + p) * q_size;
#pragma omp simd reduction(+ : a, b)
        for (int64_t q = 0; q < q_size; ++q) {
          const std::pair<double, double> v = f(base + q, p);
          a += v.first;
          b += v.second;
        }
      }
      s0[p] = a;
      s1[p] = b;
    }
    return;
  }
  const int64_t row = p_size * q_size;
  std::vector<double> a(row, 0.0), b(row, 0.0);
  for (int64_t n = 0; n < n_size; ++n) {
    for (int64_t p = 0, j = 0; p < p_size; ++p) {
      for (int64_t q = 0; q < q_size; ++q, ++j) {
        const std::pair<double, double> v = f(n * row + j, p);
        a[j] += v.first;
        b[j] += v.second;
      }
    }
  }
  for (int64_t p = 0; p < p_size; ++p) {
    double x = 0, y = 0;
    for (int64_t q = 0; q < q_size; ++q) {
      x += a[p * q_size + q];
      y += b[p * q_size + q];
    }
    s0[p] = x;
    s1[p] = y;
  }
}

// Batch mean and biased variance per channel of x viewed as [N, P, Q] (two passes).
template <typename T>
void ChannelMeanVar(const T* x, int64_t n_size, int64_t p_size, int64_t q_size,
                    std::vector<double>& mean, std::vector<double>& var) {
  mean.assign(p_size, 0.0);
  var.assign(p_size, 0.0);
  const double count = static_cast<double>(n_size * q_size);
  if (count == 0) return;
  if (q_size >= 16 || n_size == 1) {  // long contiguous rows: plain vectorized sums
#pragma omp parallel for schedule(static) if (WorthThreads(n_size * p_size * q_size))
    for (int64_t p = 0; p < p_size; ++p) {
      double sum = 0;
      for (int64_t n = 0; n < n_size; ++n) {
        const T* row = x + (n * p_size + p) * q_size;
        double row_sum = 0;
#pragma omp simd reduction(+ : row_sum)
        for (int64_t q = 0; q < q_size; ++q) row_sum += double(row[q]);
        sum += row_sum;
      }
      const double m = sum / count;
      double sq = 0;
      for (int64_t n = 0; n < n_size; ++n) {
        const T* row = x + (n * p_size + p) * q_size;
        double row_sq = 0;
#pragma omp simd reduction(+ : row_sq)
        for (int64_t q = 0; q < q_size; ++q) row_sq += (double(row[q]) - m) * (double(row[q]) - m);
        sq += row_sq;
      }
      mean[p] = m;
      var[p] = sq / count;
    }
    return;
  }
  std::vector<double> unused(p_size);
  ChannelSums(
      n_size, p_size, q_size, [&](int64_t i, int64_t) { return std::pair(double(x[i]), 0.0); },
      mean.data(), unused.data());
  for (double& m : mean) m /= count;
  ChannelSums(
      n_size, p_size, q_size,
      [&](int64_t i, int64_t p) {
        const double d = double(x[i]) - mean[p];
        return std::pair(d * d, 0.0);
      },
      var.data(), unused.data());
  for (double& v : var) v /= count;
}

// Values of a float32/float64 tensor as doubles (small parameter tensors).
inline std::vector<double> ParamValues(const Tensor& t) {
  std::vector<double> v(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    v[i] = t.dtype() == DataType::kFloat32 ? t.data<float>()[i] : t.data<double>()[i];
  }
  return v;
}

// Writes doubles into a float32/float64 tensor of the same element count.
inline void StoreValues(const std::vector<double>& v, Tensor& t) {
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (t.dtype() == DataType::kFloat32) {
      t.data<float>()[i] = static_cast<float>(v[i]);
    } else {
      t.data<double>()[i] = v[i];
    }
  }
}

}  // namespace onyx::norm
