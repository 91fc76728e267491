// InstanceNormalization (opsets 1, 6, 22) and com.onyx InstanceNormalizationGrad.
// X [N, C, D1..Dk]; per (n, c) plane of S = D1*..*Dk values:
//   x_hat = (x - mean) / sqrt(var + epsilon), y = scale[c] * x_hat + B[c].
// Grad (dY, X, scale) -> (dX, dScale, dB):
//   dx = scale[c] * inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)),
//   dScale[c] = sum over n, s of dy * x_hat, dB[c] = sum of dy.
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

struct Planes {
  int64_t n = 0, c = 0, size = 1;
};

absl::StatusOr<Planes> MakePlanes(const Node& node, const Tensor& x) {
  if (x.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input X has shape %s, expected rank >= 2 ([N, C, D1, ...])",
                        node.Describe(), ShapeToString(x.shape())));
  }
  Planes p{x.dim(0), x.dim(1), 1};
  for (int i = 2; i < x.rank(); ++i) p.size *= x.dim(i);
  return p;
}

absl::Status CheckChannelParam(const Node& node, const char* name, const Tensor& t, const Tensor& x,
                               const Planes& p) {
  ONYX_RETURN_IF_ERROR(CheckFloat(node, name, t, &x));
  if (t.num_elements() != p.c) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: input %s has shape %s, expected [%d] (the channels of X %s)", node.Describe(), name,
        ShapeToString(t.shape()), p.c, ShapeToString(x.shape())));
  }
  return absl::OkStatus();
}

template <typename T>
void PlaneMeanInvStd(const T* xp, int64_t size, double epsilon, double& mean, double& inv_std) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < size; ++j) sum += double(xp[j]);
  mean = size > 0 ? sum / size : 0.0;
  double sq = 0;
#pragma omp simd reduction(+ : sq)
  for (int64_t j = 0; j < size; ++j) sq += (double(xp[j]) - mean) * (double(xp[j]) - mean);
  inv_std = 1.0 / std::sqrt((size > 0 ? sq / size : 0.0) + epsilon);
}

template <typename T>
void InstanceNormForward(const T* x, T* y, const Planes& p, double epsilon,
                         const std::vector<double>& scale, const std::vector<double>& bias) {
  const int64_t planes = p.n * p.c;
#pragma omp parallel for schedule(static) if (WorthThreads(planes * p.size))
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T* xp = x + plane * p.size;
    double mean, inv_std;
    PlaneMeanInvStd(xp, p.size, epsilon, mean, inv_std);
    const double a = scale[plane % p.c] * inv_std;
    const T ta = static_cast<T>(a), tc = static_cast<T>(bias[plane % p.c] - mean * a);
    T* yp = y + plane * p.size;
#pragma omp simd
    for (int64_t j = 0; j < p.size; ++j) yp[j] = xp[j] * ta + tc;
  }
}

template <typename T>
void InstanceNormBackward(const T* dy, const T* x, T* dx, const Planes& p, double epsilon,
                          const std::vector<double>& scale, std::vector<double>& dscale,
                          std::vector<double>& dbias) {
  const int64_t planes = p.n * p.c;
  std::vector<double> plane_dscale(planes), plane_dbias(planes);
#pragma omp parallel for schedule(static) if (WorthThreads(planes * p.size))
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T* xp = x + plane * p.size;
    const T* dyp = dy + plane * p.size;
    double mean, inv_std;
    PlaneMeanInvStd(xp, p.size, epsilon, mean, inv_std);
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t j = 0; j < p.size; ++j) {
      sum_dy += double(dyp[j]);
      sum_dy_xhat += double(dyp[j]) * (double(xp[j]) - mean) * inv_std;
    }
    plane_dbias[plane] = sum_dy;
    plane_dscale[plane] = sum_dy_xhat;
    if (dx == nullptr) continue;
    const double k = scale[plane % p.c] * inv_std;
    const double mean_dy = sum_dy / p.size, mean_dy_xhat = sum_dy_xhat / p.size;
    T* dxp = dx + plane * p.size;
    for (int64_t j = 0; j < p.size; ++j) {
      const double x_hat = (double(xp[j]) - mean) * inv_std;
      dxp[j] = static_cast<T>(k * (double(dyp[j]) - mean_dy - x_hat * mean_dy_xhat));
    }
  }
  dscale.assign(p.c, 0.0);
  dbias.assign(p.c, 0.0);
  for (int64_t plane = 0; plane < planes; ++plane) {
    dscale[plane % p.c] += plane_dscale[plane];
    dbias[plane % p.c] += plane_dbias[plane];
  }
}

