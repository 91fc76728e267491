// Gradient builders of the norm family; each emits one com.onyx node:
//   BatchNormalization    -> BatchNormalizationGrad(dY, X, scale, mean, var)
//                            [epsilon, training_mode, spatial] -> (dX, dScale, dB)
//   LayerNormalization    -> LayerNormalizationGrad(dY, X, Scale[, B]) [axis, epsilon]
//   InstanceNormalization -> InstanceNormalizationGrad(dY, X, scale) [epsilon]
// Only Y carries a gradient: statistics outputs (running mean/var, Mean,
// InvStdDev) are not differentiated, and a gradient flowing into one is an error.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/norm/norm_util.h"
#include "runtime/gradient.h"
#include "runtime/status_macros.h"

namespace onyx::norm {
namespace {

Attribute IntAttr(const std::string& name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}

bool Wants(const GradientContext& ctx, size_t i) {
  return i < ctx.wants_input_grad.size() && ctx.wants_input_grad[i] && i < ctx.node.inputs.size() &&
         !ctx.node.inputs[i].empty();
}

// Emits `op`(inputs) with outputs dX, dScale, dB for forward inputs 0, 1, 2
// (each only when wanted) and the given attributes.
absl::StatusOr<GradientNodes> EmitNormGrad(const GradientContext& ctx, const std::string& op,
                                           size_t min_inputs, std::vector<std::string> inputs,
                                           std::vector<Attribute> attrs) {
  const Node& fwd = ctx.node;
  if (fwd.inputs.size() < min_inputs || fwd.outputs.empty() || fwd.outputs[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected %d inputs and output Y", fwd.Describe(), min_inputs));
  }
  for (size_t i = 0; i < min_inputs; ++i) {
    if (fwd.inputs[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: required input %d is missing", fwd.Describe(), i));
    }
  }
  for (size_t i = 1; i < ctx.output_grads.size(); ++i) {
    if (!ctx.output_grads[i].empty()) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: output %d (\"%s\") is a statistic and has no gradient",
                          fwd.Describe(), i, fwd.outputs[i]));
    }
  }
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  if (ctx.output_grads.empty() || ctx.output_grads[0].empty()) return out;
  std::vector<std::string> outputs(3);
  bool any = false;
  for (size_t i = 0; i < 3; ++i) {
    if (!Wants(ctx, i)) continue;
    outputs[i] = ctx.fresh_name(fwd.inputs[i] + "_grad");
    out.input_grads[i] = outputs[i];
    any = true;
  }
  if (!any) return out;
  while (outputs.back().empty()) outputs.pop_back();
  Node node;
  const std::string& first =
      outputs[0].empty() ? (outputs[1].empty() ? outputs[2] : outputs[1]) : outputs[0];
  node.name = ctx.fresh_name(first + "_node");
  node.domain = kOnyxDomain;
  node.op_type = op;
  inputs.insert(inputs.begin(), ctx.output_grads[0]);
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes = std::move(attrs);
  out.nodes.push_back(std::move(node));
  return out;
}

absl::StatusOr<GradientNodes> BatchNormGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  if (fwd.inputs.size() < 5) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected inputs X, scale, B, input_mean, input_var", fwd.Describe()));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t training_mode, fwd.GetInt("training_mode", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t spatial, fwd.GetInt("spatial", 1));
  ONYX_ASSIGN_OR_RETURN(float epsilon, fwd.GetFloat("epsilon", 1e-5f));
  bool training = training_mode != 0;
  if (ctx.opset < 14) {  // older opsets train when statistics outputs are requested
    training = false;
    for (size_t i = 1; i < fwd.outputs.size(); ++i) training |= !fwd.outputs[i].empty();
  }
  if (ctx.opset >= 9) spatial = 1;
  Attribute eps;
  eps.name = "epsilon";
  eps.type = AttrType::kFloat;
  eps.f = epsilon;
  return EmitNormGrad(
      ctx, "BatchNormalizationGrad", 5,
      {fwd.inputs[0], fwd.inputs[1], fwd.inputs[3], fwd.inputs[4]},
      {eps, IntAttr("training_mode", training ? 1 : 0), IntAttr("spatial", spatial)});
}

absl::StatusOr<GradientNodes> LayerNormGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  if (fwd.inputs.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected inputs X and Scale", fwd.Describe()));
  }
  std::vector<std::string> inputs = {fwd.inputs[0], fwd.inputs[1]};
  if (fwd.inputs.size() > 2 && !fwd.inputs[2].empty()) inputs.push_back(fwd.inputs[2]);
  std::vector<Attribute> attrs;
  for (const Attribute& a : fwd.attributes) {
    if (a.name == "axis" || a.name == "epsilon") attrs.push_back(a);
  }
  return EmitNormGrad(ctx, "LayerNormalizationGrad", 2, std::move(inputs), std::move(attrs));
}

absl::StatusOr<GradientNodes> InstanceNormGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  std::vector<Attribute> attrs;
  for (const Attribute& a : fwd.attributes) {
    if (a.name == "epsilon") attrs.push_back(a);
  }
  if (fwd.inputs.size() < 3) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected inputs input, scale, B", fwd.Describe()));
  }
  return EmitNormGrad(ctx, "InstanceNormalizationGrad", 3, {fwd.inputs[0], fwd.inputs[1]},
                      std::move(attrs));
}

}  // namespace

void RegisterNormGradients(OpRegistry& registry) {
  registry.RegisterGradient(kOnnxDomain, "BatchNormalization", BatchNormGradient);
  registry.RegisterGradient(kOnnxDomain, "LayerNormalization", LayerNormGradient);
  registry.RegisterGradient(kOnnxDomain, "InstanceNormalization", InstanceNormGradient);
}

}  // namespace onyx::norm
