// How one pooling node maps onto a cuDNN pooling descriptor, and when it cannot;
// and the geometry handed to the CUDA pooling-backward kernels.
// Plain integer arithmetic with no CUDA headers, so it builds (and is tested)
// in every build; pool_cuda.cc only turns these arrays into descriptors.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "ops/pool/pool_geometry.h"
#include "ops/pool/pool_grad_math.h"
#include "runtime/graph.h"
#include "runtime/shape.h"

namespace onyx::pool {

// cuDNN's view of one pooling. Tensors have rank 4 or 5: 1-D pooling runs as
// 2-D over [N, C, 1, L] with a 1-wide window axis in front.
struct CudnnPoolDims {
  std::vector<int> x, y;                   // [N, C, D...], [N, C, O...]
  std::vector<int> window, pads, strides;  // one per spatial axis (2 or 3)
};

// MaxPool / AveragePool with input shape `x` and its geometry `g`. Unimplemented
// naming the node and the reason when cuDNN computes something else: dilations,
// pads that differ between the ends of an axis or reach a whole window, a
// ceil_mode output longer than cuDNN's floor rule gives, empty inputs, dims
// beyond int range. The session then runs the CPU kernel.
absl::StatusOr<CudnnPoolDims> MapPoolToCudnn(const Node& node, const Shape& x,
                                             const PoolGeometry& g);

// GlobalAveragePool / GlobalMaxPool over `x` [N, C, D1..Dk], k in 1..3: one
// window covering every spatial dim. Unimplemented as above.
absl::StatusOr<CudnnPoolDims> MapGlobalPoolToCudnn(const Node& node, const Shape& x);

// The geometry `g` as the CUDA MaxPoolGrad / AveragePoolGrad kernels take it.
// They handle every geometry the CPU loops do (dilations, uneven pads,
// ceil_mode), so nothing here falls back.
PoolGradDims ToPoolGradDims(const PoolGeometry& g);

}  // namespace onyx::pool
