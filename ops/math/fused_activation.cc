// FusedActivation: activation attribute -> oneDNN eltwise algorithm and scalar form.
#include "ops/math/fused_activation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx::math {

float FusedActivation::Apply(float x) const {
  using dnnl::algorithm;
  switch (alg) {
    case algorithm::eltwise_relu: return x > 0.f ? x : alpha * x;
    case algorithm::eltwise_logistic: return 1.f / (1.f + std::exp(-x));
    case algorithm::eltwise_tanh: return std::tanh(x);
    case algorithm::eltwise_elu: return x > 0.f ? x : alpha * std::expm1(x);
    // 0.5 x (1 + erf(x / sqrt 2))
    case algorithm::eltwise_gelu_erf: return 0.5f * x * (1.f + std::erf(x * 0.70710678f));
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    case algorithm::eltwise_gelu_tanh:
      return 0.5f * x * (1.f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
    case algorithm::eltwise_mish: {
      const float softplus = x > 20.f ? x : std::log1p(std::exp(x));  // exp overflows past ~88
      return x * std::tanh(softplus);
    }
    case algorithm::eltwise_swish: return x / (1.f + std::exp(-alpha * x));
    case algorithm::eltwise_hardswish: return x * std::clamp(x + 3.f, 0.f, 6.f) / 6.f;
    case algorithm::eltwise_clip: return std::min(std::max(x, alpha), beta);
    default: return x;
  }
}

void FusedActivation::ApplyInPlace(float* y, int64_t n) const {
  if (!present()) return;
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
  for (int64_t i = 0; i < n; ++i) y[i] = Apply(y[i]);
}

absl::StatusOr<FusedActivation> ReadFusedActivation(const Node& node) {
  using dnnl::algorithm;
  FusedActivation act;
  ONYX_ASSIGN_OR_RETURN(act.name, node.GetString("activation", ""));
  if (act.name.empty()) return act;
  float alpha_default = 0.f;
  float beta_default = 0.f;
  if (act.name == "Relu") {
    act.alg = algorithm::eltwise_relu;
  } else if (act.name == "LeakyRelu") {
    act.alg = algorithm::eltwise_relu;
    alpha_default = 0.01f;
  } else if (act.name == "Sigmoid") {
    act.alg = algorithm::eltwise_logistic;
  } else if (act.name == "Tanh") {
    act.alg = algorithm::eltwise_tanh;
  } else if (act.name == "Elu") {
    act.alg = algorithm::eltwise_elu;
    alpha_default = 1.f;
  } else if (act.name == "Gelu") {
    act.alg = algorithm::eltwise_gelu_erf;
  } else if (act.name == "GeluTanh") {
    act.alg = algorithm::eltwise_gelu_tanh;
  } else if (act.name == "Mish") {
    act.alg = algorithm::eltwise_mish;
  } else if (act.name == "Swish") {
    act.alg = algorithm::eltwise_swish;
    alpha_default = 1.f;
  } else if (act.name == "HardSwish") {
    act.alg = algorithm::eltwise_hardswish;  // oneDNN 2.6: x * relu6(x + 3) / 6, as ONNX
  } else if (act.name == "Clip") {
    act.alg = algorithm::eltwise_clip;
    alpha_default = std::numeric_limits<float>::lowest();
    beta_default = std::numeric_limits<float>::max();
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: activation \"%s\" is not one of Relu, LeakyRelu, Sigmoid, Tanh, Elu, Gelu, "
        "GeluTanh, Mish, Swish, HardSwish, Clip",
        node.Describe(), act.name));
  }
  ONYX_ASSIGN_OR_RETURN(act.alpha, node.GetFloat("activation_alpha", alpha_default));
  ONYX_ASSIGN_OR_RETURN(act.beta, node.GetFloat("activation_beta", beta_default));
  if (act.alg == algorithm::eltwise_clip && !(act.alpha <= act.beta)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: Clip bounds must satisfy min <= max, got min %g and max %g", node.Describe(),
        act.alpha, act.beta));
  }
  return act;
}

void AppendActivation(const FusedActivation& act, dnnl::post_ops& ops) {
  if (act.present()) ops.append_eltwise(1.f, act.alg, act.alpha, act.beta);
}

}  // namespace onyx::math
