// ConvGeometry -> cuDNN descriptor arrays (see conv_cuda_mapping.h).
#include "ops/conv/conv_cuda_mapping.h"

#include <climits>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace onyx::conv {
namespace {

absl::Status NotForCudnn(const Node& node, const std::string& why) {
  return absl::UnimplementedError(absl::StrFormat("%s: the cuDNN %s kernel cannot run this: %s",
                                                  node.Describe(), node.op_type, why));
}

bool FitsInt(const std::vector<int64_t>& values) {
  for (int64_t v : values) {
    if (v < 0 || v > INT_MAX) return false;
  }
  return true;
}

std::vector<int> ToInt(const std::vector<int64_t>& values) {
  return std::vector<int>(values.begin(), values.end());
}

// cuDNN's convolution of input [N, C, in...] by filter [M, C/group, kernel...]
// into [N, M, out...] with symmetric `pads`; `bias_channels` sizes the bias
// descriptor. A 1-D convolution gets a leading unit axis.
absl::StatusOr<CudnnConvDims> Pack(const Node& node, const ConvGeometry& g, int64_t c, int64_t m,
                                   std::vector<int64_t> in, std::vector<int64_t> out,
                                   int64_t bias_channels) {
  std::vector<int64_t> x = {g.batch, c}, w = {m, c / g.group}, y = {g.batch, m};
  std::vector<int64_t> pads = g.pads_begin, strides = g.strides, dilations = g.dilations;
  std::vector<int64_t> kernel = g.kernel;
  if (g.spatial == 1) {  // cuDNN wants at least 2 spatial axes
    in.insert(in.begin(), 1);
    kernel.insert(kernel.begin(), 1);
    out.insert(out.begin(), 1);
    pads.insert(pads.begin(), 0);
    strides.insert(strides.begin(), 1);
    dilations.insert(dilations.begin(), 1);
  }
  x.insert(x.end(), in.begin(), in.end());
  w.insert(w.end(), kernel.begin(), kernel.end());
  y.insert(y.end(), out.begin(), out.end());
  for (const std::vector<int64_t>* v : {&x, &w, &y, &pads, &strides, &dilations}) {
    if (!FitsInt(*v)) {
      return NotForCudnn(node, absl::StrFormat("X [%s], W [%s] or Y [%s] has a dim beyond "
                                               "cuDNN's int range",
                                               absl::StrJoin(x, ","), absl::StrJoin(w, ","),
                                               absl::StrJoin(y, ",")));
    }
  }
  if (g.batch < 1) return NotForCudnn(node, "the batch is empty");
  CudnnConvDims d;
  d.x = ToInt(x);
  d.w = ToInt(w);
  d.y = ToInt(y);
  d.bias.assign(d.x.size(), 1);
  d.bias[1] = static_cast<int>(bias_channels);
  d.pads = ToInt(pads);
  d.strides = ToInt(strides);
  d.dilations = ToInt(dilations);
  d.groups = static_cast<int>(g.group);
  return d;
}

}  // namespace

absl::StatusOr<CudnnConvDims> MapConvToCudnn(const Node& node, const ConvGeometry& g) {
  if (g.pads_begin != g.pads_end) {
    return NotForCudnn(
        node, absl::StrFormat("pads begin [%s] and end [%s] differ (cuDNN pads "
                              "both ends of an axis alike)",
                              absl::StrJoin(g.pads_begin, ","), absl::StrJoin(g.pads_end, ",")));
  }
  return Pack(node, g, g.in_channels, g.out_channels, g.in, g.out, g.out_channels);
}

absl::StatusOr<CudnnConvDims> MapConvTransposeToCudnn(const Node& node, const ConvGeometry& g) {
  for (int i = 0; i < g.spatial; ++i) {
    // The convolution over Y with pads_begin at both ends must give back X's
    // extent: floor((s (in - 1) + extra) / s) + 1 == in, i.e. 0 <= extra < s.
    const int64_t extra = g.pads_begin[i] - g.pads_end[i];
    if (g.pads_begin[i] < 0 || extra < 0 || extra >= g.strides[i]) {
      return NotForCudnn(
          node, absl::StrFormat("spatial axis %d pads %d at the beginning and %d at the end "
                                "(output_padding taken off): cuDNN pads both ends alike, so "
                                "the end may only fall short by less than the stride %d",
                                i, g.pads_begin[i], g.pads_end[i], g.strides[i]));
    }
  }
  // Y = the backward-data pass of Conv(Y', W) -> X: cuDNN's convolution input
  // is ConvTranspose's output [N, M, out...], its output ConvTranspose's X.
  return Pack(node, g, g.out_channels, g.in_channels, g.out, g.in, g.out_channels);
}

}  // namespace onyx::conv
