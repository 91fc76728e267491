// CUDA Cast: one grid-stride kernel per (from, to) pair. The conversions are
// the device forms of cast_cpu.cc's and tensor_util.cc's (half and bfloat16
// bit manipulation included), so both devices give identical bits.
#include <cstdint>
#include <type_traits>

#include "ops/activation/activation_cuda.h"
#include "ops/tensor/cast_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

__device__ __forceinline__ float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) {
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return __uint_as_float(sign | 0x7f800000u | (mant << 13));
  return __uint_as_float(sign | ((exp + 112) << 23) | (mant << 13));
}

__device__ __forceinline__ uint16_t FloatToHalf(float f) {
  uint32_t x = __float_as_uint(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return sign | (x > 0x7f800000u ? 0x7e00 : 0x7c00);
  if (x >= 0x477ff000u) return sign | 0x7c00;
  if (x < 0x38800000u) {
    const float r = nearbyintf(__uint_as_float(x) * 16777216.0f);
    return sign | static_cast<uint16_t>(r);
  }
  const uint32_t rounded = x + 0xfffu + ((x >> 13) & 1u) - (112u << 23);
  return sign | static_cast<uint16_t>(rounded >> 13);
}

__device__ __forceinline__ float BFloat16ToFloat(uint16_t b) {
  return __uint_as_float(static_cast<uint32_t>(b) << 16);
}

__device__ __forceinline__ uint16_t FloatToBFloat16(float f) {
  const uint32_t x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

template <typename T>
__device__ __forceinline__ auto Load(T v) {
  if constexpr (std::is_same_v<T, Half>) {
    return HalfToFloat(v.bits);
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16ToFloat(v.bits);
  } else {
    return v;
  }
}

template <typename To, typename S>
__device__ __forceinline__ To FloatToInt(S v) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (isnan(v)) return To(0);
  int64_t i;
  if (v >= kTwo63) {
    i = INT64_MAX;
  } else if (v <= -kTwo63) {
    i = INT64_MIN;
  } else {
    i = static_cast<int64_t>(v);
  }
  return static_cast<To>(i);  // two's-complement wrap for narrower types, as C++20
}

template <typename To, typename S>
__device__ __forceinline__ To StoreAs(S v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != S(0);
  } else if constexpr (std::is_same_v<To, Half>) {
    return Half{FloatToHalf(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16{FloatToBFloat16(static_cast<float>(v))};
  } else if constexpr (std::is_floating_point_v<To> || !std::is_floating_point_v<S>) {
    return static_cast<To>(v);
  } else {
    return FloatToInt<To>(v);
  }
}

template <typename From, typename To>
__global__ void CastKernel(const From* x, To* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] = StoreAs<To>(Load(x[i]));
  }
}

// Calls fn(T{}) with the element type of `type`; false for unsupported ones.
template <typename Fn>
bool WithType(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat32:
      fn(float{});
      return true;
    case DataType::kFloat64:
      fn(double{});
      return true;
    case DataType::kFloat16:
      fn(Half{});
      return true;
    case DataType::kBFloat16:
      fn(BFloat16{});
      return true;
    case DataType::kInt8:
      fn(int8_t{});
      return true;
    case DataType::kUInt8:
      fn(uint8_t{});
      return true;
    case DataType::kInt32:
      fn(int32_t{});
      return true;
    case DataType::kInt64:
      fn(int64_t{});
      return true;
    case DataType::kBool:
      fn(bool{});
      return true;
    default:
      return false;
  }
}

}  // namespace

bool CastSupported(DataType from, DataType to) {
  return WithType(from, [](auto) {}) && WithType(to, [](auto) {});
}

cudaError_t CastElements(DataType from, DataType to, const void* x, void* y, int64_t n,
                         cudaStream_t stream) {
  if (!CastSupported(from, to)) return cudaErrorInvalidValue;
  if (n <= 0) return cudaSuccess;
  const int blocks = GridStrideBlocks(n, kThreads);
  cudaError_t error = cudaSuccess;
  WithType(from, [&](auto f) {
    WithType(to, [&](auto t) {
      using From = decltype(f);
      using To = decltype(t);
      CastKernel<From, To>
          <<<blocks, kThreads, 0, stream>>>(static_cast<const From*>(x), static_cast<To*>(y), n);
      error = cudaGetLastError();
    });
  });
  return error;
}

}  // namespace onyx::cuda
