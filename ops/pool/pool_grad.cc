// Gradient builders of the pool family: MaxPool -> MaxPoolGrad(dY, X),
// AveragePool -> AveragePoolGrad(dY, X) (X for its shape), GlobalAveragePool ->
// GlobalAveragePoolGrad(dY, X); all com.onyx, the forward's attributes copied.
// MaxPool's Indices output carries no gradient.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/pool/pool_kernels.h"
#include "runtime/gradient.h"
#include "runtime/status_macros.h"

namespace onyx::pool {
namespace {

// dX = <grad_op>(dY, X) with the forward's attributes.
absl::StatusOr<GradientNodes> PoolGradient(const GradientContext& ctx, const std::string& grad_op) {
  const Node& fwd = ctx.node;
  if (fwd.inputs.empty() || fwd.inputs[0].empty() || fwd.outputs.empty() ||
      fwd.outputs[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected input X and output Y", fwd.Describe()));
  }
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  if (ctx.output_grads.empty() || ctx.output_grads[0].empty() || ctx.wants_input_grad.empty() ||
      !ctx.wants_input_grad[0]) {
    return out;
  }
  const std::string dx = ctx.fresh_name(fwd.inputs[0] + "_grad");
  Node node;
  node.name = ctx.fresh_name(dx + "_node");
  node.domain = kOnyxDomain;
  node.op_type = grad_op;
  node.inputs = {ctx.output_grads[0], fwd.inputs[0]};
  node.outputs = {dx};
  node.attributes = fwd.attributes;
  out.nodes.push_back(std::move(node));
  out.input_grads[0] = dx;
  return out;
}

}  // namespace

void RegisterPoolGradients(OpRegistry& registry) {
  registry.RegisterGradient(kOnnxDomain, "MaxPool", [](const GradientContext& ctx) {
    return PoolGradient(ctx, "MaxPoolGrad");
  });
  registry.RegisterGradient(kOnnxDomain, "AveragePool", [](const GradientContext& ctx) {
    return PoolGradient(ctx, "AveragePoolGrad");
  });
  registry.RegisterGradient(kOnnxDomain, "GlobalAveragePool", [](const GradientContext& ctx) {
    return PoolGradient(ctx, "GlobalAveragePoolGrad");
  });
}

}  // namespace onyx::pool
