// Registration of the loss family: one line per (op, since_version, device), then
// the gradient builders (loss_grad.cc). The CUDA kernels of the same ops are
// registered by RegisterLossCudaOps (loss_cuda.cc, called from ops/register_cuda.cc).
#include "ops/loss/loss_common.h"
#include "ops/register_all.h"

namespace onyx {

void RegisterLossOps(OpRegistry& registry) {
  const Device cpu = Device::kCpu;
  const char* onnx = kOnnxDomain;
  const char* onyx = kOnyxDomain;
  for (int v : {12, 13}) {
    registry.Register(onnx, "SoftmaxCrossEntropyLoss", v, cpu, CreateClassLossKernel);
  }
  for (int v : {12, 13, 22}) {
    registry.Register(onnx, "NegativeLogLikelihoodLoss", v, cpu, CreateClassLossKernel);
  }
  registry.Register(onyx, "CrossEntropyLoss", 1, cpu, CreateClassLossKernel);
  for (const char* op :
       {"SoftmaxCrossEntropyLossGrad", "NegativeLogLikelihoodLossGrad", "CrossEntropyLossGrad"}) {
    registry.Register(onyx, op, 1, cpu, CreateClassLossGradKernel);
  }
  for (const char* op : {"MseLoss", "BceLoss", "BceWithLogitsLoss"}) {
    registry.Register(onyx, op, 1, cpu, CreateElementwiseLossKernel);
  }
  for (const char* op : {"MseLossGrad", "BceLossGrad", "BceWithLogitsLossGrad"}) {
    registry.Register(onyx, op, 1, cpu, CreateElementwiseLossGradKernel);
  }
  RegisterLossGradients(registry);
  RegisterLossShapeFns(registry);
}

}  // namespace onyx
