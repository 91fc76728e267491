// Kernel factories of the ai.onnx.preview.training optimizer ops (CPU).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"

namespace onyx {

inline constexpr char kTrainingDomain[] = "ai.onnx.preview.training";

absl::StatusOr<std::unique_ptr<Kernel>> MakeAdagradKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> MakeAdamKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> MakeMomentumKernel(const Node& node, int64_t opset);

class OpRegistry;
// Shape functions of the three ops (shape_fns.cc).
void RegisterOptimShapeFns(OpRegistry& registry);

}  // namespace onyx
