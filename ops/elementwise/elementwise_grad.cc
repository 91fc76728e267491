// Gradient builders of the elementwise family. Unary ops emit com.onyx <Op>Grad
// reading X or Y (unary_math.h says which); Neg emits Neg; Pow, Clip, Min/Max
// and GatherElements emit their com.onyx backward ops; Sum and Mean fold dY to
// each input with ReduceToShape (ops/math); CastLike casts dY back to X's dtype.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "ops/elementwise/unary_math.h"
#include "runtime/gradient.h"
#include "runtime/gradient_emitter.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

using Emitter = GradientEmitter;

absl::StatusOr<std::string> OutputGrad(const GradientContext& ctx, size_t min_inputs) {
  const Node& fwd = ctx.node;
  if (fwd.inputs.size() < min_inputs || fwd.outputs.empty() || fwd.outputs[0].empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: expected at least %d input(s) and an output", fwd.Describe(), min_inputs));
  }
  if (ctx.output_grads.empty() || ctx.output_grads[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no gradient flows into output 0", fwd.Describe()));
  }
  return ctx.output_grads[0];
}

template <typename Fn>
GradientBuilder UnaryGradient() {
  return [](const GradientContext& ctx) -> absl::StatusOr<GradientNodes> {
    ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
    Emitter e(ctx);
    if (!e.Wants(0)) return e.Take();
    const std::string& saved = Fn::kSaved == Saved::kOutput ? e.Out() : e.In(0);
    const std::string dx = e.GradName(0);
    e.Emit(kOnyxDomain, ctx.node.op_type + "Grad", {dy, saved}, {dx});
    e.SetGrad(0, dx);
    return e.Take();
  };
}

// Y = -X: dX = -dY.
absl::StatusOr<GradientNodes> NegGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  if (e.Wants(0)) e.SetGrad(0, e.Op(kOnnxDomain, "Neg", {dy}, e.In(0) + "_grad"));
  return e.Take();
}

// Y = A^B: (dA, dB) = PowGrad(dY, A, B).
absl::StatusOr<GradientNodes> PowGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 2));
  Emitter e(ctx);
  if (!e.Wants(0) && !e.Wants(1)) return e.Take();
  const std::string da = e.Wants(0) ? e.GradName(0) : "";
  const std::string db = e.Wants(1) ? e.GradName(1) : "";
  e.Emit(kOnyxDomain, "PowGrad", {dy, e.In(0), e.In(1)}, {da, db});
  e.SetGrad(0, da);
  e.SetGrad(1, db);
  return e.Take();
}

// Y = Clip(X, lo, hi): dX = ClipGrad(dY, X, lo, hi) (dY where lo <= X <= hi).
// The bounds get no gradient.
absl::StatusOr<GradientNodes> ClipGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  if (!e.Wants(0)) return e.Take();
  std::vector<std::string> inputs = {dy, e.In(0)};
  for (size_t i = 1; i < ctx.node.inputs.size() && i < 3; ++i) inputs.push_back(e.In(i));
  std::vector<Attribute> attrs;
  if (ctx.opset < 11) attrs = ctx.node.attributes;
  const std::string dx = e.GradName(0);
  e.Emit(kOnyxDomain, "ClipGrad", std::move(inputs), {dx}, std::move(attrs));
  e.SetGrad(0, dx);
  return e.Take();
}

// Y = Min/Max(X0, ...): (dX0, ...) = MinMaxGrad(dY, Y, X0, ...).
absl::StatusOr<GradientNodes> MinMaxGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  std::vector<std::string> inputs = {dy, e.Out()}, outputs;
  bool any = false;
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
    inputs.push_back(e.In(i));
    outputs.push_back(e.Wants(i) ? e.GradName(i) : "");
    any |= e.Wants(i);
    e.SetGrad(i, outputs.back());
  }
  if (any) e.Emit(kOnyxDomain, "MinMaxGrad", std::move(inputs), std::move(outputs));
  return e.Take();
}

