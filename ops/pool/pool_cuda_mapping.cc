// PoolGeometry -> cuDNN pooling descriptor arrays (see pool_cuda_mapping.h).
#include "ops/pool/pool_cuda_mapping.h"

#include <climits>
#include <string>

#include "absl/strings/str_format.h"

namespace onyx::pool {
namespace {

absl::Status NotForCudnn(const Node& node, const std::string& why) {
  return absl::UnimplementedError(absl::StrFormat(
      "%s: the cuDNN pooling kernel cannot run this pooling: %s", node.Describe(), why));
}

// Checks every value fits cuDNN's int and converts; 1-D gets a leading unit axis.
absl::StatusOr<CudnnPoolDims> Finish(const Node& node, const Shape& x, const Shape& y,
                                     std::vector<int64_t> window, std::vector<int64_t> pads,
                                     std::vector<int64_t> strides) {
  std::vector<int64_t> xs = x, ys = y;
  if (window.size() == 1) {
    xs.insert(xs.begin() + 2, 1);
    ys.insert(ys.begin() + 2, 1);
    window.insert(window.begin(), 1);
    pads.insert(pads.begin(), 0);
    strides.insert(strides.begin(), 1);
  }
  for (int64_t v : xs) {
    if (v < 1) {
      return NotForCudnn(node, absl::StrFormat("input %s is empty", ShapeToString(x)));
    }
  }
  CudnnPoolDims d;
  for (auto [from, to] : {std::pair{&xs, &d.x}, std::pair{&ys, &d.y}, std::pair{&window, &d.window},
                          std::pair{&pads, &d.pads}, std::pair{&strides, &d.strides}}) {
    for (int64_t v : *from) {
      if (v > INT_MAX) {
        return NotForCudnn(
            node, absl::StrFormat("input %s: a value beyond cuDNN's int range", ShapeToString(x)));
      }
      to->push_back(static_cast<int>(v));
    }
  }
  return d;
}

}  // namespace

absl::StatusOr<CudnnPoolDims> MapPoolToCudnn(const Node& node, const Shape& x,
                                             const PoolGeometry& g) {
  const int offset = kMaxSpatialRank - g.spatial_rank;
  std::vector<int64_t> window, pads, strides;
  for (int s = offset; s < kMaxSpatialRank; ++s) {
    const int axis = s - offset;
    if (g.dilation[s] != 1) {
      return NotForCudnn(node, absl::StrFormat("dilation %d on spatial axis %d (cuDNN pools "
                                               "have none)",
                                               g.dilation[s], axis));
    }
    if (g.pad_begin[s] != g.pad_end[s]) {
      return NotForCudnn(node, absl::StrFormat("spatial axis %d pads %d at the beginning and %d "
                                               "at the end (cuDNN pads both ends alike)",
                                               axis, g.pad_begin[s], g.pad_end[s]));
    }
    if (g.pad_begin[s] >= g.kernel[s]) {
      return NotForCudnn(node, absl::StrFormat("spatial axis %d: pad %d is not smaller than the "
                                               "window %d",
                                               axis, g.pad_begin[s], g.kernel[s]));
    }
    // cuDNN's output size is floor((in + 2 pad - window) / stride) + 1; a
    // ceil_mode output with one more window is not expressible.
    const int64_t floor_out = (g.in[s] + 2 * g.pad_begin[s] - g.kernel[s]) / g.stride[s] + 1;
    if (floor_out != g.out[s]) {
      return NotForCudnn(node, absl::StrFormat("spatial axis %d has %d outputs (ceil_mode); "
                                               "cuDNN computes %d",
                                               axis, g.out[s], floor_out));
    }
    window.push_back(g.kernel[s]);
    pads.push_back(g.pad_begin[s]);
    strides.push_back(g.stride[s]);
  }
  return Finish(node, x, g.output_shape, window, pads, strides);
}

absl::StatusOr<CudnnPoolDims> MapGlobalPoolToCudnn(const Node& node, const Shape& x) {
  if (x.size() < 3 || x.size() > 2 + kMaxSpatialRank) {
    return NotForCudnn(node, absl::StrFormat("input %s does not have 1 to %d spatial dims",
                                             ShapeToString(x), kMaxSpatialRank));
  }
  const std::vector<int64_t> window(x.begin() + 2, x.end());
  Shape y = {x[0], x[1]};
  y.resize(x.size(), 1);
  return Finish(node, x, y, window, std::vector<int64_t>(window.size(), 0),
                std::vector<int64_t>(window.size(), 1));
}

PoolGradDims ToPoolGradDims(const PoolGeometry& g) {
  PoolGradDims d;
  d.planes = g.planes;
  for (int s = 0; s < kMaxSpatialRank; ++s) {
    d.in[s] = g.in[s];
    d.out[s] = g.out[s];
    d.kernel[s] = g.kernel[s];
    d.stride[s] = g.stride[s];
    d.dilation[s] = g.dilation[s];
    d.pad_begin[s] = g.pad_begin[s];
    d.pad_end[s] = g.pad_end[s];
  }
  return d;
}

}  // namespace onyx::pool
