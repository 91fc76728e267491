// ConvGeometry -> cuDNN descriptor arrays (see conv_cuda_mapping.h).
#include "ops/conv/conv_cuda_mapping.h"

#include <algorithm>
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
  // cuDNN's convolution input, per axis: L rows that pads_begin at both ends
  // and the kernel map back to X's extent, floor((L + 2 pb - extent) / s) + 1
  // == in, i.e. L in [lo, lo + s - 1]. Y's row o is row o of that input (both
  // start pads_begin before the first window), so Y is its leading block; an
  // L other than Y's extent means a scratch buffer and a copy (see the header).
  std::vector<int64_t> rows(g.spatial);
  for (int i = 0; i < g.spatial; ++i) {
    const int64_t extent = (g.kernel[i] - 1) * g.dilations[i] + 1;
    const int64_t lo = g.strides[i] * (g.in[i] - 1) + extent - 2 * g.pads_begin[i];
    if (g.pads_begin[i] < 0 || lo < 1) {
      return NotForCudnn(node, absl::StrFormat("spatial axis %d: pad %d at the beginning reaches "
                                               "past the %d rows the windows cover",
                                               i, g.pads_begin[i], lo + 2 * g.pads_begin[i]));
    }
    const int64_t hi = lo + g.strides[i] - 1;
    // Past hi, Y's rows must get no window: the last window ends at row
    // lo + pads_begin - 1 of cuDNN's input.
    if (g.out[i] > hi && g.pads_begin[i] >= g.strides[i]) {
      return NotForCudnn(node, absl::StrFormat("spatial axis %d: %d output rows with pads %d "
                                               "and %d (output_padding taken off); cuDNN maps "
                                               "at most %d back to the input",
                                               i, g.out[i], g.pads_begin[i], g.pads_end[i], hi));
    }
    rows[i] = std::min(std::max(g.out[i], lo), hi);
  }
  // The backward-data pass of Conv(Y', W) -> X: cuDNN's convolution input is
  // ConvTranspose's output [N, M, rows...], its output ConvTranspose's X.
  return Pack(node, g, g.out_channels, g.in_channels, rows, g.in, g.out_channels);
}

}  // namespace onyx::conv
