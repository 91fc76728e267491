// oneDNN pooling_v2 for the window pools, float32: forward inference, and
// backward (MaxPool through a forward_training pass that records the argmax
// workspace, AveragePool directly). Used only for geometries where oneDNN
// computes exactly the ONNX values; primitives and buffers cached per X shape.
#pragma once

#include "absl/status/status.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/pool/pool_geometry.h"
#include "runtime/tensor.h"
#include "runtime/tensor_layout.h"

namespace onyx::pool {

enum class PoolKind { kMax, kAverage, kLp };

class DnnlPooling {
 public:
  enum class Pass { kForward, kBackward };
  DnnlPooling(PoolKind kind, bool count_include_pad, Pass pass)
      : kind_(kind), count_include_pad_(count_include_pad), pass_(pass) {}

  // Builds the primitives for X's shape (once per shape). False when oneDNN
  // does not fit this geometry (the caller runs its loops). `blocked_src`: X
  // arrives in this blocked layout (forward only); Y then gets the layout
  // oneDNN picks for it, dst_layout().
  bool Prepare(const PoolGeometry& g, const Shape& x_shape,
               const dnnl::memory::desc* blocked_src = nullptr);
  // Y's layout after Prepare: null when plain.
  const std::shared_ptr<const TensorLayout>& dst_layout() const { return dst_layout_; }
  // y = pool(x) (Pass::kForward).
  absl::Status Forward(const Tensor& x, Tensor& y);
  // dx from dy (Pass::kBackward); MaxPool re-runs the forward on x for its argmax.
  absl::Status Backward(const Tensor& dy, const Tensor& x, Tensor& dx);

 private:
  PoolKind kind_;
  bool count_include_pad_;
  Pass pass_;
  Shape cached_shape_;
  dnnl::memory::desc cached_src_;  // the blocked source layout, or empty for plain
  bool fits_ = false;
  std::shared_ptr<const TensorLayout> dst_layout_;
  dnnl::memory::desc src_, dst_;
  dnnl::primitive forward_, backward_;
  dnnl::memory dst_scratch_, workspace_;  // MaxPool backward only
};

}  // namespace onyx::pool
