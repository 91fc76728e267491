// com.onyx BatchNormalizationGrad: inputs (dY, X, scale, mean, var), attributes
// epsilon, training_mode, spatial; outputs (dX, dScale, dB), each optional.
// Per channel p over its M = N * Q values, with x_hat = (x - mu) * inv_std:
//   dB = sum(dy), dScale = sum(dy * x_hat);
//   training (mu, var: the batch's, recomputed from X; PyTorch's formula):
//     dx = scale * inv_std * (dy - dB / M - x_hat * dScale / M);
//   inference (mu, var: the inputs, constants): dx = scale * inv_std * dy.
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/norm/norm_util.h"
#include "runtime/status_macros.h"

namespace onyx::norm {
namespace {

template <typename T>
void BatchNormBackward(const T* dy, const T* x, T* dx, int64_t n_size, int64_t p_size,
                       int64_t q_size, bool training, const std::vector<double>& scale,
                       const std::vector<double>& mean, const std::vector<double>& inv_std,
                       std::vector<double>& dscale, std::vector<double>& dbias) {
  dscale.assign(p_size, 0.0);
  dbias.assign(p_size, 0.0);
  if (q_size >= 16 || n_size == 1) {  // long contiguous rows: plain vectorized sums
#pragma omp parallel for schedule(static) if (WorthThreads(n_size * p_size * q_size))
    for (int64_t p = 0; p < p_size; ++p) {
      const double m = mean[p];
      double sum_dy = 0, sum_dy_xc = 0;
      for (int64_t n = 0; n < n_size; ++n) {
        const T* dyr = dy + (n * p_size + p) * q_size;
        const T* xr = x + (n * p_size + p) * q_size;
        double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
        for (int64_t q = 0; q < q_size; ++q) {
          a += double(dyr[q]);
          b += double(dyr[q]) * (double(xr[q]) - m);
        }
        sum_dy += a;
        sum_dy_xc += b;
      }
      dbias[p] = sum_dy;
      dscale[p] = sum_dy_xc * inv_std[p];
    }
  } else {
    ChannelSums(
        n_size, p_size, q_size,
        [&](int64_t i, int64_t p) {
          const double g = dy[i];
          return std::pair(g, g * (double(x[i]) - mean[p]) * inv_std[p]);
        },
        dbias.data(), dscale.data());
  }
  if (dx == nullptr) return;
  const double m = static_cast<double>(n_size * q_size);
  const int64_t rows = n_size * p_size;
#pragma omp parallel for schedule(static) if (WorthThreads(rows * q_size))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t p = r % p_size;
    const double k = scale[p] * inv_std[p];
    const double shift = training ? dbias[p] / m : 0.0;
    const double slope = training ? dscale[p] / m : 0.0;
    const T* dyr = dy + r * q_size;
    const T* xr = x + r * q_size;
    T* dxr = dx + r * q_size;
    for (int64_t q = 0; q < q_size; ++q) {
      const double x_hat = (double(xr[q]) - mean[p]) * inv_std[p];
      dxr[q] = static_cast<T>(k * (double(dyr[q]) - shift - x_hat * slope));
    }
  }
}

class BatchNormGradKernel final : public Kernel {
 public:
  BatchNormGradKernel(float epsilon, bool training, bool spatial)
      : epsilon_(epsilon), training_(training), spatial_(spatial) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", *x));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "scale", *scale, x));
    if (x->rank() < 2 || dy->shape() != x->shape() || dy->dtype() != x->dtype()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY %s and X %s must match, with rank >= 2", node.Describe(),
                          dy->DebugString(), x->DebugString()));
    }
    const int64_t n_size = x->dim(0);
    int64_t q_all = 1;
    for (int i = 2; i < x->rank(); ++i) q_all *= x->dim(i);
    const int64_t p_size = spatial_ ? x->dim(1) : x->dim(1) * q_all;
    const int64_t q_size = spatial_ ? q_all : 1;
    if (scale->num_elements() != p_size) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: scale %s must hold %d values for X %s", node.Describe(),
                          scale->DebugString(), p_size, x->DebugString()));
    }
    std::vector<double> mean, var;
    if (training_) {
      if (x->dtype() == DataType::kFloat32) {
        ChannelMeanVar(x->data<float>(), n_size, p_size, q_size, mean, var);
      } else {
        ChannelMeanVar(x->data<double>(), n_size, p_size, q_size, mean, var);
      }
    } else {
      ONYX_ASSIGN_OR_RETURN(const Tensor* m, ctx.RequiredInput(3));
      ONYX_ASSIGN_OR_RETURN(const Tensor* v, ctx.RequiredInput(4));
      if (m->num_elements() != p_size || v->num_elements() != p_size) {
        return absl::FailedPreconditionError(
            absl::StrFormat("%s: mean %s and var %s must hold %d values", node.Describe(),
                            m->DebugString(), v->DebugString(), p_size));
      }
      ONYX_RETURN_IF_ERROR(CheckFloat(node, "mean", *m, x));
      ONYX_RETURN_IF_ERROR(CheckFloat(node, "var", *v, x));
      mean = ParamValues(*m);
      var = ParamValues(*v);
    }
    std::vector<double> inv_std(p_size);
    for (int64_t p = 0; p < p_size; ++p) inv_std[p] = 1.0 / std::sqrt(var[p] + epsilon_);
    Tensor* dx = nullptr;
    if (ctx.wants_output(0)) {
      ONYX_ASSIGN_OR_RETURN(dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    }
    const std::vector<double> scale_v = ParamValues(*scale);
    std::vector<double> dscale, dbias;
    if (x->dtype() == DataType::kFloat32) {
      BatchNormBackward(dy->data<float>(), x->data<float>(), dx ? dx->data<float>() : nullptr,
                        n_size, p_size, q_size, training_, scale_v, mean, inv_std, dscale, dbias);
    } else {
      BatchNormBackward(dy->data<double>(), x->data<double>(), dx ? dx->data<double>() : nullptr,
                        n_size, p_size, q_size, training_, scale_v, mean, inv_std, dscale, dbias);
    }
    const std::vector<double>* grads[2] = {&dscale, &dbias};
    for (int i = 1; i <= 2; ++i) {
      if (!ctx.wants_output(i)) continue;
      ONYX_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(i, x->dtype(), scale->shape()));
      StoreValues(*grads[i - 1], *out);
    }
    return absl::OkStatus();
  }

 private:
  double epsilon_;
  bool training_;
  bool spatial_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateBatchNormGradKernel(const Node& node,
                                                                  int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(float epsilon, node.GetFloat("epsilon", 1e-5f));
  ONYX_ASSIGN_OR_RETURN(int64_t training, node.GetInt("training_mode", 1));
  ONYX_ASSIGN_OR_RETURN(int64_t spatial, node.GetInt("spatial", 1));
  return std::unique_ptr<Kernel>(new BatchNormGradKernel(epsilon, training != 0, spatial != 0));
}

}  // namespace onyx::norm
