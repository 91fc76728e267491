// How one Conv or ConvTranspose maps onto cuDNN's descriptors, and when it cannot. Plain integer
// arithmetic with no CUDA headers, so it builds (and is tested) in every build;
// the cuDNN kernel (conv_cuda.cc) only turns these arrays into descriptors.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ops/conv/conv_params.h"
#include "runtime/graph.h"

namespace onyx::conv {

// cuDNN's view of one convolution. Tensors have rank 4 or 5: a 1-D conv runs
// as a 2-D one over [N, C, 1, L] with a 1-wide kernel axis in front.
struct CudnnConvDims {
  std::vector<int> x, w, y;                   // [N, C, D...], [M, C/group, K...], [N, M, O...]
  std::vector<int> bias;                      // [1, M, 1...] (rank of x)
  std::vector<int> pads, strides, dilations;  // one per spatial axis (2 or 3)
  int groups = 1;
};

// Unimplemented naming the node and the reason when cuDNN cannot express `g`
// (pads that differ between the two ends of an axis, a dim beyond int range):
// the session then runs the CPU kernel. `g.batch` must be >= 1.
absl::StatusOr<CudnnConvDims> MapConvToCudnn(const Node& node, const ConvGeometry& g);

// ConvTranspose geometry `g` (ResolveConvTranspose) as the convolution whose
// backward-data pass computes it: x = ConvTranspose's Y [N, M, rows...], w = W
// [C, M/group, K...], y = ConvTranspose's X [N, C, in...], bias [1, M, 1...],
// pads = pads_begin. cuDNN pads both ends of an axis alike, so where the end
// pad (output_padding and output_shape included) differs from the beginning's
// by more than fits in a stride, `rows` differs from Y's extent: the kernel
// then runs into a scratch of x's dims and copies its leading block into Y,
// zeros past it (rows no window reaches, which get only the bias).
// Unimplemented naming the node when pads_begin reaches past every window's
// rows, when Y extends past what cuDNN maps back while pads_begin >= stride
// (windows would reach rows outside the scratch), or a dim exceeds int range;
// the CPU kernel then runs.
absl::StatusOr<CudnnConvDims> MapConvTransposeToCudnn(const Node& node, const ConvGeometry& g);

}  // namespace onyx::conv
