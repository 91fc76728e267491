// Shape functions of the ops that rearrange dims: Reshape, Flatten, Squeeze,
// Unsqueeze, Shape, Size, Transpose. Known shape values (Shape's output and
// what is sliced, gathered and concatenated from it) flow through
// ctx.input_ints, so exporter-style Reshape chains resolve.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/shape_fn_util.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Reshape's output dims from the requested elements: 0 copies the input dim
// (unless allowzero), one -1 is solved for by cancelling fixed factors and
// symbols between input and output.
absl::Status ReshapeDims(ShapeInferenceContext& ctx, const SymbolicInts& requested,
                         bool allowzero) {
  const Node& node = ctx.node();
  const TypeInfo* in = RankedInput(ctx, 0);
  const DataType dtype = InputType(ctx, 0);
  std::vector<Dim> out(requested.size());
  int minus_one = -1;
  bool has_zero = false;
  for (size_t i = 0; i < requested.size(); ++i) {
    const SymbolicInt& e = requested[i];
    if (!e.fixed) {
      out[i] = IntToDim(e);
    } else if (e.value == -1) {
      if (minus_one >= 0) return Fail(node, "the requested shape has more than one -1");
      minus_one = static_cast<int>(i);
    } else if (e.value < -1) {
      return Fail(node, absl::StrFormat("the requested shape has the negative dim %d", e.value));
    } else if (e.value == 0 && !allowzero) {
      if (in == nullptr) {
        out[i] = UnknownDim();
      } else if (i >= in->dims.size()) {
        return Fail(node, absl::StrFormat("shape entry %d is 0 (copy the input dim) but the "
                                          "input %s has rank %d",
                                          i, DimsToString(*in), in->dims.size()));
      } else {
        out[i] = in->dims[i];
      }
    } else {
      has_zero |= e.value == 0;
      out[i] = FixedDim(e.value);
    }
  }
  if (allowzero && has_zero && minus_one >= 0) {
    return Fail(node, "the requested shape has both 0 and -1 with allowzero=1");
  }
  if (in == nullptr) {
    if (minus_one >= 0) out[minus_one] = UnknownDim();
    ctx.SetOutput(0, dtype, std::move(out));
    return absl::OkStatus();
  }
  // Cancel: fixed products and symbol multisets of input and (known) output dims.
  int64_t in_fixed = 1, out_fixed = 1;
  bool unknown = false, overflow = false;
  std::map<std::string, int> symbols;  // input count minus output count
  for (const Dim& d : in->dims) {
    if (d.is_fixed()) {
      overflow |= __builtin_mul_overflow(in_fixed, d.value, &in_fixed);
    } else if (d.param.empty()) {
      unknown = true;
    } else {
      ++symbols[d.param];
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (static_cast<int>(i) == minus_one) continue;
    const Dim& d = out[i];
    if (d.is_fixed()) {
      overflow |= __builtin_mul_overflow(out_fixed, d.value, &out_fixed);
    } else if (d.param.empty()) {
      unknown = true;
    } else {
      --symbols[d.param];
    }
  }
  bool cancelled = !unknown && !overflow;
  for (const auto& [name, count] : symbols) cancelled &= count == 0;
  if (minus_one >= 0) {
    out[minus_one] = UnknownDim();
    if (cancelled && out_fixed != 0) {
      if (in_fixed % out_fixed != 0) {
        return Fail(node, absl::StrFormat("cannot infer the -1 in shape %s for an input of "
                                          "shape %s",
                                          DimsToString(out), DimsToString(*in)));
      }
      out[minus_one] = FixedDim(in_fixed / out_fixed);
    }
  } else if (cancelled && in_fixed != out_fixed) {
    return Fail(node, absl::StrFormat("cannot reshape input of shape %s to %s: their fixed dims "
                                      "hold %d and %d elements",
                                      DimsToString(*in), DimsToString(out), in_fixed, out_fixed));
  }
  ctx.SetOutput(0, dtype, out);
  // Reshaping a known shape value between rank 0 and 1 keeps its elements.
  if (const SymbolicInts* ints = ctx.input_ints(0); ints != nullptr && out.size() <= 1) {
    ctx.SetOutputInts(0, *ints);
  }
  return absl::OkStatus();
}

absl::Status ReshapeFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  bool allowzero = false;
  if (ctx.opset() >= 14) {
    ONYX_ASSIGN_OR_RETURN(int64_t value, node.GetInt("allowzero", 0));
    allowzero = value != 0;
  }
  if (ctx.opset() < 5) {
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> shape, node.GetInts("shape", {}));
    SymbolicInts requested;
    for (int64_t v : shape) requested.push_back(FixedInt(v));
    return ReshapeDims(ctx, requested, allowzero);
  }
  if (const SymbolicInts* requested = ctx.input_ints(1)) {
    return ReshapeDims(ctx, *requested, allowzero);
  }
  if (std::optional<int64_t> rank = FixedLength(ctx, 1)) {
    SetUnknownDims(ctx, 0, InputType(ctx, 0), *rank);
  } else {
    SetRankUnknown(ctx, 0, InputType(ctx, 0));
  }
  return absl::OkStatus();
}

