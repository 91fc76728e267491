// The math of the unary elementwise ops and their derivatives, written once as
// functors (T is float, double or, where kInts, an integer type). Tests keep an
// independent double-precision reference. Backward(dy, s) reads s = x or y as
// kSaved says.
#pragma once

#include <cmath>
#include <type_traits>

#include "ops/activation/activation_math.h"  // ONYX_HD, Saved

namespace onyx::elementwise {

namespace unary_internal {
inline constexpr double kTwoOverSqrtPi = 1.12837916709551257389615890312154517;

// -x modulo 2^bits for integers (no signed-overflow UB on INT_MIN).
template <typename T>
ONYX_HD T WrapNeg(T x) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(U(0) - static_cast<U>(x));
  } else {
    return -x;
  }
}
}  // namespace unary_internal

// Sqrt (6, 13): y = sqrt(x), NaN for x < 0; dy/dx = 1 / (2y).
struct SqrtFn {
  static constexpr Saved kSaved = Saved::kOutput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::sqrt(x); }
  template <typename T> ONYX_HD T Backward(T dy, T y) const { return dy / (T(2) * y); }
};

// Exp (6, 13): y = e^x; dy/dx = y.
struct ExpFn {
  static constexpr Saved kSaved = Saved::kOutput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::exp(x); }
  template <typename T> ONYX_HD T Backward(T dy, T y) const { return dy * y; }
};

// Log (6, 13): y = ln x (-inf at 0, NaN below); dy/dx = 1 / x.
struct LogFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::log(x); }
  template <typename T> ONYX_HD T Backward(T dy, T x) const { return dy / x; }
};

// Neg (6, 13): y = -x (integers wrap); dy/dx = -1.
struct NegFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = true;
  template <typename T> ONYX_HD T Forward(T x) const { return unary_internal::WrapNeg(x); }
  template <typename T> ONYX_HD T Backward(T dy, T) const { return -dy; }
};

// Abs (6, 13): y = |x| (INT_MIN stays INT_MIN, as NumPy); dy/dx = sign(x), 0 at 0.
struct AbsFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = true;
  template <typename T> ONYX_HD T Forward(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x;
    } else if constexpr (std::is_integral_v<T>) {
      return x < T(0) ? unary_internal::WrapNeg(x) : x;
    } else {
      return std::fabs(x);
    }
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return x > T(0) ? dy : (x < T(0) ? -dy : T(0));
  }
};

// Erf (9, 13): y = erf(x); dy/dx = 2/sqrt(pi) * exp(-x^2).
struct ErfFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::erf(x); }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return dy * T(unary_internal::kTwoOverSqrtPi) * std::exp(-x * x);
  }
};

// Reciprocal (6, 13): y = 1 / x; dy/dx = -1/x^2 = -y^2.
struct ReciprocalFn {
  static constexpr Saved kSaved = Saved::kOutput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return T(1) / x; }
  template <typename T> ONYX_HD T Backward(T dy, T y) const { return -dy * y * y; }
};

// Sign (9, 13): -1, 0 or 1 (NaN stays NaN, ±0 stays ±0); derivative 0.
struct SignFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = true;
  template <typename T> ONYX_HD T Forward(T x) const {
    if constexpr (std::is_unsigned_v<T>) {
      return x > T(0) ? T(1) : T(0);
    } else {
      return x > T(0) ? T(1) : (x < T(0) ? T(-1) : x);
    }
  }
  template <typename T> ONYX_HD T Backward(T, T) const { return T(0); }
};

// Floor, Ceil (6, 13), Round (11, half to even): derivative 0 almost everywhere.
struct FloorFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::floor(x); }
  template <typename T> ONYX_HD T Backward(T, T) const { return T(0); }
};
struct CeilFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::ceil(x); }
  template <typename T> ONYX_HD T Backward(T, T) const { return T(0); }
};
struct RoundFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  // nearbyint rounds half to even in the default rounding mode.
  template <typename T> ONYX_HD T Forward(T x) const { return std::nearbyint(x); }
  template <typename T> ONYX_HD T Backward(T, T) const { return T(0); }
};

// Sin, Cos (7): d sin = cos, d cos = -sin.
struct SinFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::sin(x); }
  template <typename T> ONYX_HD T Backward(T dy, T x) const { return dy * std::cos(x); }
};
struct CosFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return std::cos(x); }
  template <typename T> ONYX_HD T Backward(T dy, T x) const { return -dy * std::sin(x); }
};

// Softsign (1): y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)^2.
struct SoftsignFn {
  static constexpr Saved kSaved = Saved::kInput;
  static constexpr bool kInts = false;
  template <typename T> ONYX_HD T Forward(T x) const { return x / (T(1) + std::fabs(x)); }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    const T d = T(1) + std::fabs(x);
    return dy / (d * d);
  }
};

}  // namespace onyx::elementwise
