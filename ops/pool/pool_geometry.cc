// Pooling attribute parsing and output-size arithmetic (ONNX / PyTorch rules).
#include "ops/pool/pool_geometry.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/status_macros.h"

namespace onyx::pool {
namespace {

// Largest extent or attribute value accepted: keeps every product below int64 range.
constexpr int64_t kMaxExtent = int64_t{1} << 31;

absl::Status CheckList(const Node& node, const char* name, const std::vector<int64_t>& v,
                       size_t size, int64_t min) {
  if (v.size() != size) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: attribute %s has %d values [%s], expected %d", node.Describe(), name,
                        v.size(), absl::StrJoin(v, ","), size));
  }
  for (int64_t x : v) {
    if (x < min || x > kMaxExtent) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: attribute %s = [%s] must hold values in [%d, %d]", node.Describe(),
                          name, absl::StrJoin(v, ","), min, kMaxExtent));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PoolAttrs> ParsePoolAttrs(const Node& node) {
  PoolAttrs a;
  ONYX_ASSIGN_OR_RETURN(a.kernel, node.GetInts("kernel_shape", {}));
  if (a.kernel.empty() || a.kernel.size() > kMaxSpatialRank) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: attribute kernel_shape must have 1 to %d values, got [%s]",
                        node.Describe(), kMaxSpatialRank, absl::StrJoin(a.kernel, ",")));
  }
  const size_t k = a.kernel.size();
  ONYX_RETURN_IF_ERROR(CheckList(node, "kernel_shape", a.kernel, k, 1));
  ONYX_ASSIGN_OR_RETURN(a.strides, node.GetInts("strides", std::vector<int64_t>(k, 1)));
  ONYX_RETURN_IF_ERROR(CheckList(node, "strides", a.strides, k, 1));
  ONYX_ASSIGN_OR_RETURN(a.dilations, node.GetInts("dilations", std::vector<int64_t>(k, 1)));
  ONYX_RETURN_IF_ERROR(CheckList(node, "dilations", a.dilations, k, 1));
  ONYX_ASSIGN_OR_RETURN(a.pads, node.GetInts("pads", std::vector<int64_t>(2 * k, 0)));
  ONYX_RETURN_IF_ERROR(CheckList(node, "pads", a.pads, 2 * k, 0));
  ONYX_ASSIGN_OR_RETURN(a.auto_pad, node.GetString("auto_pad", "NOTSET"));
  if (a.auto_pad != "NOTSET" && a.auto_pad != "VALID" && a.auto_pad != "SAME_UPPER" &&
      a.auto_pad != "SAME_LOWER") {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: auto_pad \"%s\" is not NOTSET, VALID, SAME_UPPER or SAME_LOWER",
                        node.Describe(), a.auto_pad));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t ceil_mode, node.GetInt("ceil_mode", 0));
  a.ceil_mode = ceil_mode != 0;
  ONYX_ASSIGN_OR_RETURN(int64_t include_pad, node.GetInt("count_include_pad", 0));
  a.count_include_pad = include_pad != 0;
  ONYX_ASSIGN_OR_RETURN(a.storage_order, node.GetInt("storage_order", 0));
  if (a.storage_order != 0 && a.storage_order != 1) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: storage_order must be 0 or 1, got %d",
                                                      node.Describe(), a.storage_order));
  }
  // LpPool-1 stores p as a float, later versions as an int.
  if (const Attribute* p = node.FindAttribute("p"); p != nullptr) {
    if (p->type == AttrType::kFloat) {
      a.p = p->f;
    } else {
      ONYX_ASSIGN_OR_RETURN(int64_t pi, node.GetInt("p", 2));
      a.p = static_cast<double>(pi);
    }
    if (!(a.p > 0) || a.p > 1e6) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: p must be positive, got %g", node.Describe(), a.p));
    }
  }
  return a;
}

absl::StatusOr<AxisGeometry> PoolAxis(const Node& node, const PoolAttrs& a, int axis, int64_t in) {
  const int k = static_cast<int>(a.kernel.size());
  const int64_t stride = a.strides[axis];
  const int64_t span = (a.kernel[axis] - 1) * a.dilations[axis] + 1;  // dilated window
  AxisGeometry g;
  if (in < 0 || in > kMaxExtent) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: spatial dim %d of the input is %d, outside [0, %d]", node.Describe(),
                        axis, in, kMaxExtent));
  }
  if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
    g.out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>(0, (g.out - 1) * stride + span - in);
    g.pad_begin = a.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    g.pad_end = total - g.pad_begin;
    return g;
  }
  if (a.auto_pad == "NOTSET") {
    g.pad_begin = a.pads[axis];
    g.pad_end = a.pads[axis + k];
  }
  const int64_t room = in + g.pad_begin + g.pad_end - span;
  if (room < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: the window (kernel %d, dilation %d) does not fit spatial dim %d of extent %d "
        "with pads %d+%d",
        node.Describe(), a.kernel[axis], a.dilations[axis], axis, in, g.pad_begin, g.pad_end));
  }
  g.out = (a.ceil_mode ? (room + stride - 1) / stride : room / stride) + 1;
  // PyTorch's rule (and ONNX's since opset 19 reference): the last window must
  // start inside the input or its begin padding, not wholly in the end padding.
  if (a.ceil_mode && (g.out - 1) * stride >= in + g.pad_begin) --g.out;
  return g;
}

absl::StatusOr<PoolGeometry> MakePoolGeometry(const Node& node, const PoolAttrs& a,
                                              const Shape& x) {
  const int k = static_cast<int>(a.kernel.size());
  if (static_cast<int>(x.size()) != k + 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input X has shape %s, expected rank %d (N, C and %d spatial dims of "
                        "kernel_shape)",
                        node.Describe(), ShapeToString(x), k + 2, k));
  }
  PoolGeometry g;
  g.spatial_rank = k;
  g.planes = x[0] * x[1];
  g.output_shape = {x[0], x[1]};
  const int offset = kMaxSpatialRank - k;
  for (int i = 0; i < k; ++i) {
    ONYX_ASSIGN_OR_RETURN(AxisGeometry axis, PoolAxis(node, a, i, x[i + 2]));
    const int s = offset + i;
    g.in[s] = x[i + 2];
    g.out[s] = axis.out;
    g.kernel[s] = a.kernel[i];
    g.stride[s] = a.strides[i];
    g.dilation[s] = a.dilations[i];
    g.pad_begin[s] = axis.pad_begin;
    g.pad_end[s] = axis.pad_end;
    g.output_shape.push_back(axis.out);
  }
  return g;
}

}  // namespace onyx::pool
