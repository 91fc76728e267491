// Broadcast strides, the collapsed iteration space and ReduceSumToShape.
#include "ops/math/broadcast.h"

#include <type_traits>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx {

absl::StatusOr<Shape> SameDtypeBroadcastShape(std::string_view who, const Tensor& a,
                                              const Tensor& b) {
  if (a.dtype() != b.dtype()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input A is %s but input B is %s; both must have the same dtype", who,
                        DataTypeName(a.dtype()), DataTypeName(b.dtype())));
  }
  auto out = BroadcastShapes(a.shape(), b.shape());
  if (!out.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input shapes %s and %s cannot be broadcast together", who,
                        ShapeToString(a.shape()), ShapeToString(b.shape())));
  }
  return out;
}

std::vector<int64_t> BroadcastStrides(absl::Span<const int64_t> shape,
                                      absl::Span<const int64_t> out_shape) {
  const size_t rank = out_shape.size();
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size() && i < rank; ++i) {
    const int64_t dim = shape[shape.size() - 1 - i];
    const size_t out_axis = rank - 1 - i;
    strides[out_axis] = (dim == 1 && out_shape[out_axis] != 1) ? 0 : stride;
    stride *= dim;
  }
  return strides;
}

bool BroadcastsInto(absl::Span<const int64_t> shape, absl::Span<const int64_t> out_shape) {
  if (shape.size() > out_shape.size()) return false;
  const size_t pad = out_shape.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] != 1 && shape[i] != out_shape[pad + i]) return false;
  }
  return true;
}

int64_t BroadcastOffset(int64_t linear, absl::Span<const int64_t> dims,
                        absl::Span<const int64_t> strides) {
  int64_t offset = 0;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0 && linear > 0; --i) {
    offset += (linear % dims[i]) * strides[i];
    linear /= dims[i];
  }
  return offset;
}

BroadcastLoop::BroadcastLoop(absl::Span<const int64_t> out_shape,
                             const std::vector<std::vector<int64_t>>& operand_strides)
    : num_operands_(static_cast<int>(operand_strides.size())),
      num_elements_(NumElements(out_shape)) {
  ONYX_DCHECK(num_operands_ >= 1 && num_operands_ <= kMaxOperands);
  // Walk from the innermost dim outwards, dropping size-1 dims and merging dim
  // i into the current group when every operand steps by group_stride *
  // group_dim.
  std::vector<int64_t> dims_rev;
  std::vector<std::vector<int64_t>> strides_rev;
  for (int i = static_cast<int>(out_shape.size()) - 1; i >= 0; --i) {
    const int64_t dim = out_shape[i];
    if (dim == 1) continue;
    std::vector<int64_t> s(num_operands_);
    for (int k = 0; k < num_operands_; ++k) s[k] = operand_strides[k][i];
    if (!dims_rev.empty()) {
      bool mergeable = true;
      for (int k = 0; k < num_operands_; ++k) {
        mergeable &= s[k] == strides_rev.back()[k] * dims_rev.back();
      }
      if (mergeable) {
        dims_rev.back() *= dim;
        continue;
      }
    }
    dims_rev.push_back(dim);
    strides_rev.push_back(std::move(s));
  }
  if (dims_rev.empty()) {  // scalar-like: one element
    dims_rev.push_back(1);
    strides_rev.push_back(std::vector<int64_t>(num_operands_, 0));
  }
  dims_.assign(dims_rev.rbegin(), dims_rev.rend());
  strides_.assign(strides_rev.rbegin(), strides_rev.rend());
  num_rows_ = 1;
  for (size_t i = 0; i + 1 < dims_.size(); ++i) num_rows_ *= dims_[i];
}

void BroadcastLoop::RowOffsets(int64_t row, int64_t* offsets) const {
  for (int k = 0; k < num_operands_; ++k) offsets[k] = 0;
  for (int i = static_cast<int>(dims_.size()) - 2; i >= 0 && row > 0; --i) {
    const int64_t index = row % dims_[i];
    row /= dims_[i];
    for (int k = 0; k < num_operands_; ++k) offsets[k] += index * strides_[i][k];
  }
}

namespace {

// Floats accumulate in double; integers in unsigned math, wrapping like the
// forward ops.
template <typename T, bool kFloat = std::is_floating_point_v<T>>
struct SumType {
  using type = double;
};
template <typename T>
struct SumType<T, false> {
  using type = std::make_unsigned_t<T>;
};

// grad is operand 0 (plain strides), the target accumulator operand 1.
template <typename T>
Tensor ReduceSum(const Tensor& grad, const Shape& target, const Shape& target_aligned, Tensor out) {
  using Acc = typename SumType<T>::type;
  std::vector<Acc> acc(out.num_elements(), Acc{0});
  const BroadcastLoop loop(grad.shape(), {BroadcastStrides(grad.shape(), grad.shape()),
                                          BroadcastStrides(target_aligned, grad.shape())});
  const T* g = grad.data<T>();
  // Serial: blocks of different rows may accumulate into the same target
  // element.
  ForEachBlock(loop, /*parallel=*/false, [&](const int64_t* off, int64_t n) {
    const T* gp = g + off[0];
    Acc* ap = acc.data() + off[1];
    if (loop.inner_stride(1) == 0) {
      Acc sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += static_cast<Acc>(gp[j]);
      *ap += sum;
    } else {
      for (int64_t j = 0; j < n; ++j) ap[j] += static_cast<Acc>(gp[j]);
    }
  });
  T* y = out.data<T>();
  for (size_t i = 0; i < acc.size(); ++i) y[i] = static_cast<T>(acc[i]);
  return out;
}

}  // namespace

absl::StatusOr<Tensor> ReduceSumToShape(const Tensor& grad, const Shape& target) {
  // Leading 1s beyond grad's rank carry no data: align ranks by dropping them.
  Shape aligned = target;
  while (aligned.size() > grad.shape().size() && aligned.front() == 1) {
    aligned.erase(aligned.begin());
  }
  if (!BroadcastsInto(aligned, grad.shape())) {
    return absl::InvalidArgumentError(
        absl::StrFormat("ReduceSumToShape: target shape %s does not broadcast "
                        "to gradient shape %s",
                        ShapeToString(target), ShapeToString(grad.shape())));
  }
  ONYX_ASSIGN_OR_RETURN(Tensor out, Tensor::Uninitialized(grad.dtype(), target));
  switch (grad.dtype()) {
    case DataType::kFloat32:
      return ReduceSum<float>(grad, target, aligned, std::move(out));
    case DataType::kFloat64:
      return ReduceSum<double>(grad, target, aligned, std::move(out));
    case DataType::kInt32:
      return ReduceSum<int32_t>(grad, target, aligned, std::move(out));
    case DataType::kInt64:
      return ReduceSum<int64_t>(grad, target, aligned, std::move(out));
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("ReduceSumToShape: dtype %s is not supported (float32, "
                          "float64, int32, int64)",
                          DataTypeName(grad.dtype())));
  }
}

}  // namespace onyx
