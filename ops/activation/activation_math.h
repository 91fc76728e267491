// The math of every elementwise activation and its derivative, written once as
// functors shared by the CPU fallback loops and CUDA kernels (not by tests, which
// keep an independent reference). T is float or double.
#pragma once

#include <cmath>

#ifdef __CUDACC__
#define ONYX_HD __host__ __device__ __forceinline__
#else
#define ONYX_HD inline
#endif

namespace onyx {

// What an activation's backward reads besides dy: the forward input x or output y.
enum class Saved { kInput, kOutput };

namespace activation_internal {

// 1 / (1 + exp(-x)) without overflow: exp is only taken of -|x|. One exp and
// one division either way, with no branch (a warp of mixed signs would run both).
template <typename T>
ONYX_HD T StableSigmoid(T x) {
  const T e = std::exp(-std::fabs(x));
  const T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow, no cancellation.
template <typename T>
ONYX_HD T StableSoftplus(T x) {
  return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

// exp(-x^2 / 2) for float x with x^2's rounding error r folded back in:
// exp(-(h + r) / 2) = exp(-h / 2) (1 - r / 2) to float precision. Without r the
// relative error grows with x^2 (6e-6 at |x| = 10).
ONYX_HD float ExpMinusHalfSquare(float x) {
  const float h = x * x;
#ifdef __CUDA_ARCH__
  const float r = fmaf(x, x, -h);  // exact
#else
  const float r = static_cast<float>(static_cast<double>(x) * x - h);  // exact in double
#endif
  return std::exp(-0.5f * h) * (1.f - 0.5f * r);
}

// The standard normal's upper tail Q(a) = erfc(a / sqrt 2) / 2 for float a >= 0,
// given e = ExpMinusHalfSquare(a): e * t * P(t), t = 1 / (1 + a / 3), P fitted
// for relative error by tools/fit_normal_tail.py (at most 4e-7, expf's own on
// top). A third of libdevice erfcf's instructions, which made the CUDA Gelu
// kernels compute-bound. On the GPU t comes from the hardware's approximate
// reciprocal (1 ulp; the IEEE one costs six more instructions): 7e-7 at most.
ONYX_HD float NormalUpperTail(float a, float e) {
#ifdef __CUDA_ARCH__
  const float t = __fdividef(1.f, 1.f + a * (1.f / 3.f));
#else
  const float t = 1.f / (1.f + a * (1.f / 3.f));
#endif
  constexpr float kP[] = {0.132952929f, 0.133614168f, 0.112095848f, 0.121353947f, -0.0571758859f,
                          0.225084782f, -0.277173907f, 0.132701382f, -0.0234532375f};
  float p = kP[8];
  for (int i = 7; i >= 0; --i) p = p * t + kP[i];
  return e * (t * p);
}

// Phi(x) and exp(-x^2 / 2) in float from the upper tail of |x|, which is
// clamped at 15 where both underflow (a NaN x becomes 15 there; the caller's
// factor x carries the NaN).
struct FloatNormal {
  ONYX_HD explicit FloatNormal(float x) {
    const float a = std::fmin(std::fabs(x), 15.f);
    gauss = ExpMinusHalfSquare(a);
    const float q = NormalUpperTail(a, gauss);
    cdf = x >= 0.f ? 1.f - q : q;
  }
  float cdf;
  float gauss;  // exp(-x^2 / 2)
};

inline constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
inline constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;
inline constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;
inline constexpr double kGeluTanhCubic = 0.044715;

}  // namespace activation_internal

// Relu (opset 6, 13, 14): y = max(x, 0); dy/dx = [x > 0]. NaN propagates.
struct ReluFn {
  static constexpr Saved kSaved = Saved::kOutput;  // y > 0 iff x > 0
  template <typename T> ONYX_HD T Forward(T x) const { return x < T(0) ? T(0) : x; }
  template <typename T> ONYX_HD T Backward(T dy, T y) const { return y > T(0) ? dy : T(0); }
};

// LeakyRelu (opset 6, 16): y = x if x >= 0 else alpha * x; dy/dx = 1 or alpha.
struct LeakyReluFn {
  float alpha = 0.01f;
  static constexpr Saved kSaved = Saved::kInput;  // alpha may be negative: y loses the sign
  template <typename T> ONYX_HD T Forward(T x) const { return x < T(0) ? T(alpha) * x : x; }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return x > T(0) ? dy : T(alpha) * dy;
  }
};

// Sigmoid (opset 6, 13): y = 1 / (1 + exp(-x)); dy/dx = y * (1 - y).
struct SigmoidFn {
  static constexpr Saved kSaved = Saved::kOutput;
  template <typename T> ONYX_HD T Forward(T x) const {
    return activation_internal::StableSigmoid(x);
  }
  template <typename T> ONYX_HD T Backward(T dy, T y) const { return dy * y * (T(1) - y); }
};

// Tanh (opset 6, 13): y = tanh(x); dy/dx = 1 - y^2.
struct TanhFn {
  static constexpr Saved kSaved = Saved::kOutput;
  template <typename T> ONYX_HD T Forward(T x) const { return std::tanh(x); }
  template <typename T> ONYX_HD T Backward(T dy, T y) const { return dy * (T(1) - y * y); }
};

// Softplus (opset 1): y = log(1 + exp(x)); dy/dx = sigmoid(x).
struct SoftplusFn {
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    return activation_internal::StableSoftplus(x);
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return dy * activation_internal::StableSigmoid(x);
  }
};

// Elu (opset 6): y = x if x > 0 else alpha * (exp(x) - 1); dy/dx = 1 or alpha*exp(x).
// expm1 keeps precision for small |x|.
struct EluFn {
  float alpha = 1.f;
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    return x > T(0) ? x : T(alpha) * std::expm1(x);
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return x > T(0) ? dy : dy * T(alpha) * std::exp(x);
  }
};

