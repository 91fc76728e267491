// LayerNormalization (opset 17) and com.onyx LayerNormalizationGrad on CPU.
// X is viewed as [outer, inner], inner = prod(dims[axis:]); per row:
//   mean, inv_std = 1 / sqrt(var + epsilon), x_hat = (x - mean) * inv_std,
//   y = x_hat * scale + B   (scale, B broadcast to dims[axis:]);
// Mean and InvStdDev have X's dims with dims[axis:] set to 1 (X's dtype).
// Grad (dY, X, Scale) -> (dX, dScale, dB), with g = dy * scale:
//   dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),
//   dScale = sum over rows of dy * x_hat, dB = sum over rows of dy (folded to
//   Scale's / B's shape where they broadcast).
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/norm/norm_util.h"
#include "runtime/status_macros.h"

namespace onyx::norm {
namespace {

using RowView = LayerNormRows;

// For each position j of the normalized dims (X's dims[axis:]), the index of the
// element of `param` that NumPy broadcasting reads there; InvalidArgument when
// `param` does not broadcast to those dims.
absl::StatusOr<std::vector<int64_t>> ParamIndex(const Node& node, const char* name,
                                                const Tensor& param, const Tensor& x,
                                                const RowView& v) {
  const Shape inner_dims(x.shape().begin() + v.axis, x.shape().end());
  const Shape& p = param.shape();
  bool ok = p.size() <= inner_dims.size();
  for (size_t i = 0; ok && i < p.size(); ++i) {
    const int64_t d = inner_dims[inner_dims.size() - p.size() + i];
    ok = p[i] == d || p[i] == 1;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: input %s has shape %s, which does not broadcast to the normalized dims %s of "
        "X %s (axis %d)",
        node.Describe(), name, ShapeToString(p), ShapeToString(inner_dims),
        ShapeToString(x.shape()), v.axis));
  }
  std::vector<int64_t> index(v.inner);
  const size_t pad = inner_dims.size() - p.size();
  for (int64_t j = 0; j < v.inner; ++j) {
    int64_t rest = j, at = 0, stride = 1;
    for (int i = static_cast<int>(inner_dims.size()) - 1; i >= 0; --i) {
      const int64_t coord = rest % inner_dims[i];
      rest /= inner_dims[i];
      if (i >= static_cast<int>(pad)) {
        const int64_t pd = p[i - pad];
        at += (pd == 1 ? 0 : coord) * stride;
        stride *= pd;
      }
    }
    index[j] = at;
  }
  return index;
}

// Expanded parameter values over the inner positions.
std::vector<double> Expand(const Tensor& param, const std::vector<int64_t>& index) {
  const std::vector<double> v = ParamValues(param);
  std::vector<double> out(index.size());
  for (size_t j = 0; j < index.size(); ++j) out[j] = v[index[j]];
  return out;
}

template <typename T>
void RowMeanInvStd(const T* xr, int64_t inner, double epsilon, double& mean, double& inv_std) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < inner; ++j) sum += double(xr[j]);
  mean = inner > 0 ? sum / inner : 0.0;
  double sq = 0;
#pragma omp simd reduction(+ : sq)
  for (int64_t j = 0; j < inner; ++j) sq += (double(xr[j]) - mean) * (double(xr[j]) - mean);
  inv_std = 1.0 / std::sqrt((inner > 0 ? sq / inner : 0.0) + epsilon);
}

template <typename T>
void LayerNormForward(const T* x, T* y, T* mean_out, T* inv_std_out, const RowView& v,
                      double epsilon, const std::vector<double>& scale,
                      const std::vector<double>& bias) {
#pragma omp parallel for schedule(static) if (WorthThreads(v.outer * v.inner))
  for (int64_t r = 0; r < v.outer; ++r) {
    const T* xr = x + r * v.inner;
    T* yr = y + r * v.inner;
    double mean, inv_std;
    RowMeanInvStd(xr, v.inner, epsilon, mean, inv_std);
    for (int64_t j = 0; j < v.inner; ++j) {
      yr[j] = static_cast<T>((double(xr[j]) - mean) * inv_std * scale[j] + bias[j]);
    }
    if (mean_out) mean_out[r] = static_cast<T>(mean);
    if (inv_std_out) inv_std_out[r] = static_cast<T>(inv_std);
  }
}

