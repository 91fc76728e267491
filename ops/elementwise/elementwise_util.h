// Helpers shared by the elementwise kernels: dtype dispatch to C++ types, a
// broadcasting binary loop over ops/math/broadcast.h, NaN-propagating min/max,
// and the per-file registration hooks called by register.cc.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/math/broadcast.h"
#include "runtime/op_registry.h"
#include "runtime/tensor.h"

namespace onyx::elementwise {

// Calls fn(T{}) with the C++ type of `type` for float32/float64 and every
// integer type (plus bool when kBool); Unimplemented naming `node` otherwise.
template <bool kBool = false, typename Fn>
absl::Status DispatchNumeric(const Node& node, DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat32: return fn(float{});
    case DataType::kFloat64: return fn(double{});
    case DataType::kInt8: return fn(int8_t{});
    case DataType::kInt16: return fn(int16_t{});
    case DataType::kInt32: return fn(int32_t{});
    case DataType::kInt64: return fn(int64_t{});
    case DataType::kUInt8: return fn(uint8_t{});
    case DataType::kUInt16: return fn(uint16_t{});
    case DataType::kUInt32: return fn(uint32_t{});
    case DataType::kUInt64: return fn(uint64_t{});
    case DataType::kBool:
      if constexpr (kBool) return fn(bool{});
      [[fallthrough]];
    default:
      return absl::UnimplementedError(absl::StrFormat("%s: dtype %s is not supported on cpu",
                                                      node.Describe(), DataTypeName(type)));
  }
}

// Float32 and float64 only.
template <typename Fn>
absl::Status DispatchFloat(const Node& node, DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat32: return fn(float{});
    case DataType::kFloat64: return fn(double{});
    default:
      return absl::UnimplementedError(absl::StrFormat(
          "%s: dtype %s is not supported on cpu (float32, float64)", node.Describe(),
          DataTypeName(type)));
  }
}

// y[i] = f(a[.], b[.]) with NumPy broadcasting of a and b into y's shape.
// y may alias a or b when that operand has y's shape (in-place).
template <typename TA, typename TB, typename TY, typename F>
void BroadcastBinary(const Tensor& a, const Tensor& b, Tensor& y, F f) {
  const Shape& out = y.shape();
  const BroadcastLoop loop(out, {BroadcastStrides(out, out), BroadcastStrides(a.shape(), out),
                                 BroadcastStrides(b.shape(), out)});
  const TA* ap = a.data<TA>();
  const TB* bp = b.data<TB>();
  TY* yp = y.data<TY>();
  const int64_t sa = loop.inner_stride(1), sb = loop.inner_stride(2);
  ForEachBlock(loop, /*parallel=*/true, [&](const int64_t* off, int64_t n) {
    TY* yr = yp + off[0];
    const TA* ar = ap + off[1];
    const TB* br = bp + off[2];
    // The common stride patterns get their own loops so the compiler vectorizes them.
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < n; ++i) yr[i] = f(ar[i], br[i]);
    } else if (sa == 1 && sb == 0) {
      const TB bv = *br;
      for (int64_t i = 0; i < n; ++i) yr[i] = f(ar[i], bv);
    } else if (sa == 0 && sb == 1) {
      const TA av = *ar;
      for (int64_t i = 0; i < n; ++i) yr[i] = f(av, br[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) yr[i] = f(ar[i * sa], br[i * sb]);
    }
  });
}

// NumPy maximum/minimum: a NaN in either operand gives NaN.
template <typename T>
inline T MaxPropagateNan(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return a < b ? b : a;
}
template <typename T>
inline T MinPropagateNan(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return a;
    if (std::isnan(b)) return b;
  }
  return b < a ? b : a;
}

// Registers `factory` for `op` (ONNX domain, CPU) at each of `versions`.
void RegisterCpu(OpRegistry& registry, const char* op, std::initializer_list<int> versions,
                 KernelFactory factory);

// Registration hooks of each source file.
void RegisterUnaryOps(OpRegistry& registry);        // unary_cpu.cc
void RegisterUnaryGradOps(OpRegistry& registry);    // unary_cpu.cc: <Op>Grad (com.onyx)
void RegisterPowClipOps(OpRegistry& registry);      // pow_clip_cpu.cc: Pow, Clip (+ grads)
void RegisterModOps(OpRegistry& registry);          // mod_cpu.cc: Mod
void RegisterVariadicOps(OpRegistry& registry);     // variadic_cpu.cc: Min Max Sum Mean
void RegisterCompareOps(OpRegistry& registry);      // compare_cpu.cc: Equal Less ... Not And
void RegisterGatherCastOps(OpRegistry& registry);   // gather_cast_cpu.cc: GatherElements CastLike
void RegisterElementwiseGradients(OpRegistry& registry);  // elementwise_grad.cc
void RegisterElementwiseShapeFns(OpRegistry& registry);   // elementwise_shape.cc

}  // namespace onyx::elementwise
