#include "ops/tensor/cast_like_kernel.h"

#include <utility>

#include "ops/register_all.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {

absl::Status CastLikeKernel::Compute(KernelContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
  ONYX_ASSIGN_OR_RETURN(const Tensor* like, ctx.RequiredInput(1));
  auto it = casts_.find(like->dtype());
  if (it == casts_.end()) {
    Node cast = node_;
    cast.domain = kOnnxDomain;
    cast.op_type = "Cast";
    cast.inputs.resize(1);
    Attribute to;
    to.name = "to";
    to.type = AttrType::kInt;
    to.i = static_cast<int64_t>(like->dtype());
    cast.attributes.push_back(std::move(to));
    ONYX_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k,
                          DefaultRegistry().CreateKernel(cast, cast_opset_, Device::kCpu));
    it = casts_.emplace(like->dtype(), CastEntry{std::move(cast), std::move(k)}).first;
  }
  const Tensor* inputs[1] = {x};
  const bool dies[1] = {false};
  Tensor outputs[1];
  KernelContext cast_ctx(it->second.node, inputs, dies, outputs, ctx.max_tensor_bytes());
  ONYX_RETURN_IF_ERROR(it->second.kernel->Compute(cast_ctx));
  ctx.SetOutput(0, std::move(outputs[0]));
  return absl::OkStatus();
}

}  // namespace onyx::tensor
