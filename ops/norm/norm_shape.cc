// Shape functions of the norm family: Y has X's type; statistics outputs have
// the parameters' (BatchNormalization) or X's dims reduced from axis on
// (LayerNormalization); *Grad outputs have the types of X, scale and B.
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/norm/norm_util.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::norm {
namespace {

absl::Status RankAtLeast2(ShapeInferenceContext& ctx) {
  const TypeInfo* x = ctx.input(0);
  if (x != nullptr && x->has_shape && x->dims.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input X has shape %s, expected rank >= 2 ([N, C, ...])",
                        ctx.node().Describe(), DimsToString(*x)));
  }
  return absl::OkStatus();
}

// BatchNormalization: Y like X; running/saved statistics like input_mean.
absl::Status BatchNormShape(ShapeInferenceContext& ctx) {
  ONYX_RETURN_IF_ERROR(RankAtLeast2(ctx));
  ctx.PropagateInput(0, 0);
  for (int i = 1; i < static_cast<int>(ctx.node().outputs.size()) && i <= 4; ++i) {
    ctx.PropagateInput(i, 3);
  }
  return absl::OkStatus();
}

absl::Status SameAsX(ShapeInferenceContext& ctx) {
  ONYX_RETURN_IF_ERROR(RankAtLeast2(ctx));
  ctx.PropagateInput(0, 0);
  return absl::OkStatus();
}

// LayerNormalization: Y like X; Mean and InvStdDev are X's dims with dims[axis:] = 1.
absl::Status LayerNormShape(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 0);
  const TypeInfo* x = ctx.input(0);
  if (x == nullptr || !x->has_shape) return absl::OkStatus();
  ONYX_ASSIGN_OR_RETURN(int64_t axis, ctx.node().GetInt("axis", -1));
  const int rank = static_cast<int>(x->dims.size());
  if (rank == 0 || axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: axis %d is out of range for X of shape %s", ctx.node().Describe(),
                        axis, DimsToString(*x)));
  }
  std::vector<Dim> stats = x->dims;
  for (int i = static_cast<int>(axis < 0 ? axis + rank : axis); i < rank; ++i) {
    stats[i] = FixedDim(1);
  }
  ctx.SetOutput(1, x->dtype, stats);
  ctx.SetOutput(2, x->dtype, stats);
  return absl::OkStatus();
}

// *Grad (dY, X, scale[, mean, var | B]) -> (dX, dScale, dB).
absl::Status NormGradShape(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 1);
  ctx.PropagateInput(1, 2);
  const bool layer_norm_bias = ctx.node().op_type == "LayerNormalizationGrad" && ctx.input(3);
  ctx.PropagateInput(2, layer_norm_bias ? 3 : 2);
  return absl::OkStatus();
}

}  // namespace

void RegisterNormShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnnxDomain, "BatchNormalization", BatchNormShape);
  registry.RegisterShapeFn(kOnnxDomain, "InstanceNormalization", SameAsX);
  registry.RegisterShapeFn(kOnnxDomain, "LRN", SameAsX);
  registry.RegisterShapeFn(kOnnxDomain, "LayerNormalization", LayerNormShape);
  for (const char* op :
       {"BatchNormalizationGrad", "LayerNormalizationGrad", "InstanceNormalizationGrad"}) {
    registry.RegisterShapeFn(kOnyxDomain, op, NormGradShape);
  }
}

}  // namespace onyx::norm
