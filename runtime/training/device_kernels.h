// What the trainer needs from a device to keep fine-tuning there: the optimizer
// updates of update_math.h and three small gradient kernels, on float32 device
// buffers, queued in order with the device's sessions (one stream per backend).
//
// Why a table filled at registration: runtime/ includes nothing from ops/, where
// the CUDA launchers live; ops/optim registers its implementation here, as it
// registers kernels in an OpRegistry.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/device_backend.h"
#include "runtime/distributed/communicator.h"
#include "runtime/op_registry.h"
#include "runtime/tensor.h"
#include "runtime/training/update_math.h"

namespace onyx {

class DeviceTrainingKernels {
 public:
  virtual ~DeviceTrainingKernels() = default;
  // The backend whose memory and stream these kernels use.
  virtual DeviceBackend& backend() = 0;

  // One optimizer update of n elements in place (update_math.h; state pointers a
  // variant does not use may be null).
  virtual absl::Status Sgd(const update_math::MomentumCoeffs<float>& c, bool momentum,
                           bool nesterov, float* x, const float* g, float* v, int64_t n) = 0;
  virtual absl::Status Adam(const update_math::AdamCoeffs<float>& c, bool amsgrad, float* x,
                            const float* g, float* m, float* v, float* vmax, int64_t n) = 0;
  virtual absl::Status Rmsprop(const update_math::RmspropCoeffs<float>& c, bool centered,
                               bool momentum, float* x, const float* g, float* sq, float* ga,
                               float* buf, int64_t n) = 0;
  virtual absl::Status Adagrad(const update_math::AdagradCoeffs<float>& c, float* x,
                               const float* g, float* h, int64_t n) = 0;

  // y = alpha * x in float (y may be x).
  virtual absl::Status Scale(float* y, const float* x, float alpha, int64_t n) = 0;
  // acc = acc + alpha * x in float (alpha 1: exactly acc + x).
  virtual absl::Status AddScaled(float* acc, const float* x, float alpha, int64_t n) = 0;
  // x = 0.
  virtual absl::Status Zero(float* x, int64_t n) = 0;
  // Sum over all `xs` (float32 device tensors) of x^2, accumulated in double;
  // waits for the result.
  virtual absl::StatusOr<double> SumSquares(absl::Span<const Tensor* const> xs) = 0;

  // Data-parallel training on the device: joins the processes of `comm` in a
  // device collective (NCCL on CUDA); every rank calls it. Unimplemented where
  // the device has none, FailedPrecondition when the ranks agreed not to use it
  // (one could not set up): either way every rank gets that outcome and reduces
  // on the host. Any other error means this rank failed after the ranks agreed,
  // so the others may wait in the device collective: the job has to end.
  virtual absl::Status ConnectProcesses(Communicator& comm) {
    return absl::UnimplementedError("this device has no collective operations");
  }
  // After ConnectProcesses: in-place sums over the processes of each
  // (device pointer, count), queued in order with the other kernels.
  virtual absl::Status AllReduceSum(absl::Span<const std::pair<float*, int64_t>> buffers) {
    return absl::UnimplementedError("this device has no collective operations");
  }
};

using DeviceTrainingKernelsFactory =
    std::function<absl::StatusOr<std::unique_ptr<DeviceTrainingKernels>>(
        std::shared_ptr<DeviceBackend> backend)>;

// Process-wide, one factory per device (a later call replaces the earlier one).
void RegisterDeviceTrainingKernels(Device device, DeviceTrainingKernelsFactory factory);

// The kernels for `backend`'s device; NotFound when none is registered (the
// trainer then keeps the optimizer step on the host).
absl::StatusOr<std::unique_ptr<DeviceTrainingKernels>> MakeDeviceTrainingKernels(
    std::shared_ptr<DeviceBackend> backend);

}  // namespace onyx
