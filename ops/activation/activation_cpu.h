// CPU kernel factories of the activation family (registered in register.cc).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"

namespace onyx {

// Elementwise activations (Relu, LeakyRelu, Sigmoid, Tanh, Softplus, Elu, Selu,
// Celu, Gelu, Mish, HardSigmoid, HardSwish, Swish, ThresholdedRelu), chosen by
// node.op_type; attributes are read and checked here (ONNX defaults applied).
absl::StatusOr<std::unique_ptr<Kernel>> CreateEltwiseKernel(const Node& node, int64_t opset);
// "<Op>Grad" (domain com.onyx) of any op CreateEltwiseKernel takes: inputs
// (dY, X or Y: Y for Relu, Sigmoid, Tanh, X otherwise), the forward's attributes,
// output dX.
absl::StatusOr<std::unique_ptr<Kernel>> CreateEltwiseGradKernel(const Node& node, int64_t opset);
// Softmax / LogSoftmax with opset < 13 (2-D coercion) or >= 13 (single axis) meaning.
absl::StatusOr<std::unique_ptr<Kernel>> CreateSoftmaxKernel(const Node& node, int64_t opset);
// PRelu: slope unidirectionally broadcast to X.
absl::StatusOr<std::unique_ptr<Kernel>> CreatePReluKernel(const Node& node, int64_t opset);
// Identity: output 0 shares input 0's buffer (any dtype).
absl::StatusOr<std::unique_ptr<Kernel>> CreateIdentityKernel(const Node& node, int64_t opset);

}  // namespace onyx
