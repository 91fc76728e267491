// Conv / ConvTranspose attributes (ONNX defaults applied) and the geometry they
// give for concrete input shapes: resolved pads, kernel and output sizes. Shared
// by the kernels, the gradient kernels and the shape functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/shape.h"

namespace onyx::conv {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

struct ConvAttrs {
  bool transpose = false;  // ConvTranspose semantics
  AutoPad auto_pad = AutoPad::kNotSet;
  int64_t group = 1;
  // Empty when the attribute is absent (the default depends on the rank).
  std::vector<int64_t> kernel_shape, strides, dilations, pads;
  std::vector<int64_t> output_padding, output_shape;  // ConvTranspose only
};

// Reads the attributes of `node` (Conv, FusedConv, ConvTranspose, ConvGrad);
// InvalidArgument naming the node for an unknown auto_pad or group < 1.
absl::StatusOr<ConvAttrs> ParseConvAttrs(const Node& node, bool transpose);

// The convolution of one (X, W) pair. Dims of X other than C may be -1
// (unknown, shape inference only); output sizes that depend on them are -1.
struct ConvGeometry {
  int spatial = 0;           // number of spatial dims (1, 2 or 3)
  int64_t batch = 0;         // N
  int64_t in_channels = 0;   // C
  int64_t out_channels = 0;  // M
  int64_t group = 1;
  std::vector<int64_t> in, kernel, strides, dilations, pads_begin, pads_end, out;

  // X, W and Y shapes (Y from `out`).
  Shape OutputShape() const;
  // oneDNN wants dilation - 1 per spatial dim.
  std::vector<int64_t> DnnlDilations() const;
};

// Resolves Conv geometry: X [N, C, D1..Dk], W [M, C/group, K1..Kk]; checks
// ranks, channel and group divisibility, attribute lengths and values, and
// that the (dilated) kernel fits the padded input. Errors name the node.
absl::StatusOr<ConvGeometry> ResolveConv(const Node& node, const ConvAttrs& attrs, const Shape& x,
                                         const Shape& w);

// ConvTranspose: X [N, C, D1..Dk], W [C, M/group, K1..Kk], Y [N, M, ...].
// pads_end is already reduced by output_padding (it may be negative: the
// extra rows receive only the bias).
absl::StatusOr<ConvGeometry> ResolveConvTranspose(const Node& node, const ConvAttrs& attrs,
                                                  const Shape& x, const Shape& w);

}  // namespace onyx::conv
