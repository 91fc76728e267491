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
// The CUDA kernels of every family (ops/register_cuda.cc; ONYX_CUDA builds only).
void RegisterCudaOps(OpRegistry& registry);

// Registers every family.
void RegisterAllOps(OpRegistry& registry);
// A registry filled once by RegisterAllOps, shared by the CLI and tests.
const OpRegistry& DefaultRegistry();

}  // namespace onyx
