// Attribute parsing and input checks shared by the CPU (class_loss_cpu.cc) and
// CUDA (loss_cuda.cc) kernels of the class-index losses.
#include "ops/loss/class_loss_common.h"

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx {

absl::StatusOr<ClassLossConfig> ReadClassLossConfig(const Node& node,
                                                    const std::string& forward_op) {
  ClassLossConfig cfg;
  cfg.softmax = forward_op != "NegativeLogLikelihoodLoss";
  ONYX_ASSIGN_OR_RETURN(cfg.reduction, ReadReduction(node));
  if (forward_op == "CrossEntropyLoss") {
    // torch defaults: ignore_index = -100, label_smoothing = 0 (must lie in [0, 1]).
    cfg.has_ignore = true;
    ONYX_ASSIGN_OR_RETURN(cfg.ignore_index, node.GetInt("ignore_index", -100));
    ONYX_ASSIGN_OR_RETURN(float eps, node.GetFloat("label_smoothing", 0.f));
    if (!(eps >= 0.f && eps <= 1.f)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: label_smoothing must lie in [0, 1], got %g", node.Describe(), eps));
    }
    cfg.label_smoothing = eps;
  } else if (node.FindAttribute("ignore_index") != nullptr) {
    // ONNX: ignore_index is optional and has no default.
    cfg.has_ignore = true;
    ONYX_ASSIGN_OR_RETURN(cfg.ignore_index, node.GetInt("ignore_index", 0));
  }
  return cfg;
}

std::string ForwardOpOf(const std::string& op_type) {
  if (!absl::EndsWith(op_type, "Grad")) return op_type;
  return op_type.substr(0, op_type.size() - 4);
}

absl::StatusOr<bool> ReadScoresInput(const Node& node) {
  ONYX_ASSIGN_OR_RETURN(std::string kind, node.GetString("input_kind", "log_prob"));
  if (kind != "log_prob" && kind != "scores") {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: attribute \"input_kind\" must be log_prob or scores, got \"%s\"",
                        node.Describe(), kind));
  }
  return kind == "scores";
}

absl::StatusOr<ClassLossGeometry> CheckClassLossInputs(const Node& node, const Tensor& x,
                                                       const Tensor& labels,
                                                       const Tensor* weights) {
  if (x.dtype() != DataType::kFloat32 && x.dtype() != DataType::kFloat64) {
    return absl::UnimplementedError(
        absl::StrFormat("%s: no kernel for scores of dtype %s (float32, float64 supported)",
                        node.Describe(), DataTypeName(x.dtype())));
  }
  if (x.rank() < 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: scores must have shape [N, C, d1, ...], got %s", node.Describe(), x.DebugString()));
  }
  if (labels.dtype() != DataType::kInt32 && labels.dtype() != DataType::kInt64) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: labels must be int32 or int64, got %s",
                                                      node.Describe(),
                                                      DataTypeName(labels.dtype())));
  }
  Shape expected = x.shape();
  expected.erase(expected.begin() + 1);
  if (labels.shape() != expected) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: labels must have shape %s for scores %s, got %s", node.Describe(),
        ShapeToString(expected), ShapeToString(x.shape()), ShapeToString(labels.shape())));
  }
  ClassLossGeometry g;
  g.n = x.dim(0);
  g.c = x.dim(1);
  for (int i = 2; i < x.rank(); ++i) g.d *= x.dim(i);
  if (weights != nullptr && (weights->dtype() != x.dtype() || weights->shape() != Shape{g.c})) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: weights must be %s[%d], got %s",
                                                      node.Describe(), DataTypeName(x.dtype()), g.c,
                                                      weights->DebugString()));
  }
  return g;
}

absl::Status BadLabelError(const Node& node, const ClassLossConfig& cfg, const ClassLossGeometry& g,
                           int64_t label, int64_t position) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: label %d at position %d is outside [0, C) with C = %d%s", node.Describe(), label,
      position, g.c,
      cfg.has_ignore ? absl::StrFormat(" and is not ignore_index %d", cfg.ignore_index)
                     : std::string()));
}

}  // namespace onyx
