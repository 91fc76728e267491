// com.onyx CastLike(X, like) (since 1, CPU) -> X cast to like's dtype at any
// model opset (ONNX's CastLike needs opset 15); the backward of Cast and Where
// uses it.
#include <map>
#include <memory>
#include <utility>

#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/gradient.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Runs the ONNX Cast kernel (opset 13) with `to` = like's dtype, one kernel
// kept per target dtype.
class OnyxCastLikeKernel final : public Kernel {
 public:
  explicit OnyxCastLikeKernel(const Node& node) : node_(node) {}

  absl::Status Compute(KernelContext& ctx) override {
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
      cast.attributes = {to};
      ONYX_ASSIGN_OR_RETURN(std::unique_ptr<Kernel> k,
                            DefaultRegistry().CreateKernel(cast, 13, Device::kCpu));
      it = casts_.emplace(like->dtype(), Entry{std::move(cast), std::move(k)}).first;
    }
    const Tensor* inputs[1] = {x};
    const bool dies[1] = {false};
    Tensor outputs[1];
    KernelContext cast_ctx(it->second.node, inputs, dies, outputs, ctx.max_tensor_bytes());
    ONYX_RETURN_IF_ERROR(it->second.kernel->Compute(cast_ctx));
    ctx.SetOutput(0, std::move(outputs[0]));
    return absl::OkStatus();
  }

 private:
  struct Entry {
    Node node;
    std::unique_ptr<Kernel> kernel;
  };
  Node node_;
  std::map<DataType, Entry> casts_;
};

}  // namespace

void RegisterOnyxCastLike(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "CastLike", 1, Device::kCpu,
                    [](const Node& node, int64_t) -> KernelOr {
                      return std::make_unique<OnyxCastLikeKernel>(node);
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
