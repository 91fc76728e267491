// Conv / ConvTranspose attribute parsing and geometry (pads, output sizes).
#include "ops/conv/conv_params.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/status_macros.h"

namespace onyx::conv {
namespace {

// Bounds that keep every size computation far from int64 overflow: attribute
// values (strides, dilations, pads...) and tensor dims beyond them are
// rejected as invalid rather than wrapped around.
constexpr int64_t kMaxAttrValue = int64_t{1} << 24;
constexpr int64_t kMaxDim = int64_t{1} << 40;

std::string List(const std::vector<int64_t>& v) {
  return absl::StrCat("[", absl::StrJoin(v, ","), "]");
}

absl::Status Invalid(const Node& node, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", node.Describe(), what));
}

// `values` (attribute `name`) or `fallback` repeated when absent; checks the
// length is `n` and each value is >= `min`.
absl::StatusOr<std::vector<int64_t>> PerAxis(const Node& node, const char* name,
                                             const std::vector<int64_t>& values, size_t n,
                                             int64_t fallback, int64_t min) {
  if (values.empty()) return std::vector<int64_t>(n, fallback);
  if (values.size() != n) {
    return Invalid(node, absl::StrFormat("attribute %s has %d values %s, expected %d (one per "
                                         "spatial axis)",
                                         name, values.size(), List(values), n));
  }
  for (int64_t v : values) {
    if (v < min || v > kMaxAttrValue) {
      return Invalid(node, absl::StrFormat("attribute %s is %s; every value must be in [%d, %d]",
                                           name, List(values), min, kMaxAttrValue));
    }
  }
  return values;
}

// Shared checks of X and W ranks; returns the number of spatial dims.
absl::StatusOr<int> CheckRanks(const Node& node, const Shape& x, const Shape& w) {
  if (x.size() < 3 || x.size() > 5) {
    return Invalid(node, absl::StrFormat("input X has shape %s; expected rank 3, 4 or 5 "
                                         "([N, C, D1..Dk], k = 1..3)",
                                         ShapeToString(x)));
  }
  if (w.size() != x.size()) {
    return Invalid(node, absl::StrFormat("input W has shape %s (rank %d) but X has shape %s "
                                         "(rank %d); W must have X's rank",
                                         ShapeToString(w), w.size(), ShapeToString(x), x.size()));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] > kMaxDim || w[i] > kMaxDim) {
      return Invalid(node, absl::StrFormat("inputs X %s and W %s: dims beyond %d are not "
                                           "supported",
                                           ShapeToString(x), ShapeToString(w), kMaxDim));
    }
  }
  for (size_t i = 1; i < x.size(); ++i) {
    if (x[i] == 0) {  // N may be 0 (an empty batch), channels and sizes not
      return Invalid(node, absl::StrFormat("input X has shape %s; channel and spatial dims "
                                           "must be >= 1",
                                           ShapeToString(x)));
    }
  }
  for (size_t i = 1; i < w.size(); ++i) {
    if (w[i] < 1) {
      return Invalid(node,
                     absl::StrFormat("input W has shape %s; dims after the first must be >= 1",
                                     ShapeToString(w)));
    }
  }
  return static_cast<int>(x.size()) - 2;
}

// Fills kernel, strides, dilations and the explicit pads of `g`.
absl::Status ResolveAxes(const Node& node, const ConvAttrs& attrs, const Shape& x, const Shape& w,
                         ConvGeometry& g) {
  const size_t k = g.spatial;
  g.in.assign(x.begin() + 2, x.end());
  g.kernel.assign(w.begin() + 2, w.end());
  if (!attrs.kernel_shape.empty() && attrs.kernel_shape != g.kernel) {
    return Invalid(node,
                   absl::StrFormat("attribute kernel_shape %s does not match W's spatial "
                                   "dims %s (W has shape %s)",
                                   List(attrs.kernel_shape), List(g.kernel), ShapeToString(w)));
  }
  ONYX_ASSIGN_OR_RETURN(g.strides, PerAxis(node, "strides", attrs.strides, k, 1, 1));
  ONYX_ASSIGN_OR_RETURN(g.dilations, PerAxis(node, "dilations", attrs.dilations, k, 1, 1));
  std::vector<int64_t> pads(2 * k, 0);
  if (!attrs.pads.empty()) {
    ONYX_ASSIGN_OR_RETURN(pads, PerAxis(node, "pads", attrs.pads, 2 * k, 0, 0));
  }
  g.pads_begin.assign(pads.begin(), pads.begin() + k);
  g.pads_end.assign(pads.begin() + k, pads.end());
  return absl::OkStatus();
}

}  // namespace