absl::Status FlattenFn(ShapeInferenceContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(int64_t axis, ctx.node().GetInt("axis", 1));
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr) {
    SetUnknownDims(ctx, 0, InputType(ctx, 0), 2);
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(in->dims.size());
  if (axis < -rank || axis > rank) {
    return Fail(ctx.node(), absl::StrFormat("axis %d is out of range for an input of rank %d",
                                            axis, rank));
  }
  const size_t split = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  const absl::Span<const Dim> dims(in->dims);
  ctx.SetOutput(0, in->dtype, {ProductDim(dims.subspan(0, split)), ProductDim(dims.subspan(split))});
  return absl::OkStatus();
}

// Squeeze / Unsqueeze axes: attribute before opset 13, optional input 1 after.
// `known` is false when axes come from an input whose value is not known.
absl::StatusOr<std::optional<std::vector<int64_t>>> AxesOf(const ShapeInferenceContext& ctx,
                                                           bool* known) {
  *known = true;
  if (ctx.opset() < 13) {
    if (ctx.node().FindAttribute("axes") == nullptr) return std::optional<std::vector<int64_t>>();
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ctx.node().GetInts("axes", {}));
    return std::optional<std::vector<int64_t>>(std::move(axes));
  }
  if (ctx.node().inputs.size() < 2 || ctx.node().inputs[1].empty()) {
    return std::optional<std::vector<int64_t>>();
  }
  std::optional<std::vector<int64_t>> axes = ConstInts(ctx, 1);
  *known = axes.has_value();
  return axes;
}

absl::Status SqueezeFn(ShapeInferenceContext& ctx) {
  bool known = false;
  ONYX_ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> axes, AxesOf(ctx, &known));
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr || !known) {
    SetRankUnknown(ctx, 0, InputType(ctx, 0));
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(in->dims.size());
  std::vector<bool> drop(rank, false);
  if (!axes || axes->empty()) {
    for (int i = 0; i < rank; ++i) {
      if (!in->dims[i].is_fixed()) {  // might be 1: the rank depends on the run
        SetRankUnknown(ctx, 0, in->dtype);
        return absl::OkStatus();
      }
      drop[i] = in->dims[i].value == 1;
    }
  } else {
    ONYX_ASSIGN_OR_RETURN(std::vector<int> normalized, NormalizeAxes(ctx.node(), *axes, rank));
    for (int a : normalized) {
      if (in->dims[a].is_fixed() && in->dims[a].value != 1) {
        return Fail(ctx.node(), absl::StrFormat("cannot squeeze axis %d of input shape %s (size "
                                                "is not 1)",
                                                a, DimsToString(*in)));
      }
      drop[a] = true;
    }
  }
  std::vector<Dim> out;
  for (int i = 0; i < rank; ++i) {
    if (!drop[i]) out.push_back(in->dims[i]);
  }
  const bool to_scalar = out.empty();
  ctx.SetOutput(0, in->dtype, std::move(out));
  if (const SymbolicInts* ints = ctx.input_ints(0); ints != nullptr && to_scalar) {
    ctx.SetOutputInts(0, *ints);
  }
  return absl::OkStatus();
}

