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
// backward-data pass computes it: x = ConvTranspose's Y [N, M, out...], w = W
// [C, M/group, K...], y = ConvTranspose's X [N, C, in...], bias [1, M, 1...].
// cuDNN pads both ends of an axis alike; output_padding, output_shape and
// SAME pads that leave the end short by less than the stride still fit (the
// rows past the last window get no contribution, as the CPU computes).
// Anything else (asymmetric pads, an output_shape far beyond the natural
// size) is Unimplemented naming the node, and the CPU kernel runs.
absl::StatusOr<CudnnConvDims> MapConvTransposeToCudnn(const Node& node, const ConvGeometry& g);

}  // namespace onyx::conv
