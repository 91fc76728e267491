// KernelContext: input access and output allocation for one node execution.
#include "runtime/kernel.h"

#include "absl/strings/str_format.h"
#include "runtime/device_backend.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"
#include "runtime/tensor_pool.h"

namespace onyx {

KernelContext::KernelContext(const Node& node, absl::Span<const Tensor* const> inputs,
                             absl::Span<const bool> input_dies, absl::Span<Tensor> outputs,
                             int64_t max_tensor_bytes)
    : node_(node),
      inputs_(inputs),
      input_dies_(input_dies),
      outputs_(outputs),
      max_tensor_bytes_(max_tensor_bytes) {}

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

absl::StatusOr<Tensor*> KernelContext::AllocateOutput(int i, DataType dtype, Shape shape) {
  ONYX_DCHECK(i >= 0 && i < num_outputs());
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
  ONYX_DCHECK(i >= 0 && i < num_outputs() && blocked_outputs_allowed_ && backend_ == nullptr);
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
  const Tensor* in = input(input_index);
  if (in != nullptr && input_dies_[input_index] && in->IsSoleOwner() && in->dtype() == dtype &&
      in->shape() == shape && in->layout() != nullptr && in->layout()->desc == layout->desc) {
    outputs_[i] = *in;
    return &outputs_[i];
  }
  return AllocateOutputWithLayout(i, dtype, std::move(shape), std::move(layout));
}

void KernelContext::SetOutput(int i, Tensor tensor) { outputs_[i] = std::move(tensor); }

}  // namespace onyx
