// Internal to ops/pool: kernel factories, gradient builders and shape functions,
// each defined in its own file and registered from register.cc.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"

namespace onyx::pool {

// pool_cpu.cc: MaxPool (Y and optional Indices), AveragePool, LpPool.
absl::StatusOr<std::unique_ptr<Kernel>> CreateWindowPoolKernel(const Node& node, int64_t opset);
// global_pool_cpu.cc: GlobalAveragePool, GlobalMaxPool, GlobalLpPool and
// com.onyx GlobalAveragePoolGrad (dY, X) -> dX.
absl::StatusOr<std::unique_ptr<Kernel>> CreateGlobalPoolKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> CreateGlobalAveragePoolGradKernel(const Node& node,
                                                                          int64_t opset);
// pool_grad_cpu.cc: com.onyx MaxPoolGrad / AveragePoolGrad (dY, X) -> dX with the
// forward's attributes.
absl::StatusOr<std::unique_ptr<Kernel>> CreatePoolGradKernel(const Node& node, int64_t opset);
// pool_grad.cc: gradient builders of MaxPool, AveragePool, GlobalAveragePool.
void RegisterPoolGradients(OpRegistry& registry);
// pool_shape.cc: ShapeFns of every op above.
void RegisterPoolShapeFns(OpRegistry& registry);

}  // namespace onyx::pool
