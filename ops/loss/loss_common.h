// Shared pieces of the loss family: the reduction attribute, the upstream
// gradient scale of a reduced loss, and the kernel factories registered in register.cc.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "runtime/tensor.h"

namespace onyx {

enum class Reduction { kNone, kSum, kMean };

// Attribute "reduction" ("none" | "sum" | "mean", default "mean");
// InvalidArgument naming the node for any other value.
absl::StatusOr<Reduction> ReadReduction(const Node& node);
const char* ReductionName(Reduction reduction);

// The upstream gradient of a reduced (scalar) loss as a double. `dloss` must
// hold exactly one float32/float64 element; InvalidArgument otherwise.
absl::StatusOr<double> ReadScalarGrad(const Node& node, const Tensor& dloss);

// Checks that the upstream gradient of a `none` reduction has `shape` and `dtype`.
absl::Status CheckElementwiseGrad(const Node& node, const Tensor& dloss, const Shape& shape,
                                  DataType dtype);

// Class-index losses (class_loss_cpu.cc), one code path:
//   SoftmaxCrossEntropyLoss (ONNX 12, 13), NegativeLogLikelihoodLoss (ONNX 12, 13, 22),
//   CrossEntropyLoss (com.onyx 1, torch.nn.CrossEntropyLoss incl. label_smoothing)
// and their backward ops (com.onyx 1) named <op>Grad.
absl::StatusOr<std::unique_ptr<Kernel>> CreateClassLossKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> CreateClassLossGradKernel(const Node& node, int64_t opset);

// Elementwise losses (elementwise_loss_cpu.cc): MseLoss, BceLoss, BceWithLogitsLoss
// (com.onyx 1) and their backward ops MseLossGrad, BceLossGrad, BceWithLogitsLossGrad.
absl::StatusOr<std::unique_ptr<Kernel>> CreateElementwiseLossKernel(const Node& node,
                                                                    int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> CreateElementwiseLossGradKernel(const Node& node,
                                                                        int64_t opset);

// Gradient builders (loss_grad.cc) of every loss above: each emits one <op>Grad
// node (com.onyx) giving the gradient w.r.t. input 0 only.
void RegisterLossGradients(OpRegistry& registry);
// Shape functions of every loss op and backward op above (shape_fns.cc).
void RegisterLossShapeFns(OpRegistry& registry);

}  // namespace onyx
