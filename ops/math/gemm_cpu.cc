// Gemm (opset 7, 9, 11, 13): Y = alpha * A' * B' + beta * C, A' = transA ? A^T
// : A (B' likewise), C optional and unidirectionally broadcast to [M, N].
// float32 runs on oneDNN matmul reading the transposes through strides; float64
// and small float32 problems on a loop.
#include <algorithm>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "ops/math/math_kernels.h"
#include "ops/math/small_gemm.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

struct GemmDims {
  int64_t m = 0, k = 0, n = 0;
  bool has_c = false;
  int64_t c_rows = 1, c_cols = 1;  // C padded to 2-D: each 1 or M / N
};

// y[i, j] += beta * C[i, j] with C broadcast from [c_rows, c_cols].
template <typename T>
void AddScaledC(const GemmDims& d, T beta, const T* c, T* y) {
  const int64_t row_stride = d.c_rows == 1 ? 0 : d.c_cols;
  const int64_t col_stride = d.c_cols == 1 ? 0 : 1;
#pragma omp parallel for schedule(static) if (d.m * d.n >= (1 << 15))
  for (int64_t i = 0; i < d.m; ++i) {
    const T* c_row = c + i * row_stride;
    T* y_row = y + i * d.n;
    for (int64_t j = 0; j < d.n; ++j) y_row[j] += beta * c_row[j * col_stride];
  }
}

