// Tensor: a dtype, a shape and a shared, 64-byte aligned buffer, row-major
// ("plain") unless it carries a TensorLayout (runtime/tensor_layout.h): a
// oneDNN blocked layout that conv chains pass between the kernels that opt in.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/data_type.h"
#include "runtime/shape.h"

namespace onyx {

struct TensorLayout;  // runtime/tensor_layout.h

// Largest single allocation Onyx attempts unless told otherwise (16 GiB): a
// hostile model declaring absurd sizes gets ResourceExhausted, not an OOM kill.
inline constexpr int64_t kDefaultMaxTensorBytes = int64_t{16} << 30;

class Tensor {
 public:
  Tensor() = default;  // empty: no dtype, no storage

  // Zero-initialized tensor. InvalidArgument for bad shapes or dtypes,
  // ResourceExhausted when the bytes exceed `max_bytes` or memory runs out.
  static absl::StatusOr<Tensor> Zeros(DataType dtype, Shape shape,
                                      int64_t max_bytes = kDefaultMaxTensorBytes);
  // Uninitialized tensor (faster for outputs that are fully overwritten).
  static absl::StatusOr<Tensor> Uninitialized(
      DataType dtype, Shape shape, int64_t max_bytes = kDefaultMaxTensorBytes);
  // A tensor over memory someone else allocated (a device allocator): `data`
  // must hold at least the shape's bytes and frees itself through its deleter.
  // `on_device` marks memory the host must not dereference.
  static Tensor FromBuffer(DataType dtype, Shape shape, std::shared_ptr<std::byte> data,
                           bool on_device);
  // Uninitialized tensor whose buffer holds `layout` (its size may exceed the
  // plain bytes: blocked layouts pad channels).
  static absl::StatusOr<Tensor> UninitializedWithLayout(
      DataType dtype, Shape shape, std::shared_ptr<const TensorLayout> layout,
      int64_t max_bytes = kDefaultMaxTensorBytes);
  // Copies `values` into a new tensor of `shape` (for tests and small constants).
  template <typename T>
  static absl::StatusOr<Tensor> FromVector(Shape shape, absl::Span<const T> values);

  bool empty() const { return dtype_ == DataType::kUndefined; }
  // True for device memory (see FromBuffer): data() is not readable on the host.
  bool on_device() const { return on_device_; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i]; }
  int64_t num_elements() const { return num_elements_; }
  // Bytes of the logical (plain) data.
  size_t byte_size() const { return num_elements_ * DataTypeSize(dtype_); }
  // Bytes the buffer holds (>= byte_size() for a blocked layout).
  size_t storage_bytes() const { return storage_bytes_; }
  // Plain row-major data, which is all a kernel sees unless it opts in to
  // blocked inputs (Kernel::AcceptsBlockedInputs).
  bool is_plain() const { return layout_ == nullptr; }
  // The blocked layout, or null when plain.
  const TensorLayout* layout() const { return layout_.get(); }
  const std::shared_ptr<const TensorLayout>& shared_layout() const { return layout_; }

  void* raw_data() { return data_.get(); }
  const void* raw_data() const { return data_.get(); }
  template <typename T> T* data() { return static_cast<T*>(raw_data()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw_data()); }
  template <typename T> absl::Span<T> span() { return {data<T>(), size_t(num_elements_)}; }
  template <typename T> absl::Span<const T> span() const {
    return {data<T>(), size_t(num_elements_)};
  }

  // Same buffer viewed with another shape of equal element count (no copy).
  // Plain tensors only.
  absl::StatusOr<Tensor> Reshaped(Shape shape) const;
  // Same buffer as `dtype`, `shape` in `layout` (null: plain), which must fit
  // in storage_bytes(). For buffer pools; the contents are reinterpreted as is.
  absl::StatusOr<Tensor> Reinterpreted(DataType dtype, Shape shape,
                                       std::shared_ptr<const TensorLayout> layout) const;
  // Deep copy.
  absl::StatusOr<Tensor> Clone() const;
  // True when no other Tensor shares this buffer (safe to write in place).
  bool IsSoleOwner() const { return data_.use_count() == 1; }
  // "float32[2,3]"
  std::string DebugString() const;

 private:
  // A fresh buffer of `bytes` (checked against `max_bytes`) for `shape`.
  static absl::StatusOr<Tensor> Allocate(DataType dtype, Shape shape, int64_t bytes,
                                         int64_t max_bytes);

  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  int64_t num_elements_ = 0;
  size_t storage_bytes_ = 0;
  std::shared_ptr<std::byte> data_;
  std::shared_ptr<const TensorLayout> layout_;
  bool on_device_ = false;
};

template <typename T>
absl::StatusOr<Tensor> Tensor::FromVector(Shape shape, absl::Span<const T> values) {
  auto allocated = Uninitialized(DataTypeOf<T>::value, std::move(shape));
  if (!allocated.ok()) return allocated.status();
  Tensor tensor = std::move(allocated).value();
  if (static_cast<size_t>(tensor.num_elements()) != values.size()) {
    return absl::InvalidArgumentError("FromVector: value count does not match shape");
  }
  std::copy(values.begin(), values.end(), tensor.data<T>());
  return tensor;
}

}  // namespace onyx
