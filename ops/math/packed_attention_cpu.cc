// com.onyx PackedAttention: multi-head scaled dot-product self-attention read
// straight out of a packed projection, as the AttentionFusion pass finds it in
// nn.MultiheadAttention exports (Slice q|k|v -> Reshape -> Transpose -> Div ->
// MatMul -> Softmax -> MatMul -> Transpose).
//   QKV [L, N, 3E] (sequence first; q, k, v side by side on the last axis),
//   attributes num_heads H (E = H * d) and scale;
//   Y [L, N*H, d]: Y[l, n*H + h, :] = sum_m softmax_m(scale * q_lnh . k_mnh) v_mnh
// where q_lnh = QKV[l, n, h*d : h*d + d], k at offset E, v at 2E. Y's bytes are
// the [L, N, E] attention output the exported graph reshapes for out_proj.
// Per head, two oneDNN matmuls read q, k, v and write Y through strided memory
// descriptors (no slices or transposes), with fast::SoftmaxLastAxis between
// them; the heads are split over the threads in ONE parallel region (oneDNN
// and the softmax run serially inside it), instead of three regions that
// each wake the sleeping workers. The scores live in a buffer the kernel keeps.
#include <omp.h>

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
    const float* base = qkv->data<float>();
    const int64_t heads = n * heads_;
    const int threads = omp_get_max_threads();
    if (static_cast<int>(scratch_.size()) < threads) scratch_.resize(threads);
    for (auto& buf : scratch_) buf.resize(plan_->scratch_bytes);
    bool failed = false;
    std::string error;
#pragma omp parallel for schedule(static) if (threads > 1 && heads > 1)
    for (int64_t i = 0; i < heads; ++i) {
      const int64_t b = i / heads_, h = i % heads_;
      const float* q = base + b * 3 * e + h * d;
      float* s = scores_.data() + i * l * l;
      float* out = y->data<float>() + b * e + h * d;
      try {
        RunHead(q, s, out, l);
      } catch (const dnnl::error& err) {
#pragma omp critical
        {
          failed = true;
          error = err.what();
        }
      }
    }
    if (failed) {
      return absl::InternalError(absl::StrFormat("%s: oneDNN: %s", node.Describe(), error));
    }
    return absl::OkStatus();
  }

 private:
  // scores = scale * q k^T, softmax, out = scores v for one head; q points at
  // the head's first q value (k and v follow at +E and +2E).
  void RunHead(const float* q, float* s, float* out, int64_t l) {
    const Plan& p = *plan_;
    float* qm = const_cast<float*>(q);
    dnnl::memory scratch(p.scratch, CpuEngine(), scratch_[omp_get_thread_num()].data());
    p.scores.execute(CpuStream(), {{DNNL_ARG_SRC, memory(p.q, CpuEngine(), qm)},
                                   {DNNL_ARG_WEIGHTS, memory(p.kt, CpuEngine(), qm + p.e)},
                                   {DNNL_ARG_DST, memory(p.s, CpuEngine(), s)},
                                   {DNNL_ARG_SCRATCHPAD, scratch}});
    CpuStream().wait();
    fast::SoftmaxLastAxis(s, s, l, l);
    p.mix.execute(CpuStream(), {{DNNL_ARG_SRC, memory(p.s, CpuEngine(), s)},
                                {DNNL_ARG_WEIGHTS, memory(p.v, CpuEngine(), qm + 2 * p.e)},
                                {DNNL_ARG_DST, memory(p.y, CpuEngine(), out)},
                                {DNNL_ARG_SCRATCHPAD, scratch}});
    CpuStream().wait();
  }

  struct Plan {
    dnnl::matmul scores, mix;
    memory::desc q, kt, s, v, y, scratch;
    int64_t e = 0;
    size_t scratch_bytes = 0;
  };

  // One head's views: q and v [L, d] inside QKV (row stride N*3E), k^T [d, L],
  // scores [L, L] plain, y [L, d] inside Y (row stride N*E). User-managed
  // scratchpads (one per thread) let threads run the primitives concurrently.
  absl::Status MakePlan(int64_t l, int64_t n, int64_t e, int64_t d) {
    const int64_t row = n * 3 * e;
    auto plan = std::make_unique<Plan>();
    plan->e = e;
    plan->q = Strided({l, d}, {row, 1});
    plan->kt = Strided({d, l}, {1, row});
    plan->v = plan->q;
    plan->s = Strided({l, l}, {l, 1});
    plan->y = Strided({l, d}, {n * e, 1});
    try {
      dnnl::primitive_attr scaled, plain;
      scaled.set_output_scales(0, {scale_});
      scaled.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      plain.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc scores_pd(dnnl::matmul::desc(plan->q, plan->kt, plan->s),
                                             scaled, CpuEngine());
      dnnl::matmul::primitive_desc mix_pd(dnnl::matmul::desc(plan->s, plan->v, plan->y), plain,
                                          CpuEngine());
      plan->scratch = scores_pd.scratchpad_desc().get_size() >=
                              mix_pd.scratchpad_desc().get_size()
                          ? scores_pd.scratchpad_desc()
                          : mix_pd.scratchpad_desc();
      plan->scratch_bytes = plan->scratch.get_size();
      plan->scores = dnnl::matmul(scores_pd);
      plan->mix = dnnl::matmul(mix_pd);
    } catch (const dnnl::error& err) {
      return DnnlError("PackedAttention primitive creation", err);
    }
    scores_.assign(static_cast<size_t>(n * heads_ * l * l), 0.f);
    plan_ = std::move(plan);
    return absl::OkStatus();
  }

  int64_t heads_;
  float scale_;
  std::unique_ptr<Plan> plan_;
  Shape plan_shape_;
  std::vector<float> scores_;
  std::vector<std::vector<char>> scratch_;  // per thread
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