// Selu (opset 6): y = gamma * (x if x > 0 else alpha * (exp(x) - 1));
// dy/dx = gamma or gamma * alpha * exp(x).
struct SeluFn {
  float alpha = 1.67326319217681884765625f;
  float gamma = 1.05070102214813232421875f;
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    return T(gamma) * (x > T(0) ? x : T(alpha) * std::expm1(x));
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return dy * T(gamma) * (x > T(0) ? T(1) : T(alpha) * std::exp(x));
  }
};

// Celu (opset 12): y = max(0, x) + min(0, alpha * (exp(x / alpha) - 1));
// dy/dx = 1 if x > 0 else exp(x / alpha).
struct CeluFn {
  float alpha = 1.f;
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    return x > T(0) ? x : T(alpha) * std::expm1(x / T(alpha));
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return x > T(0) ? dy : dy * std::exp(x / T(alpha));
  }
};

// Gelu, approximate="none" (opset 20): y = x * Phi(x) = x/2 * erfc(-x / sqrt(2));
// dy/dx = Phi(x) + x * phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi).
// erfc(-z) instead of 1 + erf(z) avoids cancellation for large negative x.
struct GeluFn {
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    if constexpr (sizeof(T) == sizeof(float)) {
      return x * activation_internal::FloatNormal(x).cdf;
    } else {
      return T(0.5) * x * std::erfc(-x * T(activation_internal::kInvSqrt2));
    }
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    if constexpr (sizeof(T) == sizeof(float)) {
      const activation_internal::FloatNormal normal(x);
      return dy * (normal.cdf + x * (float(activation_internal::kInvSqrt2Pi) * normal.gauss));
    } else {
      const T cdf = T(0.5) * std::erfc(-x * T(activation_internal::kInvSqrt2));
      const T pdf = T(activation_internal::kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
      return dy * (cdf + x * pdf);
    }
  }
};

