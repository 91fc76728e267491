// Shape functions of the ops that join, split and index along axes: Concat,
// Split, Slice, Gather. Each also passes known shape values (1-D int tensors
// such as Shape's output) element by element.
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/shape_fn_util.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

absl::Status ConcatFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  if (ctx.opset() >= 4 && node.FindAttribute("axis") == nullptr) {
    return Fail(node, "attribute axis is required");
  }
  ONYX_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", 1));
  DataType dtype = DataType::kUndefined;
  const TypeInfo* first = nullptr;
  int first_index = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const DataType t = InputType(ctx, i);
    if (t == DataType::kUndefined) continue;
    if (dtype != DataType::kUndefined && t != dtype) {
      return Fail(node, absl::StrFormat("input %d is %s but an earlier input is %s", i,
                                        DataTypeName(t), DataTypeName(dtype)));
    }
    dtype = t;
    if (first == nullptr && RankedInput(ctx, i) != nullptr) {
      first = RankedInput(ctx, i);
      first_index = i;
    }
  }
  if (first == nullptr) {
    SetRankUnknown(ctx, 0, dtype);
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(first->dims.size());
  // Fuzz finding crash-1229fb7b: NormalizeAxis accepts axis 0 for rank 0, but a
  // scalar has no dim 0 to read.
  if (rank == 0) return Fail(node, "inputs must have rank >= 1, got a scalar");
  auto normalized = NormalizeAxis(axis_attr, rank);
  if (!normalized.ok()) return Fail(node, std::string(normalized.status().message()));
  const int axis = *normalized;
  std::vector<Dim> out = first->dims;
  bool all_ranked = true;
  int64_t total = 0;
  bool total_known = true;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const TypeInfo* in = RankedInput(ctx, i);
    if (in == nullptr) {
      all_ranked = false;
      continue;
    }
    if (static_cast<int>(in->dims.size()) != rank) {
      return Fail(node, absl::StrFormat("input %d has shape %s (rank %d) but input %d has shape "
                                        "%s (rank %d)",
                                        i, DimsToString(*in), in->dims.size(), first_index,
                                        DimsToString(*first), rank));
    }
    for (int d = 0; d < rank; ++d) {
      const Dim& dim = in->dims[d];
      if (d == axis) {
        total_known = total_known && dim.is_fixed() &&
                      !__builtin_add_overflow(total, dim.value, &total);
      } else if (dim.is_fixed() && out[d].is_fixed() && dim.value != out[d].value) {
        return Fail(node, absl::StrFormat("input %d has shape %s but input %d has shape %s "
                                          "(only axis %d may differ)",
                                          i, DimsToString(*in), first_index,
                                          DimsToString(*first), axis));
      } else if (!out[d].is_fixed() && (dim.is_fixed() || out[d].param.empty())) {
        out[d] = dim;
      }
    }
  }
  out[axis] = all_ranked && total_known ? FixedDim(total) : UnknownDim();
  ctx.SetOutput(0, dtype, out);
  // Concatenated shape values stay known element by element.
  if (rank == 1) {
    SymbolicInts elements;
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const SymbolicInts* ints = ctx.input_ints(i);
      const TypeInfo* in = RankedInput(ctx, i);
      if (ints == nullptr || in == nullptr || in->dims.size() != 1) return absl::OkStatus();
      elements.insert(elements.end(), ints->begin(), ints->end());
    }
    ctx.SetOutputInts(0, std::move(elements));
  }
  return absl::OkStatus();
}

