// Registration of the conv family: Conv, ConvTranspose, com.onyx FusedConv and
// ConvGrad on CPU, their shape functions and Conv's gradient builder.
#include "ops/conv/conv_kernels.h"
#include "ops/register_all.h"

namespace onyx {

void RegisterConvOps(OpRegistry& registry) {
  const Device cpu = Device::kCpu;
  // Conv and ConvTranspose changed only in types/docs at 11 (and 22: bfloat16).
  for (int v : {1, 11, 22}) registry.Register(kOnnxDomain, "Conv", v, cpu, conv::CreateConvKernel);
  for (int v : {1, 11, 22}) {
    registry.Register(kOnnxDomain, "ConvTranspose", v, cpu, conv::CreateConvTransposeKernel);
  }
  registry.Register(kOnyxDomain, "FusedConv", 1, cpu, conv::CreateConvKernel);
  registry.Register(kOnyxDomain, "FusedConvDw", 1, cpu, conv::CreateFusedConvDwKernel);
  registry.Register(kOnyxDomain, "ConvGrad", 1, cpu, conv::CreateConvGradKernel);
  conv::RegisterConvShapeFns(registry);
  conv::RegisterConvGradients(registry);
  conv::RegisterFusedConvDwShapeFn(registry);
}

}  // namespace onyx
