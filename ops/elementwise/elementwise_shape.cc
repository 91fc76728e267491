// Shape functions of the elementwise family: unary ops keep their input's type,
// broadcasting ops take the NumPy broadcast of every input's dims (bool for
// comparisons), GatherElements takes indices' dims, CastLike the target's dtype.
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

absl::Status SameAsInput(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 0);
  return absl::OkStatus();
}

// Output 0 = broadcast of every present input, with dtype `out_dtype` (or
// input 0's dtype when nullopt). Unset when an input's type is unknown.
absl::Status Broadcasting(ShapeInferenceContext& ctx, std::optional<DataType> out_dtype) {
  const TypeInfo* first = ctx.input(0);
  if (first == nullptr) return absl::OkStatus();
  const DataType dtype = out_dtype.value_or(first->dtype);
  bool rank_known = true;
  std::vector<Dim> dims;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    if (ctx.node().inputs[i].empty()) continue;
    const TypeInfo* in = ctx.input(i);
    if (in == nullptr) return absl::OkStatus();
    if (!in->has_shape) {
      rank_known = false;
      continue;
    }
    auto b = BroadcastDims(dims, in->dims);
    if (!b.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input %d %s does not broadcast with the others: %s", ctx.node().Describe(), i,
          DimsToString(*in), b.status().message()));
    }
    dims = *std::move(b);
  }
  if (rank_known) {
    ctx.SetOutput(0, dtype, std::move(dims));
  } else {
    ctx.SetOutputRankUnknown(0, dtype);
  }
  return absl::OkStatus();
}

absl::Status GatherElementsShape(ShapeInferenceContext& ctx) {
  const TypeInfo* data = ctx.input(0);
  const TypeInfo* indices = ctx.input(1);
  if (data == nullptr || indices == nullptr) return absl::OkStatus();
  if (data->has_shape && indices->has_shape && data->dims.size() != indices->dims.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: data %s and indices %s must have the same rank", ctx.node().Describe(),
        DimsToString(*data), DimsToString(*indices)));
  }
  if (indices->has_shape) {
    ctx.SetOutput(0, data->dtype, indices->dims);
  } else {
    ctx.SetOutputRankUnknown(0, data->dtype);
  }
  return absl::OkStatus();
}

absl::Status CastLikeShape(ShapeInferenceContext& ctx) {
  const TypeInfo* x = ctx.input(0);
  const TypeInfo* like = ctx.input(1);
  if (x == nullptr || like == nullptr) return absl::OkStatus();
  if (x->has_shape) {
    ctx.SetOutput(0, like->dtype, x->dims);
  } else {
    ctx.SetOutputRankUnknown(0, like->dtype);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterElementwiseShapeFns(OpRegistry& registry) {
  for (const char* op : {"Sqrt", "Exp", "Log", "Neg", "Abs", "Erf", "Reciprocal", "Sign", "Floor",
                         "Ceil", "Round", "Sin", "Cos", "Softsign", "Clip", "Not"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, SameAsInput);
  }
  for (const char* op : {"Pow", "Mod", "Min", "Max", "Sum", "Mean"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, [](ShapeInferenceContext& ctx) {
      return Broadcasting(ctx, std::nullopt);
    });
  }
  for (const char* op : {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And",
                         "Or", "Xor"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, [](ShapeInferenceContext& ctx) {
      return Broadcasting(ctx, DataType::kBool);
    });
  }
  registry.RegisterShapeFn(kOnnxDomain, "GatherElements", GatherElementsShape);
  registry.RegisterShapeFn(kOnnxDomain, "CastLike", CastLikeShape);
}

}  // namespace onyx::elementwise