absl::Status UnsqueezeFn(ShapeInferenceContext& ctx) {
  bool known = false;
  ONYX_ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> axes, AxesOf(ctx, &known));
  if (known && !axes) return Fail(ctx.node(), "axes are required");
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr || !known) {
    SetRankUnknown(ctx, 0, InputType(ctx, 0));
    return absl::OkStatus();
  }
  const int out_rank = static_cast<int>(in->dims.size() + axes->size());
  ONYX_ASSIGN_OR_RETURN(std::vector<int> normalized, NormalizeAxes(ctx.node(), *axes, out_rank));
  std::vector<bool> inserted(out_rank, false);
  for (int a : normalized) inserted[a] = true;
  std::vector<Dim> out(out_rank);
  size_t next = 0;
  for (int i = 0; i < out_rank; ++i) out[i] = inserted[i] ? FixedDim(1) : in->dims[next++];
  ctx.SetOutput(0, in->dtype, std::move(out));
  if (const SymbolicInts* ints = ctx.input_ints(0); ints != nullptr && in->dims.empty()) {
    ctx.SetOutputInts(0, *ints);  // a scalar made 1-D
  }
  return absl::OkStatus();
}

absl::Status ShapeOpFn(ShapeInferenceContext& ctx) {
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr) {
    SetUnknownDims(ctx, 0, DataType::kInt64, 1);
    return absl::OkStatus();
  }
  const int64_t rank = static_cast<int64_t>(in->dims.size());
  int64_t start = 0, end = rank;
  if (ctx.opset() >= 15) {
    ONYX_ASSIGN_OR_RETURN(start, ctx.node().GetInt("start", 0));
    ONYX_ASSIGN_OR_RETURN(end, ctx.node().GetInt("end", rank));
  }
  auto clamp = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  start = clamp(start);
  end = std::max(clamp(end), start);
  SymbolicInts elements;
  for (int64_t i = start; i < end; ++i) elements.push_back(DimToInt(in->dims[i]));
  ctx.SetOutput(0, DataType::kInt64, {FixedDim(end - start)});
  ctx.SetOutputInts(0, std::move(elements));
  return absl::OkStatus();
}

absl::Status SizeFn(ShapeInferenceContext& ctx) {
  ctx.SetOutput(0, DataType::kInt64, {});
  if (const TypeInfo* in = RankedInput(ctx, 0)) {
    ctx.SetOutputInts(0, {DimToInt(ProductDim(in->dims))});
  }
  return absl::OkStatus();
}

absl::Status TransposeFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const TypeInfo* in = RankedInput(ctx, 0);
  std::optional<std::vector<int64_t>> perm;
  if (node.FindAttribute("perm") != nullptr) {
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> p, node.GetInts("perm", {}));
    perm = std::move(p);
  }
  if (in == nullptr) {
    if (perm) {
      SetUnknownDims(ctx, 0, InputType(ctx, 0), perm->size());
    } else {
      SetRankUnknown(ctx, 0, InputType(ctx, 0));
    }
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(in->dims.size());
  std::vector<Dim> out(rank);
  if (!perm) {
    for (int i = 0; i < rank; ++i) out[i] = in->dims[rank - 1 - i];
  } else {
    std::vector<bool> seen(rank, false);
    bool valid = static_cast<int>(perm->size()) == rank;
    for (int i = 0; valid && i < rank; ++i) {
      const int64_t p = (*perm)[i];
      valid = p >= 0 && p < rank && !seen[p];
      if (valid) {
        seen[p] = true;
        out[i] = in->dims[p];
      }
    }
    if (!valid) {
      return Fail(node, absl::StrFormat("perm [%s] is not a permutation of the %d dims of "
                                        "input %s",
                                        absl::StrJoin(*perm, ","), rank, DimsToString(*in)));
    }
  }
  ctx.SetOutput(0, in->dtype, std::move(out));
  return absl::OkStatus();
}

}  // namespace

void RegisterLayoutShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnnxDomain, "Reshape", ReshapeFn);
  registry.RegisterShapeFn(kOnnxDomain, "Flatten", FlattenFn);
  registry.RegisterShapeFn(kOnnxDomain, "Squeeze", SqueezeFn);
  registry.RegisterShapeFn(kOnnxDomain, "Unsqueeze", UnsqueezeFn);
  registry.RegisterShapeFn(kOnnxDomain, "Shape", ShapeOpFn);
  registry.RegisterShapeFn(kOnnxDomain, "Size", SizeFn);
  registry.RegisterShapeFn(kOnnxDomain, "Transpose", TransposeFn);
}

}  // namespace onyx::tensor
