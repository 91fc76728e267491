// The CUDA emulator's runtime: grids run block by block, each block's threads as
// fibers, and device memory is a separate arena that host code cannot touch.
//
// Device memory lives in one reserved range that is mapped PROT_NONE except
// while a kernel, a copy or an emulated library call runs, so host code that
// dereferences a device pointer faults here as it would on a GPU.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

namespace onyx_emu {

struct ThreadState {
  uint3 thread;
  uint3 block;
  dim3 block_dim;
  dim3 grid_dim;
  unsigned lane = 0;  // index within the warp (linear thread index % 32)
};

// The running fiber's indices (valid inside a kernel only).
const ThreadState& Current();

// __syncthreads: waits until every thread of the block that has not exited
// arrives. A deadlock (threads waiting at different barriers) aborts.
void SyncThreads();

// A warp shuffle: every lane named in `mask` contributes `value`; `result`
// receives the value of lane `source`. Aborts when `mask` names a lane that
// has exited or that does not take part.
void WarpExchange(unsigned mask, const void* value, void* result, size_t bytes, int source);

// Runs kernel(body) once per thread of the grid; a bad configuration or stream
// sets the error cudaGetLastError returns, as a failed launch does.
void RunGrid(dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
             void (*kernel)(const void*), const void* body);

// Aborts: argument `index` of `kernel` is a host pointer.
[[noreturn]] void FailHostPointerArgument(const char* kernel, int index);

// Whether [pointer, pointer + bytes) lies inside one live device allocation.
bool IsDeviceRange(const void* pointer, size_t bytes);

// Opens the device arena to host code for its lifetime (kernels, copies, the
// emulated cuBLAS and cuDNN); nests.
class DeviceAccess {
 public:
  DeviceAccess();
  ~DeviceAccess();
  DeviceAccess(const DeviceAccess&) = delete;
  DeviceAccess& operator=(const DeviceAccess&) = delete;
};

// Whether `stream` is the default stream or one created and not yet destroyed.
bool IsValidStream(cudaStream_t stream);

// Records a failed call for cudaGetLastError / cudaPeekAtLastError.
cudaError_t SetLastError(cudaError_t error);

}  // namespace onyx_emu
