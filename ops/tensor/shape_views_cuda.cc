// Shape and view ops in CUDA sessions: Identity, Reshape, Flatten, Squeeze,
// Unsqueeze and inference-mode Dropout return views of their input (the same
// buffer, no copy; the first five take it where it is, kWhereItIs, so shape
// arithmetic on the host stays there); Shape and Size read the input's shape only and return
// host int64 tensors (the host reads shapes; a device reader gets a copy).
// The kernels of reshape_cpu.cc run as they are: they never read the data
// input's elements, and their shape/axes operands arrive on the host.
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// A reshape_cpu.cc kernel with its data input (0) `data` and every other
// input (shape, axes) on the host.
class HostOperandKernel final : public Kernel {
 public:
  HostOperandKernel(std::unique_ptr<Kernel> kernel, InputMemory data)
      : kernel_(std::move(kernel)), data_(data) {}
  InputMemory input_memory(int i) const override {
    return i == 0 ? data_ : InputMemory::kHost;
  }
  absl::Status Compute(KernelContext& ctx) override { return kernel_->Compute(ctx); }

 private:
  std::unique_ptr<Kernel> kernel_;
  InputMemory data_;
};

KernelFactory Wrap(tensor::KernelOr (*create)(const Node&, int64_t), InputMemory data) {
  return [create, data](const Node& node, int64_t opset) -> tensor::KernelOr {
    ONYX_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> kernel, create(node, opset));
    return std::unique_ptr<Kernel>(new HostOperandKernel(std::move(kernel), data));
  };
}

class IdentityCudaKernel final : public Kernel {
 public:
  InputMemory input_memory(int) const override { return InputMemory::kWhereItIs; }
  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ctx.SetOutput(0, *x);  // shares the buffer
    return absl::OkStatus();
  }
};

// Dropout when it is the identity: y = x (a view) and an all-true bool mask.
// Training mode (random masks) and the opset < 10 mask in x's dtype say
// Unimplemented, and the CPU kernel runs (and reports what it does not take).
class DropoutCudaKernel final : public Kernel {
 public:
  explicit DropoutCudaKernel(int64_t opset) : opset_(opset) {}
  InputMemory input_memory(int i) const override {
    return i == 0 ? InputMemory::kDevice : InputMemory::kHost;  // ratio, training_mode
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const Tensor* mode = opset_ >= 12 ? ctx.input(2) : nullptr;
    if (mode != nullptr &&
        (mode->dtype() != DataType::kBool || mode->num_elements() != 1 || mode->data<bool>()[0])) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: the CUDA kernel runs inference-mode Dropout only, got training_mode %s",
          node.Describe(), mode->DebugString()));
    }
    const bool wants_mask = ctx.wants_output(1);
    if (wants_mask && opset_ < 10) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: the CUDA kernel writes bool masks only (opset >= 10), this is opset %d",
          node.Describe(), opset_));
    }
    ctx.SetOutput(0, *x);
    if (!wants_mask) return absl::OkStatus();
    ONYX_ASSIGN_OR_RETURN(Tensor * mask, ctx.AllocateOutput(1, DataType::kBool, x->shape()));
    if (mask->byte_size() == 0) return absl::OkStatus();
    return CudaStatus(cudaMemsetAsync(mask->raw_data(), 1, mask->byte_size(), backend->stream()),
                      "cudaMemsetAsync");  // bool true is the byte 1
  }

 private:
  int64_t opset_;
};

}  // namespace

void RegisterShapeViewCudaOps(OpRegistry& registry) {
  const Device gpu = Device::kCuda;
  auto add = [&](const char* op, std::initializer_list<int> versions, KernelFactory factory) {
    for (int v : versions) registry.Register(kOnnxDomain, op, v, gpu, factory);
  };
  add("Identity", {1, 13, 14, 16, 19, 21, 23, 24, 25},
      [](const Node&, int64_t) -> tensor::KernelOr {
        return std::unique_ptr<Kernel>(new IdentityCudaKernel());
      });
  add("Reshape", {1, 5, 13, 14, 19, 21}, Wrap(tensor::CreateReshapeKernel, InputMemory::kWhereItIs));
  add("Flatten", {1, 9, 11, 13, 21}, Wrap(tensor::CreateFlattenKernel, InputMemory::kWhereItIs));
  add("Squeeze", {1, 11, 13, 21}, Wrap(tensor::CreateSqueezeKernel, InputMemory::kWhereItIs));
  add("Unsqueeze", {1, 11, 13, 21}, Wrap(tensor::CreateUnsqueezeKernel, InputMemory::kWhereItIs));
  add("Shape", {1, 13, 15, 19, 21}, Wrap(tensor::CreateShapeKernel, InputMemory::kShapeOnly));
  add("Size", {1, 13, 19, 21}, Wrap(tensor::CreateSizeKernel, InputMemory::kShapeOnly));
  add("Dropout", {1, 6, 7, 10, 12, 13, 22},
      [](const Node&, int64_t opset) -> tensor::KernelOr {
        return std::unique_ptr<Kernel>(new DropoutCudaKernel(opset));
      });
}

}  // namespace onyx::cuda
