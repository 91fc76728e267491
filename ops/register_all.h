// The one list of operator families. Each family's Register function lives in
// ops/<family>/register.cc and registers every (op, opset, device) it provides.
#pragma once

#include "runtime/op_registry.h"

namespace onyx {

void RegisterActivationOps(OpRegistry& registry);  // ops/activation
void RegisterMathOps(OpRegistry& registry);        // ops/math
void RegisterLossOps(OpRegistry& registry);        // ops/loss
void RegisterOptimOps(OpRegistry& registry);       // ops/optim
void RegisterTensorOps(OpRegistry& registry);      // ops/tensor
void RegisterPoolOps(OpRegistry& registry);        // ops/pool
void RegisterNormOps(OpRegistry& registry);        // ops/norm
void RegisterElementwiseOps(OpRegistry& registry); // ops/elementwise
void RegisterReduceOps(OpRegistry& registry);      // ops/reduce
void RegisterConvOps(OpRegistry& registry);        // ops/conv
// The CUDA kernels of every family (ops/register_cuda.cc; ONYX_CUDA builds only).
void RegisterCudaOps(OpRegistry& registry);
// com.onyx ops of graph passes (ops/math/fused_*.cc); must run after the others.
void RegisterFusedOps(OpRegistry& registry);

// Registers every family.
void RegisterAllOps(OpRegistry& registry);
// A registry filled once by RegisterAllOps, shared by the CLI and tests.
const OpRegistry& DefaultRegistry();

}  // namespace onyx
