// Registration of the optim family: the ONNX training-domain optimizer ops, and
// (CUDA builds) the trainer's device optimizer kernels.
#include "ops/optim/optim_cpu.h"
#include "ops/register_all.h"

namespace onyx {
#ifdef ONYX_CUDA
namespace cuda {
// The trainer's device-resident step on CUDA (train_kernels_cuda.cc).
void RegisterOptimCudaTraining();
}  // namespace cuda
#endif

void RegisterOptimOps(OpRegistry& registry) {
  registry.Register(kTrainingDomain, "Adagrad", 1, Device::kCpu, MakeAdagradKernel);
  registry.Register(kTrainingDomain, "Adam", 1, Device::kCpu, MakeAdamKernel);
  registry.Register(kTrainingDomain, "Momentum", 1, Device::kCpu, MakeMomentumKernel);
  RegisterOptimShapeFns(registry);
#ifdef ONYX_CUDA
  cuda::RegisterOptimCudaTraining();
#endif
}

}  // namespace onyx
