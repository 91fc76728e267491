// Registration of the math family: MatMul, Gemm, Add, Sub, Mul, Div on CPU, their
// backward ops (com.onyx) and gradient builders.
#include "ops/math/math_kernels.h"
#include "ops/register_all.h"

namespace onyx {

void RegisterMathOps(OpRegistry& registry) {
  math::RegisterBinaryOps(registry);
  math::RegisterMatMulOps(registry);
  math::RegisterGemmOps(registry);
  math::RegisterMathGradOps(registry);
  math::RegisterMathGradients(registry);
  math::RegisterMathShapeFns(registry);
}

}  // namespace onyx
