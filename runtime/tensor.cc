// Tensor allocation with checked sizes.
#include "runtime/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

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
  tensor.shape_ = std::move(shape);
  tensor.num_elements_ = count;
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
  if (count != num_elements_) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot reshape %s to %s", DebugString(), ShapeToString(shape)));
  }
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

absl::StatusOr<Tensor> Tensor::Clone() const {
  if (empty()) return Tensor();
  if (on_device_) {
    return absl::FailedPreconditionError(
        absl::StrFormat("Clone of device tensor %s on the host", DebugString()));
  }
  ONYX_ASSIGN_OR_RETURN(Tensor copy, Uninitialized(dtype_, shape_));
  std::memcpy(copy.raw_data(), raw_data(), byte_size());
  return copy;
}

std::string Tensor::DebugString() const {
  return absl::StrCat(DataTypeName(dtype_), ShapeToString(shape_), on_device_ ? "@device" : "");
}

}  // namespace onyx
