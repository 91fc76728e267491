// Registration of the elementwise family: kernels (one hook per source file),
// backward ops (com.onyx), gradient builders and shape functions.
#include "ops/elementwise/elementwise_util.h"
#include "ops/register_all.h"

namespace onyx {
namespace elementwise {

void RegisterCpu(OpRegistry& registry, const char* op, std::initializer_list<int> versions,
                 KernelFactory factory) {
  for (int v : versions) registry.Register(kOnnxDomain, op, v, Device::kCpu, factory);
}

}  // namespace elementwise

void RegisterElementwiseOps(OpRegistry& registry) {
  elementwise::RegisterUnaryOps(registry);
  elementwise::RegisterUnaryGradOps(registry);
  elementwise::RegisterPowClipOps(registry);
  elementwise::RegisterModOps(registry);
  elementwise::RegisterVariadicOps(registry);
  elementwise::RegisterCompareOps(registry);
  elementwise::RegisterGatherCastOps(registry);
  elementwise::RegisterElementwiseGradients(registry);
  elementwise::RegisterElementwiseShapeFns(registry);
}

}  // namespace onyx
