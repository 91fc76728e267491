// Registration of the math family (filled in as kernels land).
#include "ops/register_all.h"

namespace onyx {

void RegisterMathOps(OpRegistry& registry) {}

}  // namespace onyx
