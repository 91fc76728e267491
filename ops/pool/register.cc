// Registration of the pool family: one line per (op, since_version, device), the
// versions where ONNX changed the op (attributes or types) up to opset 22.
#include "ops/pool/pool_kernels.h"
#include "ops/register_all.h"

namespace onyx {

void RegisterPoolOps(OpRegistry& registry) {
  using namespace pool;  // NOLINT: the family's own factories
  const Device cpu = Device::kCpu;
  const char* onnx = kOnnxDomain;
  for (int v : {1, 8, 10, 11, 12, 22})
    registry.Register(onnx, "MaxPool", v, cpu, CreateWindowPoolKernel);
  for (int v : {1, 7, 10, 11, 19, 22}) {
    registry.Register(onnx, "AveragePool", v, cpu, CreateWindowPoolKernel);
  }
  for (int v : {1, 2, 11, 18, 22})
    registry.Register(onnx, "LpPool", v, cpu, CreateWindowPoolKernel);
  for (int v : {1, 22}) {
    registry.Register(onnx, "GlobalAveragePool", v, cpu, CreateGlobalPoolKernel);
    registry.Register(onnx, "GlobalMaxPool", v, cpu, CreateGlobalPoolKernel);
  }
  for (int v : {1, 2, 22}) registry.Register(onnx, "GlobalLpPool", v, cpu, CreateGlobalPoolKernel);
  registry.Register(kOnyxDomain, "MaxPoolGrad", 1, cpu, CreatePoolGradKernel);
  registry.Register(kOnyxDomain, "AveragePoolGrad", 1, cpu, CreatePoolGradKernel);
  registry.Register(kOnyxDomain, "GlobalAveragePoolGrad", 1, cpu,
                    CreateGlobalAveragePoolGradKernel);
  RegisterPoolGradients(registry);
  RegisterPoolShapeFns(registry);
}

}  // namespace onyx
