// Registration of the optim family: the ONNX training-domain optimizer ops.
#include "ops/optim/optim_cpu.h"
#include "ops/register_all.h"

namespace onyx {

void RegisterOptimOps(OpRegistry& registry) {
  registry.Register(kTrainingDomain, "Adagrad", 1, Device::kCpu, MakeAdagradKernel);
  registry.Register(kTrainingDomain, "Adam", 1, Device::kCpu, MakeAdamKernel);
  registry.Register(kTrainingDomain, "Momentum", 1, Device::kCpu, MakeMomentumKernel);
  RegisterOptimShapeFns(registry);
}

}  // namespace onyx
