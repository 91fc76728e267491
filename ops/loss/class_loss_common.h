// What the CPU and CUDA kernels of the class-index losses share: the settled
// attributes (ClassLossConfig), the [N, C, D] view of the inputs with its
// checks, and the message of an out-of-range label.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ops/loss/loss_common.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace onyx {

// What distinguishes the three ops, settled once when the kernel is created.
//   per position i with label y (not ignored), lp = log_softmax(x) (softmax) or x (NLL):
//   l_i = -(1-eps)·w[y]·lp[y] - (eps/C)·Σ_c w[c]·lp[c]
//   none: l_i;  sum: Σ l_i;  mean: Σ l_i / Σ_{i not ignored} w[y_i]
// eps = 0 gives ONNX SoftmaxCrossEntropyLoss / NegativeLogLikelihoodLoss; eps > 0 is
// torch.nn.CrossEntropyLoss(label_smoothing=eps), whose smoothing term is also
// weighted per class and divided by the same denominator.
struct ClassLossConfig {
  bool softmax = true;  // scores are logits (SCE, CE) rather than log-probabilities (NLL)
  Reduction reduction = Reduction::kMean;
  bool has_ignore = false;
  int64_t ignore_index = 0;
  double label_smoothing = 0;
};

// `forward_op` is the node's op type with any "Grad" suffix removed (ForwardOpOf).
absl::StatusOr<ClassLossConfig> ReadClassLossConfig(const Node& node,
                                                    const std::string& forward_op);
// "CrossEntropyLossGrad" -> "CrossEntropyLoss"; other names unchanged.
std::string ForwardOpOf(const std::string& op_type);
// A backward node's attribute "input_kind": false for "log_prob" (the default),
// true for "scores" (the backward recomputes the softmax).
absl::StatusOr<bool> ReadScoresInput(const Node& node);

// Scores [N, C, d1..dk] viewed as [N, C, D] with D = d1·…·dk.
struct ClassLossGeometry {
  int64_t n = 0, c = 0, d = 1;
  int64_t rows() const { return n * d; }  // one label per (n, d)
};

// Scores [N, C, d1..dk] (float32/float64, else Unimplemented), labels
// [N, d1..dk] (int32/int64), optional weights [C] of the scores' dtype.
absl::StatusOr<ClassLossGeometry> CheckClassLossInputs(const Node& node, const Tensor& x,
                                                       const Tensor& labels, const Tensor* weights);

// InvalidArgument naming the node: `label` at position `position` is outside [0, C)
// and (when the op has one) is not the ignore_index.
absl::Status BadLabelError(const Node& node, const ClassLossConfig& cfg, const ClassLossGeometry& g,
                           int64_t label, int64_t position);

}  // namespace onyx