// The common case (every exporter writes it): Scale and B hold exactly the normalized dims,
// so they are read in place in X's type, with no index tables or double copies per call.
// Statistics stay in double; the affine part is in T, which vectorizes.
template <typename T>
void LayerNormForwardDirect(const T* x, T* y, T* mean_out, T* inv_std_out, const RowView& v,
                            double epsilon, const T* scale, const T* bias) {
#pragma omp parallel for schedule(static) if (WorthThreads(v.outer * v.inner))
  for (int64_t r = 0; r < v.outer; ++r) {
    const T* xr = x + r * v.inner;
    T* yr = y + r * v.inner;
    double mean, inv_std;
    RowMeanInvStd(xr, v.inner, epsilon, mean, inv_std);
    const T m = static_cast<T>(mean), s = static_cast<T>(inv_std);
    if (bias) {
#pragma omp simd
      for (int64_t j = 0; j < v.inner; ++j) yr[j] = (xr[j] - m) * s * scale[j] + bias[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < v.inner; ++j) yr[j] = (xr[j] - m) * s * scale[j];
    }
    if (mean_out) mean_out[r] = m;
    if (inv_std_out) inv_std_out[r] = s;
  }
}

// float32 rows with Scale and B of the normalized dims: statistics accumulated
// in float across the vector lanes (a row is a few hundred to a few thousand
// values, so 16 partial sums keep the error near float epsilon), two passes
// over a row that stays in L1. Compiled for AVX-512 and for the baseline ISA;
// the build has no -march, so the baseline alone would be SSE2.
__attribute__((always_inline)) inline void LayerNormRow(const float* x, float* y, int64_t n,
                                                        float epsilon, const float* scale,
                                                        const float* bias, float* mean_out,
                                                        float* inv_std_out) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) sum += x[j];
  const float mean = sum / static_cast<float>(n);
  float sq = 0.f;
#pragma omp simd reduction(+ : sq)
  for (int64_t j = 0; j < n; ++j) sq += (x[j] - mean) * (x[j] - mean);
  const float inv_std = 1.f / std::sqrt(sq / static_cast<float>(n) + epsilon);
  if (bias) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = (x[j] - mean) * inv_std * scale[j] + bias[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = (x[j] - mean) * inv_std * scale[j];
  }
  *mean_out = mean;
  *inv_std_out = inv_std;
}

void LayerNormRowBase(const float* x, float* y, int64_t n, float epsilon, const float* scale,
                      const float* bias, float* mean_out, float* inv_std_out) {
  LayerNormRow(x, y, n, epsilon, scale, bias, mean_out, inv_std_out);
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))) void LayerNormRowAvx512(
    const float* x, float* y, int64_t n, float epsilon, const float* scale, const float* bias,
    float* mean_out, float* inv_std_out) {
  LayerNormRow(x, y, n, epsilon, scale, bias, mean_out, inv_std_out);
}
#endif

using LayerNormRowFn = void (*)(const float*, float*, int64_t, float, const float*, const float*,
                                float*, float*);

LayerNormRowFn PickLayerNormRow() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl")) {
    return LayerNormRowAvx512;
  }
#endif
  return LayerNormRowBase;
}

// Threads only for large inputs: a [128, 256] activation takes a few
// microseconds on one core, less than waking a sleeping OpenMP worker.
void LayerNormForwardFloat(const float* x, float* y, float* mean_out, float* inv_std_out,
                           const RowView& v, float epsilon, const float* scale,
                           const float* bias) {
  static const LayerNormRowFn row = PickLayerNormRow();
  auto run = [&](int64_t r) {
    float mean, inv_std;
    row(x + r * v.inner, y + r * v.inner, v.inner, epsilon, scale, bias, &mean, &inv_std);
    if (mean_out) mean_out[r] = mean;
    if (inv_std_out) inv_std_out[r] = inv_std;
  };
  if (v.outer * v.inner < (int64_t{1} << 18)) {
    for (int64_t r = 0; r < v.outer; ++r) run(r);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < v.outer; ++r) run(r);
}

