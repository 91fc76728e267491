// Clip (6: min/max attributes; 11, 12, 13: optional scalar min/max inputs, read
// on the host) and com.onyx ClipGrad on CUDA, float32; other dtypes say
// Unimplemented and the session runs the CPU kernel. Bounds and NaN rules as
// pow_clip_cpu.cc.
#include <limits>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/elementwise/clip_cuda.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// Overrides `lo` / `hi` with the host-side bound inputs `first` and first + 1
// when present (one-element float32 tensors, as the CPU kernel requires).
absl::Status ReadBounds(const KernelContext& ctx, int first, float& lo, float& hi) {
  for (int k = 0; k < 2; ++k) {
    const Tensor* t = ctx.input(first + k);
    if (t == nullptr) continue;
    if (t->dtype() != DataType::kFloat32 || t->num_elements() != 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input %s must be a one-element float32 tensor, got %s", ctx.node().Describe(),
          k == 0 ? "min" : "max", t->DebugString()));
    }
    (k == 0 ? lo : hi) = t->data<float>()[0];
  }
  return absl::OkStatus();
}

class ClipCudaKernel final : public Kernel {
 public:
  ClipCudaKernel(int64_t opset, float lo, float hi) : opset_(opset), lo_(lo), hi_(hi) {}
  InputMemory input_memory(int i) const override {
    return i == 0 ? InputMemory::kDevice : InputMemory::kHost;  // min, max
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *x, "X"));
    float lo = lo_, hi = hi_;
    if (opset_ >= 11) ONYX_RETURN_IF_ERROR(ReadBounds(ctx, 1, lo, hi));
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kFloat32, x->shape()));
    return CudaStatus(ClipForward(x->data<float>(), lo, hi, y->data<float>(), x->num_elements(),
                                  backend->stream()),
                      "Clip kernel");
  }

 private:
  int64_t opset_;
  float lo_, hi_;
};

// ClipGrad(dY, X, [min], [max]) -> dX = dY where lo <= x <= hi, else 0; the
// forward's opset-6 attributes are copied onto the node.
class ClipGradCudaKernel final : public Kernel {
 public:
  ClipGradCudaKernel(float lo, float hi) : lo_(lo), hi_(hi) {}
  InputMemory input_memory(int i) const override {
    return i < 2 ? InputMemory::kDevice : InputMemory::kHost;  // min, max
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *dy, "dY"));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *x, "X"));
    if (dy->shape() != x->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s and X %s must have the same dtype and shape", node.Describe(),
          dy->DebugString(), x->DebugString()));
    }
    float lo = lo_, hi = hi_;
    ONYX_RETURN_IF_ERROR(ReadBounds(ctx, 2, lo, hi));
    ONYX_ASSIGN_OR_RETURN(Tensor * dx,
                          ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kFloat32, x->shape()));
    return CudaStatus(ClipBackward(dy->data<float>(), x->data<float>(), lo, hi, dx->data<float>(),
                                   x->num_elements(), backend->stream()),
                      "ClipGrad kernel");
  }

 private:
  float lo_, hi_;
};

// The CPU kernels' defaults: opset 6 reads the attributes (absent: no clip);
// 11+ starts from ±inf. ClipGrad's absent attributes are float's limits.
absl::StatusOr<std::unique_ptr<Kernel>> MakeClip(const Node& node, int64_t opset) {
  float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
  if (opset < 11) {
    ONYX_ASSIGN_OR_RETURN(lo, node.GetFloat("min", std::numeric_limits<float>::lowest()));
    ONYX_ASSIGN_OR_RETURN(hi, node.GetFloat("max", std::numeric_limits<float>::max()));
  }
  return std::unique_ptr<Kernel>(new ClipCudaKernel(opset, lo, hi));
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeClipGrad(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(float lo, node.GetFloat("min", std::numeric_limits<float>::lowest()));
  ONYX_ASSIGN_OR_RETURN(float hi, node.GetFloat("max", std::numeric_limits<float>::max()));
  return std::unique_ptr<Kernel>(new ClipGradCudaKernel(lo, hi));
}

}  // namespace

void RegisterClipCudaOps(OpRegistry& registry) {
  for (int v : {6, 11, 12, 13}) registry.Register(kOnnxDomain, "Clip", v, Device::kCuda, MakeClip);
  registry.Register(kOnyxDomain, "ClipGrad", 1, Device::kCuda, MakeClipGrad);
}

}  // namespace onyx::cuda
