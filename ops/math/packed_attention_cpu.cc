// com.onyx PackedAttention: multi-head scaled dot-product self-attention read
// straight out of a packed projection, as the AttentionFusion pass finds it in
// nn.MultiheadAttention exports (Slice q|k|v -> Reshape -> Transpose -> Div ->
// MatMul -> Softmax -> MatMul -> Transpose).
//   QKV [L, N, 3E] (sequence first; q, k, v side by side on the last axis),
//   attributes num_heads H (E = H * d) and scale;
//   Y [L, N*H, d]: Y[l, n*H + h, :] = sum_m softmax_m(scale * q_lnh . k_mnh) v_mnh
// where q_lnh = QKV[l, n, h*d : h*d + d], k at offset E, v at 2E. Y's bytes are
// the [L, N, E] attention output the exported graph reshapes for out_proj.
// Two oneDNN matmuls read q, k, v and write Y through strided memory
// descriptors (no slices or transposes); the scores live in a buffer the
// kernel keeps, and the softmax is fast::SoftmaxLastAxis.
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/activation/fast_softmax.h"
#include "ops/math/fused_ops.h"
#include "runtime/dnnl_context.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

using dnnl::memory;

memory::desc Strided(const memory::dims& dims, const memory::dims& strides) {
  return memory::desc(dims, memory::data_type::f32, strides);
}

class PackedAttentionKernel : public Kernel {
 public:
  PackedAttentionKernel(int64_t heads, float scale) : heads_(heads), scale_(scale) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* qkv, ctx.RequiredInput(0));
    if (qkv->dtype() != DataType::kFloat32 || qkv->rank() != 3 || qkv->dim(2) % (3 * heads_) != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: QKV must be float32 [L, N, 3E] with E a multiple of num_heads %d, got %s",
          node.Describe(), heads_, qkv->DebugString()));
    }
    const int64_t l = qkv->dim(0), n = qkv->dim(1), e = qkv->dim(2) / 3, d = e / heads_;
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32,
                                                         {l, n * heads_, d}));
    if (y->num_elements() == 0) return absl::OkStatus();
    if (plan_ == nullptr || plan_shape_ != qkv->shape()) {
      ONYX_RETURN_IF_ERROR(MakePlan(l, n, e, d));
      plan_shape_ = qkv->shape();
    }
    float* base = const_cast<float*>(qkv->data<float>());
    try {
      const Plan& p = *plan_;
      p.scores.execute(CpuStream(), {{DNNL_ARG_SRC, memory(p.q, CpuEngine(), base)},
                                     {DNNL_ARG_WEIGHTS, memory(p.kt, CpuEngine(), base + e)},
                                     {DNNL_ARG_DST, memory(p.s, CpuEngine(), scores_.data())}});
      CpuStream().wait();
      fast::SoftmaxLastAxis(scores_.data(), scores_.data(), n * heads_ * l, l);
      p.mix.execute(CpuStream(), {{DNNL_ARG_SRC, memory(p.s, CpuEngine(), scores_.data())},
                                  {DNNL_ARG_WEIGHTS, memory(p.v, CpuEngine(), base + 2 * e)},
                                  {DNNL_ARG_DST, memory(p.y, CpuEngine(), y->data<float>())}});
      CpuStream().wait();
    } catch (const dnnl::error& err) {
      return DnnlError(node.Describe(), err);
    }
    return absl::OkStatus();
  }

 private:
  struct Plan {
    dnnl::matmul scores, mix;
    memory::desc q, kt, s, v, y;
  };

  // Views as [N, H, rows, cols]: q and v [N, H, L, d] inside QKV (row stride
  // N*3E), k^T [N, H, d, L], scores [N, H, L, L] plain, y [N, H, L, d] inside
  // Y (row stride N*E).
  absl::Status MakePlan(int64_t l, int64_t n, int64_t e, int64_t d) {
    const int64_t h = heads_, row = n * 3 * e;
    auto plan = std::make_unique<Plan>();
    plan->q = Strided({n, h, l, d}, {3 * e, d, row, 1});
    plan->kt = Strided({n, h, d, l}, {3 * e, d, 1, row});
    plan->v = plan->q;
    plan->s = Strided({n, h, l, l}, {h * l * l, l * l, l, 1});
    plan->y = Strided({n, h, l, d}, {e, d, n * e, 1});
    try {
      dnnl::primitive_attr scaled;
      scaled.set_output_scales(0, {scale_});
      plan->scores = dnnl::matmul(dnnl::matmul::primitive_desc(
          dnnl::matmul::desc(plan->q, plan->kt, plan->s), scaled, CpuEngine()));
      plan->mix = dnnl::matmul(
          dnnl::matmul::primitive_desc(dnnl::matmul::desc(plan->s, plan->v, plan->y), CpuEngine()));
    } catch (const dnnl::error& err) {
      return DnnlError("PackedAttention primitive creation", err);
    }
    scores_.assign(static_cast<size_t>(n * h * l * l), 0.f);
    plan_ = std::move(plan);
    return absl::OkStatus();
  }

  int64_t heads_;
  float scale_;
  std::unique_ptr<Plan> plan_;
  Shape plan_shape_;
  std::vector<float> scores_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreatePackedAttention(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(int64_t heads, node.GetInt("num_heads", 0));
  ONYX_ASSIGN_OR_RETURN(float scale, node.GetFloat("scale", 1.f));
  if (heads <= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: num_heads must be positive, got %d", node.Describe(), heads));
  }
  return std::make_unique<PackedAttentionKernel>(heads, scale);
}

// [L, N, 3E] -> [L, N*H, E/H].
absl::Status PackedAttentionShape(ShapeInferenceContext& ctx) {
  const TypeInfo* qkv = ctx.input(0);
  if (qkv == nullptr) return absl::OkStatus();
  if (!qkv->has_shape) {
    ctx.SetOutputRankUnknown(0, qkv->dtype);
    return absl::OkStatus();
  }
  ONYX_ASSIGN_OR_RETURN(int64_t heads, ctx.node().GetInt("num_heads", 0));
  const Dim& packed = qkv->dims.size() == 3 ? qkv->dims[2] : Dim{};
  if (qkv->dims.size() != 3 || heads <= 0 ||
      (packed.is_fixed() && packed.value % (3 * heads) != 0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: QKV %s must be [L, N, 3E] with E a multiple of num_heads %d", ctx.node().Describe(),
        DimsToString(*qkv), heads));
  }
  Dim rows, cols;
  if (qkv->dims[1].is_fixed()) rows.value = qkv->dims[1].value * heads;
  if (packed.is_fixed()) cols.value = packed.value / (3 * heads);
  ctx.SetOutput(0, qkv->dtype, {qkv->dims[0], rows, cols});
  return absl::OkStatus();
}

}  // namespace

void RegisterPackedAttention(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "PackedAttention", 1, Device::kCpu, CreatePackedAttention);
  registry.RegisterShapeFn(kOnyxDomain, "PackedAttention", PackedAttentionShape);
}

}  // namespace onyx::math
