// CudaBackend: one CUDA stream per session, a caching allocator on it, host <->
// device copies at the graph boundary, and cuBLAS / cuDNN handles bound to the stream.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "absl/status/statusor.h"
#include "runtime/device_backend.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "runtime/cuda/cuda_allocator.h"

namespace onyx::cuda {

// Number of usable GPUs: 0 when the driver is missing or reports an error
// (the build machines have the toolkit but no GPU; that is "no GPU", not a failure).
int DeviceCount();
// Why DeviceCount() is 0, for skip messages ("" when a GPU is present).
std::string NoDeviceReason();

class CudaBackend final : public DeviceBackend {
 public:
  // FailedPrecondition naming the reason when there is no usable GPU.
  // kLocalRankDevice: under an MPI launcher the GPU of this process's local rank
  // (modulo the GPUs present), so data-parallel ranks on one machine each drive
  // their own; otherwise GPU 0.
  static constexpr int kLocalRankDevice = -1;
  static absl::StatusOr<std::shared_ptr<CudaBackend>> Create(
      int device_ordinal = kLocalRankDevice);
  ~CudaBackend() override;

  Device device() const override { return Device::kCuda; }
  absl::StatusOr<Tensor> Allocate(DataType dtype, Shape shape, int64_t max_bytes) override;
  absl::StatusOr<Tensor> ToDevice(const Tensor& host) override;
  absl::StatusOr<Tensor> ToHost(const Tensor& device) override;
  absl::Status Synchronize() override;

  cudaStream_t stream() const { return state_->stream; }
  int device_ordinal() const { return device_ordinal_; }
  // Created on first use, bound to stream().
  absl::StatusOr<cublasHandle_t> Cublas();
  // Created on first use (opening libcudnn then), bound to stream().
  absl::StatusOr<cudnnHandle_t> Cudnn();
  const CachingAllocator& allocator() const { return *state_->allocator; }

 private:
  // Shared with every live device tensor's deleter so the stream and the
  // allocator outlive the last tensor, whatever the destruction order.
  struct State {
    cudaStream_t stream = nullptr;
    std::unique_ptr<CachingAllocator> allocator;
    ~State();
  };
  CudaBackend() = default;

  int device_ordinal_ = 0;
  std::shared_ptr<State> state_;
  std::mutex handles_mu_;  // concurrent runs may ask for a handle at once
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
};

// The backend a device kernel runs on; Internal when `ctx` has none (a
// CUDA kernel called outside a CUDA session).
absl::StatusOr<CudaBackend*> BackendOf(const KernelContext& ctx);

// The float32-only CUDA kernels' input check: Unimplemented (naming the node,
// input `what` and the tensor) for any other dtype, so the session runs the CPU
// kernel instead.
absl::Status RequireFloat32(const Node& node, const Tensor& t, const char* what);

}  // namespace onyx::cuda
