// com.onyx CastLike(X, like) (since 1, CPU) -> X cast to like's dtype at any
// model opset (ONNX's CastLike needs opset 15); the backward of Cast and Where
// uses it.
#include <memory>

#include "ops/register_all.h"
#include "ops/tensor/cast_like_kernel.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/shape_inference.h"

namespace onyx::tensor {
void RegisterOnyxCastLike(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "CastLike", 1, Device::kCpu,
                    [](const Node& node, int64_t) -> KernelOr {
                      // The inner Cast is made at opset 13, whatever the model's opset.
                      return std::make_unique<CastLikeKernel>(node, 13);
                    });
  registry.RegisterShapeFn(kOnyxDomain, "CastLike", [](ShapeInferenceContext& ctx) {
    const TypeInfo* x = ctx.input(0);
    const TypeInfo* like = ctx.input(1);
    if (x == nullptr || like == nullptr) return absl::OkStatus();
    if (x->has_shape) {
      ctx.SetOutput(0, like->dtype, x->dims);
    } else {
      ctx.SetOutputRankUnknown(0, like->dtype);
    }
    return absl::OkStatus();
  });
}

}  // namespace onyx::tensor
