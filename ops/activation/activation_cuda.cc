// CUDA kernels of the elementwise activations and their "<Op>Grad" backward
// ops (float32; other dtypes run on the CPU kernels through the fallback).
#include <cmath>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "ops/activation/activation_cuda.h"
#include "ops/activation/activation_math.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// The node's activation and attributes, ONNX defaults applied (as the CPU table).
absl::StatusOr<ActivationParams> ParamsFor(const Node& node, const std::string& op) {
  ActivationParams p;
  if (op == "Relu") {
    p.kind = Activation::kRelu;
  } else if (op == "LeakyRelu") {
    p.kind = Activation::kLeakyRelu;
    ONYX_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", 0.01f));
  } else if (op == "Sigmoid") {
    p.kind = Activation::kSigmoid;
  } else if (op == "Tanh") {
    p.kind = Activation::kTanh;
  } else if (op == "Softplus") {
    p.kind = Activation::kSoftplus;
  } else if (op == "Elu") {
    p.kind = Activation::kElu;
    ONYX_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", 1.f));
  } else if (op == "Selu") {
    p.kind = Activation::kSelu;
    ONYX_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", SeluFn{}.alpha));
    ONYX_ASSIGN_OR_RETURN(p.gamma, node.GetFloat("gamma", SeluFn{}.gamma));
  } else if (op == "Celu") {
    p.kind = Activation::kCelu;
    ONYX_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", 1.f));
    if (!(p.alpha != 0.f) || !std::isfinite(p.alpha)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: attribute alpha must be finite and non-zero, got %g", node.Describe(), p.alpha));
    }
  } else if (op == "Gelu") {
    ONYX_ASSIGN_OR_RETURN(std::string approximate, node.GetString("approximate", "none"));
    if (approximate != "none" && approximate != "tanh") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: attribute approximate must be \"none\" or \"tanh\", got \"%s\"",
          node.Describe(), approximate));
    }
    p.kind = approximate == "tanh" ? Activation::kGeluTanh : Activation::kGelu;
  } else if (op == "Mish") {
    p.kind = Activation::kMish;
  } else if (op == "HardSigmoid") {
    p.kind = Activation::kHardSigmoid;
    ONYX_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", 0.2f));
    ONYX_ASSIGN_OR_RETURN(p.beta, node.GetFloat("beta", 0.5f));
  } else if (op == "HardSwish") {
    p.kind = Activation::kHardSwish;
  } else if (op == "Swish") {
    p.kind = Activation::kSwish;
    ONYX_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", 1.f));
  } else if (op == "ThresholdedRelu") {
    p.kind = Activation::kThresholdedRelu;
    ONYX_ASSIGN_OR_RETURN(p.alpha, node.GetFloat("alpha", 1.f));
  } else {
    return absl::NotFoundError(
        absl::StrFormat("%s: no CUDA activation named %s", node.Describe(), op));
  }
  return p;
}

absl::Status RequireFloat(const Node& node, const Tensor& t, const char* what) {
  if (t.dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrFormat(
      "%s: the CUDA kernel takes float32 %s, got %s", node.Describe(), what, t.DebugString()));
}

class ActivationCudaKernel final : public Kernel {
 public:
  explicit ActivationCudaKernel(ActivationParams params) : params_(params) {}

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_RETURN_IF_ERROR(RequireFloat(ctx.node(), *x, "X"));
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kFloat32, x->shape()));
    return CudaStatus(ActivationForward(params_, x->data<float>(), y->data<float>(),
                                        x->num_elements(), backend->stream()),
                      "activation forward kernel");
  }

 private:
  ActivationParams params_;
};

class ActivationGradCudaKernel final : public Kernel {
 public:
  explicit ActivationGradCudaKernel(ActivationParams params) : params_(params) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* saved, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *dy, "dY"));
    if (saved->dtype() != dy->dtype() || saved->shape() != dy->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s and %s %s must have the same dtype and shape", node.Describe(),
          dy->DebugString(), BackwardReadsOutput(params_.kind) ? "Y" : "X",
          saved->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * dx,
                          ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kFloat32, dy->shape()));
    return CudaStatus(ActivationBackward(params_, dy->data<float>(), saved->data<float>(),
                                         dx->data<float>(), dy->num_elements(),
                                         backend->stream()),
                      "activation backward kernel");
  }

 private:
  ActivationParams params_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateActivationCudaKernel(const Node& node,
                                                                   int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(ActivationParams params, ParamsFor(node, node.op_type));
  return std::unique_ptr<Kernel>(new ActivationCudaKernel(params));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateActivationGradCudaKernel(const Node& node,
                                                                       int64_t opset) {
  if (!absl::EndsWith(node.op_type, "Grad")) {
    return absl::NotFoundError(absl::StrFormat("%s: not a gradient op", node.Describe()));
  }
  const std::string forward = node.op_type.substr(0, node.op_type.size() - 4);
  ONYX_ASSIGN_OR_RETURN(ActivationParams params, ParamsFor(node, forward));
  return std::unique_ptr<Kernel>(new ActivationGradCudaKernel(params));
}

}  // namespace

void RegisterActivationCudaOps(OpRegistry& registry) {
  const Device gpu = Device::kCuda;
  const char* onnx = kOnnxDomain;
  for (int v : {6, 13, 14}) registry.Register(onnx, "Relu", v, gpu, CreateActivationCudaKernel);
  for (int v : {6, 16}) registry.Register(onnx, "LeakyRelu", v, gpu, CreateActivationCudaKernel);
  for (int v : {6, 13}) registry.Register(onnx, "Sigmoid", v, gpu, CreateActivationCudaKernel);
  for (int v : {6, 13}) registry.Register(onnx, "Tanh", v, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "Softplus", 1, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "Elu", 6, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "Selu", 6, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "Celu", 12, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "Gelu", 20, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "Mish", 18, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "HardSigmoid", 6, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "HardSwish", 14, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "Swish", 24, gpu, CreateActivationCudaKernel);
  registry.Register(onnx, "ThresholdedRelu", 10, gpu, CreateActivationCudaKernel);
  for (const char* op : {"ReluGrad", "LeakyReluGrad", "SigmoidGrad", "TanhGrad", "SoftplusGrad",
                         "EluGrad", "SeluGrad", "CeluGrad", "GeluGrad", "MishGrad",
                         "HardSigmoidGrad", "HardSwishGrad", "SwishGrad", "ThresholdedReluGrad"}) {
    registry.Register(kOnyxDomain, op, 1, gpu, CreateActivationGradCudaKernel);
  }
}

}  // namespace onyx::cuda
