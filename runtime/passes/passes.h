// Graph passes run by OptimizeGraph (runtime/passes/optimize_graph.h). Each
// rewrites `graph` in place, keeps every graph output's name and meaning, and
// returns whether it changed anything. Passes that emit ops check `registry`
// for a kernel on `device` first and leave the graph alone when there is none.
#pragma once

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"

namespace onyx::passes {

// Level 1 ------------------------------------------------------------------

// Evaluates nodes whose inputs are all constant (initializers, Constant nodes)
// with their kernels and stores the results as initializers; Shape and Size of
// values whose dims are statically known (graph.value_info) fold too, so
// Shape -> Gather -> Concat -> Reshape chains become constants. Random ops and
// Dropout are never folded; a result above `max_bytes` is left to run time.
absl::StatusOr<bool> FoldConstants(Graph& graph, const OpRegistry& registry,
                                   Device device = Device::kCpu,
                                   int64_t max_bytes = int64_t{64} << 20);

// Drops Identity and inference-mode Dropout (mask unused, training_mode absent
// or constant false) by rewiring their consumers to the input.
bool RemoveIdentityNodes(Graph& graph);

// Drops nodes no graph output depends on, then initializers nobody reads and
// value_info of values that no longer exist.
bool EliminateDeadNodes(Graph& graph);

// Level 2 ------------------------------------------------------------------

// Gather(Shape(x), constant indices) -> constant when the dims it reads are
// fixed, though other dims of x are symbolic (Shape -> Gather(2) of a
// [batch, 128, 256] value is 256). Run FoldConstants afterwards to fold what
// the new constants feed.
bool FoldStaticShapeGathers(Graph& graph);

// Conv -> BatchNormalization and Gemm -> BatchNormalization (inference mode,
// constant float32 parameters): the BN scale and shift are folded into new
// weight and bias initializers of the Conv/Gemm, which then writes the BN output.
bool FoldBatchNormalization(Graph& graph);

// x * 0.5 * (1 + Erf(x / sqrt(2))) (any of the usual association orders) ->
// Gelu (ONNX opset >= 20) or com.onyx Gelu.
bool FuseGelu(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);
// x * Sigmoid(x) -> Swish (ONNX opset >= 24) or com.onyx Swish.
bool FuseSwish(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);
// x * Tanh(Softplus(x)) -> Mish (ONNX opset >= 18) or com.onyx Mish.
bool FuseMish(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);
// ReduceMean -> Sub -> Pow(2) -> ReduceMean -> Add(eps) -> Sqrt -> Div
// [-> Mul(scale)] [-> Add(bias)] over trailing axes -> LayerNormalization
// (ONNX opset >= 17) or com.onyx LayerNormalization.
bool FuseLayerNorm(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);

// Multi-head self-attention of nn.MultiheadAttention exports (Slice q|k|v of a
// packed [L, N, 3E] projection -> Reshape -> Transpose -> [Div by constant] ->
// MatMul -> Softmax -> MatMul -> Transpose) -> com.onyx PackedAttention
// (attention_fusion.cc has the exact pattern).
bool FuseAttention(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);
// Gemm with a constant float32 B and transB=1 -> B^T as a new initializer and
// transB=0 (oneDNN repacks a transposed B on every call).
bool PretransposeGemmWeights(Graph& graph);
// MatMul(A, B) + bias (constant, one value per output column) -> com.onyx
// FusedMatMul(A, B, bias) for float32.
bool FuseMatMulBias(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);
// MatMul / FusedMatMul of A [d..., M, K] (rank >= 3) by a constant 2-D B: A is viewed
// as [d...*M, K] and the result reshaped back (Reshape views, no copies), so the
// kernel runs one GEMM instead of d... small ones (a [128, 1, 256] A was 128 GEMVs).
// Only when at most one dim of A is symbolic (it becomes the -1 of both Reshapes).
bool FlattenMatMulBatch(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);
// Conv [+ Add(Z)] [-> activation] -> com.onyx FusedConv; MatMul/FusedMatMul or
// Gemm -> activation -> com.onyx FusedMatMul / FusedGemm (float32). Activations:
// Relu, LeakyRelu, Sigmoid, Tanh, Elu, Gelu (both forms), Mish, Swish,
// HardSwish, Clip with constant bounds.
bool FuseActivations(Graph& graph, const OpRegistry& registry, Device device = Device::kCpu);
// Conv/FusedConv 1x1 (stride 1, no pads, one group, constant W) whose only
// reader is a 3x3 depthwise Conv/FusedConv (group = channels, pads 1, stride 1
// or 2, constant W) -> com.onyx FusedConvDw with both weights and activations.
// CPU only (oneDNN's depthwise post-op); run after FuseActivations.
bool FusePointwiseDepthwise(Graph& graph, const OpRegistry& registry,
                            Device device = Device::kCpu);

}  // namespace onyx::passes
