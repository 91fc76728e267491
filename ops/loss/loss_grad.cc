// Gradient builders of the loss family. Each emits one com.onyx <op>Grad node
// computing d(input 0) from d(loss) with the forward's attributes copied; labels,
// targets and class weights get no gradient.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/loss/loss_common.h"
#include "runtime/gradient.h"
#include "runtime/op_registry.h"

namespace onyx {
namespace {

bool WantsInput0(const GradientContext& ctx) {
  return !ctx.wants_input_grad.empty() && ctx.wants_input_grad[0] && !ctx.output_grads.empty() &&
         !ctx.output_grads[0].empty();
}

bool HasInput(const Node& node, size_t i) {
  return i < node.inputs.size() && !node.inputs[i].empty();
}

// The frame shared by every builder: one <op>Grad node with `inputs`, the forward's
// attributes plus `extra`, and one output dX for forward input 0.
GradientNodes EmitGradNode(const GradientContext& ctx, std::vector<std::string> inputs,
                           std::vector<Attribute> extra) {
  const Node& fwd = ctx.node;
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  Node grad;
  grad.name = ctx.fresh_name(fwd.name.empty() ? fwd.op_type + "_grad" : fwd.name + "_grad");
  grad.op_type = fwd.op_type + "Grad";
  grad.domain = kOnyxDomain;
  grad.inputs = std::move(inputs);
  grad.attributes = fwd.attributes;
  for (Attribute& a : extra) grad.attributes.push_back(std::move(a));
  const std::string dx = ctx.fresh_name(fwd.inputs[0] + "_grad");
  grad.outputs = {dx};
  out.nodes.push_back(std::move(grad));
  out.input_grads[0] = dx;
  return out;
}

// SoftmaxCrossEntropyLoss / CrossEntropyLoss: reads the forward's log_prob output
// when the node has one, else its scores (input_kind = "scores": the backward
// recomputes the softmax).
absl::StatusOr<GradientNodes> SoftmaxLossGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  if (ctx.output_grads.size() > 1 && !ctx.output_grads[1].empty()) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: no gradient through the log_prob output (only through the loss)", fwd.Describe()));
  }
  if (!WantsInput0(ctx)) {
    GradientNodes none;
    none.input_grads.assign(fwd.inputs.size(), "");
    return none;
  }
  std::vector<std::string> inputs = {ctx.output_grads[0]};
  std::vector<Attribute> extra;
  if (fwd.outputs.size() > 1 && !fwd.outputs[1].empty()) {
    inputs.push_back(fwd.outputs[1]);
  } else {
    inputs.push_back(fwd.inputs[0]);
    Attribute kind;
    kind.name = "input_kind";
    kind.type = AttrType::kString;
    kind.s = "scores";
    extra.push_back(std::move(kind));
  }
  inputs.push_back(fwd.inputs[1]);
  if (HasInput(fwd, 2)) inputs.push_back(fwd.inputs[2]);
  return EmitGradNode(ctx, std::move(inputs), std::move(extra));
}

// NegativeLogLikelihoodLoss, MseLoss, BceLoss, BceWithLogitsLoss: the backward
// reads the forward's inputs as they are (dloss, input 0, input 1[, input 2]).
absl::StatusOr<GradientNodes> SameInputsGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  if (!WantsInput0(ctx)) {
    GradientNodes none;
    none.input_grads.assign(fwd.inputs.size(), "");
    return none;
  }
  std::vector<std::string> inputs = {ctx.output_grads[0], fwd.inputs[0], fwd.inputs[1]};
  if (HasInput(fwd, 2)) inputs.push_back(fwd.inputs[2]);
  return EmitGradNode(ctx, std::move(inputs), {});
}

}  // namespace

void RegisterLossGradients(OpRegistry& registry) {
  registry.RegisterGradient(kOnnxDomain, "SoftmaxCrossEntropyLoss", SoftmaxLossGradient);
  registry.RegisterGradient(kOnyxDomain, "CrossEntropyLoss", SoftmaxLossGradient);
  registry.RegisterGradient(kOnnxDomain, "NegativeLogLikelihoodLoss", SameInputsGradient);
  for (const char* op : {"MseLoss", "BceLoss", "BceWithLogitsLoss"}) {
    registry.RegisterGradient(kOnyxDomain, op, SameInputsGradient);
  }
}

}  // namespace onyx
