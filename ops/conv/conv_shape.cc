// Shape functions of the conv family: Conv, FusedConv, ConvTranspose, ConvGrad.
// They reuse the kernels' geometry (conv_params.h), so a model whose shapes
// cannot fit fails at load time with the same message the kernel would give.
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/conv/conv_kernels.h"
#include "ops/conv/conv_params.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::conv {
namespace {

// Dims as a Shape with -1 for dims that are not fixed.
Shape KnownDims(const TypeInfo& info) {
  Shape s;
  for (const Dim& d : info.dims) s.push_back(d.is_fixed() ? d.value : -1);
  return s;
}

bool AllFixed(const Shape& s) {
  for (int64_t v : s) {
    if (v < 0) return false;
  }
  return true;
}

// Checks an optional 1-D input (B) against [channels] when its shape is known.
absl::Status CheckBias(const ShapeInferenceContext& ctx, int64_t channels) {
  const TypeInfo* b = ctx.input(2);
  if (b == nullptr || !b->has_shape) return absl::OkStatus();
  if (b->dims.size() != 1 || (b->dims[0].is_fixed() && b->dims[0].value != channels)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input B has shape %s, expected [%d] (output channels)",
                        ctx.node().Describe(), DimsToString(*b), channels));
  }
  return absl::OkStatus();
}

absl::Status ConvShape(ShapeInferenceContext& ctx, bool transpose) {
  const Node& node = ctx.node();
  const TypeInfo* x = ctx.input(0);
  const TypeInfo* w = ctx.input(1);
  if (x == nullptr) return absl::OkStatus();
  if (!x->has_shape || w == nullptr || !w->has_shape) {
    ctx.SetOutputRankUnknown(0, x->dtype);
    return absl::OkStatus();
  }
  ONYX_ASSIGN_OR_RETURN(const ConvAttrs attrs, ParseConvAttrs(node, transpose));
  const Shape w_dims = KnownDims(*w);
  if (!AllFixed(w_dims)) {  // output rank only
    std::vector<Dim> out(x->dims.size());
    out[0] = x->dims[0];
    ctx.SetOutput(0, x->dtype, std::move(out));
    return absl::OkStatus();
  }
  const Shape x_dims = KnownDims(*x);
  ConvGeometry g;
  if (transpose) {
    ONYX_ASSIGN_OR_RETURN(g, ResolveConvTranspose(node, attrs, x_dims, w_dims));
  } else {
    ONYX_ASSIGN_OR_RETURN(g, ResolveConv(node, attrs, x_dims, w_dims));
  }
  ONYX_RETURN_IF_ERROR(CheckBias(ctx, g.out_channels));
  std::vector<Dim> out = {x->dims[0], FixedDim(g.out_channels)};
  for (int64_t v : g.out) out.push_back(v >= 0 ? FixedDim(v) : Dim{});
  // FusedConv's residual Z must have the output's shape where both are known.
  const TypeInfo* z = node.op_type == "FusedConv" ? ctx.input(3) : nullptr;
  if (z != nullptr && z->has_shape) {
    bool ok = z->dims.size() == out.size();
    for (size_t i = 0; ok && i < out.size(); ++i) {
      if (z->dims[i].is_fixed() && out[i].is_fixed()) ok = z->dims[i].value == out[i].value;
    }
    if (!ok) {
      ValueInfo y;
      y.has_shape = true;
      y.dims = out;
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input Z has shape %s, expected the output shape %s", node.Describe(),
                          DimsToString(*z), DimsToString(y)));
    }
  }
  ctx.SetOutput(0, x->dtype, std::move(out));
  return absl::OkStatus();
}

// ConvGrad(dY, X, W) -> dX like X, dW like W, dB [M].
absl::Status ConvGradShape(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 1);
  ctx.PropagateInput(1, 2);
  const TypeInfo* w = ctx.input(2);
  if (w != nullptr && w->has_shape && !w->dims.empty()) ctx.SetOutput(2, w->dtype, {w->dims[0]});
  return absl::OkStatus();
}

}  // namespace

void RegisterConvShapeFns(OpRegistry& registry) {
  auto conv = [](ShapeInferenceContext& ctx) { return ConvShape(ctx, /*transpose=*/false); };
  registry.RegisterShapeFn(kOnnxDomain, "Conv", conv);
  registry.RegisterShapeFn(kOnyxDomain, "FusedConv", conv);
  registry.RegisterShapeFn(kOnnxDomain, "ConvTranspose", [](ShapeInferenceContext& ctx) {
    return ConvShape(ctx, /*transpose=*/true);
  });
  registry.RegisterShapeFn(kOnyxDomain, "ConvGrad", ConvGradShape);
}

}  // namespace onyx::conv
