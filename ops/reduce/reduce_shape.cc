// Shape functions of Reduce* and ArgMax/ArgMin. Axes given as a non-constant
// input leave the dims unknown (rank too, unless keepdims).
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/reduce/reduce_axes.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::reduce {
namespace {

absl::Status ReduceShape(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const TypeInfo* x = ctx.input(0);
  if (x == nullptr) return absl::OkStatus();
  ONYX_ASSIGN_OR_RETURN(ReduceAttrs attrs, ParseReduceAttrs(node, node.op_type, ctx.opset()));
  if (!x->has_shape) {
    ctx.SetOutputRankUnknown(0, x->dtype);
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(x->dims.size());
  const bool axes_given = attrs.axes_from_input && node.inputs.size() > 1 &&
                          !node.inputs[1].empty();
  if (axes_given && ctx.input_value(1) == nullptr) {
    if (attrs.keepdims) {
      ctx.SetOutput(0, x->dtype, std::vector<Dim>(rank));
    } else {
      ctx.SetOutputRankUnknown(0, x->dtype);
    }
    return absl::OkStatus();
  }
  ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes,
                        RawAxes(node, attrs, axes_given ? ctx.input_value(1) : nullptr));
  ONYX_ASSIGN_OR_RETURN(std::vector<bool> mask, ReducedMask(node, attrs, axes, rank));
  std::vector<Dim> dims;
  for (int d = 0; d < rank; ++d) {
    if (!mask[d]) {
      dims.push_back(x->dims[d]);
    } else if (attrs.keepdims) {
      dims.push_back(FixedDim(1));
    }
  }
  ctx.SetOutput(0, x->dtype, std::move(dims));
  return absl::OkStatus();
}

absl::Status ArgShape(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const TypeInfo* x = ctx.input(0);
  if (x == nullptr) return absl::OkStatus();
  if (!x->has_shape) {
    ctx.SetOutputRankUnknown(0, DataType::kInt64);
    return absl::OkStatus();
  }
  ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t keepdims, node.GetInt("keepdims", 1));
  const int rank = static_cast<int>(x->dims.size());
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: axis %d is out of range for input %s", node.Describe(), axis, DimsToString(*x)));
  }
  std::vector<Dim> dims;
  for (int d = 0; d < rank; ++d) {
    if (d != a) {
      dims.push_back(x->dims[d]);
    } else if (keepdims != 0) {
      dims.push_back(FixedDim(1));
    }
  }
  ctx.SetOutput(0, DataType::kInt64, std::move(dims));
  return absl::OkStatus();
}

}  // namespace

void RegisterReduceShapeFns(OpRegistry& registry) {
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                         "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
                         "ReduceSumSquare"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, ReduceShape);
  }
  registry.RegisterShapeFn(kOnnxDomain, "ArgMax", ArgShape);
  registry.RegisterShapeFn(kOnnxDomain, "ArgMin", ArgShape);
}

}  // namespace onyx::reduce
