// OptimizeGraph: runs the passes of each level in a fixed order.
#include "runtime/passes/optimize_graph.h"

#include "absl/strings/str_format.h"
#include "runtime/passes/passes.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx {

absl::Status OptimizeGraph(Graph& graph, const OpRegistry& registry, int opt_level,
                           Device device) {
  if (opt_level < 0 || opt_level > kMaxOptLevel) {
    return absl::InvalidArgumentError(
        absl::StrFormat("optimization level must be 0, 1 or 2, got %d", opt_level));
  }
  if (opt_level == 0) return absl::OkStatus();
  // FoldConstants first orders the graph (InferShapes), so a graph that is not a
  // DAG of defined values fails here as the session would report it.
  // Folding always evaluates on the CPU: its results become host initializers.
  ONYX_RETURN_IF_ERROR(passes::FoldConstants(graph, registry, Device::kCpu).status());
  passes::RemoveIdentityNodes(graph);
  passes::EliminateDeadNodes(graph);
  if (opt_level < 2) return absl::OkStatus();

  // Shapes of what is left (FoldConstants inferred them before folding).
  ONYX_RETURN_IF_ERROR(InferShapes(graph, registry));
  if (passes::FoldStaticShapeGathers(graph)) {
    ONYX_RETURN_IF_ERROR(passes::FoldConstants(graph, registry, Device::kCpu).status());
    passes::EliminateDeadNodes(graph);  // Shape nodes left without readers
  }
  passes::FoldBatchNormalization(graph);
  // Patterns first: the single ops they produce can then join a fusion.
  passes::FuseGelu(graph, registry, device);
  passes::FuseSwish(graph, registry, device);
  passes::FuseMish(graph, registry, device);
  passes::FuseLayerNorm(graph, registry, device);
  passes::FuseAttention(graph, registry, device);
  passes::PretransposeGemmWeights(graph);
  passes::FuseMatMulBias(graph, registry, device);
  passes::FuseActivations(graph, registry, device);
  passes::FusePointwiseDepthwise(graph, registry, device);
  passes::FlattenMatMulBatch(graph, registry, device);
  passes::EliminateDeadNodes(graph);
  return absl::OkStatus();
}

}  // namespace onyx
