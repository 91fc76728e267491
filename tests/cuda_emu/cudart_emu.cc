// The CUDA runtime calls Onyx makes, emulated on the host: two devices (or
// ONYX_CUDA_EMU_DEVICES) sharing one memory arena, work done synchronously on the calling thread,
// and the checks a GPU would make (copy directions, ranges inside one allocation, live streams)
// returned as the same error codes.
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>

#include "tests/cuda_emu/device_memory.h"
#include "tests/cuda_emu/emu_runtime.h"

namespace onyx_emu {
namespace {

thread_local cudaError_t last_error = cudaSuccess;
thread_local int current_device = 0;

// Two by default, so the multi-GPU paths (one device per rank, NCCL) run too.
int DeviceCount() {
  static const int count = [] {
    const char* env = std::getenv("ONYX_CUDA_EMU_DEVICES");
    const int n = env != nullptr ? std::atoi(env) : 2;
    return n >= 0 && n <= 16 ? n : 2;
  }();
  return count;
}

std::mutex stream_mutex;
std::set<cudaStream_t>& Streams() {
  static auto* streams = new std::set<cudaStream_t>;
  return *streams;
}

// Whether a copy of `bytes` from `src` to `dst` matches its declared direction.
bool CopyMatchesKind(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  const bool dst_device = IsDeviceRange(dst, bytes);
  const bool src_device = IsDeviceRange(src, bytes);
  const bool dst_host = !InDeviceAddressRange(dst);
  const bool src_host = !InDeviceAddressRange(src);
  switch (kind) {
    case cudaMemcpyHostToDevice: return src_host && dst_device;
    case cudaMemcpyDeviceToHost: return src_device && dst_host;
    case cudaMemcpyDeviceToDevice: return src_device && dst_device;
    case cudaMemcpyHostToHost: return src_host && dst_host;
    case cudaMemcpyDefault: return (src_host || src_device) && (dst_host || dst_device);
  }
  return false;
}

cudaError_t Copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (bytes == 0) return cudaSuccess;
  if (!CopyMatchesKind(dst, src, bytes, kind)) return SetLastError(cudaErrorInvalidValue);
  DeviceAccess access;
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}

}  // namespace

cudaError_t SetLastError(cudaError_t error) {
  if (error != cudaSuccess) last_error = error;
  return error;
}

bool IsValidStream(cudaStream_t stream) {
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread) return true;
  std::lock_guard<std::mutex> lock(stream_mutex);
  return Streams().count(stream) > 0;
}

}  // namespace onyx_emu

using onyx_emu::SetLastError;

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return SetLastError(cudaErrorInvalidValue);
  *count = onyx_emu::DeviceCount();
  return *count > 0 ? cudaSuccess : SetLastError(cudaErrorNoDevice);
}

cudaError_t cudaSetDevice(int device) {
  if (device < 0 || device >= onyx_emu::DeviceCount()) {
    return SetLastError(cudaErrorInvalidDevice);
  }
  onyx_emu::current_device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return SetLastError(cudaErrorInvalidValue);
  *device = onyx_emu::current_device;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attribute, int device) {
  if (value == nullptr) return SetLastError(cudaErrorInvalidValue);
  if (device < 0 || device >= onyx_emu::DeviceCount()) return SetLastError(cudaErrorInvalidDevice);
  switch (attribute) {
    // Two SMs keep the emulated grids small; kernels must not assume more.
    case cudaDevAttrMultiProcessorCount: *value = 2; return cudaSuccess;
    case cudaDevAttrMaxThreadsPerBlock: *value = 1024; return cudaSuccess;
    case cudaDevAttrWarpSize: *value = 32; return cudaSuccess;
    default: return SetLastError(cudaErrorInvalidValue);
  }
}

cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

cudaError_t cudaGetLastError() {
  const cudaError_t error = onyx_emu::last_error;
  onyx_emu::last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() { return onyx_emu::last_error; }

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    default: return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    default: return "unknown error";
  }
}

cudaError_t cudaMalloc(void** pointer, size_t bytes) {
  if (pointer == nullptr) return SetLastError(cudaErrorInvalidValue);
  *pointer = onyx_emu::AllocateDevice(bytes);
  return *pointer == nullptr ? SetLastError(cudaErrorMemoryAllocation) : cudaSuccess;
}

cudaError_t cudaFree(void* pointer) {
  if (pointer == nullptr) return cudaSuccess;
  return onyx_emu::FreeDevice(pointer) ? cudaSuccess : SetLastError(cudaErrorInvalidValue);
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return onyx_emu::Copy(dst, src, bytes, kind);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (!onyx_emu::IsValidStream(stream)) return SetLastError(cudaErrorInvalidResourceHandle);
  return onyx_emu::Copy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* pointer, int value, size_t bytes) {
  if (bytes == 0) return cudaSuccess;
  if (!onyx_emu::IsDeviceRange(pointer, bytes)) return SetLastError(cudaErrorInvalidValue);
  onyx_emu::DeviceAccess access;
  std::memset(pointer, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* pointer, int value, size_t bytes, cudaStream_t stream) {
  if (!onyx_emu::IsValidStream(stream)) return SetLastError(cudaErrorInvalidResourceHandle);
  return cudaMemset(pointer, value, bytes);
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  if (stream == nullptr) return SetLastError(cudaErrorInvalidValue);
  *stream = reinterpret_cast<cudaStream_t>(new char);  // a unique handle
  std::lock_guard<std::mutex> lock(onyx_emu::stream_mutex);
  onyx_emu::Streams().insert(*stream);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, 0); }

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(onyx_emu::stream_mutex);
  if (onyx_emu::Streams().erase(stream) == 0) return SetLastError(cudaErrorInvalidResourceHandle);
  delete reinterpret_cast<char*>(stream);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  return onyx_emu::IsValidStream(stream) ? cudaSuccess
                                         : SetLastError(cudaErrorInvalidResourceHandle);
}
