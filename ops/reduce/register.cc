// Registration of the reduce family: Reduce* and Arg* kernels, ReduceGrad
// (com.onyx) with the gradient builders, and shape functions.
#include "ops/reduce/reduce_axes.h"
#include "ops/register_all.h"

namespace onyx {

void RegisterReduceOps(OpRegistry& registry) {
  reduce::RegisterReduceKernels(registry);
  reduce::RegisterArgKernels(registry);
  reduce::RegisterReduceGradients(registry);
  reduce::RegisterReduceShapeFns(registry);
}

}  // namespace onyx
