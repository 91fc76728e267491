// The CUDA kernels of every family, registered under Device::kCuda. Nodes
// without one run on the CPU kernel with copies (runtime/session.cc).
#include "ops/register_all.h"

namespace onyx {
namespace cuda {
void RegisterActivationCudaOps(OpRegistry& registry);  // ops/activation
}  // namespace cuda

void RegisterCudaOps(OpRegistry& registry) {
  cuda::RegisterActivationCudaOps(registry);
}

}  // namespace onyx
