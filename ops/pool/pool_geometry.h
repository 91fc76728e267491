// Pooling attributes (kernel_shape, strides, pads, auto_pad, dilations, ceil_mode,
// count_include_pad, storage_order, p) and the window geometry they give for one
// input shape. Shared by the forward kernels, the *Grad kernels and the ShapeFns.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/shape.h"

namespace onyx::pool {

// Spatial ranks handled by the windowed pools (1-D, 2-D and 3-D).
inline constexpr int kMaxSpatialRank = 3;

struct PoolAttrs {
  std::vector<int64_t> kernel;     // kernel_shape (required)
  std::vector<int64_t> strides;    // default 1
  std::vector<int64_t> dilations;  // default 1
  std::vector<int64_t> pads;       // [begin..., end...], default 0
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
  bool count_include_pad = false;  // AveragePool
  int64_t storage_order = 0;       // MaxPool Indices: 0 row-major, 1 column-major
  double p = 2;                    // LpPool
};

// Reads and validates the attributes (ONNX defaults applied); errors name the node.
absl::StatusOr<PoolAttrs> ParsePoolAttrs(const Node& node);

// One spatial axis: output size and the pads actually used (auto_pad resolved).
struct AxisGeometry {
  int64_t out = 0;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;
};
// Output size of spatial axis `axis` for an input extent `in`; InvalidArgument
// (naming the node) when the window does not fit.
absl::StatusOr<AxisGeometry> PoolAxis(const Node& node, const PoolAttrs& attrs, int axis,
                                      int64_t in);

// The window geometry of one input, spatial dims right-aligned into 3 slots
// (leading slots have extent 1, kernel 1): loops are always 3-deep.
struct PoolGeometry {
  int64_t planes = 0;  // N * C
  int spatial_rank = 0;
  std::array<int64_t, 3> in{1, 1, 1}, out{1, 1, 1}, kernel{1, 1, 1}, stride{1, 1, 1},
      dilation{1, 1, 1}, pad_begin{0, 0, 0}, pad_end{0, 0, 0};
  Shape output_shape;  // [N, C, out...]

  int64_t in_plane() const { return in[0] * in[1] * in[2]; }
  int64_t out_plane() const { return out[0] * out[1] * out[2]; }
};

// Geometry of input shape `x` ([N, C, D1..Dk], k in 1..3); errors name the node.
absl::StatusOr<PoolGeometry> MakePoolGeometry(const Node& node, const PoolAttrs& attrs,
                                              const Shape& x);

}  // namespace onyx::pool
