// Double-precision formulas of the plotted activations and their derivatives,
// written from the ONNX definitions with ONNX's default attributes; the plot
// tests compare the runtime's kernels (through the figure) against them.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace onyx::plot_test {

struct Reference {
  double f = 0, df = 0;
};

inline double Sigmoid(double x) { return 1 / (1 + std::exp(-x)); }
inline double Softplus(double x) { return x > 30 ? x : std::log1p(std::exp(x)); }

// f and f' of elementwise `op` at x (not Softmax).
inline Reference Elementwise(const std::string& op, double x) {
  constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
  constexpr double kSeluGamma = 1.0507009873554804934193349852946;
  constexpr double kPi = 3.14159265358979323846;
  if (op == "Relu") return {x > 0 ? x : 0, x > 0 ? 1.0 : 0.0};
  if (op == "LeakyRelu") return {x > 0 ? x : 0.01 * x, x > 0 ? 1.0 : 0.01};
  if (op == "Sigmoid") return {Sigmoid(x), Sigmoid(x) * (1 - Sigmoid(x))};
  if (op == "Tanh") return {std::tanh(x), 1 - std::tanh(x) * std::tanh(x)};
  if (op == "Softplus") return {Softplus(x), Sigmoid(x)};
  if (op == "Elu") return {x > 0 ? x : std::expm1(x), x > 0 ? 1 : std::exp(x)};
  if (op == "Selu") {
    return {x > 0 ? kSeluGamma * x : kSeluGamma * kSeluAlpha * std::expm1(x),
            x > 0 ? kSeluGamma : kSeluGamma * kSeluAlpha * std::exp(x)};
  }
  if (op == "Gelu") {  // x * Phi(x); d/dx = Phi(x) + x * phi(x)
    const double cdf = 0.5 * (1 + std::erf(x / std::sqrt(2.0)));
    const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * kPi);
    return {x * cdf, cdf + x * pdf};
  }
  if (op == "Mish") {  // x * tanh(softplus(x)); d/dx = t + x * (1 - t^2) * sigmoid(x)
    const double t = std::tanh(Softplus(x));
    return {x * t, t + x * (1 - t * t) * Sigmoid(x)};
  }
  if (op == "Swish") {  // x * sigmoid(x)
    const double s = Sigmoid(x);
    return {x * s, s + x * s * (1 - s)};
  }
  if (op == "HardSwish") {  // x * clamp(x / 6 + 1/2, 0, 1)
    if (x <= -3) return {0, 0};
    if (x >= 3) return {x, 1};
    return {x * (x / 6 + 0.5), x / 3 + 0.5};
  }
  return {NAN, NAN};
}

// Points where f or f' jumps; derivatives there are a convention, not checked.
inline std::vector<double> Kinks(const std::string& op) {
  if (op == "Relu" || op == "LeakyRelu" || op == "Selu" || op == "Elu") return {0};
  if (op == "HardSwish") return {-3, 3};
  return {};
}

// Softmax over the whole vector xs, and the Jacobian diagonal y_i (1 - y_i).
inline void SoftmaxReference(const std::vector<double>& xs, std::vector<double>& y,
                             std::vector<double>& dy) {
  double max = -INFINITY, sum = 0;
  for (double x : xs) max = std::max(max, x);
  y.assign(xs.size(), 0);
  dy.assign(xs.size(), 0);
  for (size_t i = 0; i < xs.size(); ++i) sum += y[i] = std::exp(xs[i] - max);
  for (size_t i = 0; i < xs.size(); ++i) {
    y[i] /= sum;
    dy[i] = y[i] * (1 - y[i]);
  }
}

}  // namespace onyx::plot_test
