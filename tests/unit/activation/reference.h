// Double-precision references of the elementwise activations, written from the
// ONNX formulas (independent of ops/activation/activation_math.h).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "runtime/graph.h"
#include "tests/unit/common/run_node.h"

namespace onyx::testing_util {

constexpr double kPi = 3.14159265358979323846;

struct EltwiseCase {
  std::string name;
  std::string op;
  std::vector<Attribute> attrs;
  int64_t opset;
  std::function<double(double)> ref;  // for non-NaN x; NaN must map to NaN
  double rtol = 1e-5;
  double atol = 1e-6;
};

inline double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double Softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
inline double Clamp01(double v) { return std::min(1.0, std::max(0.0, v)); }

inline std::vector<EltwiseCase> Cases() {
  const double selu_alpha = 1.67326319217681884765625, selu_gamma = 1.05070102214813232421875;
  return {
      {"Relu", "Relu", {}, 14, [](double x) { return std::max(x, 0.0); }},
      {"Relu6", "Relu", {}, 6, [](double x) { return std::max(x, 0.0); }},
      {"LeakyReluDefault", "LeakyRelu", {}, 16,
       [](double x) { return x >= 0 ? x : double(0.01f) * x; }},  // attributes are float32
      {"LeakyRelu", "LeakyRelu", {FloatAttr("alpha", 0.3f)}, 6,
       [](double x) { return x >= 0 ? x : double(0.3f) * x; }},
      {"Sigmoid", "Sigmoid", {}, 13, Sigmoid},
      {"Tanh", "Tanh", {}, 13, [](double x) { return std::tanh(x); }},
      {"Softplus", "Softplus", {}, 1, Softplus},
      {"EluDefault", "Elu", {}, 6, [](double x) { return x > 0 ? x : std::exp(x) - 1; }},
      {"Elu", "Elu", {FloatAttr("alpha", 0.5f)}, 22,
       [](double x) { return x > 0 ? x : 0.5 * (std::exp(x) - 1); }},
      {"SeluDefault", "Selu", {}, 6,
       [=](double x) { return selu_gamma * (x > 0 ? x : selu_alpha * (std::exp(x) - 1)); }},
      {"Selu", "Selu", {FloatAttr("alpha", 2.f), FloatAttr("gamma", 3.f)}, 6,
       [](double x) { return 3.0 * (x > 0 ? x : 2.0 * (std::exp(x) - 1)); }},
      {"CeluDefault", "Celu", {}, 12,
       [](double x) { return std::max(0.0, x) + std::min(0.0, std::exp(x) - 1); }},
      {"Celu", "Celu", {FloatAttr("alpha", 2.f)}, 12,
       [](double x) { return std::max(0.0, x) + std::min(0.0, 2.0 * (std::exp(x / 2.0) - 1)); }},
      {"GeluDefault", "Gelu", {}, 20,
       [](double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }},
      {"GeluTanh", "Gelu", {StringAttr("approximate", "tanh")}, 20,
       [](double x) {
         return 0.5 * x * (1 + std::tanh(std::sqrt(2 / kPi) * (x + 0.044715 * x * x * x)));
       },
       1e-5, 2e-6},
      // oneDNN's mish is within ~1.3e-6 absolute of the exact value.
      {"Mish", "Mish", {}, 18, [](double x) { return x * std::tanh(std::log(1 + std::exp(x))); },
       1e-5, 3e-6},
      {"HardSigmoidDefault", "HardSigmoid", {}, 6,
       [](double x) { return Clamp01(double(0.2f) * x + 0.5); }},
      {"HardSigmoid", "HardSigmoid", {FloatAttr("alpha", 0.5f), FloatAttr("beta", 0.25f)}, 22,
       [](double x) { return Clamp01(0.5 * x + 0.25); }},
      {"HardSwish", "HardSwish", {}, 14, [](double x) { return x * Clamp01(x / 6 + 0.5); }},
      {"SwishDefault", "Swish", {}, 24, [](double x) { return x / (1 + std::exp(-x)); }},
      {"Swish", "Swish", {FloatAttr("alpha", 1.5f)}, 25,
       [](double x) { return x / (1 + std::exp(-1.5 * x)); }},
      {"ThresholdedRelu", "ThresholdedRelu", {FloatAttr("alpha", 2.f)}, 10,
       [](double x) { return x > 2 ? x : 0.0; }},
  };
}

}  // namespace onyx::testing_util