absl::Status SplitFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const int n = static_cast<int>(node.outputs.size());
  ONYX_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", 0));
  std::optional<std::vector<int64_t>> sizes;
  bool sizes_known = true;
  if (ctx.opset() < 13 && node.FindAttribute("split") != nullptr) {
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> split, node.GetInts("split", {}));
    sizes = std::move(split);
  } else if (ctx.opset() >= 13 && node.inputs.size() > 1 && !node.inputs[1].empty()) {
    sizes = ConstInts(ctx, 1);
    sizes_known = sizes.has_value();
  }
  std::optional<int64_t> num_outputs;
  if (ctx.opset() >= 18 && node.FindAttribute("num_outputs") != nullptr) {
    ONYX_ASSIGN_OR_RETURN(int64_t value, node.GetInt("num_outputs", 0));
    if (value != n) {
      return Fail(node, absl::StrFormat("num_outputs is %d but the node has %d outputs", value, n));
    }
    num_outputs = value;
  }
  if (sizes && static_cast<int>(sizes->size()) != n) {
    return Fail(node, absl::StrFormat("split [%s] has %d entries for %d outputs",
                                      absl::StrJoin(*sizes, ","), sizes->size(), n));
  }
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr) {
    for (int o = 0; o < n; ++o) SetRankUnknown(ctx, o, InputType(ctx, 0));
    return absl::OkStatus();
  }
  // Fuzz finding crash-1229fb7b: a scalar has no dim 0 (NormalizeAxis accepts axis 0).
  if (in->dims.empty()) return Fail(node, "input must have rank >= 1, got a scalar");
  auto normalized = NormalizeAxis(axis_attr, static_cast<int>(in->dims.size()));
  if (!normalized.ok()) return Fail(node, std::string(normalized.status().message()));
  const int axis = *normalized;
  const Dim& dim = in->dims[axis];
  std::vector<Dim> out_dims(n, UnknownDim());
  if (sizes) {
    int64_t sum = 0;
    bool ok = true;
    for (int64_t s : *sizes) ok = ok && s >= 0 && !__builtin_add_overflow(sum, s, &sum);
    if (!ok || (dim.is_fixed() && sum != dim.value)) {
      return Fail(node, absl::StrFormat("split [%s] must have non-negative entries summing to "
                                        "dim %d of input %s",
                                        absl::StrJoin(*sizes, ","), axis, DimsToString(*in)));
    }
    for (int o = 0; o < n; ++o) out_dims[o] = FixedDim((*sizes)[o]);
  } else if (sizes_known && dim.is_fixed()) {
    if (num_outputs) {
      const int64_t chunk = (dim.value + n - 1) / n;
      if (dim.value - chunk * (n - 1) < 0) {
        return Fail(node, absl::StrFormat("cannot split dim %d of input %s into %d outputs", axis,
                                          DimsToString(*in), n));
      }
      for (int o = 0; o < n; ++o) out_dims[o] = FixedDim(o + 1 < n ? chunk : dim.value - chunk * (n - 1));
    } else {
      if (dim.value % n != 0) {
        return Fail(node, absl::StrFormat("dim %d of input %s does not split evenly into %d "
                                          "outputs",
                                          axis, DimsToString(*in), n));
      }
      for (int o = 0; o < n; ++o) out_dims[o] = FixedDim(dim.value / n);
    }
  }
  for (int o = 0; o < n; ++o) {
    std::vector<Dim> out = in->dims;
    out[axis] = out_dims[o];
    ctx.SetOutput(o, in->dtype, std::move(out));
  }
  return absl::OkStatus();
}

// Slice-1 (attributes), 10+ (inputs starts, ends, axes, steps).
absl::Status SliceFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  bool axes_given = false, steps_given = false;
  if (ctx.opset() < 10) {
    if (node.FindAttribute("starts") == nullptr || node.FindAttribute("ends") == nullptr) {
      return Fail(node, "attributes starts and ends are required");
    }
    ONYX_ASSIGN_OR_RETURN(starts, node.GetInts("starts", {}));
    ONYX_ASSIGN_OR_RETURN(ends, node.GetInts("ends", {}));
    axes_given = node.FindAttribute("axes") != nullptr;
    if (axes_given) {
      ONYX_ASSIGN_OR_RETURN(axes, node.GetInts("axes", {}));
    }
  } else {
    starts = ConstInts(ctx, 1);
    ends = ConstInts(ctx, 2);
    axes_given = node.inputs.size() > 3 && !node.inputs[3].empty();
    steps_given = node.inputs.size() > 4 && !node.inputs[4].empty();
    if (axes_given) axes = ConstInts(ctx, 3);
    if (steps_given) steps = ConstInts(ctx, 4);
  }
  const TypeInfo* in = RankedInput(ctx, 0);
  if (in == nullptr) {
    SetRankUnknown(ctx, 0, InputType(ctx, 0));
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(in->dims.size());
  std::vector<Dim> out = in->dims;
  if (!starts || !ends || (axes_given && !axes) || (steps_given && !steps)) {
    // Only the sliced axes are unknown, when they are known.
    std::vector<int> sliced;
    if (axes) {
      auto normalized = NormalizeAxes(node, *axes, rank);
      if (normalized.ok()) sliced = *normalized;
    }
    if (sliced.empty() && (axes_given || !starts)) {
      for (int a = 0; a < rank; ++a) sliced.push_back(a);
    } else if (sliced.empty()) {
      for (int a = 0; a < std::min<int>(rank, starts->size()); ++a) sliced.push_back(a);
    }
    for (int a : sliced) out[a] = UnknownDim();
    ctx.SetOutput(0, in->dtype, std::move(out));
    return absl::OkStatus();
  }
  if (!axes) {
    axes.emplace();
    for (size_t i = 0; i < starts->size(); ++i) axes->push_back(static_cast<int64_t>(i));
  }
  if (!steps) steps = std::vector<int64_t>(starts->size(), 1);
  if (ends->size() != starts->size() || axes->size() != starts->size() ||
      steps->size() != starts->size()) {
    return Fail(node, absl::StrFormat("starts, ends, axes and steps have %d, %d, %d and %d "
                                      "entries (must be equal)",
                                      starts->size(), ends->size(), axes->size(), steps->size()));
  }
  ONYX_ASSIGN_OR_RETURN(std::vector<int> norm_axes, NormalizeAxes(node, *axes, rank));
  constexpr int64_t kToEnd = std::numeric_limits<int32_t>::max();  // "to the end" in exports
  std::vector<int64_t> first(rank, 0);
  for (size_t i = 0; i < norm_axes.size(); ++i) {
    const int a = norm_axes[i];
    const int64_t step = (*steps)[i];
    if (step == 0) return Fail(node, absl::StrFormat("step for axis %d is 0", a));
    const Dim& dim = in->dims[a];
    if (dim.is_fixed()) {
      out[a] = FixedDim(SliceCount(dim.value, (*starts)[i], (*ends)[i], step, &first[a]));
    } else if (!(step == 1 && (*starts)[i] == 0 && (*ends)[i] >= kToEnd)) {
      out[a] = UnknownDim();  // a whole symbolic axis keeps its symbol
    }
  }
  // A slice of a known shape value.
  const SymbolicInts* ints = ctx.input_ints(0);
  if (ints != nullptr && rank == 1 && out[0].is_fixed() && !norm_axes.empty() &&
      in->dims[0].is_fixed() && in->dims[0].value == static_cast<int64_t>(ints->size())) {
    SymbolicInts elements;
    const int64_t step = (*steps)[0];
    for (int64_t k = 0; k < out[0].value; ++k) elements.push_back((*ints)[first[0] + k * step]);
    ctx.SetOutputInts(0, std::move(elements));
  }
  ctx.SetOutput(0, in->dtype, std::move(out));
  return absl::OkStatus();
}

