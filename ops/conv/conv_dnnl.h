// oneDNN plumbing shared by Conv, FusedConv, ConvTranspose and ConvGrad:
// weight descriptors over ONNX layouts, the reordered-weight cache, and a
// forward plan that runs one primitive with src/dst reorders when oneDNN
// prefers blocked layouts.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv/conv_params.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"
#include "runtime/tensor_layout.h"

namespace onyx::conv {

// Per kernel, primitives (and their scratch buffers) are kept for at most this
// many input shapes; a model fed ever-changing shapes rebuilds them instead of
// growing without bound.
inline constexpr size_t kMaxCachedShapes = 16;

dnnl::memory::dims ToDnnlDims(const std::vector<int64_t>& v);

// ONNX Conv W [M, C/G, k...] as oneDNN weights: [M, C, k...] for one group,
// [G, M/G, C/G, k...] otherwise; row-major (the ONNX layout) or format any.
dnnl::memory::desc ConvWeightsDesc(const ConvGeometry& g, bool any);
// ONNX ConvTranspose W [C, M/G, k...] as oneDNN deconvolution weights
// [G, M/G, C/G, k...] (or [M, C, k...]): a strided view of the ONNX layout,
// or format any.
dnnl::memory::desc DeconvWeightsDesc(const ConvGeometry& g, bool any);
// [N, C or M, spatial...] plain, or format any.
dnnl::memory::desc ActivationDesc(const Shape& shape, bool any);

// Weights reordered once into the primitive's layout. Weights are usually
// initializers, so the cache is keyed on the buffer pointer and shape. A
// trainer, however, feeds the same parameter buffer every step and updates it
// in place, so a cached copy is also checked against a strided sample of the
// source values (256 floats spread over the tensor; an optimizer step changes
// essentially every weight, so a stale copy is caught).
class WeightCache {
 public:
  // W in `target` layout: `w` itself when no reorder is needed.
  absl::StatusOr<dnnl::memory> Get(const Tensor& w, const dnnl::memory::desc& plain,
                                   const dnnl::memory::desc& target);

 private:
  static int64_t SampleStride(int64_t n);
  // Same buffer, shape and sampled values as the cached copy was made from.
  bool Matches(const Tensor& w) const;
  void Remember(const Tensor& w);

  const void* ptr_ = nullptr;
  Shape shape_;
  dnnl::memory::desc target_;
  std::vector<float> samples_;
  dnnl::memory reordered_;
};

// One forward primitive (convolution or deconvolution) with the layouts it
// chose and scratch buffers for blocked src/dst.
struct ForwardPlan {
  dnnl::primitive prim;
  dnnl::memory::desc src_plain, src, weights_plain, weights, bias, dst_plain, dst;
  bool has_bias = false;
  bool has_sum = false;                 // dst holds Z before the primitive runs (sum post-op)
  dnnl::reorder src_in, dst_out, z_in;  // plain <-> blocked, when needed
  // Bytes of scratchpad the primitive needs (user scratchpad mode: one buffer
  // per thread shared by all primitives, see SharedScratchpad).
  size_t scratchpad_bytes = 0;
  // dst's layout for an output left blocked (layout propagation); null when
  // the primitive writes plain data anyway.
  std::shared_ptr<const TensorLayout> dst_layout;
  // Made on first use, only when needed: plain x -> blocked src, blocked dst ->
  // plain y, and a blocked x in another layout than src. Allocating them up
  // front for every conv cost resident memory for buffers that are never used
  // when the layout propagates.
  mutable dnnl::memory src_buf, dst_buf, src_scratch;

  // Sets the layouts and the scratchpad size from `pd` and makes the reorders.
  template <typename PrimitiveDesc>
  void Adopt(const PrimitiveDesc& pd);

  // y = prim(x, w, b) [+ z], w through `cache`. `y` is allocated by the caller,
  // plain or in dst_layout (it may already hold z when `z_in_y`). x and z may
  // be in any layout; w and b are plain. `extra` adds execution arguments
  // (the weights and bias of a depthwise post-op).
  absl::Status Run(WeightCache& cache, const Tensor& x, const Tensor& w, const Tensor* b,
                   const Tensor* z, bool z_in_y, Tensor& y,
                   const std::unordered_map<int, dnnl::memory>* extra = nullptr) const;
};

template <typename PrimitiveDesc>
void ForwardPlan::Adopt(const PrimitiveDesc& pd) {
  src = pd.src_desc();
  weights = pd.weights_desc();
  dst = pd.dst_desc();
  scratchpad_bytes = pd.scratchpad_desc().get_size();
  if (src != src_plain) {
    src_in = dnnl::reorder(
        dnnl::reorder::primitive_desc(pd.get_engine(), src_plain, pd.get_engine(), src));
  }
  if (dst != dst_plain) {
    dst_layout = std::make_shared<const TensorLayout>(TensorLayout{dst});
    dst_out = dnnl::reorder(
        dnnl::reorder::primitive_desc(pd.get_engine(), dst, pd.get_engine(), dst_plain));
    if (has_sum) {
      z_in = dnnl::reorder(
          dnnl::reorder::primitive_desc(pd.get_engine(), dst_plain, pd.get_engine(), dst));
    }
  }
}

// Primitive attributes with the scratchpad left to the caller
// (scratchpad_mode::user). This oneDNN is built with concurrent execution, so in
// library mode every primitive keeps a scratchpad of its own for its lifetime:
// tens of MiB per Winograd conv at batch 8.
dnnl::primitive_attr UserScratchpadAttr();

// A scratchpad of at least `bytes`, shared by every primitive this thread runs
// (primitives on one thread run one after the other); grows, never shrinks.
dnnl::memory SharedScratchpad(size_t bytes);

// Runs a reorder between two memories on the CPU stream.
void Reorder(const dnnl::memory& from, const dnnl::memory& to);

// OK when `t` is absent or float32, else Unimplemented naming the node and input
// `what` (the CPU conv kernels run float32 only).
absl::Status CheckFloat(const Node& node, const char* what, const Tensor* t);

}  // namespace onyx::conv