Shape ConvGeometry::OutputShape() const {
  Shape y = {batch, out_channels};
  y.insert(y.end(), out.begin(), out.end());
  return y;
}

std::vector<int64_t> ConvGeometry::DnnlDilations() const {
  std::vector<int64_t> d = dilations;
  for (int64_t& v : d) v -= 1;
  return d;
}

absl::StatusOr<ConvAttrs> ParseConvAttrs(const Node& node, bool transpose) {
  ConvAttrs a;
  a.transpose = transpose;
  ONYX_ASSIGN_OR_RETURN(const std::string auto_pad, node.GetString("auto_pad", "NOTSET"));
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    a.auto_pad = AutoPad::kNotSet;
  } else if (auto_pad == "SAME_UPPER") {
    a.auto_pad = AutoPad::kSameUpper;
  } else if (auto_pad == "SAME_LOWER") {
    a.auto_pad = AutoPad::kSameLower;
  } else if (auto_pad == "VALID") {
    a.auto_pad = AutoPad::kValid;
  } else {
    return Invalid(node, absl::StrFormat("attribute auto_pad is \"%s\"; expected NOTSET, "
                                         "SAME_UPPER, SAME_LOWER or VALID",
                                         auto_pad));
  }
  ONYX_ASSIGN_OR_RETURN(a.group, node.GetInt("group", 1));
  if (a.group < 1)
    return Invalid(node, absl::StrFormat("attribute group is %d, must be >= 1", a.group));
  ONYX_ASSIGN_OR_RETURN(a.kernel_shape, node.GetInts("kernel_shape", {}));
  ONYX_ASSIGN_OR_RETURN(a.strides, node.GetInts("strides", {}));
  ONYX_ASSIGN_OR_RETURN(a.dilations, node.GetInts("dilations", {}));
  ONYX_ASSIGN_OR_RETURN(a.pads, node.GetInts("pads", {}));
  if (transpose) {
    ONYX_ASSIGN_OR_RETURN(a.output_padding, node.GetInts("output_padding", {}));
    ONYX_ASSIGN_OR_RETURN(a.output_shape, node.GetInts("output_shape", {}));
  }
  return a;
}

absl::StatusOr<ConvGeometry> ResolveConv(const Node& node, const ConvAttrs& attrs, const Shape& x,
                                         const Shape& w) {
  ConvGeometry g;
  ONYX_ASSIGN_OR_RETURN(g.spatial, CheckRanks(node, x, w));
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = w[0];
  g.group = attrs.group;
  if (g.in_channels >= 0 && g.in_channels % g.group != 0) {
    return Invalid(node, absl::StrFormat("input X has %d channels (shape %s), which is not "
                                         "divisible by group %d",
                                         g.in_channels, ShapeToString(x), g.group));
  }
  if (g.in_channels >= 0 && w[1] * g.group != g.in_channels) {
    return Invalid(
        node, absl::StrFormat("input W has shape %s: dim 1 must be C / group = %d / "
                              "%d = %d",
                              ShapeToString(w), g.in_channels, g.group, g.in_channels / g.group));
  }
  if (g.out_channels % g.group != 0 || g.out_channels == 0) {
    return Invalid(node, absl::StrFormat("input W has shape %s: its %d output channels must be "
                                         "a positive multiple of group %d",
                                         ShapeToString(w), g.out_channels, g.group));
  }
  ONYX_RETURN_IF_ERROR(ResolveAxes(node, attrs, x, w, g));
  g.out.assign(g.spatial, -1);
  for (int i = 0; i < g.spatial; ++i) {
    const int64_t extent = (g.kernel[i] - 1) * g.dilations[i] + 1;  // dilated kernel
    const int64_t in = g.in[i];
    if (attrs.auto_pad == AutoPad::kValid) {
      g.pads_begin[i] = g.pads_end[i] = 0;
    } else if (attrs.auto_pad != AutoPad::kNotSet) {
      if (in < 0) continue;  // pads unknown until the input size is
      // SAME: out = ceil(in / stride); the odd pad goes to the end (UPPER) or
      // the beginning (LOWER).
      const int64_t out = (in + g.strides[i] - 1) / g.strides[i];
      const int64_t total = std::max<int64_t>(0, (out - 1) * g.strides[i] + extent - in);
      const int64_t small = total / 2;
      g.pads_begin[i] = attrs.auto_pad == AutoPad::kSameUpper ? small : total - small;
      g.pads_end[i] = total - g.pads_begin[i];
    }
    if (in < 0) continue;
    const int64_t padded = in + g.pads_begin[i] + g.pads_end[i];
    if (padded < extent) {
      return Invalid(node,
                     absl::StrFormat("spatial axis %d: the kernel (size %d, dilation %d: "
                                     "extent %d) is larger than the padded input (%d + "
                                     "pads %d + %d = %d); X %s, W %s",
                                     i, g.kernel[i], g.dilations[i], extent, in, g.pads_begin[i],
                                     g.pads_end[i], padded, ShapeToString(x), ShapeToString(w)));
    }
    g.out[i] = (padded - extent) / g.strides[i] + 1;
  }
  return g;
}

