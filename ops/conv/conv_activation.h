// The activation a fused conv applies as a oneDNN eltwise post-op, read from
// the node's `activation` attribute (FusedConv) or a prefixed copy of it
// (FusedConvDw's `dw_activation` for its depthwise stage).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/graph.h"

namespace onyx::conv {

struct Activation {
  bool present = false;
  dnnl::algorithm alg = dnnl::algorithm::eltwise_relu;
  float alpha = 0.f, beta = 0.f;
};

// `<prefix>activation` (with `<prefix>activation_params`, `_alpha`, `_beta`)
// -> oneDNN eltwise (alpha/beta defaults as the standalone ONNX ops have them);
// not present when the attribute is absent or empty.
absl::StatusOr<Activation> ParseActivation(const Node& node, const std::string& prefix = "");

}  // namespace onyx::conv
