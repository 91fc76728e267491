// Registration of the tensor family: one call per source file (kernels, then
// the shape functions of shape_fns_*.cc).
#include "ops/register_all.h"

#include "ops/tensor/shape_fn_util.h"
#include "ops/tensor/tensor_util.h"

namespace onyx {

void RegisterTensorOps(OpRegistry& registry) {
  tensor::RegisterReshapeOps(registry);
  tensor::RegisterTransposeOps(registry);
  tensor::RegisterConcatSplitOps(registry);
  tensor::RegisterSliceGatherOps(registry);
  tensor::RegisterBroadcastOps(registry);
  tensor::RegisterPadOps(registry);
  tensor::RegisterConstantOps(registry);
  tensor::RegisterCastOps(registry);
  tensor::RegisterResizeOps(registry);
  tensor::RegisterLayoutShapeFns(registry);
  tensor::RegisterJoinShapeFns(registry);
  tensor::RegisterBroadcastShapeFns(registry);
  tensor::RegisterValueShapeFns(registry);
}

}  // namespace onyx
