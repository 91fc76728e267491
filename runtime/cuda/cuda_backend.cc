// CudaBackend: device query, stream, allocation and boundary copies.
#include "runtime/cuda/cuda_backend.h"

#include <cstdlib>

#include "absl/strings/str_format.h"
#include "runtime/cuda/cublas_api.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/cuda/cudnn_api.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {

int DeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return count;
}

std::string NoDeviceReason() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    cudaGetLastError();
    return absl::StrFormat("no usable CUDA device: cudaGetDeviceCount says \"%s\"",
                           cudaGetErrorString(error));
  }
  return count == 0 ? "no CUDA device present" : "";
}

CudaBackend::State::~State() {
  allocator.reset();  // synchronizes the stream and frees cached blocks
  if (stream != nullptr) cudaStreamDestroy(stream);
}

namespace {

// The node-local rank an MPI launcher gives this process (Open MPI, MPICH,
// Slurm), or 0.
int LocalRank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    if (const char* value = std::getenv(name); value != nullptr) {
      const int rank = std::atoi(value);
      return rank >= 0 ? rank : 0;
    }
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::shared_ptr<CudaBackend>> CudaBackend::Create(int device_ordinal) {
  const int count = DeviceCount();
  if (count == 0) return absl::FailedPreconditionError(NoDeviceReason());
  if (device_ordinal == kLocalRankDevice) device_ordinal = LocalRank() % count;
  if (device_ordinal < 0 || device_ordinal >= count) {
    return absl::InvalidArgumentError(
        absl::StrFormat("CUDA device %d requested, %d present", device_ordinal, count));
  }
  ONYX_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_ordinal), "cudaSetDevice"));
  std::shared_ptr<CudaBackend> backend(new CudaBackend());
  backend->device_ordinal_ = device_ordinal;
  backend->state_ = std::make_shared<State>();
  ONYX_RETURN_IF_ERROR(CudaStatus(
      cudaStreamCreateWithFlags(&backend->state_->stream, cudaStreamNonBlocking),
      "cudaStreamCreate"));
  backend->state_->allocator = std::make_unique<CachingAllocator>(backend->state_->stream);
  return backend;
}

CudaBackend::~CudaBackend() {
  if (cublas_ != nullptr) (*LoadCublas())->destroy(cublas_);
  if (cudnn_ != nullptr) (*LoadCudnn())->destroy(cudnn_);
}

absl::StatusOr<Tensor> CudaBackend::Allocate(DataType dtype, Shape shape, int64_t max_bytes) {
  if (!IsStorableType(dtype)) {
    return absl::UnimplementedError(
        absl::StrFormat("tensors of dtype %s are not supported", DataTypeName(dtype)));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t count, CheckedNumElements(shape));
  int64_t bytes = 0;
  if (__builtin_mul_overflow(count, static_cast<int64_t>(DataTypeSize(dtype)), &bytes) ||
      bytes > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "device tensor %s%s needs more than the %d-byte limit", DataTypeName(dtype),
        ShapeToString(shape), max_bytes));
  }
  ONYX_ASSIGN_OR_RETURN(void* ptr, state_->allocator->Allocate(static_cast<size_t>(bytes)));
  std::shared_ptr<State> state = state_;
  std::shared_ptr<std::byte> data(static_cast<std::byte*>(ptr),
                                  [state, bytes](std::byte* p) {
                                    state->allocator->Free(p, static_cast<size_t>(bytes));
                                  });
  return Tensor::FromBuffer(dtype, std::move(shape), std::move(data), /*on_device=*/true);
}

absl::StatusOr<Tensor> CudaBackend::ToDevice(const Tensor& host) {
  if (host.on_device()) return host;
  ONYX_ASSIGN_OR_RETURN(Tensor device,
                        Allocate(host.dtype(), host.shape(), kDefaultMaxTensorBytes));
  if (host.byte_size() > 0) {
    // From pageable memory the call returns once the bytes are staged, so the
    // host tensor may be freed right after.
    ONYX_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(device.raw_data(), host.raw_data(),
                                                    host.byte_size(), cudaMemcpyHostToDevice,
                                                    stream()),
                                    "host-to-device copy"));
  }
  return device;
}

absl::StatusOr<Tensor> CudaBackend::ToHost(const Tensor& device) {
  if (!device.on_device()) return device;
  ONYX_ASSIGN_OR_RETURN(Tensor host, Tensor::Uninitialized(device.dtype(), device.shape()));
  if (host.byte_size() > 0) {
    ONYX_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(host.raw_data(), device.raw_data(),
                                                    host.byte_size(), cudaMemcpyDeviceToHost,
                                                    stream()),
                                    "device-to-host copy"));
  }
  ONYX_RETURN_IF_ERROR(Synchronize());
  return host;
}

absl::Status CudaBackend::Synchronize() {
  return CudaStatus(cudaStreamSynchronize(stream()), "CUDA stream");
}

absl::StatusOr<cublasHandle_t> CudaBackend::Cublas() {
  std::lock_guard<std::mutex> lock(handles_mu_);
  if (cublas_ == nullptr) {
    ONYX_ASSIGN_OR_RETURN(const CublasApi* api, LoadCublas());
    ONYX_RETURN_IF_ERROR(CublasStatus(api->create(&cublas_), "cublasCreate"));
    ONYX_RETURN_IF_ERROR(CublasStatus(api->set_stream(cublas_, stream()), "cublasSetStream"));
  }
  return cublas_;
}

absl::StatusOr<cudnnHandle_t> CudaBackend::Cudnn() {
  std::lock_guard<std::mutex> lock(handles_mu_);
  if (cudnn_ == nullptr) {
    ONYX_ASSIGN_OR_RETURN(const CudnnApi* api, LoadCudnn());
    cudnnHandle_t handle = nullptr;
    ONYX_RETURN_IF_ERROR(CudnnStatus(api->create(&handle), "cudnnCreate"));
    if (absl::Status bound = CudnnStatus(api->set_stream(handle, stream()), "cudnnSetStream");
        !bound.ok()) {
      api->destroy(handle);
      return bound;
    }
    cudnn_ = handle;
  }
  return cudnn_;
}

absl::StatusOr<CudaBackend*> BackendOf(const KernelContext& ctx) {
  auto* backend = dynamic_cast<CudaBackend*>(ctx.backend());
  if (backend == nullptr) {
    return absl::InternalError(absl::StrFormat(
        "%s: CUDA kernel called without a CUDA session", ctx.node().Describe()));
  }
  return backend;
}

absl::Status RequireFloat32(const Node& node, const Tensor& t, const char* what) {
  if (t.dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrFormat("%s: the CUDA kernel takes float32 %s, got %s",
                                                  node.Describe(), what, t.DebugString()));
}

}  // namespace onyx::cuda
