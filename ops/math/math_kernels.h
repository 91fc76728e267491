// Internal to ops/math: each kernel file's registration hook, called from
// RegisterMathOps in register.cc.
#pragma once

#include "runtime/op_registry.h"

namespace onyx::math {

void RegisterBinaryOps(OpRegistry& registry);  // binary_cpu.cc: Add Sub Mul Div
void RegisterMatMulOps(OpRegistry& registry);  // matmul_cpu.cc: MatMul
void RegisterGemmOps(OpRegistry& registry);    // gemm_cpu.cc: Gemm
// grad_ops_cpu.cc: com.onyx ReduceToShape Scale MatMulT MatMulGrad
void RegisterMathGradOps(OpRegistry& registry);
// math_grad.cc: gradient builders of MatMul Gemm Add Sub Mul Div
void RegisterMathGradients(OpRegistry& registry);
// shape_fns.cc: shape functions of every op above
void RegisterMathShapeFns(OpRegistry& registry);

}  // namespace onyx::math
