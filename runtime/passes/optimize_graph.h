// The pass manager: which graph passes run at which optimization level.
#pragma once

#include "absl/status/status.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"

namespace onyx {

inline constexpr int kMaxOptLevel = 2;

// Rewrites `graph` for inference; graph input and output names never change.
//   0: nothing.
//   1: constant folding, Identity / inference Dropout removal, dead-node elimination.
//   2: also BatchNormalization folding into Conv/Gemm, pattern recognition
//      (Gelu, Swish, Mish, LayerNormalization subgraphs), bias-Add fusion into
//      MatMul and activation fusion into Conv/MatMul/Gemm (com.onyx Fused* ops).
// Passes only emit ops `registry` has kernels for on `device`. InvalidArgument
// for a level outside [0, 2] or a graph that is not a DAG of defined values.
absl::Status OptimizeGraph(Graph& graph, const OpRegistry& registry, int opt_level,
                           Device device = Device::kCpu);

}  // namespace onyx
