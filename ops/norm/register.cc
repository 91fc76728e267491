// Registration of the norm family: one line per (op, since_version, device), the
// versions where ONNX changed the op (attributes or types).
#include "ops/norm/norm_util.h"
#include "ops/register_all.h"

namespace onyx {

void RegisterNormOps(OpRegistry& registry) {
  using namespace norm;  // NOLINT: the family's own factories
  const Device cpu = Device::kCpu;
  const char* onnx = kOnnxDomain;
  for (int v : {1, 6, 7, 9, 14, 15}) {
    registry.Register(onnx, "BatchNormalization", v, cpu, CreateBatchNormKernel);
  }
  registry.Register(onnx, "LayerNormalization", 17, cpu, CreateLayerNormKernel);
  for (int v : {1, 6, 22}) {
    registry.Register(onnx, "InstanceNormalization", v, cpu, CreateInstanceNormKernel);
  }
  for (int v : {1, 13}) registry.Register(onnx, "LRN", v, cpu, CreateLrnKernel);
  registry.Register(kOnyxDomain, "BatchNormalizationGrad", 1, cpu, CreateBatchNormGradKernel);
  registry.Register(kOnyxDomain, "LayerNormalizationGrad", 1, cpu, CreateLayerNormGradKernel);
  registry.Register(kOnyxDomain, "InstanceNormalizationGrad", 1, cpu, CreateInstanceNormGradKernel);
  RegisterNormGradients(registry);
  RegisterNormShapeFns(registry);
}

}  // namespace onyx
