// Batched transposed matmul shared by the MatMul/Gemm backward kernels.
#include "ops/math/grad_matmul.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/math/broadcast.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

// y[r, :] for every row r = (batch index, i):
// y[i, j] = alpha * sum_k op(a)[i, k] * op(b)[k, j], op read through strides.
template <typename T>
void TransposedLoop(const TransposedDims& d, const T* a, const T* b, T alpha, T* y) {
  const std::vector<int64_t> a_mats = BroadcastStrides(d.a_batch, d.batch);  // in matrices
  const std::vector<int64_t> b_mats = BroadcastStrides(d.b_batch, d.batch);
  const int64_t m = d.m, k = d.k, n = d.n;
  // Element (i, kk) of op(a): a is stored [m, k], or [k, m] when transposed.
  const int64_t a_rs = d.trans_a ? 1 : k, a_cs = d.trans_a ? m : 1;
  // Element (kk, j) of op(b): b is stored [k, n], or [n, k] when transposed.
  const int64_t b_rs = d.trans_b ? 1 : n, b_cs = d.trans_b ? k : 1;
  const int64_t rows = NumElements(d.batch) * m;
#pragma omp parallel for schedule(static) if (rows > 1 && rows * k * n >= (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t bi = r / m, i = r % m;
    const T* a_mat = a + BroadcastOffset(bi, d.batch, a_mats) * m * k;
    const T* b_mat = b + BroadcastOffset(bi, d.batch, b_mats) * k * n;
    T* y_row = y + r * n;
    std::fill(y_row, y_row + n, T(0));
    for (int64_t kk = 0; kk < k; ++kk) {
      const T av = a_mat[i * a_rs + kk * a_cs];
      const T* b_k = b_mat + kk * b_rs;
      for (int64_t j = 0; j < n; ++j) y_row[j] += av * b_k[j * b_cs];
    }
    if (alpha != T(1)) {
      for (int64_t j = 0; j < n; ++j) y_row[j] *= alpha;
    }
  }
}

// Descriptor of an operand stored row-major as batch + [rows, cols] (or
// batch + [cols, rows] when `trans`), read as the logical batch + [rows, cols].
dnnl::memory::desc OperandDesc(const Shape& batch, int64_t rows, int64_t cols, bool trans) {
  Shape stored = batch;
  stored.push_back(trans ? cols : rows);
  stored.push_back(trans ? rows : cols);
  dnnl::memory::dims strides(stored.size(), 1);
  for (int i = static_cast<int>(stored.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * std::max<int64_t>(stored[i + 1], 1);
  }
  if (trans) std::swap(strides[strides.size() - 1], strides[strides.size() - 2]);
  dnnl::memory::dims logical(batch.begin(), batch.end());
  logical.push_back(rows);
  logical.push_back(cols);
  return dnnl::memory::desc(logical, dnnl::memory::data_type::f32, strides);
}

}  // namespace

absl::StatusOr<TransposedDims> ResolveTransposed(const std::string& what, const Shape& a,
                                                 bool trans_a, const Shape& b, bool trans_b) {
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: A has shape %s (trans_a=%d) and B has shape %s (trans_b=%d): %s", what,
        ShapeToString(a), trans_a, ShapeToString(b), trans_b, why));
  };
  if (a.size() < 2 || b.size() < 2) return fail("operands must have rank >= 2");
  TransposedDims d;
  d.trans_a = trans_a;
  d.trans_b = trans_b;
  const int64_t a0 = a[a.size() - 2], a1 = a.back();
  const int64_t b0 = b[b.size() - 2], b1 = b.back();
  d.m = trans_a ? a1 : a0;
  d.k = trans_a ? a0 : a1;
  const int64_t kb = trans_b ? b1 : b0;
  d.n = trans_b ? b0 : b1;
  if (d.k != kb) return fail(absl::StrFormat("inner dims %d and %d differ", d.k, kb));
  Shape ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
  auto batch = BroadcastShapes(ab, bb);
  if (!batch.ok()) {
    return fail(absl::StrFormat("batch dims %s and %s cannot be broadcast", ShapeToString(ab),
                                ShapeToString(bb)));
  }
  d.batch = *batch;
  ab.insert(ab.begin(), d.batch.size() - ab.size(), 1);
  bb.insert(bb.begin(), d.batch.size() - bb.size(), 1);
  d.a_batch = std::move(ab);
  d.b_batch = std::move(bb);
  d.out = d.batch;
  d.out.push_back(d.m);
  d.out.push_back(d.n);
  return d;
}

absl::Status TransposedMatMul::Run(const std::string& what, const TransposedDims& d,
                                   const Tensor& a, const Tensor& b, float alpha, Tensor& y) {
  if (a.dtype() != b.dtype()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: operands are %s and %s; both must have the same dtype", what,
        DataTypeName(a.dtype()), DataTypeName(b.dtype())));
  }
  if (y.num_elements() == 0) return absl::OkStatus();
  switch (a.dtype()) {
    case DataType::kFloat32: {
      if (d.k == 0) {  // empty sum; oneDNN rejects K == 0
        std::fill(y.data<float>(), y.data<float>() + y.num_elements(), 0.f);
        return absl::OkStatus();
      }
      ONYX_ASSIGN_OR_RETURN(const DnnlEntry* e, GetDnnl(d, a.shape(), b.shape(), alpha));
      if (e == nullptr) {
        TransposedLoop<float>(d, a.data<float>(), b.data<float>(), alpha, y.data<float>());
        return absl::OkStatus();
      }
      try {
        e->prim.execute(CpuStream(), {{DNNL_ARG_SRC, AsDnnlMemory(e->a, a)},
                                      {DNNL_ARG_WEIGHTS, AsDnnlMemory(e->b, b)},
                                      {DNNL_ARG_DST, AsDnnlMemory(e->y, y)}});
        CpuStream().wait();
      } catch (const dnnl::error& err) {
        return DnnlError(what, err);
      }
      return absl::OkStatus();
    }
    case DataType::kFloat64:
      TransposedLoop<double>(d, a.data<double>(), b.data<double>(), alpha, y.data<double>());
      return absl::OkStatus();
    default:
      return absl::UnimplementedError(absl::StrFormat(
          "%s: dtype %s is not supported on cpu (float32, float64)", what,
          DataTypeName(a.dtype())));
  }
}

absl::StatusOr<const TransposedMatMul::DnnlEntry*> TransposedMatMul::GetDnnl(
    const TransposedDims& d, const Shape& a_shape, const Shape& b_shape, float alpha) {
  auto key = std::make_tuple(a_shape, b_shape, d.trans_a, d.trans_b, alpha);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second.get();
  std::unique_ptr<DnnlEntry> entry;
  if (d.batch.size() + 2 <= DNNL_MAX_NDIMS) {
    try {
      auto a_md = OperandDesc(d.a_batch, d.m, d.k, d.trans_a);
      auto b_md = OperandDesc(d.b_batch, d.k, d.n, d.trans_b);
      auto y_md = PlainDesc(d.out);
      dnnl::primitive_attr attr;
      if (alpha != 1.f) attr.set_output_scales(0, {alpha});
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, y_md), attr, CpuEngine());
      entry.reset(new DnnlEntry{dnnl::matmul(pd), a_md, b_md, y_md});
    } catch (const dnnl::error& e) {
      if (e.status != dnnl_unimplemented) return DnnlError("MatMulT primitive creation", e);
    }
  }
  return cache_.emplace(std::move(key), std::move(entry)).first->second.get();
}

}  // namespace onyx::math
