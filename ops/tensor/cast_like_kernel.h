// The one CastLike implementation: runs the registered ONNX Cast kernel with
// `to` = the dtype of input 1, keeping one Cast kernel per target dtype. Serves
// ONNX CastLike (ops/elementwise) and com.onyx CastLike (the backward of Cast
// and Where, at any model opset).
#ifndef ONYX_OPS_TENSOR_CAST_LIKE_KERNEL_H_
#define ONYX_OPS_TENSOR_CAST_LIKE_KERNEL_H_

#include <cstdint>
#include <map>
#include <memory>

#include "runtime/kernel.h"

namespace onyx::tensor {

class CastLikeKernel final : public Kernel {
 public:
  // `cast_opset`: the opset the inner Cast kernel is created at. The node's
  // attributes (saturate) are passed on to it.
  CastLikeKernel(const Node& node, int64_t cast_opset) : node_(node), cast_opset_(cast_opset) {}

  absl::Status Compute(KernelContext& ctx) override;

 private:
  struct CastEntry {
    Node node;
    std::unique_ptr<Kernel> kernel;
  };
  Node node_;
  int64_t cast_opset_;
  std::map<DataType, CastEntry> casts_;
};

}  // namespace onyx::tensor

#endif  // ONYX_OPS_TENSOR_CAST_LIKE_KERNEL_H_
