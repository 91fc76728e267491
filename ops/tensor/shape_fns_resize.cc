// Shape functions of Upsample and Resize: output dims from constant scales or
// sizes (sizes built from the input's own shape are known element by element),
// otherwise the rank only.
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/tensor/resize_config.h"
#include "ops/tensor/shape_fn_util.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

absl::Status ResizeShapeFn(ShapeInferenceContext& ctx, bool upsample) {
  const Node& node = ctx.node();
  ONYX_ASSIGN_OR_RETURN(ResizeConfig cfg, ReadConfig(node, ctx.opset(), upsample));
  const TypeInfo* in = RankedInput(ctx, 0);
  const DataType dtype = InputType(ctx, 0);
  if (in == nullptr) {
    SetRankUnknown(ctx, 0, dtype);
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(in->dims.size());
  std::vector<float> scales;
  std::optional<std::vector<int64_t>> sizes;
  bool known = false;
  if (upsample && ctx.opset() < 9) {
    ONYX_ASSIGN_OR_RETURN(scales, node.GetFloats("scales", {}));
    known = true;
  } else {
    const int scales_input = upsample || ctx.opset() < 11 ? 1 : 2;
    const Tensor* s = ctx.input_value(scales_input);
    if (s != nullptr && s->num_elements() > 0) {
      ONYX_ASSIGN_OR_RETURN(scales, ReadScales(node, *s));
      known = true;
    } else if (scales_input == 2 && (s != nullptr || node.inputs.size() < 3 ||
                                     node.inputs[2].empty())) {
      sizes = ConstInts(ctx, 3);
      known = sizes.has_value();
    }
  }
  if (!known && !upsample && ctx.opset() >= 11 && cfg.aspect == "stretch") {
    // Sizes built from the input's own shape (Concat(Slice(Shape(x)), [h, w]),
    // as exporters write it) are known element by element.
    if (const SymbolicInts* elements = ctx.input_ints(3)) {
      std::vector<int> axes;
      if (cfg.axes.empty()) {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
      } else {
        ONYX_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, cfg.axes, rank));
      }
      if (elements->size() != axes.size()) {
        return Fail(node, absl::StrFormat("sizes has %d entries but the input has rank %d",
                                          elements->size(), rank));
      }
      std::vector<Dim> out = in->dims;
      for (size_t k = 0; k < axes.size(); ++k) out[axes[k]] = IntToDim((*elements)[k]);
      ctx.SetOutput(0, dtype, std::move(out));
      return absl::OkStatus();
    }
  }
  if (!known) {
    SetUnknownDims(ctx, 0, dtype, rank);
    return absl::OkStatus();
  }
  // Resolve against a shape with unknown dims as 1, then keep what holds for
  // any size: fixed dims, sizes given for an axis (stretch), scale 1.
  Shape probe(rank);
  for (int i = 0; i < rank; ++i) probe[i] = in->dims[i].is_fixed() ? in->dims[i].value : 1;
  ONYX_ASSIGN_OR_RETURN(std::vector<AxisResize> axes,
                        ResolveAxes(node, cfg, probe, sizes ? nullptr : &scales,
                                    sizes ? &*sizes : nullptr));
  std::vector<bool> resized(rank, cfg.axes.empty());
  if (!cfg.axes.empty()) {
    ONYX_ASSIGN_OR_RETURN(std::vector<int> listed, NormalizeAxes(node, cfg.axes, rank));
    for (int a : listed) resized[a] = true;
  }
  // A policy other than stretch shares one scale across the resized axes: a
  // symbolic one among them leaves all of them unknown.
  bool shared_unknown = false;
  for (int i = 0; i < rank; ++i) {
    shared_unknown |= sizes && cfg.aspect != "stretch" && resized[i] && !in->dims[i].is_fixed();
  }
  std::vector<Dim> out = in->dims;
  for (int i = 0; i < rank; ++i) {
    if (shared_unknown && resized[i]) {
      out[i] = UnknownDim();
    } else if (in->dims[i].is_fixed() || (resized[i] && sizes && cfg.aspect == "stretch")) {
      out[i] = FixedDim(axes[i].out);
    } else if (resized[i] && !(!sizes && axes[i].scale == 1.0)) {
      out[i] = UnknownDim();
    }
  }
  ctx.SetOutput(0, dtype, std::move(out));
  return absl::OkStatus();
}


}  // namespace

void RegisterResizeShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnnxDomain, "Upsample",
                           [](ShapeInferenceContext& ctx) { return ResizeShapeFn(ctx, true); });
  registry.RegisterShapeFn(kOnnxDomain, "Resize",
                           [](ShapeInferenceContext& ctx) { return ResizeShapeFn(ctx, false); });
}

}  // namespace onyx::tensor