class LayerNormKernel final : public Kernel {
 public:
  LayerNormKernel(int64_t axis, float epsilon) : axis_(axis), epsilon_(epsilon) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    const Tensor* bias = ctx.input(2);
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", *x));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "Scale", *scale, x));
    if (bias) ONYX_RETURN_IF_ERROR(CheckFloat(node, "B", *bias, x));
    ONYX_ASSIGN_OR_RETURN(const RowView v, LayerNormRowView(node, *x, axis_));
    ONYX_ASSIGN_OR_RETURN(const LayerNormOutputs outs, AllocateLayerNormOutputs(ctx, *x, v));
    Tensor* y = outs.y;
    Tensor* const* stats = outs.stats;
    const Shape inner_dims(x->shape().begin() + v.axis, x->shape().end());
    if (scale->shape() == inner_dims && (!bias || bias->shape() == inner_dims)) {
      if (x->dtype() == DataType::kFloat32) {
        LayerNormForwardFloat(x->data<float>(), y->data<float>(),
                               stats[0] ? stats[0]->data<float>() : nullptr,
                               stats[1] ? stats[1]->data<float>() : nullptr, v, epsilon_,
                               scale->data<float>(), bias ? bias->data<float>() : nullptr);
      } else {
        LayerNormForwardDirect(x->data<double>(), y->data<double>(),
                               stats[0] ? stats[0]->data<double>() : nullptr,
                               stats[1] ? stats[1]->data<double>() : nullptr, v, epsilon_,
                               scale->data<double>(), bias ? bias->data<double>() : nullptr);
      }
      return absl::OkStatus();
    }
    ONYX_ASSIGN_OR_RETURN(const std::vector<int64_t> scale_index,
                          ParamIndex(node, "Scale", *scale, *x, v));
    const std::vector<double> scale_v = Expand(*scale, scale_index);
    std::vector<double> bias_v(v.inner, 0.0);
    if (bias) {
      ONYX_ASSIGN_OR_RETURN(const std::vector<int64_t> bias_index,
                            ParamIndex(node, "B", *bias, *x, v));
      bias_v = Expand(*bias, bias_index);
    }
    if (x->dtype() == DataType::kFloat32) {
      LayerNormForward(x->data<float>(), y->data<float>(),
                       stats[0] ? stats[0]->data<float>() : nullptr,
                       stats[1] ? stats[1]->data<float>() : nullptr, v, epsilon_, scale_v, bias_v);
    } else {
      LayerNormForward(x->data<double>(), y->data<double>(),
                       stats[0] ? stats[0]->data<double>() : nullptr,
                       stats[1] ? stats[1]->data<double>() : nullptr, v, epsilon_, scale_v, bias_v);
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_;
  double epsilon_;
};

// dx per row (parallel), then dScale / dB per inner position summed over rows.
template <typename T>
void LayerNormBackward(const T* dy, const T* x, T* dx, const RowView& v, double epsilon,
                       const std::vector<double>& scale, std::vector<double>& dscale,
                       std::vector<double>& dbias) {
  std::vector<double> means(v.outer), inv_stds(v.outer);
#pragma omp parallel for schedule(static) if (WorthThreads(v.outer * v.inner))
  for (int64_t r = 0; r < v.outer; ++r) {
    const T* xr = x + r * v.inner;
    const T* dyr = dy + r * v.inner;
    RowMeanInvStd(xr, v.inner, epsilon, means[r], inv_stds[r]);
    if (dx == nullptr) continue;
    const double mean = means[r], inv_std = inv_stds[r];
    double sum_g = 0, sum_gx = 0;
    for (int64_t j = 0; j < v.inner; ++j) {
      const double g = double(dyr[j]) * scale[j];
      sum_g += g;
      sum_gx += g * (double(xr[j]) - mean) * inv_std;
    }
    const double mean_g = sum_g / v.inner, mean_gx = sum_gx / v.inner;
    T* dxr = dx + r * v.inner;
    for (int64_t j = 0; j < v.inner; ++j) {
      const double x_hat = (double(xr[j]) - mean) * inv_std;
      dxr[j] = static_cast<T>(inv_std * (double(dyr[j]) * scale[j] - mean_g - x_hat * mean_gx));
    }
  }
  dscale.assign(v.inner, 0.0);
  dbias.assign(v.inner, 0.0);
  for (int64_t r = 0; r < v.outer; ++r) {
    const T* xr = x + r * v.inner;
    const T* dyr = dy + r * v.inner;
    const double mean = means[r], inv_std = inv_stds[r];
#pragma omp simd
    for (int64_t j = 0; j < v.inner; ++j) {
      dscale[j] += double(dyr[j]) * (double(xr[j]) - mean) * inv_std;
      dbias[j] += double(dyr[j]);
    }
  }
}

class LayerNormGradKernel final : public Kernel {
 public:
  LayerNormGradKernel(int64_t axis, float epsilon) : axis_(axis), epsilon_(epsilon) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", *x));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "Scale", *scale, x));
    ONYX_ASSIGN_OR_RETURN(const RowView v, LayerNormGradRowView(node, *dy, *x, axis_));
    ONYX_ASSIGN_OR_RETURN(const std::vector<int64_t> scale_index,
                          ParamIndex(node, "Scale", *scale, *x, v));
    const std::vector<double> scale_v = Expand(*scale, scale_index);
    Tensor* dx = nullptr;
    if (ctx.wants_output(0)) {
      ONYX_ASSIGN_OR_RETURN(dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    }
    std::vector<double> dscale, dbias;
    if (x->dtype() == DataType::kFloat32) {
      LayerNormBackward(dy->data<float>(), x->data<float>(), dx ? dx->data<float>() : nullptr, v,
                        epsilon_, scale_v, dscale, dbias);
    } else {
      LayerNormBackward(dy->data<double>(), x->data<double>(), dx ? dx->data<double>() : nullptr, v,
                        epsilon_, scale_v, dscale, dbias);
    }
    // dScale folds to Scale's shape; dB to B's (input 3, for its shape) or Scale's.
    const Tensor* like[2] = {scale, ctx.input(3) ? ctx.input(3) : scale};
    const std::vector<double>* sums[2] = {&dscale, &dbias};
    for (int i = 1; i <= 2; ++i) {
      if (!ctx.wants_output(i)) continue;
      ONYX_ASSIGN_OR_RETURN(const std::vector<int64_t> index,
                            ParamIndex(node, i == 1 ? "Scale" : "B", *like[i - 1], *x, v));
      std::vector<double> folded(like[i - 1]->num_elements(), 0.0);
      for (int64_t j = 0; j < v.inner; ++j) folded[index[j]] += (*sums[i - 1])[j];
      ONYX_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(i, x->dtype(), like[i - 1]->shape()));
      StoreValues(folded, *out);
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_;
  double epsilon_;
};

}  // namespace

absl::StatusOr<LayerNormRows> LayerNormRowView(const Node& node, const Tensor& x, int64_t axis) {
  const int rank = x.rank();
  if (rank == 0 || axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: axis %d is out of range for X %s",
                                                      node.Describe(), axis, x.DebugString()));
  }
  LayerNormRows v;
  v.axis = static_cast<int>(axis < 0 ? axis + rank : axis);
  for (int i = 0; i < rank; ++i) (i < v.axis ? v.outer : v.inner) *= x.dim(i);
  return v;
}

