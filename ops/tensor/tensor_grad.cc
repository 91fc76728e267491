// Gradient builders of the tensor family. Pure data movement ops map dY back
// with ONNX ops (Reshape to Shape(X), the inverse Transpose, ReduceToShape for
// Expand, Identity for inference Dropout) or com.onyx CastLike (Cast, Where's
// mask); Concat, Slice, Gather, Tile and constant Pad use the com.onyx backward
// ops of tensor_grad_cpu.cc.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/gradient.h"
#include "runtime/gradient_emitter.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

using Emitter = GradientEmitter;

absl::StatusOr<std::string> OutputGrad(const GradientContext& ctx, size_t min_inputs) {
  if (ctx.output_grads.empty() || ctx.output_grads[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no gradient flows into output 0", ctx.node.Describe()));
  }
  if (ctx.node.inputs.size() < min_inputs) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: expected at least %d inputs",
                                                      ctx.node.Describe(), min_inputs));
  }
  return ctx.output_grads[0];
}

// Reshape, Flatten, Squeeze, Unsqueeze: dX = Reshape(dY, Shape(X)).
absl::StatusOr<GradientNodes> ReshapeLikeGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  if (!e.Wants(0)) return e.Take();
  const std::string shape = e.Op(kOnnxDomain, "Shape", {e.In(0)}, e.In(0) + "_shape");
  e.SetGrad(0, e.Op(kOnnxDomain, "Reshape", {dy, shape}, e.In(0) + "_grad"));
  return e.Take();
}

// Transpose(X, perm): dX = Transpose(dY, inverse perm); without perm the
// reversal is its own inverse.
absl::StatusOr<GradientNodes> TransposeGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  if (!e.Wants(0)) return e.Take();
  std::vector<Attribute> attrs;
  if (const Attribute* perm = ctx.node.FindAttribute("perm")) {
    const std::vector<int64_t>& p = perm->ints;
    std::vector<int64_t> inverse(p.size(), -1);
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] < 0 || p[i] >= static_cast<int64_t>(p.size()) || inverse[p[i]] != -1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: perm is not a permutation", ctx.node.Describe()));
      }
      inverse[p[i]] = static_cast<int64_t>(i);
    }
    Attribute a = *perm;
    a.ints = inverse;
    attrs.push_back(std::move(a));
  }
  e.SetGrad(0, e.Op(kOnnxDomain, "Transpose", {dy}, e.In(0) + "_grad", std::move(attrs)));
  return e.Take();
}

// Expand(X, shape): dX = ReduceToShape(dY, X).
absl::StatusOr<GradientNodes> ExpandGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 2));
  Emitter e(ctx);
  if (e.Wants(0)) {
    e.SetGrad(0, e.Op(kOnyxDomain, "ReduceToShape", {dy, e.In(0)}, e.In(0) + "_grad"));
  }
  return e.Take();
}

// Cast(X): dX = CastLike(dY, X) (back to X's dtype; com.onyx's CastLike runs
// at any model opset).
absl::StatusOr<GradientNodes> CastGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  if (e.Wants(0)) e.SetGrad(0, e.Op(kOnyxDomain, "CastLike", {dy, e.In(0)}, e.In(0) + "_grad"));
  return e.Take();
}

// Where(C, X, Y): dX = ReduceToShape(dY * C, X), dY' = ReduceToShape(dY * !C, Y)
// with C cast to dY's dtype (com.onyx CastLike).
absl::StatusOr<GradientNodes> WhereGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 3));
  Emitter e(ctx);
  const std::string& c = e.In(0);
  if (e.Wants(1)) {
    const std::string mask = e.Op(kOnyxDomain, "CastLike", {c, dy}, c + "_mask");
    const std::string masked = e.Op(kOnnxDomain, "Mul", {dy, mask}, dy + "_masked");
    e.SetGrad(1, e.Op(kOnyxDomain, "ReduceToShape", {masked, e.In(1)}, e.In(1) + "_grad"));
  }
  if (e.Wants(2)) {
    const std::string not_c = e.Op(kOnnxDomain, "Not", {c}, c + "_not");
    const std::string mask = e.Op(kOnyxDomain, "CastLike", {not_c, dy}, c + "_not_mask");
    const std::string masked = e.Op(kOnnxDomain, "Mul", {dy, mask}, dy + "_masked");
    e.SetGrad(2, e.Op(kOnyxDomain, "ReduceToShape", {masked, e.In(2)}, e.In(2) + "_grad"));
  }
  return e.Take();
}

