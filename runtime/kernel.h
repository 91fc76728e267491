// The kernel interface: one Kernel object per node, created when a session is
// prepared, called once per run with a KernelContext holding that node's tensors.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace onyx {

class DeviceBackend;
class TensorPool;

class KernelContext {
 public:
  // `inputs[i]` is null for an omitted optional input; `input_dies[i]` says the
  // executor drops that input after this node (its buffer may be reused).
  // `memory_left`, when given, is the run's remaining memory budget in bytes:
  // each new output buffer is charged against it (ResourceExhausted past it).
  KernelContext(const Node& node, absl::Span<const Tensor* const> inputs,
                absl::Span<const bool> input_dies, absl::Span<Tensor> outputs,
                int64_t max_tensor_bytes = kDefaultMaxTensorBytes,
                int64_t* memory_left = nullptr);

  const Node& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Null when input `i` is omitted or beyond the node's input count.
  const Tensor* input(int i) const;
  // The input, or InvalidArgument naming the node when it is missing.
  absl::StatusOr<const Tensor*> RequiredInput(int i) const;
  // True when the node names output `i` (optional outputs may be "").
  bool wants_output(int i) const;

  // On the backend's device when backend() is set, else on the host.
  absl::StatusOr<Tensor*> AllocateOutput(int i, DataType dtype, Shape shape);
  // Like AllocateOutput, but hands out input `input_index`'s buffer when that
  // input dies here, nobody else holds it and it has the same byte size.
  // Only for kernels that read each element before writing it (elementwise).
  absl::StatusOr<Tensor*> AllocateOutputMaybeInPlace(int i, int input_index,
                                                     DataType dtype, Shape shape);
  // Layout propagation (runtime/tensor_layout.h): true when the session lets
  // this kernel leave output `i` in a blocked layout; kernels called outside a
  // session (tests) always produce plain outputs.
  bool blocked_outputs_allowed() const { return blocked_outputs_allowed_; }
  void set_blocked_outputs_allowed(bool allowed) { blocked_outputs_allowed_ = allowed; }
  // An output in `layout` (null: plain). Only when blocked_outputs_allowed().
  absl::StatusOr<Tensor*> AllocateOutputWithLayout(int i, DataType dtype, Shape shape,
                                                   std::shared_ptr<const TensorLayout> layout);
  // Like AllocateOutputWithLayout, but hands out input `input_index`'s buffer
  // when it dies here, nobody else holds it and it is laid out as asked.
  absl::StatusOr<Tensor*> AllocateOutputWithLayoutMaybeInPlace(
      int i, int input_index, DataType dtype, Shape shape,
      std::shared_ptr<const TensorLayout> layout);
  // Sets output `i` to an existing tensor (views such as Reshape, Identity).
  void SetOutput(int i, Tensor tensor);
  int64_t max_tensor_bytes() const { return max_tensor_bytes_; }
  // The session's device backend when this node runs on a device kernel, else null.
  DeviceBackend* backend() const { return backend_; }
  void set_backend(DeviceBackend* backend) { backend_ = backend; }
  // Outputs then come from `pool` (recycled buffers) instead of fresh memory.
  void set_pool(TensorPool* pool) { pool_ = pool; }

 private:
  // Charges `bytes` for output `i` against the run's memory budget, if any.
  absl::Status ChargeOutput(int i, DataType dtype, const Shape& shape, int64_t bytes);

  const Node& node_;
  absl::Span<const Tensor* const> inputs_;
  absl::Span<const bool> input_dies_;
  absl::Span<Tensor> outputs_;
  int64_t max_tensor_bytes_;
  DeviceBackend* backend_ = nullptr;
  TensorPool* pool_ = nullptr;
  bool blocked_outputs_allowed_ = false;
  int64_t* memory_left_;
};

// Where a device kernel wants an input (CPU kernels get every input on the host).
enum class InputMemory {
  kDevice,     // in device memory: the default
  kHost,       // in host memory: a small operand the host reads (shape, axes, bounds)
  kShapeOnly,  // only its dtype and shape are read: left where it is, never copied
  // A floating-point value goes to the device (initializers once, at Create:
  // weights, embedding tables); any other value is left where it is, never
  // copied. Views serve either side; data-movement and elementwise ops compute
  // when the value is on the device and otherwise answer Unimplemented, so the
  // CPU kernel runs them on the host: shape arithmetic (integers) stays there.
  kWhereItIs,
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Computes all outputs. Kernels may cache per-shape state (oneDNN primitives),
  // so one Kernel is not called from two threads at once (Session::Run holds a
  // per-kernel lock around Compute).
  virtual absl::Status Compute(KernelContext& ctx) = 0;
  // True when Compute reads inputs in blocked layouts (runtime/tensor_layout.h);
  // every other kernel is handed plain inputs.
  virtual bool AcceptsBlockedInputs() const { return false; }
  // Device kernels: where the session places input `i` before Compute.
  virtual InputMemory input_memory(int /*i*/) const { return InputMemory::kDevice; }
};

}  // namespace onyx
