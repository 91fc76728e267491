// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_.
#pragma once

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/tensor.h"
#include "runtime/training/device_kernels.h"

namespace onyx {

// total_norm = sqrt(sum over all grads of g^2) (accumulated in double);
// clip_coef = max_norm / (total_norm + 1e-6); when clip_coef < 1 every grad is
// scaled in place by it (a NaN/inf norm scales too, as torch does with
// error_if_nonfinite=False). Null entries are skipped (torch skips p.grad None).
// Returns total_norm (0 for no grads). InvalidArgument for a non-float32 grad
// (naming its index) or max_norm < 0 / NaN.
absl::StatusOr<double> ClipGradNorm(absl::Span<Tensor* const> grads, double max_norm);

// The same for device-resident gradients (all non-null ones on `kernels`'s
// device): the sum of squares in double on the device, the scaling there.
absl::StatusOr<double> ClipGradNormOnDevice(DeviceTrainingKernels& kernels,
                                            absl::Span<Tensor* const> grads, double max_norm);

}  // namespace onyx
