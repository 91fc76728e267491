// Gradient builder of Conv: one com.onyx ConvGrad(dY, X, W) node carrying the
// forward attributes, whose outputs are the wanted ones of (dX, dW, dB).
//   dX = conv_backward_data(dY, W), dW = conv_backward_weights(dY, X),
//   dB[m] = sum over batch and space of dY[:, m, ...].
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "ops/conv/conv_kernels.h"
#include "runtime/gradient.h"

namespace onyx::conv {
namespace {

absl::StatusOr<GradientNodes> ConvGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  if (ctx.output_grads.empty() || ctx.output_grads[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no gradient flows into output 0", fwd.Describe()));
  }
  if (fwd.inputs.size() < 2) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected inputs X and W, got %d inputs",
                                                      fwd.Describe(), fwd.inputs.size()));
  }
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  auto wants = [&](size_t i) {
    return i < fwd.inputs.size() && !fwd.inputs[i].empty() && i < ctx.wants_input_grad.size() &&
           ctx.wants_input_grad[i];
  };
  Node grad;
  grad.op_type = "ConvGrad";
  grad.domain = kOnyxDomain;
  grad.inputs = {ctx.output_grads[0], fwd.inputs[0], fwd.inputs[1]};
  grad.outputs.assign(3, "");
  for (size_t i = 0; i < 3; ++i) {
    if (!wants(i)) continue;
    grad.outputs[i] = ctx.fresh_name(fwd.inputs[i] + "_grad");
    out.input_grads[i] = grad.outputs[i];
  }
  if (grad.outputs[0].empty() && grad.outputs[1].empty() && grad.outputs[2].empty()) return out;
  grad.name = ctx.fresh_name(fwd.name.empty() ? "conv_grad" : fwd.name + "_grad");
  grad.attributes = fwd.attributes;  // auto_pad, group, strides, pads, dilations, kernel_shape
  out.nodes.push_back(std::move(grad));
  return out;
}

}  // namespace

void RegisterConvGradients(OpRegistry& registry) {
  registry.RegisterGradient(kOnnxDomain, "Conv", ConvGradient);
}

}  // namespace onyx::conv
