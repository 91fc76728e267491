// KernelContext: input access and output allocation for one node execution.
#include "runtime/kernel.h"

#include "absl/strings/str_format.h"
#include "runtime/device_backend.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"
#include "runtime/tensor_pool.h"

namespace onyx {
namespace {

// A model decides how many outputs a node names (maybe none): kernels must not
// index past them. InvalidArgument naming the node when output `i` is missing.
absl::Status CheckOutputIndex(const Node& node, int num_outputs, int i) {
  if (i >= 0 && i < num_outputs) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s has %d outputs, its op computes output %d", node.Describe(), num_outputs, i));
}

}  // namespace

KernelContext::KernelContext(const Node& node, absl::Span<const Tensor* const> inputs,
                             absl::Span<const bool> input_dies, absl::Span<Tensor> outputs,
                             int64_t max_tensor_bytes, int64_t* memory_left)
    : node_(node),
      inputs_(inputs),
      input_dies_(input_dies),
      outputs_(outputs),
      max_tensor_bytes_(max_tensor_bytes),
      memory_left_(memory_left) {}

const Tensor* KernelContext::input(int i) const {
  if (i < 0 || i >= num_inputs()) return nullptr;
  return inputs_[i];
}

absl::StatusOr<const Tensor*> KernelContext::RequiredInput(int i) const {
  const Tensor* t = input(i);
  if (t == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: required input %d is missing", node_.Describe(), i));
  }
  return t;
}

bool KernelContext::wants_output(int i) const {
  return i >= 0 && i < num_outputs() && i < static_cast<int>(node_.outputs.size()) &&
         !node_.outputs[i].empty();
}

absl::Status KernelContext::ChargeOutput(int i, DataType dtype, const Shape& shape,
                                         int64_t bytes) {
  if (memory_left_ == nullptr) return absl::OkStatus();
  if (bytes > *memory_left_) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "output %d (\"%s\", %s%s) does not fit in the run's memory limit (%d bytes left)", i,
        i < static_cast<int>(node_.outputs.size()) ? node_.outputs[i] : "",
        DataTypeName(dtype), ShapeToString(shape), *memory_left_));
  }
  *memory_left_ -= bytes;
  return absl::OkStatus();
}

absl::StatusOr<Tensor*> KernelContext::AllocateOutput(int i, DataType dtype, Shape shape) {
  ONYX_RETURN_IF_ERROR(CheckOutputIndex(node_, num_outputs(), i));
  if (memory_left_ != nullptr) {
    // Checked before allocating, so a hostile shape never reaches the allocator.
    ONYX_ASSIGN_OR_RETURN(int64_t count, CheckedNumElements(shape));
    int64_t bytes = 0;
    if (__builtin_mul_overflow(count, static_cast<int64_t>(DataTypeSize(dtype)), &bytes)) {
      bytes = INT64_MAX;
    }
    ONYX_RETURN_IF_ERROR(ChargeOutput(i, dtype, shape, bytes));
  }
  if (backend_ != nullptr) {  // a device kernel: its outputs live on the device
    ONYX_ASSIGN_OR_RETURN(outputs_[i],
                          backend_->Allocate(dtype, std::move(shape), max_tensor_bytes_));
    return &outputs_[i];
  }
  if (pool_ != nullptr) {
    ONYX_ASSIGN_OR_RETURN(outputs_[i], pool_->Take(dtype, std::move(shape), max_tensor_bytes_));
    return &outputs_[i];
  }
  ONYX_ASSIGN_OR_RETURN(outputs_[i],
                        Tensor::Uninitialized(dtype, std::move(shape), max_tensor_bytes_));
  return &outputs_[i];
}

absl::StatusOr<Tensor*> KernelContext::AllocateOutputMaybeInPlace(int i, int input_index,
                                                                  DataType dtype,
                                                                  Shape shape) {
  ONYX_RETURN_IF_ERROR(CheckOutputIndex(node_, num_outputs(), i));
  const Tensor* in = input(input_index);
  if (in != nullptr && input_dies_[input_index] && in->IsSoleOwner() && in->is_plain() &&
      in->dtype() == dtype && in->num_elements() == NumElements(shape)) {
    ONYX_ASSIGN_OR_RETURN(outputs_[i], in->Reshaped(std::move(shape)));
    return &outputs_[i];
  }
  return AllocateOutput(i, dtype, std::move(shape));
}

absl::StatusOr<Tensor*> KernelContext::AllocateOutputWithLayout(
    int i, DataType dtype, Shape shape, std::shared_ptr<const TensorLayout> layout) {
  if (layout == nullptr) return AllocateOutput(i, dtype, std::move(shape));
  ONYX_RETURN_IF_ERROR(CheckOutputIndex(node_, num_outputs(), i));
  ONYX_DCHECK(blocked_outputs_allowed_ && backend_ == nullptr);
  // Blocked buffers pad channels: the budget pays for the padded size.
  ONYX_RETURN_IF_ERROR(
      ChargeOutput(i, dtype, shape, static_cast<int64_t>(layout->desc.get_size())));
  if (pool_ != nullptr) {
    ONYX_ASSIGN_OR_RETURN(outputs_[i], pool_->TakeWithLayout(dtype, std::move(shape),
                                                             std::move(layout), max_tensor_bytes_));
    return &outputs_[i];
  }
  ONYX_ASSIGN_OR_RETURN(outputs_[i], Tensor::UninitializedWithLayout(
                                         dtype, std::move(shape), std::move(layout),
                                         max_tensor_bytes_));
  return &outputs_[i];
}

absl::StatusOr<Tensor*> KernelContext::AllocateOutputWithLayoutMaybeInPlace(
    int i, int input_index, DataType dtype, Shape shape,
    std::shared_ptr<const TensorLayout> layout) {
  if (layout == nullptr) return AllocateOutputMaybeInPlace(i, input_index, dtype, std::move(shape));
  ONYX_RETURN_IF_ERROR(CheckOutputIndex(node_, num_outputs(), i));
  const Tensor* in = input(input_index);
  if (in != nullptr && input_dies_[input_index] && in->IsSoleOwner() && in->dtype() == dtype &&
      in->shape() == shape && in->layout() != nullptr && in->layout()->desc == layout->desc) {
    outputs_[i] = *in;
    return &outputs_[i];
  }
  return AllocateOutputWithLayout(i, dtype, std::move(shape), std::move(layout));
}

void KernelContext::SetOutput(int i, Tensor tensor) {
  // Past the node's outputs nobody reads it (the executor reports missing ones).
  if (i >= 0 && i < num_outputs()) outputs_[i] = std::move(tensor);
}

}  // namespace onyx