class InstanceNormKernel final : public Kernel {
 public:
  explicit InstanceNormKernel(float epsilon) : epsilon_(epsilon) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* bias, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "input", *x));
    ONYX_ASSIGN_OR_RETURN(const Planes p, MakePlanes(node, *x));
    ONYX_RETURN_IF_ERROR(CheckChannelParam(node, "scale", *scale, *x, p));
    ONYX_RETURN_IF_ERROR(CheckChannelParam(node, "B", *bias, *x, p));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
    const std::vector<double> s = ParamValues(*scale), b = ParamValues(*bias);
    if (x->dtype() == DataType::kFloat32) {
      InstanceNormForward(x->data<float>(), y->data<float>(), p, epsilon_, s, b);
    } else {
      InstanceNormForward(x->data<double>(), y->data<double>(), p, epsilon_, s, b);
    }
    return absl::OkStatus();
  }

 private:
  double epsilon_;
};

class InstanceNormGradKernel final : public Kernel {
 public:
  explicit InstanceNormGradKernel(float epsilon) : epsilon_(epsilon) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", *x));
    ONYX_ASSIGN_OR_RETURN(const Planes p, MakePlanes(node, *x));
    ONYX_RETURN_IF_ERROR(CheckChannelParam(node, "scale", *scale, *x, p));
    if (dy->shape() != x->shape() || dy->dtype() != x->dtype()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s and X %s must match", node.Describe(), dy->DebugString(), x->DebugString()));
    }
    Tensor* dx = nullptr;
    if (ctx.wants_output(0)) {
      ONYX_ASSIGN_OR_RETURN(dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    }
    const std::vector<double> s = ParamValues(*scale);
    std::vector<double> dscale, dbias;
    if (x->dtype() == DataType::kFloat32) {
      InstanceNormBackward(dy->data<float>(), x->data<float>(), dx ? dx->data<float>() : nullptr, p,
                           epsilon_, s, dscale, dbias);
    } else {
      InstanceNormBackward(dy->data<double>(), x->data<double>(), dx ? dx->data<double>() : nullptr,
                           p, epsilon_, s, dscale, dbias);
    }
    const std::vector<double>* sums[2] = {&dscale, &dbias};
    for (int i = 1; i <= 2; ++i) {
      if (!ctx.wants_output(i)) continue;
      ONYX_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(i, x->dtype(), scale->shape()));
      StoreValues(*sums[i - 1], *out);
    }
    return absl::OkStatus();
  }

 private:
  double epsilon_;
};

absl::StatusOr<float> Epsilon(const Node& node) {
  ONYX_ASSIGN_OR_RETURN(float epsilon, node.GetFloat("epsilon", 1e-5f));
  if (!(epsilon >= 0)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: epsilon must be >= 0, got %g", node.Describe(), epsilon));
  }
  return epsilon;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateInstanceNormKernel(const Node& node,
                                                                 int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(float epsilon, Epsilon(node));
  return std::unique_ptr<Kernel>(new InstanceNormKernel(epsilon));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateInstanceNormGradKernel(const Node& node,
                                                                     int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(float epsilon, Epsilon(node));
  return std::unique_ptr<Kernel>(new InstanceNormGradKernel(epsilon));
}

}  // namespace onyx::norm
