// The CUDA emulator's device side, force-included (-include) into every .cu file
// that the emulator build compiles as host C++ (see README.md beside this file).
//
// Each block runs its threads as fibers on one host thread, so __syncthreads and
// warp shuffles are real barriers, and one block runs at a time, so a
// function-static array is that block's __shared__ memory.
#pragma once

#include <cuda_runtime.h>
#include <math.h>  // nvcc declares the C math functions (expf, ...) globally

#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "tests/cuda_emu/emu_runtime.h"

#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __forceinline__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(...)

#define threadIdx (::onyx_emu::Current().thread)
#define blockIdx (::onyx_emu::Current().block)
#define blockDim (::onyx_emu::Current().block_dim)
#define gridDim (::onyx_emu::Current().grid_dim)
#define warpSize 32

namespace onyx_emu {

// Aborts, naming the kernel, when a pointer argument is neither null nor device
// memory: a kernel handed a host pointer faults on a GPU. (Pointers inside
// struct arguments are not seen.)
template <typename... Args>
void CheckKernelArgs(const char* kernel, const Args&... args) {
  int index = 0;
  auto check = [&](const auto& arg) {
    using T = std::decay_t<decltype(arg)>;
    if constexpr (std::is_pointer_v<T> && !std::is_function_v<std::remove_pointer_t<T>>) {
      if (arg != nullptr && !IsDeviceRange(arg, 0)) FailHostPointerArgument(kernel, index);
    }
    ++index;
  };
  (check(args), ...);
}

template <typename Body>
void Launch(const Body& body, dim3 grid, dim3 block, size_t shared_bytes = 0,
            cudaStream_t stream = nullptr) {
  RunGrid(
      grid, block, shared_bytes, stream,
      [](const void* kernel) { (*static_cast<const Body*>(kernel))(); }, &body);
}

}  // namespace onyx_emu

inline void __syncthreads() { ::onyx_emu::SyncThreads(); }

template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask, int width = 32) {
  static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
  const int lane = static_cast<int>(::onyx_emu::Current().lane);
  int source = lane ^ lane_mask;
  if (source / width != lane / width) source = lane;  // outside the segment: own value
  T result;
  ::onyx_emu::WarpExchange(mask, &value, &result, sizeof(T), source);
  return result;
}

inline float __uint_as_float(unsigned bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline unsigned __float_as_uint(float value) {
  unsigned bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// Fibers switch only at barriers, so a read-modify-write is atomic here.
template <typename T>
T atomicMin(T* address, T value) {
  const T old = *address;
  if (value < old) *address = value;
  return old;
}
