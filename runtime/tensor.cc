// Tensor allocation with checked sizes.
#include "runtime/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"

namespace onyx {
namespace {
constexpr size_t kAlignment = 64;
}  // namespace

absl::StatusOr<Tensor> Tensor::Uninitialized(DataType dtype, Shape shape,
                                             int64_t max_bytes) {
  if (!IsStorableType(dtype)) {
    return absl::UnimplementedError(
        absl::StrFormat("tensors of dtype %s are not supported", DataTypeName(dtype)));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t count, CheckedNumElements(shape));
  int64_t bytes = 0;
  if (__builtin_mul_overflow(count, static_cast<int64_t>(DataTypeSize(dtype)), &bytes) ||
      bytes > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "tensor %s%s needs more than the %d-byte limit", DataTypeName(dtype),
        ShapeToString(shape), max_bytes));
  }
  return Allocate(dtype, std::move(shape), bytes, max_bytes);
}

absl::StatusOr<Tensor> Tensor::UninitializedWithLayout(DataType dtype, Shape shape,
                                                       std::shared_ptr<const TensorLayout> layout,
                                                       int64_t max_bytes) {
  if (layout == nullptr) return Uninitialized(dtype, std::move(shape), max_bytes);
  ONYX_ASSIGN_OR_RETURN(int64_t count, CheckedNumElements(shape));
  (void)count;
  const int64_t bytes = static_cast<int64_t>(LayoutBytes(*layout));
  ONYX_ASSIGN_OR_RETURN(Tensor tensor, Allocate(dtype, std::move(shape), bytes, max_bytes));
  tensor.layout_ = std::move(layout);
  return tensor;
}

absl::StatusOr<Tensor> Tensor::Allocate(DataType dtype, Shape shape, int64_t bytes,
                                        int64_t max_bytes) {
  if (bytes > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "tensor %s%s needs more than the %d-byte limit", DataTypeName(dtype),
        ShapeToString(shape), max_bytes));
  }
  // Round up so SIMD tails may touch whole cache lines; never allocate 0 bytes.
  const size_t padded = (static_cast<size_t>(bytes) + kAlignment) & ~(kAlignment - 1);
  void* memory = std::aligned_alloc(kAlignment, padded);
  if (memory == nullptr) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "out of memory allocating %d bytes for %s%s", bytes, DataTypeName(dtype),
        ShapeToString(shape)));
  }
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.num_elements_ = NumElements(shape);
  tensor.shape_ = std::move(shape);
  tensor.storage_bytes_ = static_cast<size_t>(bytes);
  tensor.data_ = std::shared_ptr<std::byte>(static_cast<std::byte*>(memory),
                                            [](std::byte* p) { std::free(p); });
  return tensor;
}

Tensor Tensor::FromBuffer(DataType dtype, Shape shape, std::shared_ptr<std::byte> data,
                          bool on_device) {
  Tensor tensor;
  tensor.dtype_ = dtype;
  tensor.num_elements_ = NumElements(shape);
  tensor.shape_ = std::move(shape);
  tensor.storage_bytes_ = tensor.byte_size();
  tensor.data_ = std::move(data);
  tensor.on_device_ = on_device;
  return tensor;
}

absl::StatusOr<Tensor> Tensor::Zeros(DataType dtype, Shape shape, int64_t max_bytes) {
  ONYX_ASSIGN_OR_RETURN(Tensor tensor, Uninitialized(dtype, std::move(shape), max_bytes));
  std::memset(tensor.raw_data(), 0, tensor.byte_size());
  return tensor;
}

absl::StatusOr<Tensor> Tensor::Reshaped(Shape shape) const {
  ONYX_ASSIGN_OR_RETURN(int64_t count, CheckedNumElements(shape));
  if (count != num_elements_ || !is_plain()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot reshape %s%s to %s", DebugString(), is_plain() ? "" : " (blocked layout)",
        ShapeToString(shape)));
  }
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

absl::StatusOr<Tensor> Tensor::Reinterpreted(DataType dtype, Shape shape,
                                             std::shared_ptr<const TensorLayout> layout) const {
  ONYX_ASSIGN_OR_RETURN(int64_t count, CheckedNumElements(shape));
  const size_t needed = layout != nullptr ? LayoutBytes(*layout)
                                          : static_cast<size_t>(count) * DataTypeSize(dtype);
  if (needed > storage_bytes_ || !IsStorableType(dtype)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "cannot view the %d-byte buffer of %s as %s%s", storage_bytes_, DebugString(),
        DataTypeName(dtype), ShapeToString(shape)));
  }
  Tensor view = *this;
  view.dtype_ = dtype;
  view.shape_ = std::move(shape);
  view.num_elements_ = count;
  view.layout_ = std::move(layout);
  return view;
}

absl::StatusOr<Tensor> Tensor::Clone() const {
  if (empty()) return Tensor();
  if (on_device_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("Clone of device tensor %s on the host", DebugString()));
  }
  ONYX_ASSIGN_OR_RETURN(Tensor copy, UninitializedWithLayout(dtype_, shape_, layout_));
  std::memcpy(copy.raw_data(), raw_data(), is_plain() ? byte_size() : copy.storage_bytes_);
  return copy;
}

std::string Tensor::DebugString() const {
  return absl::StrCat(DataTypeName(dtype_), ShapeToString(shape_), on_device_ ? "@device" : "",
                      is_plain() ? "" : "@blocked");
}

}  // namespace onyx
