// Reduce* attribute parsing and axes resolution.
#include "ops/reduce/reduce_axes.h"

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx::reduce {

absl::StatusOr<ReduceAttrs> ParseReduceAttrs(const Node& node, const std::string& op,
                                             int64_t opset) {
  ReduceAttrs a;
  a.axes_from_input = opset >= (op == "ReduceSum" ? 13 : 18);
  ONYX_ASSIGN_OR_RETURN(int64_t keepdims, node.GetInt("keepdims", 1));
  a.keepdims = keepdims != 0;
  ONYX_ASSIGN_OR_RETURN(int64_t noop, node.GetInt("noop_with_empty_axes", 0));
  a.noop_with_empty_axes = noop != 0;
  if (!a.axes_from_input) {
    ONYX_ASSIGN_OR_RETURN(a.attr_axes, node.GetInts("axes", {}));
  } else if (node.FindAttribute("axes") != nullptr) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: attribute axes is not allowed at opset %d (axes is input 1)", node.Describe(),
        opset));
  }
  return a;
}

absl::StatusOr<std::vector<int64_t>> RawAxes(const Node& node, const ReduceAttrs& attrs,
                                             const Tensor* axes_input) {
  if (!attrs.axes_from_input) return attrs.attr_axes;
  if (axes_input == nullptr) return std::vector<int64_t>{};
  if (axes_input->dtype() != DataType::kInt64 || axes_input->rank() > 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: input axes must be a 1-D int64 tensor, got %s", node.Describe(),
        axes_input->DebugString()));
  }
  return std::vector<int64_t>(axes_input->data<int64_t>(),
                              axes_input->data<int64_t>() + axes_input->num_elements());
}

absl::StatusOr<std::vector<bool>> ReducedMask(const Node& node, const ReduceAttrs& attrs,
                                              const std::vector<int64_t>& axes, int rank) {
  if (axes.empty()) return std::vector<bool>(rank, !attrs.noop_with_empty_axes);
  std::vector<bool> mask(rank, false);
  for (int64_t axis : axes) {
    const int64_t a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: axis %d is out of range for an input of rank %d", node.Describe(), axis, rank));
    }
    if (mask[a]) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: axis %d is repeated", node.Describe(), axis));
    }
    mask[a] = true;
  }
  return mask;
}

Shape ReducedShape(const Shape& x, const std::vector<bool>& mask, bool keepdims) {
  Shape out;
  for (size_t d = 0; d < x.size(); ++d) {
    if (!mask[d]) {
      out.push_back(x[d]);
    } else if (keepdims) {
      out.push_back(1);
    }
  }
  return out;
}

}  // namespace onyx::reduce
