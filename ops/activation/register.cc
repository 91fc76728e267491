// Registration of the activation family: one line per (op, since_version, device).
// Lookup takes the highest since_version <= the model's opset, so each op is
// listed at the versions where ONNX changed it (or added types) up to opset 28.
#include "ops/activation/activation_cpu.h"
#include "ops/register_all.h"
#include "runtime/gradient.h"

namespace onyx {

// Defined in softmax_grad_cpu.cc, prelu_grad_cpu.cc and activation_grad.cc.
absl::StatusOr<std::unique_ptr<Kernel>> CreateSoftmaxGradKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> CreatePReluGradKernel(const Node& node, int64_t opset);
void RegisterActivationGradients(OpRegistry& registry);
void RegisterActivationShapeFns(OpRegistry& registry);  // shape_fns.cc

void RegisterActivationOps(OpRegistry& registry) {
  const Device cpu = Device::kCpu;
  const char* onnx = kOnnxDomain;
  for (int v : {6, 13, 14}) registry.Register(onnx, "Relu", v, cpu, CreateEltwiseKernel);
  for (int v : {6, 16}) registry.Register(onnx, "LeakyRelu", v, cpu, CreateEltwiseKernel);
  for (int v : {6, 13}) registry.Register(onnx, "Sigmoid", v, cpu, CreateEltwiseKernel);
  for (int v : {6, 13}) registry.Register(onnx, "Tanh", v, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "Softplus", 1, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "Elu", 6, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "Selu", 6, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "Celu", 12, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "Gelu", 20, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "Mish", 18, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "HardSigmoid", 6, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "HardSwish", 14, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "Swish", 24, cpu, CreateEltwiseKernel);
  registry.Register(onnx, "ThresholdedRelu", 10, cpu, CreateEltwiseKernel);
  for (int v : {1, 11, 13}) registry.Register(onnx, "Softmax", v, cpu, CreateSoftmaxKernel);
  for (int v : {1, 11, 13}) registry.Register(onnx, "LogSoftmax", v, cpu, CreateSoftmaxKernel);
  for (int v : {7, 9, 16}) registry.Register(onnx, "PRelu", v, cpu, CreatePReluKernel);
  for (int v : {1, 13, 14, 16, 19, 21, 23, 24, 25}) {
    registry.Register(onnx, "Identity", v, cpu, CreateIdentityKernel);
  }
  for (const char* op : {"ReluGrad", "LeakyReluGrad", "SigmoidGrad", "TanhGrad", "SoftplusGrad",
                         "EluGrad", "SeluGrad", "CeluGrad", "GeluGrad", "MishGrad",
                         "HardSigmoidGrad", "HardSwishGrad", "SwishGrad", "ThresholdedReluGrad"}) {
    registry.Register(kOnyxDomain, op, 1, cpu, CreateEltwiseGradKernel);
  }
  registry.Register(kOnyxDomain, "SoftmaxGrad", 1, cpu, CreateSoftmaxGradKernel);
  registry.Register(kOnyxDomain, "LogSoftmaxGrad", 1, cpu, CreateSoftmaxGradKernel);
  registry.Register(kOnyxDomain, "PReluGrad", 1, cpu, CreatePReluGradKernel);
  RegisterActivationGradients(registry);
  RegisterActivationShapeFns(registry);
}

}  // namespace onyx