// Y = Sum(X0, ...): dXi = ReduceToShape(dY, Xi); Mean scales by 1/n first.
absl::StatusOr<GradientNodes> SumMeanGradient(const GradientContext& ctx, bool mean) {
  ONYX_ASSIGN_OR_RETURN(std::string dy, OutputGrad(ctx, 1));
  Emitter e(ctx);
  if (mean) {
    Attribute alpha;
    alpha.name = "alpha";
    alpha.type = AttrType::kFloat;
    alpha.f = 1.f / static_cast<float>(ctx.node.num_present_inputs());
    dy = e.Op(kOnyxDomain, "Scale", {dy}, dy + "_mean", {alpha});
  }
  for (size_t i = 0; i < ctx.node.inputs.size(); ++i) {
    if (!e.Wants(i)) continue;
    e.SetGrad(i, e.Op(kOnyxDomain, "ReduceToShape", {dy, e.In(i)}, e.In(i) + "_grad"));
  }
  return e.Take();
}

// Y = GatherElements(data, indices): dData = GatherElementsGrad(dY, data, indices).
absl::StatusOr<GradientNodes> GatherElementsGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 2));
  Emitter e(ctx);
  if (!e.Wants(0)) return e.Take();
  const std::string dx = e.GradName(0);
  e.Emit(kOnyxDomain, "GatherElementsGrad", {dy, e.In(0), e.In(1)}, {dx},
         ctx.node.attributes);
  e.SetGrad(0, dx);
  return e.Take();
}

// Y = CastLike(X, T): dX = CastLike(dY, X); T gets none.
absl::StatusOr<GradientNodes> CastLikeGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx, 2));
  Emitter e(ctx);
  if (e.Wants(0)) e.SetGrad(0, e.Op(kOnnxDomain, "CastLike", {dy, e.In(0)}, e.In(0) + "_grad"));
  return e.Take();
}

}  // namespace

void RegisterElementwiseGradients(OpRegistry& registry) {
  const char* onnx = kOnnxDomain;
  registry.RegisterGradient(onnx, "Sqrt", UnaryGradient<SqrtFn>());
  registry.RegisterGradient(onnx, "Exp", UnaryGradient<ExpFn>());
  registry.RegisterGradient(onnx, "Log", UnaryGradient<LogFn>());
  registry.RegisterGradient(onnx, "Abs", UnaryGradient<AbsFn>());
  registry.RegisterGradient(onnx, "Erf", UnaryGradient<ErfFn>());
  registry.RegisterGradient(onnx, "Reciprocal", UnaryGradient<ReciprocalFn>());
  registry.RegisterGradient(onnx, "Sign", UnaryGradient<SignFn>());
  registry.RegisterGradient(onnx, "Floor", UnaryGradient<FloorFn>());
  registry.RegisterGradient(onnx, "Ceil", UnaryGradient<CeilFn>());
  registry.RegisterGradient(onnx, "Round", UnaryGradient<RoundFn>());
  registry.RegisterGradient(onnx, "Sin", UnaryGradient<SinFn>());
  registry.RegisterGradient(onnx, "Cos", UnaryGradient<CosFn>());
  registry.RegisterGradient(onnx, "Softsign", UnaryGradient<SoftsignFn>());
  registry.RegisterGradient(onnx, "Neg", NegGradient);
  registry.RegisterGradient(onnx, "Pow", PowGradient);
  registry.RegisterGradient(onnx, "Clip", ClipGradient);
  registry.RegisterGradient(onnx, "Min", MinMaxGradient);
  registry.RegisterGradient(onnx, "Max", MinMaxGradient);
  registry.RegisterGradient(onnx, "Sum", [](const GradientContext& ctx) {
    return SumMeanGradient(ctx, /*mean=*/false);
  });
  registry.RegisterGradient(onnx, "Mean", [](const GradientContext& ctx) {
    return SumMeanGradient(ctx, /*mean=*/true);
  });
  registry.RegisterGradient(onnx, "GatherElements", GatherElementsGradient);
  registry.RegisterGradient(onnx, "CastLike", CastLikeGradient);
}

}  // namespace onyx::elementwise
