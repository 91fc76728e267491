// RegisterFusedOps: the com.onyx ops only graph passes emit. FusedMatMul and
// FusedGemm kernels, and com.onyx spellings of ONNX ops that are newer than
// many models' opset (Gelu 20, Swish 24, Mish 18, LayerNormalization 17) so
// a pattern found in an older model can still become one node. Runs after
// every other family: the aliases reuse the ONNX kernels registered before.
#include "absl/strings/str_format.h"
#include "ops/math/fused_ops.h"
#include "ops/register_all.h"
#include "runtime/gradient.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// Dims of A x B (NumPy MatMul) from possibly symbolic input dims.
absl::Status MatMulShape(ShapeInferenceContext& ctx) {
  const TypeInfo* a = ctx.input(0);
  const TypeInfo* b = ctx.input(1);
  if (a == nullptr || b == nullptr) return absl::OkStatus();
  if (!a->has_shape || !b->has_shape) {
    ctx.SetOutputRankUnknown(0, a->dtype);
    return absl::OkStatus();
  }
  if (a->dims.empty() || b->dims.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: A %s and B %s must have rank >= 1", ctx.node().Describe(), DimsToString(*a),
        DimsToString(*b)));
  }
  std::vector<Dim> ad = a->dims, bd = b->dims;
  if (ad.size() == 1) ad.insert(ad.begin(), FixedDim(1));
  if (bd.size() == 1) bd.push_back(FixedDim(1));
  const Dim& ka = ad.back();
  const Dim& kb = bd[bd.size() - 2];
  if (ka.is_fixed() && kb.is_fixed() && ka.value != kb.value) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: A %s and B %s: inner dims %d and %d differ", ctx.node().Describe(),
        DimsToString(*a), DimsToString(*b), ka.value, kb.value));
  }
  std::vector<Dim> ab(ad.begin(), ad.end() - 2), bb(bd.begin(), bd.end() - 2);
  auto batch = BroadcastDims(ab, bb);
  if (!batch.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: batch dims of A %s and B %s: %s", ctx.node().Describe(), DimsToString(*a),
        DimsToString(*b), batch.status().message()));
  }
  std::vector<Dim> out = *batch;
  if (a->dims.size() != 1) out.push_back(ad[ad.size() - 2]);
  if (b->dims.size() != 1) out.push_back(bd.back());
  ctx.SetOutput(0, a->dtype, std::move(out));
  return absl::OkStatus();
}

// [M, N] of Gemm from A, B and the trans attributes.
absl::Status GemmShape(ShapeInferenceContext& ctx) {
  const TypeInfo* a = ctx.input(0);
  const TypeInfo* b = ctx.input(1);
  if (a == nullptr || b == nullptr) return absl::OkStatus();
  if (!a->has_shape || !b->has_shape) {
    ctx.SetOutputRankUnknown(0, a->dtype);
    return absl::OkStatus();
  }
  if (a->dims.size() != 2 || b->dims.size() != 2) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: A %s and B %s must be 2-D",
                                                      ctx.node().Describe(), DimsToString(*a),
                                                      DimsToString(*b)));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, ctx.node().GetInt("transA", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, ctx.node().GetInt("transB", 0));
  const Dim& ka = a->dims[trans_a ? 0 : 1];
  const Dim& kb = b->dims[trans_b ? 1 : 0];
  if (ka.is_fixed() && kb.is_fixed() && ka.value != kb.value) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: A %s (transA=%d) and B %s (transB=%d): K is %d for A but %d for B",
        ctx.node().Describe(), DimsToString(*a), trans_a, DimsToString(*b), trans_b, ka.value,
        kb.value));
  }
  ctx.SetOutput(0, a->dtype, {a->dims[trans_a ? 1 : 0], b->dims[trans_b ? 0 : 1]});
  return absl::OkStatus();
}

// com.onyx `op` runs the ONNX kernel of `op` at `onnx_version`.
void RegisterAlias(OpRegistry& registry, const std::string& op, int onnx_version) {
  auto found = registry.Find(kOnnxDomain, op, onnx_version, Device::kCpu);
  if (!found.ok()) return;  // that family is not built in
  KernelFactory onnx_factory = **found;
  registry.Register(kOnyxDomain, op, 1, Device::kCpu,
                    [onnx_factory, onnx_version](const Node& node, int64_t) {
                      return onnx_factory(node, onnx_version);
                    });
  registry.RegisterShapeFn(kOnyxDomain, op, [](ShapeInferenceContext& ctx) {
    ctx.PropagateInput(0, 0);
    return absl::OkStatus();
  });
}

}  // namespace

void RegisterFusedOps(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "FusedMatMul", 1, Device::kCpu, math::CreateFusedMatMulKernel);
  registry.Register(kOnyxDomain, "FusedGemm", 1, Device::kCpu, math::CreateFusedGemmKernel);
  registry.RegisterShapeFn(kOnyxDomain, "FusedMatMul", MatMulShape);
  registry.RegisterShapeFn(kOnyxDomain, "FusedGemm", GemmShape);
  math::RegisterPackedAttention(registry);
  RegisterAlias(registry, "Gelu", 20);
  RegisterAlias(registry, "Swish", 24);
  RegisterAlias(registry, "Mish", 18);
  RegisterAlias(registry, "LayerNormalization", 17);
}

}  // namespace onyx