absl::StatusOr<ConvGeometry> ResolveConvTranspose(const Node& node, const ConvAttrs& attrs,
                                                  const Shape& x, const Shape& w) {
  ConvGeometry g;
  ONYX_ASSIGN_OR_RETURN(g.spatial, CheckRanks(node, x, w));
  g.batch = x[0];
  g.in_channels = x[1];
  g.group = attrs.group;
  g.out_channels = w[1] * g.group;
  if (g.in_channels >= 0 && g.in_channels != w[0]) {
    return Invalid(node, absl::StrFormat("input W has shape %s: dim 0 must equal X's %d "
                                         "channels (X has shape %s)",
                                         ShapeToString(w), g.in_channels, ShapeToString(x)));
  }
  if (w[0] % g.group != 0 || g.out_channels == 0) {
    return Invalid(node, absl::StrFormat("input X has %d channels (W %s), which is not a "
                                         "positive multiple of group %d",
                                         w[0], ShapeToString(w), g.group));
  }
  ONYX_RETURN_IF_ERROR(ResolveAxes(node, attrs, x, w, g));
  const size_t k = g.spatial;
  std::vector<int64_t> output_padding;
  ONYX_ASSIGN_OR_RETURN(output_padding,
                        PerAxis(node, "output_padding", attrs.output_padding, k, 0, 0));
  std::vector<int64_t> output_shape = attrs.output_shape;
  if (output_shape.size() == k + 2)
    output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  if (!output_shape.empty()) {
    ONYX_ASSIGN_OR_RETURN(output_shape, PerAxis(node, "output_shape", output_shape, k, 0, 1));
  }
  g.out.assign(k, -1);
  for (size_t i = 0; i < k; ++i) {
    if (output_padding[i] >= std::max(g.strides[i], g.dilations[i])) {
      return Invalid(node, absl::StrFormat("attribute output_padding %s: each value must be "
                                           "smaller than its stride or dilation",
                                           List(output_padding)));
    }
    const int64_t extent = (g.kernel[i] - 1) * g.dilations[i] + 1;
    const int64_t in = g.in[i];
    if (in < 0) continue;
    // Output size with no padding at all.
    const int64_t full = g.strides[i] * (in - 1) + output_padding[i] + extent;
    const bool same =
        attrs.auto_pad == AutoPad::kSameUpper || attrs.auto_pad == AutoPad::kSameLower;
    if (!output_shape.empty() || same) {
      // Pads follow from the wanted size: output_shape, or in * stride for SAME.
      const int64_t wanted = !output_shape.empty() ? output_shape[i] : in * g.strides[i];
      const int64_t total = full - wanted;
      const int64_t half = total / 2;
      // SAME_UPPER puts the odd pad at the end; SAME_LOWER and explicit
      // output_shape at the beginning (ONNX ConvTranspose spec).
      g.pads_begin[i] = attrs.auto_pad == AutoPad::kSameUpper ? half : total - half;
      g.pads_end[i] = total - g.pads_begin[i];
      if (total < 0) {  // larger than the input reaches: extra rows at the end
        g.pads_begin[i] = 0;
        g.pads_end[i] = total;
      }
    } else if (attrs.auto_pad == AutoPad::kValid) {
      g.pads_begin[i] = g.pads_end[i] = 0;
    }
    g.out[i] = full - g.pads_begin[i] - g.pads_end[i];
    if (g.out[i] < 1) {
      return Invalid(node, absl::StrFormat("spatial axis %d: output size %d (input %d, stride "
                                           "%d, kernel extent %d, pads %d + %d) must be >= 1",
                                           i, g.out[i], in, g.strides[i], extent, g.pads_begin[i],
                                           g.pads_end[i]));
    }
    g.pads_end[i] -= output_padding[i];  // oneDNN has no output_padding
  }
  return g;
}

}  // namespace onyx::conv
