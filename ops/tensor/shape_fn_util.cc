// Helpers of the tensor family's shape functions.
#include "ops/tensor/shape_fn_util.h"

#include "absl/strings/str_format.h"

namespace onyx::tensor {

absl::Status Fail(const Node& node, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", node.Describe(), message));
}

const TypeInfo* RankedInput(const ShapeInferenceContext& ctx, int i) {
  const TypeInfo* in = ctx.input(i);
  return in != nullptr && in->has_shape ? in : nullptr;
}

DataType InputType(const ShapeInferenceContext& ctx, int i) {
  const TypeInfo* in = ctx.input(i);
  return in == nullptr ? DataType::kUndefined : in->dtype;
}

void SetRankUnknown(ShapeInferenceContext& ctx, int o, DataType dtype) {
  if (dtype != DataType::kUndefined) ctx.SetOutputRankUnknown(o, dtype);
}

void SetUnknownDims(ShapeInferenceContext& ctx, int o, DataType dtype, int64_t rank) {
  // Fuzz finding crash-89e6a374: a rank read from a declared length (Reshape's
  // shape input declared [2^40]) is no rank a tensor can have; leave the rank
  // unknown rather than allocate that many dims.
  constexpr int64_t kMaxInferredRank = int64_t{1} << 12;
  if (rank < 0 || rank > kMaxInferredRank) {
    SetRankUnknown(ctx, o, dtype);
    return;
  }
  ctx.SetOutput(o, dtype, std::vector<Dim>(rank, UnknownDim()));
}

std::optional<std::vector<int64_t>> ConstInts(const ShapeInferenceContext& ctx, int i) {
  return FixedInts(ctx.input_ints(i));
}

std::optional<int64_t> FixedLength(const ShapeInferenceContext& ctx, int i) {
  const TypeInfo* in = RankedInput(ctx, i);
  if (in == nullptr || in->dims.size() != 1 || !in->dims[0].is_fixed()) return std::nullopt;
  return in->dims[0].value;
}

Dim ProductDim(absl::Span<const Dim> dims) {
  int64_t product = 1;
  const Dim* symbol = nullptr;
  bool unknown = false;
  for (const Dim& d : dims) {
    if (d.is_fixed()) {
      if (d.value == 0) return FixedDim(0);
      if (__builtin_mul_overflow(product, d.value, &product)) unknown = true;
    } else if (symbol == nullptr && !d.param.empty()) {
      symbol = &d;
    } else {
      unknown = true;
    }
  }
  if (unknown) return UnknownDim();
  if (symbol == nullptr) return FixedDim(product);
  return product == 1 ? *symbol : UnknownDim();
}

}  // namespace onyx::tensor
