// Shape functions of the loss family. Class losses take scores [N, C, d1..dk]
// and labels [N, d1..dk]; elementwise losses a prediction and a target of one
// shape. The loss is [N, d1..dk] (class) or the prediction's shape
// (elementwise) for reduction "none", a scalar otherwise; every <op>Grad gives
// the gradient of its input 1 (the scores, log-probabilities or prediction).
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/loss/loss_common.h"
#include "ops/tensor/shape_fn_util.h"
#include "runtime/gradient.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

using tensor::Fail;
using tensor::InputType;
using tensor::RankedInput;

bool Conflict(const Dim& a, const Dim& b) {
  return a.is_fixed() && b.is_fixed() && a.value != b.value;
}

// Scores (input 0) against labels (input 1) and weights (input 2); returns the
// per-position dims [N, d1..dk] (empty with ok when the scores' rank is unknown).
absl::StatusOr<std::vector<Dim>> CheckClassInputs(const ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const TypeInfo* scores = RankedInput(ctx, 0);
  const TypeInfo* labels = RankedInput(ctx, 1);
  const TypeInfo* weights = RankedInput(ctx, 2);
  const DataType label_type = InputType(ctx, 1);
  if (label_type != DataType::kUndefined && label_type != DataType::kInt32 &&
      label_type != DataType::kInt64) {
    return Fail(node, absl::StrFormat("labels must be int32 or int64, got %s",
                                      DataTypeName(label_type)));
  }
  if (scores == nullptr) return std::vector<Dim>{};
  if (scores->dims.size() < 2) {
    return Fail(node, absl::StrFormat("scores must have shape [N, C, d1, ...], got %s",
                                      DimsToString(*scores)));
  }
  std::vector<Dim> positions = scores->dims;
  positions.erase(positions.begin() + 1);
  if (labels != nullptr) {
    bool ok = labels->dims.size() == positions.size();
    for (size_t i = 0; ok && i < positions.size(); ++i) {
      ok = !Conflict(labels->dims[i], positions[i]);
    }
    if (!ok) {
      return Fail(node, absl::StrFormat("labels must have shape %s for scores %s, got %s",
                                        DimsToString(positions), DimsToString(*scores),
                                        DimsToString(*labels)));
    }
  }
  if (weights != nullptr &&
      (weights->dims.size() != 1 || Conflict(weights->dims[0], scores->dims[1]))) {
    return Fail(node, absl::StrFormat("weights must have shape [C] = [%s], got %s",
                                      DimsToString(std::vector<Dim>{scores->dims[1]}),
                                      DimsToString(*weights)));
  }
  return positions;
}

// The loss output: `elementwise` dims for reduction none, a scalar otherwise.
absl::Status SetLoss(ShapeInferenceContext& ctx, DataType dtype, bool known,
                     std::vector<Dim> elementwise) {
  ONYX_ASSIGN_OR_RETURN(Reduction reduction, ReadReduction(ctx.node()));
  if (dtype == DataType::kUndefined) return absl::OkStatus();
  if (reduction != Reduction::kNone) {
    ctx.SetOutput(0, dtype, {});
  } else if (known) {
    ctx.SetOutput(0, dtype, std::move(elementwise));
  } else {
    ctx.SetOutputRankUnknown(0, dtype);
  }
  return absl::OkStatus();
}

absl::Status ClassLossFn(ShapeInferenceContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(std::vector<Dim> positions, CheckClassInputs(ctx));
  const DataType dtype = InputType(ctx, 0);
  ONYX_RETURN_IF_ERROR(SetLoss(ctx, dtype, RankedInput(ctx, 0) != nullptr, std::move(positions)));
  if (ctx.node().outputs.size() > 1) ctx.PropagateInput(1, 0);  // log_prob
  return absl::OkStatus();
}

absl::Status ElementwiseLossFn(ShapeInferenceContext& ctx) {
  const TypeInfo* pred = RankedInput(ctx, 0);
  const TypeInfo* target = RankedInput(ctx, 1);
  const DataType p = InputType(ctx, 0), t = InputType(ctx, 1);
  bool ok = p == DataType::kUndefined || t == DataType::kUndefined || p == t;
  if (pred != nullptr && target != nullptr) {
    ok = ok && pred->dims.size() == target->dims.size();
    for (size_t i = 0; ok && i < pred->dims.size(); ++i) {
      ok = !Conflict(pred->dims[i], target->dims[i]);
    }
  }
  if (!ok) {
    return Fail(ctx.node(), absl::StrFormat(
                                "target %s %s must match the prediction %s %s", DataTypeName(t),
                                target ? DimsToString(*target) : "?", DataTypeName(p),
                                pred ? DimsToString(*pred) : "?"));
  }
  return SetLoss(ctx, p, pred != nullptr, pred ? pred->dims : std::vector<Dim>{});
}

// <op>Grad(dloss, x, ...) -> dx shaped like x.
absl::Status LossGradFn(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 1);
  return absl::OkStatus();
}

}  // namespace

void RegisterLossShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnnxDomain, "SoftmaxCrossEntropyLoss", ClassLossFn);
  registry.RegisterShapeFn(kOnnxDomain, "NegativeLogLikelihoodLoss", ClassLossFn);
  registry.RegisterShapeFn(kOnyxDomain, "CrossEntropyLoss", ClassLossFn);
  for (const char* op : {"MseLoss", "BceLoss", "BceWithLogitsLoss"}) {
    registry.RegisterShapeFn(kOnyxDomain, op, ElementwiseLossFn);
  }
  for (const char* op : {"SoftmaxCrossEntropyLossGrad", "NegativeLogLikelihoodLossGrad",
                         "CrossEntropyLossGrad", "MseLossGrad", "BceLossGrad",
                         "BceWithLogitsLossGrad"}) {
    registry.RegisterShapeFn(kOnyxDomain, op, LossGradFn);
  }
}

}  // namespace onyx
