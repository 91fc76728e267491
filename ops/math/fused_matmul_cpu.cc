// com.onyx FusedMatMul: Y = act(MatMul(A, B) + Bias), MatMul with NumPy
// semantics (batch broadcast, 1-D operands promoted), Bias optional with one
// value per output column ([N]). Emitted by the graph passes for float32; runs
// as one oneDNN matmul with bias and an eltwise post-op.
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>

#include "absl/strings/str_format.h"
#include "ops/math/broadcast.h"
#include "ops/math/fused_activation.h"
#include "ops/math/fused_ops.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

class FusedMatMulKernel : public Kernel {
 public:
  explicit FusedMatMulKernel(FusedActivation act) : act_(std::move(act)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    const Tensor* bias = ctx.input(2);
    for (const Tensor* t : {a, b, bias}) {
      if (t != nullptr && t->dtype() != DataType::kFloat32) {
        return absl::UnimplementedError(absl::StrFormat(
            "%s: only float32 is supported, got %s", node.Describe(), t->DebugString()));
      }
    }
    ONYX_ASSIGN_OR_RETURN(FusedMatMulDims d, ResolveFusedMatMulDims(node, a->shape(), b->shape()));
    if (bias != nullptr && (bias->num_elements() != d.n || bias->rank() != 1)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: Bias must have shape [%d] (one value per output column), got %s",
          node.Describe(), d.n, ShapeToString(bias->shape())));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, d.out));
    if (y->num_elements() == 0) return absl::OkStatus();
    ONYX_ASSIGN_OR_RETURN(const Entry* e, GetEntry(d, *a, *b, bias != nullptr));
    if (e == nullptr) {
      Loop(d, *a, *b, bias, *y);
      return absl::OkStatus();
    }
    try {
      std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, AsDnnlMemory(e->src, *a)},
                                                    {DNNL_ARG_WEIGHTS, AsDnnlMemory(e->weights, *b)},
                                                    {DNNL_ARG_DST, AsDnnlMemory(e->dst, *y)}};
      if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, AsDnnlMemory(e->bias, *bias));
      e->prim.execute(CpuStream(), args);
      CpuStream().wait();
    } catch (const dnnl::error& err) {
      return DnnlError(node.Describe(), err);
    }
    return absl::OkStatus();
  }

 private:
  struct Entry {
    dnnl::matmul prim;
    dnnl::memory::desc src, weights, bias, dst;
  };

  // One primitive per (A shape, B shape, bias present); null when oneDNN cannot
  // take the problem (K == 0, too many dims, no implementation).
  absl::StatusOr<const Entry*> GetEntry(const FusedMatMulDims& d, const Tensor& a,
                                        const Tensor& b, bool has_bias) {
    auto key = std::make_tuple(a.shape(), b.shape(), has_bias);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
    std::unique_ptr<Entry> entry;
    if (d.k > 0 && d.batch.size() + 2 <= DNNL_MAX_NDIMS) {
      Shape src = d.a_batch, weights = d.b_batch, dst = d.batch, bias(d.batch.size() + 1, 1);
      src.insert(src.end(), {d.m, d.k});
      weights.insert(weights.end(), {d.k, d.n});
      dst.insert(dst.end(), {d.m, d.n});
      bias.push_back(d.n);
      try {
        entry = std::make_unique<Entry>();
        entry->src = PlainDesc(src);
        entry->weights = PlainDesc(weights);
        entry->dst = PlainDesc(dst);
        entry->bias = PlainDesc(bias);
        dnnl::post_ops ops;
        AppendActivation(act_, ops);
        dnnl::primitive_attr attr;
        attr.set_post_ops(ops);
        auto desc = has_bias ? dnnl::matmul::desc(entry->src, entry->weights, entry->bias,
                                                  entry->dst)
                             : dnnl::matmul::desc(entry->src, entry->weights, entry->dst);
        entry->prim = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, CpuEngine()));
      } catch (const dnnl::error& e) {
        if (e.status != dnnl_unimplemented) return DnnlError("FusedMatMul primitive creation", e);
        entry.reset();
      }
    }
    return cache_.emplace(std::move(key), std::move(entry)).first->second.get();
  }

  // y[batch, i, j] = act(sum_k A[.., i, k] B[.., k, j] + bias[j]).
  void Loop(const FusedMatMulDims& d, const Tensor& a, const Tensor& b, const Tensor* bias,
            Tensor& y) const {
    const std::vector<int64_t> a_strides = BroadcastStrides(d.a_batch, d.batch);
    const std::vector<int64_t> b_strides = BroadcastStrides(d.b_batch, d.batch);
    const float* ap = a.data<float>();
    const float* bp = b.data<float>();
    const float* biasp = bias != nullptr ? bias->data<float>() : nullptr;
    float* yp = y.data<float>();
    const int64_t rows = NumElements(d.batch) * d.m;
#pragma omp parallel for schedule(static) if (rows > 1 && rows * d.k * d.n >= (1 << 15))
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t bi = r / d.m, i = r % d.m;
      const float* a_row = ap + BroadcastOffset(bi, d.batch, a_strides) * d.m * d.k + i * d.k;
      const float* b_mat = bp + BroadcastOffset(bi, d.batch, b_strides) * d.k * d.n;
      float* y_row = yp + r * d.n;
      for (int64_t j = 0; j < d.n; ++j) y_row[j] = biasp != nullptr ? biasp[j] : 0.f;
      for (int64_t kk = 0; kk < d.k; ++kk) {
        const float av = a_row[kk];
        for (int64_t j = 0; j < d.n; ++j) y_row[j] += av * b_mat[kk * d.n + j];
      }
      for (int64_t j = 0; j < d.n; ++j) y_row[j] = act_.present() ? act_.Apply(y_row[j]) : y_row[j];
    }
  }

  FusedActivation act_;
  std::map<std::tuple<Shape, Shape, bool>, std::unique_ptr<Entry>> cache_;
};

}  // namespace

absl::StatusOr<FusedMatMulDims> ResolveFusedMatMulDims(const Node& node, const Shape& a,
                                                       const Shape& b) {
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: A has shape %s and B has shape %s: %s",
                                                      node.Describe(), ShapeToString(a),
                                                      ShapeToString(b), why));
  };
  if (a.empty() || b.empty()) return fail("operands must have rank >= 1");
  const Shape a2 = a.size() == 1 ? Shape{1, a[0]} : a;
  const Shape b2 = b.size() == 1 ? Shape{b[0], 1} : b;
  FusedMatMulDims d;
  d.m = a2[a2.size() - 2];
  d.k = a2.back();
  d.n = b2.back();
  if (d.k != b2[b2.size() - 2]) {
    return fail(absl::StrFormat("inner dims %d and %d differ", d.k, b2[b2.size() - 2]));
  }
  Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
  auto batch = BroadcastShapes(ab, bb);
  if (!batch.ok()) return fail("batch dims cannot be broadcast");
  d.batch = *batch;
  ab.insert(ab.begin(), d.batch.size() - ab.size(), 1);
  bb.insert(bb.begin(), d.batch.size() - bb.size(), 1);
  d.a_batch = std::move(ab);
  d.b_batch = std::move(bb);
  d.out = d.batch;
  if (a.size() != 1) d.out.push_back(d.m);
  if (b.size() != 1) d.out.push_back(d.n);
  return d;
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateFusedMatMulKernel(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(FusedActivation act, ReadFusedActivation(node));
  return std::make_unique<FusedMatMulKernel>(std::move(act));
}

}  // namespace onyx::math