// Gelu, approximate="tanh" (opset 20): y = x/2 * (1 + tanh(u)),
// u = sqrt(2/pi) * (x + 0.044715 x^3);
// dy/dx = (1 + tanh(u))/2 + x/2 * (1 - tanh(u)^2) * sqrt(2/pi) * (1 + 3*0.044715 x^2).
struct GeluTanhFn {
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    const T u = T(activation_internal::kSqrt2OverPi) *
                (x + T(activation_internal::kGeluTanhCubic) * x * x * x);
    return T(0.5) * x * (T(1) + std::tanh(u));
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    const T k = T(activation_internal::kSqrt2OverPi);
    const T c = T(activation_internal::kGeluTanhCubic);
    const T t = std::tanh(k * (x + c * x * x * x));
    const T du = k * (T(1) + T(3) * c * x * x);
    return dy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
  }
};

// Mish (opset 18): y = x * tanh(softplus(x));
// dy/dx = tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x), sp = softplus(x).
struct MishFn {
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> static constexpr T kCutoff = sizeof(T) == sizeof(float) ? 15 : 40;
  // With e = exp(x) and n = e(e + 2), tanh(softplus(x)) = n / (n + 2): one exp
  // instead of three transcendentals (the CUDA kernels were compute-bound).
  // Past kCutoff it is 1 to T's precision, and y = x.
  template <typename T> ONYX_HD T Forward(T x) const {
    if (x > kCutoff<T>) return x;
    const T e = std::exp(x);
    const T n = e * (e + T(2));
    return x * (n / (n + T(2)));
  }
  // dy/dx = tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x), sp = softplus(x):
  // tanh(sp) = n / (n + 2), 1 - tanh(sp)^2 = 4(n + 1) / (n + 2)^2 (no
  // cancellation near 1) and sigmoid(x) = e / (1 + e). Past kCutoff dy/dx is 1
  // to T's precision, and (n + 2)^2 would overflow.
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    if (x > kCutoff<T>) return dy;
    const T e = std::exp(x);
    const T n = e * (e + T(2));
    const T d = n + T(2);
    return dy * (n / d + x * (T(4) * (n + T(1)) / (d * d)) * (e / (T(1) + e)));
  }
};

// HardSigmoid (opset 6): y = max(0, min(1, alpha * x + beta));
// dy/dx = alpha inside (0, 1), else 0. NaN propagates.
struct HardSigmoidFn {
  float alpha = 0.2f;
  float beta = 0.5f;
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    const T v = T(alpha) * x + T(beta);
    return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    const T v = T(alpha) * x + T(beta);
    return (v > T(0) && v < T(1)) ? dy * T(alpha) : T(0);
  }
};

// HardSwish (opset 14): y = x * max(0, min(1, x/6 + 1/2));
// dy/dx = 0 for x < -3, x/3 + 1/2 inside, 1 for x > 3.
struct HardSwishFn {
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    const T v = x / T(6) + T(0.5);
    return x * (v < T(0) ? T(0) : (v > T(1) ? T(1) : v));
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    if (x < T(-3)) return T(0);
    if (x > T(3)) return dy;
    return dy * (x / T(3) + T(0.5));
  }
};

// Swish (opset 24): y = x * sigmoid(alpha * x);
// dy/dx = s + alpha * x * s * (1 - s), s = sigmoid(alpha * x).
struct SwishFn {
  float alpha = 1.f;
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    return x * activation_internal::StableSigmoid(T(alpha) * x);
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    const T s = activation_internal::StableSigmoid(T(alpha) * x);
    return dy * (s + T(alpha) * x * s * (T(1) - s));
  }
};

// ThresholdedRelu (opset 10): y = x if x > alpha else 0; dy/dx = [x > alpha].
struct ThresholdedReluFn {
  float alpha = 1.f;
  static constexpr Saved kSaved = Saved::kInput;
  template <typename T> ONYX_HD T Forward(T x) const {
    return x > T(alpha) ? x : (x == x ? T(0) : x);  // x == x is false only for NaN
  }
  template <typename T> ONYX_HD T Backward(T dy, T x) const {
    return x > T(alpha) ? dy : T(0);
  }
};

}  // namespace onyx
