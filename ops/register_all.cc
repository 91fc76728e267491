// Fills a registry with every operator family (explicit: no static registrars).
#include "ops/register_all.h"

namespace onyx {

void RegisterAllOps(OpRegistry& registry) {
  RegisterActivationOps(registry);
  RegisterMathOps(registry);
  RegisterLossOps(registry);
  RegisterOptimOps(registry);
  RegisterTensorOps(registry);
  RegisterPoolOps(registry);
  RegisterNormOps(registry);
  RegisterElementwiseOps(registry);
  RegisterReduceOps(registry);
  RegisterConvOps(registry);
#if ONYX_CUDA
  RegisterCudaOps(registry);
#endif
  RegisterFusedOps(registry);  // last: aliases ONNX kernels registered above
}

const OpRegistry& DefaultRegistry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterAllOps(*r);
    return r;
  }();
  return *registry;
}

}  // namespace onyx
