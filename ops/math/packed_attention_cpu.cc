// com.onyx PackedAttention: multi-head scaled dot-product self-attention read
// straight out of a packed projection, as the AttentionFusion pass finds it in
// nn.MultiheadAttention exports (Slice q|k|v -> Reshape -> Transpose -> Div ->
// MatMul -> Softmax -> MatMul -> Transpose).
//   QKV [L, N, 3E] (sequence first; q, k, v side by side on the last axis),
//   attributes num_heads H (E = H * d) and scale;
//   Y [L, N*H, d]: Y[l, n*H + h, :] = sum_m softmax_m(scale * q_lnh . k_mnh) v_mnh
// where q_lnh = QKV[l, n, h*d : h*d + d], k at offset E, v at 2E. Y's bytes are
// the [L, N, E] attention output the exported graph reshapes for out_proj.
// Per head (heads split over the threads in ONE parallel region, instead of
// separate regions that each wake the sleeping workers): q (scaled), k^T and v
// copied out of QKV into plain per-thread buffers, two oneDNN matmuls on those
// (plain layouts get its brgemm kernels; strided views fell back to a slower
// gemm path), fast::SoftmaxLastAxis between them, and the result rows copied
// into Y. oneDNN and the softmax run serially inside the region.
#include <omp.h>

#include <algorithm>
#include <memory>
#include <string>
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
    // Each thread keeps an [L, L] score buffer: refuse what no tensor may hold.
    if (l > 0 && l > ctx.max_tensor_bytes() / int64_t{sizeof(float)} / l) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "%s: the [%d, %d] attention scores of QKV %s exceed the %d-byte tensor limit",
          node.Describe(), l, l, qkv->DebugString(), ctx.max_tensor_bytes()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32,
                                                         {l, n * heads_, d}));
    if (y->num_elements() == 0) return absl::OkStatus();
    if (plan_ == nullptr || plan_shape_ != qkv->shape()) {
      ONYX_RETURN_IF_ERROR(MakePlan(l, d));
      plan_shape_ = qkv->shape();
    }
    const float* base = qkv->data<float>();
    const int64_t heads = n * heads_;
    const int threads = omp_get_max_threads();
    if (static_cast<int>(work_.size()) < threads) work_.resize(threads);
    for (Workspace& w : work_) w.Resize(*plan_, l, d);
    bool failed = false;
    std::string error;
#pragma omp parallel for schedule(static) if (threads > 1 && heads > 1)
    for (int64_t i = 0; i < heads; ++i) {
      const int64_t b = i / heads_, h = i % heads_;
      try {
        RunHead(base + b * 3 * e + h * d, n * 3 * e, y->data<float>() + b * e + h * d, n * e, l,
                d, work_[omp_get_thread_num()]);
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
  struct Plan {
    dnnl::matmul scores, mix;
    memory::desc q, kt, s, v, o, scratch;
  };

  // One thread's buffers: the head's q (scaled), k^T, v and output copied
  // plain, its scores, and the primitives' scratchpad.
  struct Workspace {
    std::vector<float> q, kt, v, o, s;
    std::vector<char> scratch;
    void Resize(const Plan& p, int64_t l, int64_t d) {
      for (auto* buf : {&q, &kt, &v, &o}) buf->resize(static_cast<size_t>(l * d));
      s.resize(static_cast<size_t>(l * l));
      scratch.resize(p.scratch.get_size());
    }
  };

  // One head: q, k, v rows start at `q_in`, `q_in` + E, `q_in` + 2E with row
  // stride `in_row`; the result rows go to `out` with row stride `out_row`.
  // The strided slices are copied to plain buffers first: oneDNN's brgemm
  // matmul then takes them (strided views fall back to its slower gemm path).
  void RunHead(const float* q_in, int64_t in_row, float* out, int64_t out_row, int64_t l,
               int64_t d, Workspace& w) {
    const Plan& p = *plan_;
    const int64_t e = heads_ * d;
    for (int64_t r = 0; r < l; ++r) {
      const float* row = q_in + r * in_row;
      float* qr = w.q.data() + r * d;
      float* vr = w.v.data() + r * d;
      for (int64_t j = 0; j < d; ++j) qr[j] = row[j] * scale_;
      for (int64_t j = 0; j < d; ++j) w.kt[j * l + r] = row[e + j];
      for (int64_t j = 0; j < d; ++j) vr[j] = row[2 * e + j];
    }
    dnnl::memory scratch(p.scratch, CpuEngine(), w.scratch.data());
    p.scores.execute(CpuStream(), {{DNNL_ARG_SRC, memory(p.q, CpuEngine(), w.q.data())},
                                   {DNNL_ARG_WEIGHTS, memory(p.kt, CpuEngine(), w.kt.data())},
                                   {DNNL_ARG_DST, memory(p.s, CpuEngine(), w.s.data())},
                                   {DNNL_ARG_SCRATCHPAD, scratch}});
    CpuStream().wait();
    fast::SoftmaxLastAxis(w.s.data(), w.s.data(), l, l);
    p.mix.execute(CpuStream(), {{DNNL_ARG_SRC, memory(p.s, CpuEngine(), w.s.data())},
                                {DNNL_ARG_WEIGHTS, memory(p.v, CpuEngine(), w.v.data())},
                                {DNNL_ARG_DST, memory(p.o, CpuEngine(), w.o.data())},
                                {DNNL_ARG_SCRATCHPAD, scratch}});
    CpuStream().wait();
    for (int64_t r = 0; r < l; ++r) {
      const float* src = w.o.data() + r * d;
      std::copy(src, src + d, out + r * out_row);
    }
  }

  // Plain per-head shapes: q [L, d], k^T [d, L], scores [L, L], v and o [L, d].
  // User-managed scratchpads (one per thread) let threads run the primitives
  // concurrently.
  absl::Status MakePlan(int64_t l, int64_t d) {
    auto plan = std::make_unique<Plan>();
    plan->q = PlainDesc({l, d});
    plan->kt = PlainDesc({d, l});
    plan->s = PlainDesc({l, l});
    plan->v = plan->q;
    plan->o = plan->q;
    try {
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      dnnl::matmul::primitive_desc scores_pd(dnnl::matmul::desc(plan->q, plan->kt, plan->s), attr,
                                             CpuEngine());
      dnnl::matmul::primitive_desc mix_pd(dnnl::matmul::desc(plan->s, plan->v, plan->o), attr,
                                          CpuEngine());
      plan->scratch = scores_pd.scratchpad_desc().get_size() >=
                              mix_pd.scratchpad_desc().get_size()
                          ? scores_pd.scratchpad_desc()
                          : mix_pd.scratchpad_desc();
      plan->scores = dnnl::matmul(scores_pd);
      plan->mix = dnnl::matmul(mix_pd);
    } catch (const dnnl::error& err) {
      return DnnlError("PackedAttention primitive creation", err);
    }
    plan_ = std::move(plan);
    return absl::OkStatus();
  }

  int64_t heads_;
  float scale_;
  std::unique_ptr<Plan> plan_;
  Shape plan_shape_;
  std::vector<Workspace> work_;  // per thread
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
