// Gradient builders of the activation family: each emits one backward node —
// com.onyx <Op>Grad for the elementwise ops, SoftmaxGrad / LogSoftmaxGrad (reading Y),
// PReluGrad (dX and dSlope) — or an Identity for Identity.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "ops/activation/activation_table.h"
#include "runtime/gradient.h"
#include "runtime/op_registry.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

bool Wants(const GradientContext& ctx, size_t i) {
  return i < ctx.wants_input_grad.size() && ctx.wants_input_grad[i] &&
         i < ctx.node.inputs.size() && !ctx.node.inputs[i].empty();
}

// dY of output 0 after checking the node has `min_inputs` inputs and one output.
absl::StatusOr<std::string> OutputGrad(const GradientContext& ctx, size_t min_inputs) {
  const Node& fwd = ctx.node;
  if (fwd.inputs.size() < min_inputs || fwd.inputs[0].empty() || fwd.outputs.empty() ||
      fwd.outputs[0].empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: expected %d input(s) and an output, got %d and %d", fwd.Describe(), min_inputs,
        fwd.inputs.size(), fwd.outputs.size()));
  }
  if (ctx.output_grads.empty() || ctx.output_grads[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no gradient flows into output 0", fwd.Describe()));
  }
  return ctx.output_grads[0];
}

// Appends a node `op_type` (in `domain`) to `out`; its name derives from its first
// named output, so it is unique wherever that output is.
void Emit(const GradientContext& ctx, GradientNodes& out, const std::string& domain,
          const std::string& op_type, std::vector<std::string> inputs,
          std::vector<std::string> outputs, std::vector<Attribute> attributes) {
  Node node;
  const std::string& first = outputs[0].empty() ? outputs.back() : outputs[0];
  node.name = ctx.fresh_name(first + "_node");
  node.domain = domain;
  node.op_type = op_type;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes = std::move(attributes);
  out.nodes.push_back(std::move(node));
}

// Elementwise f: dX = <Op>Grad(dY, X or Y), the forward's attributes copied. Which of
// X and Y the kernel reads comes from the activation table (the functor's kSaved).
absl::StatusOr<GradientNodes> EltwiseGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  ONYX_ASSIGN_OR_RETURN(const EltwiseSpec spec, MakeEltwiseSpec(fwd, fwd.op_type));
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  if (!Wants(ctx, 0)) return out;
  const std::string& saved = spec.saves_output ? fwd.outputs[0] : fwd.inputs[0];
  const std::string dx = ctx.fresh_name(fwd.inputs[0] + "_grad");
  Emit(ctx, out, kOnyxDomain, fwd.op_type + "Grad", {dy, saved}, {dx}, fwd.attributes);
  out.input_grads[0] = dx;
  return out;
}

// Softmax / LogSoftmax: dX = <Op>Grad(dY, Y) with axis copied and the forward's
// opset as attribute `opset` (< 13: 2-D coercion, >= 13: single axis).
absl::StatusOr<GradientNodes> SoftmaxGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  if (!Wants(ctx, 0)) return out;
  std::vector<Attribute> attributes;
  for (const Attribute& a : fwd.attributes) {
    if (a.name != "opset") attributes.push_back(a);
  }
  Attribute opset;
  opset.name = "opset";
  opset.type = AttrType::kInt;
  opset.i = ctx.opset;
  attributes.push_back(std::move(opset));
  const std::string dx = ctx.fresh_name(fwd.inputs[0] + "_grad");
  Emit(ctx, out, kOnyxDomain, fwd.op_type + "Grad", {dy, fwd.outputs[0]}, {dx},
       std::move(attributes));
  out.input_grads[0] = dx;
  return out;
}

// Identity: dX = dY, through an Identity node (shares dY's buffer, no copy).
absl::StatusOr<GradientNodes> IdentityGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  if (!Wants(ctx, 0)) return out;
  const std::string dx = ctx.fresh_name(fwd.inputs[0] + "_grad");
  Emit(ctx, out, kOnnxDomain, "Identity", {dy}, {dx}, {});
  out.input_grads[0] = dx;
  return out;
}

// PRelu: (dX, dSlope) = PReluGrad(dY, X, slope); an unwanted output is omitted.
absl::StatusOr<GradientNodes> PReluGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 2));
  if (fwd.inputs[1].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input slope is missing", fwd.Describe()));
  }
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  if (!Wants(ctx, 0) && !Wants(ctx, 1)) return out;
  const std::string dx = Wants(ctx, 0) ? ctx.fresh_name(fwd.inputs[0] + "_grad") : "";
  const std::string dslope = Wants(ctx, 1) ? ctx.fresh_name(fwd.inputs[1] + "_grad") : "";
  Emit(ctx, out, kOnyxDomain, "PReluGrad", {dy, fwd.inputs[0], fwd.inputs[1]}, {dx, dslope},
       {});
  out.input_grads[0] = dx;
  out.input_grads[1] = dslope;
  return out;
}

}  // namespace

void RegisterActivationGradients(OpRegistry& registry) {
  for (const char* op : {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Elu", "Selu",
                         "Celu", "Gelu", "Mish", "HardSigmoid", "HardSwish", "Swish",
                         "ThresholdedRelu"}) {
    registry.RegisterGradient(kOnnxDomain, op, EltwiseGradient);
  }
  registry.RegisterGradient(kOnnxDomain, "Softmax", SoftmaxGradient);
  registry.RegisterGradient(kOnnxDomain, "LogSoftmax", SoftmaxGradient);
  registry.RegisterGradient(kOnnxDomain, "Identity", IdentityGradient);
  registry.RegisterGradient(kOnnxDomain, "PRelu", PReluGradient);
}

}  // namespace onyx
