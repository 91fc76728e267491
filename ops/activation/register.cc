// Registration of the activation family (filled in as kernels land).
#include "ops/register_all.h"

namespace onyx {

void RegisterActivationOps(OpRegistry& registry) {}

}  // namespace onyx