absl::StatusOr<LayerNormOutputs> AllocateLayerNormOutputs(KernelContext& ctx, const Tensor& x,
                                                          const LayerNormRows& v) {
  Shape stat_shape = x.shape();
  for (int i = v.axis; i < x.rank(); ++i) stat_shape[i] = 1;
  LayerNormOutputs outs;
  ONYX_ASSIGN_OR_RETURN(outs.y, ctx.AllocateOutput(0, x.dtype(), x.shape()));
  for (int i = 1; i <= 2; ++i) {
    if (ctx.wants_output(i)) {
      ONYX_ASSIGN_OR_RETURN(outs.stats[i - 1], ctx.AllocateOutput(i, x.dtype(), stat_shape));
    }
  }
  return outs;
}

absl::StatusOr<LayerNormRows> LayerNormGradRowView(const Node& node, const Tensor& dy,
                                                   const Tensor& x, int64_t axis) {
  if (dy.shape() != x.shape() || dy.dtype() != x.dtype()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: dY %s and X %s must match", node.Describe(), dy.DebugString(), x.DebugString()));
  }
  return LayerNormRowView(node, x, axis);
}

absl::StatusOr<std::pair<int64_t, float>> LayerNormAxisEpsilon(const Node& node) {
  ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", -1));
  ONYX_ASSIGN_OR_RETURN(float epsilon, node.GetFloat("epsilon", 1e-5f));
  if (!(epsilon >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: epsilon must be >= 0, got %g", node.Describe(), epsilon));
  }
  return std::pair(axis, epsilon);
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateLayerNormKernel(const Node& node, int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(const auto ae, LayerNormAxisEpsilon(node));
  // stash_type = 1 (float) is the only one: statistics are computed in double.
  return std::unique_ptr<Kernel>(new LayerNormKernel(ae.first, ae.second));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateLayerNormGradKernel(const Node& node,
                                                                  int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(const auto ae, LayerNormAxisEpsilon(node));
  return std::unique_ptr<Kernel>(new LayerNormGradKernel(ae.first, ae.second));
}

}  // namespace onyx::norm
