// Shape functions of the ops that make or convert values: Constant,
// ConstantOfShape, Range, Cast, Dropout. (Constant values themselves come from
// folding: InferShapes runs these kernels when their inputs are constants.)
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/tensor/shape_fn_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

std::vector<Dim> FixedDims(const Shape& shape) {
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(FixedDim(d));
  return dims;
}

absl::Status ConstantFn(ShapeInferenceContext& ctx) {
  for (const Attribute& attr : ctx.node().attributes) {
    const int64_t n = static_cast<int64_t>(attr.type == AttrType::kInts ? attr.ints.size()
                                                                        : attr.floats.size());
    if (attr.name == "value" && attr.type == AttrType::kTensor) {
      ctx.SetOutput(0, attr.t.dtype(), FixedDims(attr.t.shape()));
      ctx.SetOutputValue(0, attr.t);  // shares the attribute's buffer
    } else if (attr.name == "value_float") {
      ctx.SetOutput(0, DataType::kFloat32, {});
    } else if (attr.name == "value_floats") {
      ctx.SetOutput(0, DataType::kFloat32, {FixedDim(n)});
    } else if (attr.name == "value_int") {
      ctx.SetOutput(0, DataType::kInt64, {});
    } else if (attr.name == "value_ints") {
      ctx.SetOutput(0, DataType::kInt64, {FixedDim(n)});
    }
  }
  return absl::OkStatus();
}

absl::Status ConstantOfShapeFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  DataType dtype = DataType::kFloat32;
  if (const Attribute* value = node.FindAttribute("value")) {
    if (value->type != AttrType::kTensor || value->t.num_elements() != 1) {
      return Fail(node, "attribute value must be a one-element tensor");
    }
    dtype = value->t.dtype();
  }
  if (const SymbolicInts* shape = ctx.input_ints(0)) {
    std::vector<Dim> dims;
    for (const SymbolicInt& e : *shape) {
      if (e.fixed && e.value < 0) {
        return Fail(node, absl::StrFormat("the requested shape has the negative dim %d", e.value));
      }
      dims.push_back(IntToDim(e));
    }
    ctx.SetOutput(0, dtype, std::move(dims));
  } else if (std::optional<int64_t> rank = FixedLength(ctx, 0)) {
    SetUnknownDims(ctx, 0, dtype, *rank);
  } else {
    ctx.SetOutputRankUnknown(0, dtype);
  }
  return absl::OkStatus();
}

absl::Status RangeFn(ShapeInferenceContext& ctx) {
  const DataType dtype = InputType(ctx, 0);
  for (int i = 1; i < 3; ++i) {
    const DataType t = InputType(ctx, i);
    if (dtype != DataType::kUndefined && t != DataType::kUndefined && t != dtype) {
      return Fail(ctx.node(), absl::StrFormat("start is %s but input %d is %s (must match)",
                                              DataTypeName(dtype), i, DataTypeName(t)));
    }
  }
  for (int i = 0; i < 3; ++i) {
    const TypeInfo* in = RankedInput(ctx, i);
    if (in != nullptr && !in->dims.empty()) {
      const Dim count = ProductDim(in->dims);
      if (count.is_fixed() && count.value != 1) {
        return Fail(ctx.node(), absl::StrFormat("input %d must be a scalar, has shape %s", i,
                                                DimsToString(*in)));
      }
    }
  }
  if (dtype != DataType::kUndefined) SetUnknownDims(ctx, 0, dtype, 1);
  return absl::OkStatus();
}

absl::Status CastFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  if (node.FindAttribute("to") == nullptr) return Fail(node, "attribute to is required");
  ONYX_ASSIGN_OR_RETURN(int64_t to_code, node.GetInt("to", 0));
  const DataType to = static_cast<DataType>(to_code);
  if (const TypeInfo* in = RankedInput(ctx, 0)) {
    ctx.SetOutput(0, to, in->dims);
  } else {
    ctx.SetOutputRankUnknown(0, to);
  }
  // Shape values stay known through casts between integer types.
  const DataType from = InputType(ctx, 0);
  const bool integral = from == DataType::kInt64 || from == DataType::kInt32;
  if (const SymbolicInts* ints = ctx.input_ints(0);
      ints != nullptr && integral && (to == DataType::kInt64 || to == DataType::kInt32)) {
    ctx.SetOutputInts(0, *ints);
  }
  return absl::OkStatus();
}

absl::Status DropoutFn(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 0);
  const DataType mask = ctx.opset() >= 10 ? DataType::kBool : InputType(ctx, 0);
  if (const TypeInfo* in = RankedInput(ctx, 0)) {
    ctx.SetOutput(1, mask, in->dims);
  } else {
    SetRankUnknown(ctx, 1, mask);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterValueShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnnxDomain, "Constant", ConstantFn);
  registry.RegisterShapeFn(kOnnxDomain, "ConstantOfShape", ConstantOfShapeFn);
  registry.RegisterShapeFn(kOnnxDomain, "Range", RangeFn);
  registry.RegisterShapeFn(kOnnxDomain, "Cast", CastFn);
  registry.RegisterShapeFn(kOnnxDomain, "Dropout", DropoutFn);
}

}  // namespace onyx::tensor
