// Scalar arithmetic for the math kernels. Integers wrap modulo 2^bits (as ONNX
// Runtime and NumPy do) instead of hitting signed-overflow UB; integer division
// truncates toward zero (ONNX test_div_int32_trunc) and callers rule out b ==
// 0.
#pragma once

#include <type_traits>

namespace onyx::math {

enum class BinaryOp { kAdd, kSub, kMul, kDiv };

// Unsigned type at least as wide as `unsigned`, so uint16 * uint16 does not
// promote to a signed int that can overflow.
template <typename T>
using WrapType =
    std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;

template <BinaryOp kOp, typename T>
inline T Apply(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if constexpr (kOp == BinaryOp::kAdd) return a + b;
    if constexpr (kOp == BinaryOp::kSub) return a - b;
    if constexpr (kOp == BinaryOp::kMul) return a * b;
    if constexpr (kOp == BinaryOp::kDiv) return a / b;
  } else {
    using U = WrapType<T>;
    if constexpr (kOp == BinaryOp::kAdd) return static_cast<T>(U(a) + U(b));
    if constexpr (kOp == BinaryOp::kSub) return static_cast<T>(U(a) - U(b));
    if constexpr (kOp == BinaryOp::kMul) return static_cast<T>(U(a) * U(b));
    if constexpr (kOp == BinaryOp::kDiv) {
      // MIN / -1 overflows (and traps on x86): -a wraps to MIN like NumPy.
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return static_cast<T>(U(0) - U(a));
      }
      return static_cast<T>(a / b);
    }
  }
}

// acc + a * b with the same wrapping rules (matmul loops).
template <typename T>
inline T MulAdd(T acc, T a, T b) {
  return Apply<BinaryOp::kAdd>(acc, Apply<BinaryOp::kMul>(a, b));
}

}  // namespace onyx::math
