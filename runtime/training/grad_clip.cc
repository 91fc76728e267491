// clip_grad_norm_: one reduction pass and one in-place scaling pass per gradient.
#include "runtime/training/grad_clip.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx {

absl::StatusOr<double> ClipGradNorm(absl::Span<Tensor* const> grads, double max_norm) {
  if (!(max_norm >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("ClipGradNorm: max_norm must be >= 0, got ",
                                                   max_norm));
  }
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i] != nullptr && grads[i]->dtype() != DataType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "ClipGradNorm: gradient %d is %s, expected float32", i,
          DataTypeName(grads[i]->dtype())));
    }
  }
  double sum_sq = 0;
  for (Tensor* g : grads) {
    if (g == nullptr) continue;
    const float* x = g->data<float>();
    const int64_t n = g->num_elements();
    double s = 0;
#pragma omp parallel for reduction(+ : s) if (n >= (1 << 15))
    for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    sum_sq += s;
  }
  const double total_norm = std::sqrt(sum_sq);
  const double clip_coef = max_norm / (total_norm + 1e-6);
  // `!(coef >= 1)`: torch multiplies by clamp(coef, max=1), so a NaN coef
  // poisons the gradients too.
  if (!(clip_coef >= 1)) {
    const float c = static_cast<float>(clip_coef);
    for (Tensor* g : grads) {
      if (g == nullptr) continue;
      float* x = g->data<float>();
      const int64_t n = g->num_elements();
#pragma omp parallel for if (n >= (1 << 15))
      for (int64_t i = 0; i < n; ++i) x[i] *= c;
    }
  }
  return total_norm;
}

absl::StatusOr<double> ClipGradNormOnDevice(DeviceTrainingKernels& kernels,
                                            absl::Span<Tensor* const> grads, double max_norm) {
  if (!(max_norm >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("ClipGradNorm: max_norm must be >= 0, got ",
                                                   max_norm));
  }
  std::vector<Tensor*> present;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i] == nullptr) continue;
    if (grads[i]->dtype() != DataType::kFloat32 || !grads[i]->on_device()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "ClipGradNorm: gradient %d is %s%s, expected float32 on the device", i,
          DataTypeName(grads[i]->dtype()), grads[i]->on_device() ? "" : " on the host"));
    }
    present.push_back(grads[i]);
  }
  ONYX_ASSIGN_OR_RETURN(const double sum_sq, kernels.SumSquares(std::vector<const Tensor*>(
                                                 present.begin(), present.end())));
  const double total_norm = std::sqrt(sum_sq);
  const double clip_coef = max_norm / (total_norm + 1e-6);
  if (!(clip_coef >= 1)) {  // as ClipGradNorm: a NaN coefficient scales too
    const float c = static_cast<float>(clip_coef);
    for (Tensor* g : present) {
      float* x = g->data<float>();
      ONYX_RETURN_IF_ERROR(kernels.Scale(x, x, c, g->num_elements()));
    }
  }
  return total_norm;
}

}  // namespace onyx
