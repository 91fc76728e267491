// FusedConv / FusedConvDw activation attributes -> oneDNN eltwise parameters.
#include "ops/conv/conv_activation.h"

#include <cfloat>
#include <vector>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx::conv {

absl::StatusOr<Activation> ParseActivation(const Node& node, const std::string& prefix) {
  using dnnl::algorithm;
  Activation a;
  const std::string attr = prefix + "activation";
  ONYX_ASSIGN_OR_RETURN(const std::string name, node.GetString(attr, ""));
  if (name.empty()) return a;
  // ONNX Runtime's FusedConv spells the parameters as one list.
  ONYX_ASSIGN_OR_RETURN(const std::vector<float> params, node.GetFloats(attr + "_params", {}));
  struct Row {
    const char* name;
    algorithm alg;
    float alpha, beta;
  };
  static const Row kRows[] = {
      {"Relu", algorithm::eltwise_relu, 0.f, 0.f},
      {"LeakyRelu", algorithm::eltwise_relu, 0.01f, 0.f},
      {"Sigmoid", algorithm::eltwise_logistic, 0.f, 0.f},
      {"Tanh", algorithm::eltwise_tanh, 0.f, 0.f},
      {"Elu", algorithm::eltwise_elu, 1.f, 0.f},
      {"Gelu", algorithm::eltwise_gelu_erf, 0.f, 0.f},
      {"GeluTanh", algorithm::eltwise_gelu_tanh, 0.f, 0.f},
      {"Mish", algorithm::eltwise_mish, 0.f, 0.f},
      {"Swish", algorithm::eltwise_swish, 1.f, 0.f},
      {"HardSwish", algorithm::eltwise_hardswish, 0.f, 0.f},
      {"Clip", algorithm::eltwise_clip, -FLT_MAX, FLT_MAX},  // alpha = min, beta = max
  };
  for (const Row& row : kRows) {
    if (name != row.name) continue;
    a.present = true;
    a.alg = row.alg;
    a.alpha = params.size() > 0 ? params[0] : row.alpha;
    a.beta = params.size() > 1 ? params[1] : row.beta;
    ONYX_ASSIGN_OR_RETURN(a.alpha, node.GetFloat(attr + "_alpha", a.alpha));
    ONYX_ASSIGN_OR_RETURN(a.beta, node.GetFloat(attr + "_beta", a.beta));
    return a;
  }
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: attribute %s is \"%s\"; expected one of Relu, LeakyRelu, Sigmoid, Tanh, "
      "Elu, Gelu, GeluTanh, Mish, Swish, HardSwish, Clip",
      node.Describe(), attr, name));
}

}  // namespace onyx::conv