class GemmKernel : public Kernel {
 public:
  GemmKernel(float alpha, float beta, bool trans_a, bool trans_b, int64_t opset)
      : alpha_(alpha), beta_(beta), trans_a_(trans_a), trans_b_(trans_b), opset_(opset) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    const Tensor* c = ctx.input(2);
    ONYX_ASSIGN_OR_RETURN(GemmDims d, Resolve(node, *a, *b, c));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, a->dtype(), {d.m, d.n}));
    if (y->num_elements() == 0) return absl::OkStatus();
    switch (a->dtype()) {
      case DataType::kFloat32:
        return RunFloat(node, d, *a, *b, c, *y);
      case DataType::kFloat64:
        GemmLoop<double>(d.m, d.k, d.n, trans_a_, trans_b_, alpha_, a->data<double>(),
                         b->data<double>(), y->data<double>());
        if (d.has_c) AddScaledC<double>(d, beta_, c->data<double>(), y->data<double>());
        return absl::OkStatus();
      default:
        return absl::UnimplementedError(
            absl::StrFormat("%s: dtype %s is not supported on cpu (opset %d)", node.Describe(),
                            DataTypeName(a->dtype()), opset_));
    }
  }

 private:
  struct DnnlEntry {
    dnnl::matmul prim;
    dnnl::memory::desc a, b, bias, y;
    bool uses_bias;
    dnnl::memory a_mem, b_mem, bias_mem, y_mem;
    std::unordered_map<int, dnnl::memory> args;
  };

  absl::StatusOr<GemmDims> Resolve(const Node& node, const Tensor& a, const Tensor& b,
                                   const Tensor* c) const {
    for (const Tensor* t : {&b, c}) {
      if (t != nullptr && t->dtype() != a.dtype()) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: input A is %s but input %s is %s; all inputs "
                            "must have the same dtype",
                            node.Describe(), DataTypeName(a.dtype()), t == &b ? "B" : "C",
                            DataTypeName(t->dtype())));
      }
    }
    if (a.rank() != 2 || b.rank() != 2) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: A and B must be 2-D, got A %s and B %s", node.Describe(),
                          ShapeToString(a.shape()), ShapeToString(b.shape())));
    }
    GemmDims d;
    d.m = trans_a_ ? a.dim(1) : a.dim(0);
    d.k = trans_a_ ? a.dim(0) : a.dim(1);
    const int64_t kb = trans_b_ ? b.dim(1) : b.dim(0);
    d.n = trans_b_ ? b.dim(0) : b.dim(1);
    if (d.k != kb) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: A has shape %s (transA=%d) and B has shape %s "
                          "(transB=%d): K is %d for A "
                          "but %d for B",
                          node.Describe(), ShapeToString(a.shape()), trans_a_,
                          ShapeToString(b.shape()), trans_b_, d.k, kb));
    }
    if (c != nullptr) {
      d.has_c = true;
      if (c->rank() >= 1) d.c_cols = c->dim(c->rank() - 1);
      if (c->rank() == 2) d.c_rows = c->dim(0);
      if (c->rank() > 2 || (d.c_rows != 1 && d.c_rows != d.m) ||
          (d.c_cols != 1 && d.c_cols != d.n)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: C has shape %s, which does not broadcast to [%d,%d]",
                            node.Describe(), ShapeToString(c->shape()), d.m, d.n));
      }
    }
    return d;
  }

  absl::Status RunFloat(const Node& node, const GemmDims& d, const Tensor& a, const Tensor& b,
                        const Tensor* c, Tensor& y) {
    float* yp = y.data<float>();
    if (d.k == 0) {  // empty sum: oneDNN rejects K == 0
      std::fill(yp, yp + y.num_elements(), 0.f);
    } else if (d.m * d.n * d.k <= kSmallGemmMaxMacs) {
      GemmLoop<float>(d.m, d.k, d.n, trans_a_, trans_b_, alpha_, a.data<float>(), b.data<float>(),
                      yp);
    } else {
      ONYX_ASSIGN_OR_RETURN(DnnlEntry* e, GetDnnl(d, a.shape(), b.shape(), c));
      try {
        // Memory objects and the argument map live in the entry: a call swaps pointers.
        e->a_mem.set_data_handle(const_cast<void*>(a.raw_data()));
        e->b_mem.set_data_handle(const_cast<void*>(b.raw_data()));
        e->y_mem.set_data_handle(y.raw_data());
        if (e->uses_bias) e->bias_mem.set_data_handle(const_cast<void*>(c->raw_data()));
        e->prim.execute(CpuStream(), e->args);
        CpuStream().wait();
      } catch (const dnnl::error& err) {
        return DnnlError(node.Describe(), err);
      }
      if (e->uses_bias) return absl::OkStatus();
    }
    if (d.has_c) AddScaledC<float>(d, beta_, c->data<float>(), yp);
    return absl::OkStatus();
  }

  // One primitive per (A, B, C) shape. alpha == beta == 1 folds C in as the
  // matmul bias (broadcast over dims of 1), unless oneDNN only has its reference
  // kernel for that bias shape (2.6 jits only a [1, N] bias): then, as for other
  // alpha/beta, alpha is the output scale (dst = alpha * A'B', no bias) and
  // beta * C is added afterwards.
  absl::StatusOr<DnnlEntry*> GetDnnl(const GemmDims& d, const Shape& a_shape,
                                     const Shape& b_shape, const Tensor* c) {
    // The shapes of the previous call first: no key built (no allocation) per call.
    if (last_ != nullptr && std::get<0>(last_->first) == a_shape &&
        std::get<1>(last_->first) == b_shape) {
      const Shape& last_c = std::get<2>(last_->first);  // {-1}: no C
      const bool same_c = c != nullptr ? last_c == c->shape()
                                       : last_c.size() == 1 && last_c[0] == -1;
      if (same_c) return last_->second.get();
    }
    auto key = std::make_tuple(a_shape, b_shape, c != nullptr ? c->shape() : Shape{-1});
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      last_ = &*it;
      return it->second.get();
    }
    auto entry = std::make_unique<DnnlEntry>();
    try {
      using dnnl::memory;
      // A' is [M, K]: row-major A, or A^T read with swapped strides.
      entry->a = memory::desc({d.m, d.k}, memory::data_type::f32,
                              trans_a_ ? memory::dims{1, d.m} : memory::dims{d.k, 1});
      entry->b = memory::desc({d.k, d.n}, memory::data_type::f32,
                              trans_b_ ? memory::dims{1, d.k} : memory::dims{d.n, 1});
      entry->y = PlainDesc({d.m, d.n});
      entry->uses_bias = false;
      if (d.has_c && alpha_ == 1.f && beta_ == 1.f) {
        entry->bias = PlainDesc({d.c_rows, d.c_cols});
        dnnl::matmul::primitive_desc pd(
            dnnl::matmul::desc(entry->a, entry->b, entry->bias, entry->y), CpuEngine());
        if (!absl::StartsWith(pd.impl_info_str(), "ref")) {
          entry->prim = dnnl::matmul(pd);
          entry->uses_bias = true;
        }
      }
      if (!entry->uses_bias) {
        dnnl::primitive_attr attr;
        if (alpha_ != 1.f) attr.set_output_scales(0, {alpha_});
        entry->prim = dnnl::matmul(dnnl::matmul::primitive_desc(
            dnnl::matmul::desc(entry->a, entry->b, entry->y), attr, CpuEngine()));
      }
      entry->a_mem = dnnl::memory(entry->a, CpuEngine(), DNNL_MEMORY_NONE);
      entry->b_mem = dnnl::memory(entry->b, CpuEngine(), DNNL_MEMORY_NONE);
      entry->y_mem = dnnl::memory(entry->y, CpuEngine(), DNNL_MEMORY_NONE);
      entry->args = {{DNNL_ARG_SRC, entry->a_mem},
                     {DNNL_ARG_WEIGHTS, entry->b_mem},
                     {DNNL_ARG_DST, entry->y_mem}};
      if (entry->uses_bias) {
        entry->bias_mem = dnnl::memory(entry->bias, CpuEngine(), DNNL_MEMORY_NONE);
        entry->args.emplace(DNNL_ARG_BIAS, entry->bias_mem);
      }
    } catch (const dnnl::error& e) {
      return DnnlError("Gemm matmul primitive creation", e);
    }
    last_ = &*cache_.emplace(std::move(key), std::move(entry)).first;
    return last_->second.get();
  }

  float alpha_, beta_;
  bool trans_a_, trans_b_;
  int64_t opset_;
  using Cache = std::map<std::tuple<Shape, Shape, Shape>, std::unique_ptr<DnnlEntry>>;
  Cache cache_;
  Cache::value_type* last_ = nullptr;  // map nodes are stable
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeGemm(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
  ONYX_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 1.f));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  return std::make_unique<GemmKernel>(alpha, beta, trans_a != 0, trans_b != 0, opset);
}

}  // namespace

void RegisterGemmOps(OpRegistry& registry) {
  // Gemm-1/6's broadcast attribute is subsumed by the opset 7 rules (C
  // broadcasts unidirectionally), so the same kernel serves them.
  for (int since : {1, 6, 7, 9, 11, 13})
    registry.Register(kOnnxDomain, "Gemm", since, Device::kCpu, MakeGemm);
}

}  // namespace onyx::math
