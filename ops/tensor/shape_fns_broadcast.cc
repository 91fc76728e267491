// Shape functions of the ops that grow or broadcast a tensor: Expand, Tile,
// Pad (attribute form before opset 11, inputs after), Where.
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/shape_fn_util.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Expand: bidirectional broadcast of the input with the requested shape.
absl::Status ExpandFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const DataType dtype = InputType(ctx, 0);
  const TypeInfo* in = RankedInput(ctx, 0);
  const SymbolicInts* shape = ctx.input_ints(1);
  if (shape == nullptr || in == nullptr) {
    std::optional<int64_t> length = FixedLength(ctx, 1);
    if (length && in != nullptr) {
      SetUnknownDims(ctx, 0, dtype, std::max<int64_t>(*length, in->dims.size()));
    } else {
      SetRankUnknown(ctx, 0, dtype);
    }
    return absl::OkStatus();
  }
  std::vector<Dim> requested;
  for (const SymbolicInt& e : *shape) {
    if (e.fixed && e.value < 0) {
      return Fail(node, absl::StrFormat("the requested shape has the negative dim %d", e.value));
    }
    requested.push_back(IntToDim(e));
  }
  auto out = BroadcastDims(in->dims, requested);
  if (!out.ok()) {
    return Fail(node, absl::StrFormat("cannot expand input of shape %s to shape %s: %s",
                                      DimsToString(*in), DimsToString(requested),
                                      out.status().message()));
  }
  ctx.SetOutput(0, dtype, *std::move(out));
  return absl::OkStatus();
}

absl::Status TileFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr) {
    SetRankUnknown(ctx, 0, InputType(ctx, 0));
    return absl::OkStatus();
  }
  std::optional<int64_t> length = FixedLength(ctx, 1);
  if (length && *length != static_cast<int64_t>(in->dims.size())) {
    return Fail(node, absl::StrFormat("repeats has %d entries but the input %s has rank %d",
                                      *length, DimsToString(*in), in->dims.size()));
  }
  std::optional<std::vector<int64_t>> repeats = ConstInts(ctx, 1);
  std::vector<Dim> out(in->dims.size(), UnknownDim());
  if (repeats) {
    if (repeats->size() != in->dims.size()) {
      return Fail(node, absl::StrFormat("repeats [%s] must have one entry per dim of input %s",
                                        absl::StrJoin(*repeats, ","), DimsToString(*in)));
    }
    for (size_t i = 0; i < out.size(); ++i) {
      const int64_t r = (*repeats)[i];
      const Dim& d = in->dims[i];
      int64_t product = 0;
      if (r < 0) {
        return Fail(node, absl::StrFormat("repeats [%s] has a negative entry",
                                          absl::StrJoin(*repeats, ",")));
      }
      if (d.is_fixed() && !__builtin_mul_overflow(d.value, r, &product)) {
        out[i] = FixedDim(product);
      } else if (r == 1) {
        out[i] = d;
      } else if (r == 0) {
        out[i] = FixedDim(0);
      }
    }
  }
  ctx.SetOutput(0, in->dtype, std::move(out));
  return absl::OkStatus();
}

// Pad-2 (pads attribute), 11+ (pads input), 18+ (axes input).
absl::Status PadFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr) {
    SetRankUnknown(ctx, 0, InputType(ctx, 0));
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(in->dims.size());
  std::optional<std::vector<int64_t>> pads;
  std::vector<int> axes;
  bool known = true;
  if (ctx.opset() < 11) {
    ONYX_ASSIGN_OR_RETURN(pads, node.GetInts("pads", {}));
  } else {
    pads = ConstInts(ctx, 1);
    if (ctx.opset() >= 18 && node.inputs.size() > 3 && !node.inputs[3].empty()) {
      std::optional<std::vector<int64_t>> raw = ConstInts(ctx, 3);
      if (raw) {
        ONYX_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, *raw, rank));
      } else {
        known = false;
      }
    }
  }
  if (!pads || !known) {
    SetUnknownDims(ctx, 0, in->dtype, rank);
    return absl::OkStatus();
  }
  if (axes.empty() && pads->size() == 2 * static_cast<size_t>(rank)) {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  }
  if (pads->size() != 2 * axes.size()) {
    return Fail(node, absl::StrFormat("pads [%s] must have 2 entries per padded axis (input %s)",
                                      absl::StrJoin(*pads, ","), DimsToString(*in)));
  }
  std::vector<Dim> out = in->dims;
  const size_t k = axes.size();
  for (size_t i = 0; i < k; ++i) {
    const int a = axes[i];
    int64_t grow = 0, size = 0;
    const bool overflow = __builtin_add_overflow((*pads)[i], (*pads)[i + k], &grow);
    if (out[a].is_fixed()) {
      if (overflow || __builtin_add_overflow(out[a].value, grow, &size) || size < 0) {
        return Fail(node, absl::StrFormat("pads [%s] give a negative or overflowing dim for "
                                          "input %s",
                                          absl::StrJoin(*pads, ","), DimsToString(*in)));
      }
      out[a] = FixedDim(size);
    } else if (overflow || grow != 0) {
      out[a] = UnknownDim();
    }
  }
  ctx.SetOutput(0, in->dtype, std::move(out));
  return absl::OkStatus();
}

absl::Status WhereFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const DataType cond = InputType(ctx, 0), x = InputType(ctx, 1), y = InputType(ctx, 2);
  if (cond != DataType::kUndefined && cond != DataType::kBool) {
    return Fail(node, absl::StrFormat("condition must be bool, got %s", DataTypeName(cond)));
  }
  if (x != DataType::kUndefined && y != DataType::kUndefined && x != y) {
    return Fail(node, absl::StrFormat("X is %s but Y is %s (must match)", DataTypeName(x),
                                      DataTypeName(y)));
  }
  const DataType dtype = x != DataType::kUndefined ? x : y;
  const TypeInfo* a = RankedInput(ctx, 0);
  const TypeInfo* b = RankedInput(ctx, 1);
  const TypeInfo* c = RankedInput(ctx, 2);
  if (a == nullptr || b == nullptr || c == nullptr) {
    SetRankUnknown(ctx, 0, dtype);
    return absl::OkStatus();
  }
  auto bc = BroadcastDims(b->dims, c->dims);
  absl::StatusOr<std::vector<Dim>> out = bc.ok() ? BroadcastDims(a->dims, *bc) : bc;
  if (!out.ok()) {
    return Fail(node, absl::StrFormat("shapes %s, %s and %s do not broadcast: %s",
                                      DimsToString(*a), DimsToString(*b), DimsToString(*c),
                                      out.status().message()));
  }
  ctx.SetOutput(0, dtype, *std::move(out));
  return absl::OkStatus();
}

}  // namespace

void RegisterBroadcastShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnnxDomain, "Expand", ExpandFn);
  registry.RegisterShapeFn(kOnnxDomain, "Tile", TileFn);
  registry.RegisterShapeFn(kOnnxDomain, "Pad", PadFn);
  registry.RegisterShapeFn(kOnnxDomain, "Where", WhereFn);
}

}  // namespace onyx::tensor
