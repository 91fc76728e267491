// Shape functions of the pool family. Windowed pools size each fixed spatial
// dim with the kernels' own arithmetic (PoolAxis), so a window that cannot fit
// fails when the session is created, naming the node.
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/pool/pool_geometry.h"
#include "ops/pool/pool_kernels.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::pool {
namespace {

// MaxPool (Y, Indices), AveragePool, LpPool: [N, C, out...].
absl::Status WindowPoolShape(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  ONYX_ASSIGN_OR_RETURN(const PoolAttrs attrs, ParsePoolAttrs(node));
  const TypeInfo* x = ctx.input(0);
  if (x == nullptr) return absl::OkStatus();
  const bool indices = node.op_type == "MaxPool" && node.outputs.size() > 1;
  if (!x->has_shape) {
    ctx.SetOutputRankUnknown(0, x->dtype);
    if (indices) ctx.SetOutputRankUnknown(1, DataType::kInt64);
    return absl::OkStatus();
  }
  const size_t k = attrs.kernel.size();
  if (x->dims.size() != k + 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: input X has shape %s, expected rank %d (N, C and the %d spatial dims of "
        "kernel_shape)",
        node.Describe(), DimsToString(*x), k + 2, k));
  }
  std::vector<Dim> dims = {x->dims[0], x->dims[1]};
  for (size_t i = 0; i < k; ++i) {
    const Dim& in = x->dims[i + 2];
    if (!in.is_fixed()) {
      dims.push_back(Dim{});
      continue;
    }
    ONYX_ASSIGN_OR_RETURN(const AxisGeometry axis,
                          PoolAxis(node, attrs, static_cast<int>(i), in.value));
    dims.push_back(FixedDim(axis.out));
  }
  ctx.SetOutput(0, x->dtype, dims);
  if (indices) ctx.SetOutput(1, DataType::kInt64, dims);
  return absl::OkStatus();
}

// Global*Pool: [N, C, 1, ..., 1].
absl::Status GlobalPoolShape(ShapeInferenceContext& ctx) {
  const TypeInfo* x = ctx.input(0);
  if (x == nullptr) return absl::OkStatus();
  if (!x->has_shape) {
    ctx.SetOutputRankUnknown(0, x->dtype);
    return absl::OkStatus();
  }
  if (x->dims.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input X has shape %s, expected rank >= 2 ([N, C, D1, ...])",
                        ctx.node().Describe(), DimsToString(*x)));
  }
  std::vector<Dim> dims = x->dims;
  for (size_t i = 2; i < dims.size(); ++i) dims[i] = FixedDim(1);
  ctx.SetOutput(0, x->dtype, dims);
  return absl::OkStatus();
}

// *Grad (dY, X) -> dX: X's type.
absl::Status GradShape(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 1);
  return absl::OkStatus();
}

}  // namespace

void RegisterPoolShapeFns(OpRegistry& registry) {
  for (const char* op : {"MaxPool", "AveragePool", "LpPool"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, WindowPoolShape);
  }
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, GlobalPoolShape);
  }
  for (const char* op : {"MaxPoolGrad", "AveragePoolGrad", "GlobalAveragePoolGrad"}) {
    registry.RegisterShapeFn(kOnyxDomain, op, GradShape);
  }
}

}  // namespace onyx::pool
