// Reduction parsing and upstream-gradient checks shared by every loss kernel.
#include "ops/loss/loss_common.h"

#include <string>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx {

absl::StatusOr<Reduction> ReadReduction(const Node& node) {
  ONYX_ASSIGN_OR_RETURN(std::string r, node.GetString("reduction", "mean"));
  if (r == "mean") return Reduction::kMean;
  if (r == "sum") return Reduction::kSum;
  if (r == "none") return Reduction::kNone;
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: attribute \"reduction\" must be none, sum or mean, got \"%s\"", node.Describe(), r));
}

const char* ReductionName(Reduction reduction) {
  switch (reduction) {
    case Reduction::kNone:
      return "none";
    case Reduction::kSum:
      return "sum";
    case Reduction::kMean:
      return "mean";
  }
  return "?";
}

absl::StatusOr<double> ReadScalarGrad(const Node& node, const Tensor& dloss) {
  if (dloss.num_elements() != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: the loss gradient of a reduced loss must be a scalar, got %s",
                        node.Describe(), dloss.DebugString()));
  }
  if (dloss.dtype() == DataType::kFloat32) return double{dloss.data<float>()[0]};
  if (dloss.dtype() == DataType::kFloat64) return dloss.data<double>()[0];
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: the loss gradient must be float32 or float64, got %s", node.Describe(),
                      DataTypeName(dloss.dtype())));
}

absl::Status CheckElementwiseGrad(const Node& node, const Tensor& dloss, const Shape& shape,
                                  DataType dtype) {
  if (dloss.dtype() != dtype || dloss.shape() != shape) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: with reduction none the loss gradient must be %s%s, got %s", node.Describe(),
        DataTypeName(dtype), ShapeToString(shape), dloss.DebugString()));
  }
  return absl::OkStatus();
}

}  // namespace onyx
