// DeviceTrainingKernels on CUDA (runtime/training/device_kernels.h): the
// optimizer launchers of optim_cuda.h on the backend's stream, so updates queue
// behind the backward pass that produced their gradients; gradient sums over
// processes through NCCL (runtime/cuda/nccl_communicator.h).
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/optim/optim_cuda.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#ifdef ONYX_HAVE_NCCL
#include "runtime/cuda/nccl_communicator.h"
#endif
#include "runtime/status_macros.h"
#include "runtime/training/device_kernels.h"

namespace onyx::cuda {
namespace {

class CudaTrainingKernels final : public DeviceTrainingKernels {
 public:
  CudaTrainingKernels(std::shared_ptr<DeviceBackend> owner, CudaBackend* cuda)
      : owner_(std::move(owner)), cuda_(cuda) {}

  DeviceBackend& backend() override { return *cuda_; }

  absl::Status Sgd(const update_math::MomentumCoeffs<float>& c, bool momentum, bool nesterov,
                   float* x, const float* g, float* v, int64_t n) override {
    return CudaStatus(SgdUpdate(c, momentum, nesterov, x, g, v, n, stream()), "SGD update");
  }
  absl::Status Adam(const update_math::AdamCoeffs<float>& c, bool amsgrad, float* x,
                    const float* g, float* m, float* v, float* vmax, int64_t n) override {
    return CudaStatus(AdamUpdate(c, amsgrad, x, g, m, v, vmax, n, stream()), "Adam update");
  }
  absl::Status Rmsprop(const update_math::RmspropCoeffs<float>& c, bool centered, bool momentum,
                       float* x, const float* g, float* sq, float* ga, float* buf,
                       int64_t n) override {
    return CudaStatus(RmspropUpdate(c, centered, momentum, x, g, sq, ga, buf, n, stream()),
                      "RMSprop update");
  }
  absl::Status Adagrad(const update_math::AdagradCoeffs<float>& c, float* x, const float* g,
                       float* h, int64_t n) override {
    return CudaStatus(AdagradUpdate(c, x, g, h, n, stream()), "Adagrad update");
  }
  absl::Status Scale(float* y, const float* x, float alpha, int64_t n) override {
    return CudaStatus(ScaleFloats(y, x, alpha, n, stream()), "gradient scaling");
  }
  absl::Status AddScaled(float* acc, const float* x, float alpha, int64_t n) override {
    return CudaStatus(AddScaledFloats(acc, x, alpha, n, stream()), "gradient accumulation");
  }
  absl::Status Zero(float* x, int64_t n) override {
    return CudaStatus(cudaMemsetAsync(x, 0, static_cast<size_t>(n) * sizeof(float), stream()),
                      "cudaMemsetAsync");
  }
#ifdef ONYX_HAVE_NCCL
  absl::Status ConnectProcesses(Communicator& comm) override {
    ONYX_ASSIGN_OR_RETURN(nccl_, NcclCommunicator::Create(comm, *cuda_));
    return absl::OkStatus();
  }
  absl::Status AllReduceSum(absl::Span<const std::pair<float*, int64_t>> buffers) override {
    if (nccl_ == nullptr) return absl::FailedPreconditionError("no NCCL communicator yet");
    return nccl_->AllReduceSum(buffers);
  }
#endif
  absl::StatusOr<double> SumSquares(absl::Span<const Tensor* const> xs) override {
    // [0]: the total; then the per-block partials.
    ONYX_ASSIGN_OR_RETURN(Tensor scratch,
                          cuda_->Allocate(DataType::kFloat64, {kSumSquaresBlocks + 1},
                                          kDefaultMaxTensorBytes));
    double* total = scratch.data<double>();
    ONYX_RETURN_IF_ERROR(
        CudaStatus(cudaMemsetAsync(total, 0, sizeof(double), stream()), "cudaMemsetAsync"));
    for (const Tensor* x : xs) {
      ONYX_RETURN_IF_ERROR(CudaStatus(
          AddSumOfSquares(x->data<float>(), x->num_elements(), total + 1, total, stream()),
          "gradient norm"));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor host, cuda_->ToHost(scratch));  // waits for the stream
    return host.data<double>()[0];
  }

 private:
  cudaStream_t stream() const { return cuda_->stream(); }

  std::shared_ptr<DeviceBackend> owner_;  // keeps cuda_ alive
  CudaBackend* cuda_;
#ifdef ONYX_HAVE_NCCL
  std::unique_ptr<NcclCommunicator> nccl_;  // data-parallel runs only
#endif
};

absl::StatusOr<std::unique_ptr<DeviceTrainingKernels>> MakeCudaTrainingKernels(
    std::shared_ptr<DeviceBackend> backend) {
  auto* cuda = dynamic_cast<CudaBackend*>(backend.get());
  if (cuda == nullptr) {
    return absl::InvalidArgumentError("CUDA training kernels need a CUDA backend");
  }
  return std::unique_ptr<DeviceTrainingKernels>(
      new CudaTrainingKernels(std::move(backend), cuda));
}

}  // namespace

void RegisterOptimCudaTraining() {
  RegisterDeviceTrainingKernels(Device::kCuda, MakeCudaTrainingKernels);
}

}  // namespace onyx::cuda
