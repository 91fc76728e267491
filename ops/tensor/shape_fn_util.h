// Helpers for shape functions (the tensor family's shape_fns_*.cc, and Fail /
// RankedInput / InputType also in math and loss), and the registration hooks of
// the tensor family's shape-function files, called from register.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/op_registry.h"
#include "runtime/shape_inference.h"

namespace onyx::tensor {

// InvalidArgument "<node>: <message>".
absl::Status Fail(const Node& node, const std::string& message);

// Input i's type when its rank is known, else null.
const TypeInfo* RankedInput(const ShapeInferenceContext& ctx, int i);
// Input i's dtype, kUndefined when unknown.
DataType InputType(const ShapeInferenceContext& ctx, int i);
// Output o has `dtype` and an unknown rank (nothing is set when dtype is unknown).
void SetRankUnknown(ShapeInferenceContext& ctx, int o, DataType dtype);
// Output o has `dtype`, `rank` unknown dims.
void SetUnknownDims(ShapeInferenceContext& ctx, int o, DataType dtype, int64_t rank);
// Input i's values when it is a constant (or a fully known shape value).
std::optional<std::vector<int64_t>> ConstInts(const ShapeInferenceContext& ctx, int i);
// The number of elements of a 1-D input whose length is fixed, else nullopt.
std::optional<int64_t> FixedLength(const ShapeInferenceContext& ctx, int i);

// Product of dims: fixed when all are; a lone symbol times fixed 1s keeps the
// symbol; any fixed 0 gives 0; unknown otherwise.
Dim ProductDim(absl::Span<const Dim> dims);

// shape_fns_layout.cc: Reshape Flatten Squeeze Unsqueeze Shape Size Transpose
void RegisterLayoutShapeFns(OpRegistry& registry);
// shape_fns_join.cc: Concat Split Slice Gather
void RegisterJoinShapeFns(OpRegistry& registry);
// shape_fns_broadcast.cc: Expand Tile Pad Where
void RegisterBroadcastShapeFns(OpRegistry& registry);
// shape_fns_value.cc: Constant ConstantOfShape Range Cast Dropout
void RegisterValueShapeFns(OpRegistry& registry);

}  // namespace onyx::tensor
