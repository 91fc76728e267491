// ConvGeometry -> cuDNN descriptor arrays (see conv_cuda_mapping.h).
#include "ops/conv/conv_cuda_mapping.h"

#include <climits>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace onyx::conv {
namespace {

absl::Status NotForCudnn(const Node& node, const std::string& why) {
  return absl::UnimplementedError(absl::StrFormat(
      "%s: the cuDNN Conv kernel cannot run this convolution: %s", node.Describe(), why));
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

}  // namespace

absl::StatusOr<CudnnConvDims> MapConvToCudnn(const Node& node, const ConvGeometry& g) {
  if (g.pads_begin != g.pads_end) {
    return NotForCudnn(
        node, absl::StrFormat("pads begin [%s] and end [%s] differ (cuDNN pads "
                              "both ends of an axis alike)",
                              absl::StrJoin(g.pads_begin, ","), absl::StrJoin(g.pads_end, ",")));
  }
  const int64_t per_group = g.in_channels / g.group;
  std::vector<int64_t> x = {g.batch, g.in_channels}, w = {g.out_channels, per_group},
                       y = {g.batch, g.out_channels};
  std::vector<int64_t> pads = g.pads_begin, strides = g.strides, dilations = g.dilations;
  std::vector<int64_t> in = g.in, kernel = g.kernel, out = g.out;
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
  d.bias[1] = d.y[1];
  d.pads = ToInt(pads);
  d.strides = ToInt(strides);
  d.dilations = ToInt(dilations);
  d.groups = static_cast<int>(g.group);
  return d;
}

}  // namespace onyx::conv
