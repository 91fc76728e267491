// com.onyx FusedGemm: Y = act(alpha * A' * B' + beta * C) with Gemm's
// attributes (alpha, beta, transA, transB) and C broadcast to [M, N]. One
// oneDNN matmul: transposes read through strides, alpha as the output scale,
// beta * C as a binary-add post-op, the activation as an eltwise post-op.
// Small problems (small_gemm.h) run as a loop.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>

#include "absl/strings/str_format.h"
#include "ops/math/fused_activation.h"
#include "ops/math/fused_ops.h"
#include "ops/math/small_gemm.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

class FusedGemmKernel : public Kernel {
 public:
  FusedGemmKernel(FusedActivation act, float alpha, float beta, bool trans_a, bool trans_b)
      : act_(std::move(act)), alpha_(alpha), beta_(beta), trans_a_(trans_a), trans_b_(trans_b) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    const Tensor* c = ctx.input(2);
    for (const Tensor* t : {a, b, c}) {
      if (t != nullptr && t->dtype() != DataType::kFloat32) {
        return absl::UnimplementedError(absl::StrFormat(
            "%s: only float32 is supported, got %s", node.Describe(), t->DebugString()));
      }
    }
    if (a->rank() != 2 || b->rank() != 2) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: A and B must be 2-D, got %s and %s",
                                                        node.Describe(), a->DebugString(),
                                                        b->DebugString()));
    }
    const int64_t m = trans_a_ ? a->dim(1) : a->dim(0), k = trans_a_ ? a->dim(0) : a->dim(1);
    const int64_t kb = trans_b_ ? b->dim(1) : b->dim(0), n = trans_b_ ? b->dim(0) : b->dim(1);
    if (k != kb) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: A has shape %s (transA=%d) and B has shape %s (transB=%d): K is %d for A but %d "
          "for B", node.Describe(), ShapeToString(a->shape()), trans_a_,
          ShapeToString(b->shape()), trans_b_, k, kb));
    }
    int64_t c_rows = 1, c_cols = 1;
    if (c != nullptr) {
      if (c->rank() >= 1) c_cols = c->dim(c->rank() - 1);
      if (c->rank() == 2) c_rows = c->dim(0);
      if (c->rank() > 2 || (c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: C has shape %s, which does not broadcast to [%d,%d]", node.Describe(),
            ShapeToString(c->shape()), m, n));
      }
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, {m, n}));
    if (y->num_elements() == 0) return absl::OkStatus();
    // beta * C, scaled once per call when beta != 1 (C is small next to A * B).
    Tensor scaled_c;
    if (c != nullptr && beta_ != 1.f) {
      ONYX_ASSIGN_OR_RETURN(scaled_c, Tensor::Uninitialized(DataType::kFloat32, c->shape()));
      const float* cp = c->data<float>();
      float* sp = scaled_c.data<float>();
      for (int64_t i = 0; i < c->num_elements(); ++i) sp[i] = beta_ * cp[i];
      c = &scaled_c;
    }
    float* yp = y->data<float>();
    if (k == 0 || m * n * k <= kSmallGemmMaxMacs) {  // oneDNN rejects K == 0
      if (k == 0) {
        std::fill(yp, yp + y->num_elements(), 0.f);
      } else {
        GemmLoop<float>(m, k, n, trans_a_, trans_b_, alpha_, a->data<float>(), b->data<float>(),
                        yp);
      }
      AddC(m, n, c, c_rows, c_cols, yp);
      act_.ApplyInPlace(yp, y->num_elements());
      return absl::OkStatus();
    }
    ONYX_ASSIGN_OR_RETURN(const Entry* e, GetEntry(m, k, n, c != nullptr, c_rows, c_cols));
    try {
      // Memory objects and the argument map live in the entry: a call swaps pointers.
      e->a_mem.set_data_handle(const_cast<void*>(a->raw_data()));
      e->b_mem.set_data_handle(const_cast<void*>(b->raw_data()));
      e->y_mem.set_data_handle(y->raw_data());
      if (c != nullptr && e->c_in_post_ops) {
        e->c_mem.set_data_handle(const_cast<void*>(c->raw_data()));
      }
      e->prim.execute(CpuStream(), e->args);
      CpuStream().wait();
    } catch (const dnnl::error& err) {
      return DnnlError(node.Describe(), err);
    }
    if (!e->c_in_post_ops) {
      AddC(m, n, c, c_rows, c_cols, yp);
      act_.ApplyInPlace(yp, y->num_elements());
    }
    return absl::OkStatus();
  }

 private:
  struct Entry {
    dnnl::matmul prim;
    dnnl::memory::desc a, b, c, y;
    bool c_in_post_ops = false;  // false: C and the activation run as loops afterwards
    dnnl::memory a_mem, b_mem, c_mem, y_mem;
    std::unordered_map<int, dnnl::memory> args;
  };

  static void AddC(int64_t m, int64_t n, const Tensor* c, int64_t c_rows, int64_t c_cols,
                   float* y) {
    if (c == nullptr) return;
    const float* cp = c->data<float>();
    const int64_t row_stride = c_rows == 1 ? 0 : c_cols, col_stride = c_cols == 1 ? 0 : 1;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) y[i * n + j] += cp[i * row_stride + j * col_stride];
    }
  }

  absl::StatusOr<const Entry*> GetEntry(int64_t m, int64_t k, int64_t n, bool has_c,
                                        int64_t c_rows, int64_t c_cols) {
    auto key = std::make_tuple(m, k, n, has_c, c_rows, c_cols);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
    auto entry = std::make_unique<Entry>();
    using dnnl::memory;
    try {
      entry->a = memory::desc({m, k}, memory::data_type::f32,
                              trans_a_ ? memory::dims{1, m} : memory::dims{k, 1});
      entry->b = memory::desc({k, n}, memory::data_type::f32,
                              trans_b_ ? memory::dims{1, k} : memory::dims{n, 1});
      entry->y = PlainDesc({m, n});
      entry->c = PlainDesc({c_rows, c_cols});
      dnnl::primitive_attr attr;
      if (alpha_ != 1.f) attr.set_output_scales(0, {alpha_});
      const dnnl::matmul::desc desc(entry->a, entry->b, entry->y);
      int c_arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1;
      // With alpha == 1 a row-vector C is the matmul bias: oneDNN's jitted
      // kernels take it and run faster than with a binary-add post-op.
      if (has_c && c_rows == 1 && alpha_ == 1.f) {
        dnnl::post_ops ops;
        AppendActivation(act_, ops);
        dnnl::primitive_attr bias_attr;
        bias_attr.set_post_ops(ops);
        try {
          dnnl::matmul::primitive_desc pd(
              dnnl::matmul::desc(entry->a, entry->b, entry->c, entry->y), bias_attr, CpuEngine());
          if (std::string(pd.impl_info_str()).rfind("ref", 0) != 0) {
            entry->prim = dnnl::matmul(pd);
            entry->c_in_post_ops = true;
            c_arg = DNNL_ARG_BIAS;
          }
        } catch (const dnnl::error& e) {
          if (e.status != dnnl_unimplemented) throw;
        }
      }
      if (!entry->c_in_post_ops) {
        try {
          dnnl::post_ops ops;
          if (has_c) ops.append_binary(dnnl::algorithm::binary_add, entry->c);
          AppendActivation(act_, ops);
          attr.set_post_ops(ops);
          entry->prim = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, CpuEngine()));
          entry->c_in_post_ops = true;
        } catch (const dnnl::error& e) {
          if (e.status != dnnl_unimplemented) throw;
          attr.set_post_ops(dnnl::post_ops());
          entry->prim = dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, CpuEngine()));
        }
      }
      entry->a_mem = dnnl::memory(entry->a, CpuEngine(), DNNL_MEMORY_NONE);
      entry->b_mem = dnnl::memory(entry->b, CpuEngine(), DNNL_MEMORY_NONE);
      entry->y_mem = dnnl::memory(entry->y, CpuEngine(), DNNL_MEMORY_NONE);
      entry->args = {{DNNL_ARG_SRC, entry->a_mem},
                     {DNNL_ARG_WEIGHTS, entry->b_mem},
                     {DNNL_ARG_DST, entry->y_mem}};
      if (has_c && entry->c_in_post_ops) {
        entry->c_mem = dnnl::memory(entry->c, CpuEngine(), DNNL_MEMORY_NONE);
        entry->args.emplace(c_arg, entry->c_mem);
      }
    } catch (const dnnl::error& e) {
      return DnnlError("FusedGemm primitive creation", e);
    }
    return cache_.emplace(key, std::move(entry)).first->second.get();
  }

  FusedActivation act_;
  float alpha_, beta_;
  bool trans_a_, trans_b_;
  std::map<std::tuple<int64_t, int64_t, int64_t, bool, int64_t, int64_t>, std::unique_ptr<Entry>>
      cache_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateFusedGemmKernel(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(FusedActivation act, ReadFusedActivation(node));
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
  ONYX_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 1.f));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  return std::make_unique<FusedGemmKernel>(std::move(act), alpha, beta, trans_a != 0,
                                           trans_b != 0);
}

}  // namespace onyx::math