// Dropout: the kernel runs only as the identity (training mode with a
// nonzero ratio is rejected at run time), so dX = dY; the mask gets none.
absl::StatusOr<GradientNodes> DropoutGradient(const GradientContext& ctx) {
  Emitter e(ctx);
  if (!e.Wants(0) || ctx.output_grads.empty() || ctx.output_grads[0].empty()) return e.Take();
  e.SetGrad(0, e.Op(kOnnxDomain, "Identity", {ctx.output_grads[0]}, e.In(0) + "_grad"));
  return e.Take();
}

// Concat(X0..Xn-1, axis): ConcatGrad(dY, X0..Xn-1, axis) -> dX0..dXn-1, each
// output omitted ("") when not wanted.
absl::StatusOr<GradientNodes> ConcatGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  std::vector<std::string> inputs = {dy}, outputs;
  bool any = false;
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
    inputs.push_back(e.In(i));
    outputs.push_back(e.Wants(i) ? e.GradName(i) : "");
    any = any || !outputs.back().empty();
  }
  if (!any) return e.Take();
  e.Emit(kOnyxDomain, "ConcatGrad", std::move(inputs), outputs, ctx.node.attributes);
  for (size_t i = 0; i < outputs.size(); ++i) e.SetGrad(i, outputs[i]);
  return e.Take();
}

// Ops whose backward is one com.onyx node `grad_op`(dY, forward inputs...) ->
// dX0 carrying the forward attributes (plus the opset for Slice/Pad's attribute
// forms): Slice, Gather, Tile, Pad.
GradientBuilder FirstInputGradient(const std::string& grad_op) {
  return [grad_op](const GradientContext& ctx) -> absl::StatusOr<GradientNodes> {
    ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
    Emitter e(ctx);
    if (!e.Wants(0)) return e.Take();
    std::vector<std::string> inputs = {dy};
    for (const std::string& in : ctx.node.inputs) inputs.push_back(in);
    std::vector<Attribute> attrs = ctx.node.attributes;
    Attribute opset;
    opset.name = "forward_opset";
    opset.type = AttrType::kInt;
    opset.i = ctx.opset;
    attrs.push_back(opset);
    const std::string dx = e.GradName(0);
    e.Emit(kOnyxDomain, grad_op, std::move(inputs), {dx}, std::move(attrs));
    e.SetGrad(0, dx);
    return e.Take();
  };
}

}  // namespace

void RegisterTensorGradients(OpRegistry& registry) {
  for (const char* op : {"Reshape", "Flatten", "Squeeze", "Unsqueeze"}) {
    registry.RegisterGradient(kOnnxDomain, op, ReshapeLikeGradient);
  }
  registry.RegisterGradient(kOnnxDomain, "Transpose", TransposeGradient);
  registry.RegisterGradient(kOnnxDomain, "Expand", ExpandGradient);
  registry.RegisterGradient(kOnnxDomain, "Cast", CastGradient);
  registry.RegisterGradient(kOnnxDomain, "Where", WhereGradient);
  registry.RegisterGradient(kOnnxDomain, "Dropout", DropoutGradient);
  registry.RegisterGradient(kOnnxDomain, "Concat", ConcatGradient);
  registry.RegisterGradient(kOnnxDomain, "Slice", FirstInputGradient("SliceGrad"));
  registry.RegisterGradient(kOnnxDomain, "Gather", FirstInputGradient("GatherGrad"));
  registry.RegisterGradient(kOnnxDomain, "Tile", FirstInputGradient("TileGrad"));
  registry.RegisterGradient(kOnnxDomain, "Pad", FirstInputGradient("PadGrad"));
}

}  // namespace onyx::tensor
