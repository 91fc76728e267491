// CUDA kernels of Add, Sub, Mul, Div (opset 7, 13, 14) for float32/float64;
// other dtypes report Unimplemented and the session runs the CPU kernel.
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/math/binary_cuda.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// Right-aligned strides of `shape` over `out` (0 on broadcast dims), then
// adjacent dims merged wherever both operands stay linear across them.
absl::StatusOr<BroadcastPlan> MakePlan(const Shape& a, const Shape& b, const Shape& out) {
  const int rank = static_cast<int>(out.size());
  std::vector<int64_t> sa(rank, 0), sb(rank, 0);
  auto fill = [&](const Shape& s, std::vector<int64_t>& strides) {
    int64_t stride = 1;
    for (int i = static_cast<int>(s.size()) - 1, o = rank - 1; i >= 0; --i, --o) {
      strides[o] = s[i] == 1 ? 0 : stride;
      stride *= s[i];
    }
  };
  fill(a, sa);
  fill(b, sb);
  BroadcastPlan plan;
  plan.num_elements = NumElements(out);
  std::vector<int64_t> dims, pa, pb;
  for (int d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;  // contributes nothing to any index
    if (!dims.empty() && pa.back() == sa[d] * out[d] && pb.back() == sb[d] * out[d]) {
      dims.back() *= out[d];
      pa.back() = sa[d];
      pb.back() = sb[d];
      continue;
    }
    dims.push_back(out[d]);
    pa.push_back(sa[d]);
    pb.push_back(sb[d]);
  }
  if (dims.empty()) {  // a single element
    dims = {1};
    pa = {1};
    pb = {1};
  }
  if (dims.size() > BroadcastPlan::kMaxRank) {
    return absl::UnimplementedError(absl::StrFormat(
        "broadcast over more than %d non-mergeable dims", BroadcastPlan::kMaxRank));
  }
  plan.rank = static_cast<int>(dims.size());
  for (int d = 0; d < plan.rank; ++d) {
    plan.dims[d] = dims[d];
    plan.a_strides[d] = pa[d];
    plan.b_strides[d] = pb[d];
  }
  return plan;
}

class BinaryCudaKernel final : public Kernel {
 public:
  explicit BinaryCudaKernel(BinaryKind kind) : kind_(kind) {}

  // Float operands come to the device; integer ones (shape arithmetic) stay
  // on the host, where the CPU kernel runs them after this one's Unimplemented.
  InputMemory input_memory(int) const override { return InputMemory::kWhereItIs; }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    if (a->dtype() != b->dtype()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: inputs A %s and B %s must have the same dtype", node.Describe(),
          a->DebugString(), b->DebugString()));
    }
    if (a->dtype() != DataType::kFloat32 && a->dtype() != DataType::kFloat64) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: the CUDA kernel takes float32/float64, got %s", node.Describe(),
          a->DebugString()));
    }
    auto out_shape = BroadcastShapes(a->shape(), b->shape());
    if (!out_shape.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: inputs A %s and B %s do not broadcast: %s", node.Describe(), a->DebugString(),
          b->DebugString(), out_shape.status().message()));
    }
    ONYX_ASSIGN_OR_RETURN(BroadcastPlan plan, MakePlan(a->shape(), b->shape(), *out_shape));
    const int reuse = a->shape() == *out_shape ? 0 : (b->shape() == *out_shape ? 1 : -1);
    Tensor* out = nullptr;
    if (reuse >= 0) {
      ONYX_ASSIGN_OR_RETURN(out, ctx.AllocateOutputMaybeInPlace(0, reuse, a->dtype(), *out_shape));
    } else {
      ONYX_ASSIGN_OR_RETURN(out, ctx.AllocateOutput(0, a->dtype(), *out_shape));
    }
    const cudaError_t error =
        a->dtype() == DataType::kFloat32
            ? BinaryElementwise<float>(kind_, plan, a->data<float>(), b->data<float>(),
                                       out->data<float>(), backend->stream())
            : BinaryElementwise<double>(kind_, plan, a->data<double>(), b->data<double>(),
                                        out->data<double>(), backend->stream());
    return CudaStatus(error, "binary elementwise kernel");
  }

 private:
  BinaryKind kind_;
};

KernelFactory Factory(BinaryKind kind) {
  return [kind](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::unique_ptr<Kernel>(new BinaryCudaKernel(kind));
  };
}

}  // namespace

void RegisterBinaryCudaOps(OpRegistry& registry) {
  for (int since : {7, 13, 14}) {
    registry.Register(kOnnxDomain, "Add", since, Device::kCuda, Factory(BinaryKind::kAdd));
    registry.Register(kOnnxDomain, "Sub", since, Device::kCuda, Factory(BinaryKind::kSub));
    registry.Register(kOnnxDomain, "Mul", since, Device::kCuda, Factory(BinaryKind::kMul));
    registry.Register(kOnnxDomain, "Div", since, Device::kCuda, Factory(BinaryKind::kDiv));
  }
}

}  // namespace onyx::cuda
