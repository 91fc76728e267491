// Slice (attribute form 1; input form 10, 11, 13) and Gather (1, 11, 13) for
// every dtype. Slice is one strided copy (negative strides for negative steps);
// Gather copies contiguous inner blocks per index.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

class SliceKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<SliceKernel>();
    if (opset < 10) {
      ONYX_ASSIGN_OR_RETURN(k->attrs_, SliceAttributes(node));
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const SliceArgs args,
                          ReadSliceArgs(ctx, attrs_ ? &*attrs_ : nullptr, /*first_input=*/1));
    ONYX_ASSIGN_OR_RETURN(const SliceWindow window, ResolveSlice(ctx.node(), x->shape(), args));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), window.shape));
    if (y->num_elements() == 0) return absl::OkStatus();
    const size_t es = DataTypeSize(x->dtype());
    StridedCopy(es, window.shape, static_cast<const char*>(x->raw_data()) + window.offset * es,
                window.strides, y->raw_data(), ContiguousStrides(window.shape));
    return absl::OkStatus();
  }

 private:
  std::optional<SliceArgs> attrs_;  // Slice-1 only
};

// Gather-1, 11, 13: y[o, j..., i] = x[o, idx[j...], i] along `axis`;
// negative indices count from the end of the axis.
class GatherKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<GatherKernel>();
    ONYX_ASSIGN_OR_RETURN(k->axis_, node.GetInt("axis", 0));
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* idx, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const GatherArgs args, ResolveGather(node, *x, *idx, axis_));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), args.shape));
    if (y->num_elements() == 0) return absl::OkStatus();
    const std::vector<int64_t>& indices = args.indices;
    const int64_t n = args.n, dim = args.dim, block = args.row_bytes;
    const char* src = static_cast<const char*>(x->raw_data());
    char* dst = static_cast<char*>(y->raw_data());
    const int64_t total = args.outer * n;
#pragma omp parallel for schedule(static) if (total * block >= (int64_t{1} << 20))
    for (int64_t t = 0; t < total; ++t) {
      const int64_t o = t / n, j = t % n;
      std::memcpy(dst + t * block, src + (o * dim + indices[j]) * block, block);
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_ = 0;
};

}  // namespace

void RegisterSliceGatherOps(OpRegistry& registry) {
  RegisterCpu(registry, "Slice", {1, 10, 11, 13}, &SliceKernel::Create);
  RegisterCpu(registry, "Gather", {1, 11, 13}, &GatherKernel::Create);
}

}  // namespace onyx::tensor