// Gather: data[:axis] + indices.shape + data[axis+1:].
absl::Status GatherFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  ONYX_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", 0));
  const TypeInfo* data = RankedInput(ctx, 0);
  const TypeInfo* indices = RankedInput(ctx, 1);
  const DataType index_type = InputType(ctx, 1);
  if (index_type != DataType::kUndefined && index_type != DataType::kInt64 &&
      index_type != DataType::kInt32) {
    return Fail(node, absl::StrFormat("indices must be int32 or int64, got %s",
                                      DataTypeName(index_type)));
  }
  if (data != nullptr && data->dims.empty()) return Fail(node, "input data must have rank >= 1");
  if (data == nullptr || indices == nullptr) {
    SetRankUnknown(ctx, 0, InputType(ctx, 0));
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(data->dims.size());
  auto normalized = NormalizeAxis(axis_attr, rank);
  if (!normalized.ok()) return Fail(node, std::string(normalized.status().message()));
  const int axis = *normalized;
  const Dim& dim = data->dims[axis];
  std::optional<std::vector<int64_t>> index_values = ConstInts(ctx, 1);
  if (index_values && dim.is_fixed()) {
    for (int64_t v : *index_values) {
      if (v < -dim.value || v >= dim.value) {
        return Fail(node, absl::StrFormat("index %d is out of range for axis %d of input %s", v,
                                          axis, DimsToString(*data)));
      }
    }
  }
  std::vector<Dim> out(data->dims.begin(), data->dims.begin() + axis);
  out.insert(out.end(), indices->dims.begin(), indices->dims.end());
  out.insert(out.end(), data->dims.begin() + axis + 1, data->dims.end());
  // Gathering from a known shape value (Shape -> Gather(0) gives the batch dim).
  const SymbolicInts* ints = ctx.input_ints(0);
  if (ints != nullptr && rank == 1 && index_values && indices->dims.size() <= 1) {
    const int64_t n = static_cast<int64_t>(ints->size());
    SymbolicInts elements;
    for (int64_t v : *index_values) {
      if (v < -n || v >= n) return Fail(node, absl::StrFormat("index %d is out of range", v));
      elements.push_back((*ints)[v < 0 ? v + n : v]);
    }
    ctx.SetOutputInts(0, std::move(elements));
  }
  ctx.SetOutput(0, data->dtype, std::move(out));
  return absl::OkStatus();
}

}  // namespace

void RegisterJoinShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnnxDomain, "Concat", ConcatFn);
  registry.RegisterShapeFn(kOnnxDomain, "Split", SplitFn);
  registry.RegisterShapeFn(kOnnxDomain, "Slice", SliceFn);
  registry.RegisterShapeFn(kOnnxDomain, "Gather", GatherFn);
}

}  // namespace onyx::tensor
