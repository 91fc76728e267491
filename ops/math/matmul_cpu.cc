// MatMul (opset 1, 9, 13) with NumPy semantics: a 1-D operand gets a 1
// prepended (A) or appended (B) and that dim is dropped again; batch dims
// broadcast. float32 runs on oneDNN matmul; float64 and 32/64-bit integers on a
// plain loop.
#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_format.h"
#include "ops/math/arith.h"
#include "ops/math/broadcast.h"
#include "ops/math/math_kernels.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

// Y[batch, m, n] = sum_k A[a_batch, m, k] * B[b_batch, k, n].
struct MatMulDims {
  Shape batch;    // broadcast batch dims of the result
  Shape a_batch;  // A's batch dims, padded with leading 1s to batch.size()
  Shape b_batch;
  int64_t m = 0, k = 0, n = 0;
  Shape out;  // the ONNX output shape (promoted 1-D dims dropped)
};

absl::StatusOr<MatMulDims> ResolveDims(const Node& node, const Shape& a, const Shape& b) {
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: A has shape %s and B has shape %s: %s",
                                                      node.Describe(), ShapeToString(a),
                                                      ShapeToString(b), why));
  };
  if (a.empty() || b.empty()) return fail("operands must have rank >= 1");
  const Shape a2 = a.size() == 1 ? Shape{1, a[0]} : a;
  const Shape b2 = b.size() == 1 ? Shape{b[0], 1} : b;
  MatMulDims d;
  d.m = a2[a2.size() - 2];
  d.k = a2.back();
  d.n = b2.back();
  const int64_t kb = b2[b2.size() - 2];
  if (d.k != kb) return fail(absl::StrFormat("inner dims %d and %d differ", d.k, kb));
  Shape ab(a2.begin(), a2.end() - 2), bb(b2.begin(), b2.end() - 2);
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
  if (a.size() != 1) d.out.push_back(d.m);
  if (b.size() != 1) d.out.push_back(d.n);
  return d;
}

template <typename T>
void MatMulLoop(const MatMulDims& d, const T* a, const T* b, T* y) {
  const std::vector<int64_t> a_strides = BroadcastStrides(d.a_batch, d.batch);  // in matrices
  const std::vector<int64_t> b_strides = BroadcastStrides(d.b_batch, d.batch);
  const int64_t m = d.m, k = d.k, n = d.n;
  const int64_t rows = NumElements(d.batch) * m;
#pragma omp parallel for schedule(static) if (rows > 1 && rows * k * n >= (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t bi = r / m, i = r % m;
    const T* a_row = a + BroadcastOffset(bi, d.batch, a_strides) * m * k + i * k;
    const T* b_mat = b + BroadcastOffset(bi, d.batch, b_strides) * k * n;
    T* y_row = y + r * n;
    std::fill(y_row, y_row + n, T(0));
    for (int64_t kk = 0; kk < k; ++kk) {
      const T av = a_row[kk];
      const T* b_row = b_mat + kk * n;
      for (int64_t j = 0; j < n; ++j) y_row[j] = MulAdd(y_row[j], av, b_row[j]);
    }
  }
}

class MatMulKernel : public Kernel {
 public:
  explicit MatMulKernel(int64_t opset) : opset_(opset) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    if (a->dtype() != b->dtype()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input A is %s but input B is %s; both must have the same dtype",
                          node.Describe(), DataTypeName(a->dtype()), DataTypeName(b->dtype())));
    }
    ONYX_ASSIGN_OR_RETURN(MatMulDims d, ResolveDims(node, a->shape(), b->shape()));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, a->dtype(), d.out));
    if (y->num_elements() == 0) return absl::OkStatus();
    switch (a->dtype()) {
      case DataType::kFloat32:
        return RunFloat(node, d, *a, *b, *y);
      case DataType::kFloat64:
        MatMulLoop(d, a->data<double>(), b->data<double>(), y->data<double>());
        break;
      case DataType::kInt32:
        MatMulLoop(d, a->data<int32_t>(), b->data<int32_t>(), y->data<int32_t>());
        break;
      case DataType::kInt64:
        MatMulLoop(d, a->data<int64_t>(), b->data<int64_t>(), y->data<int64_t>());
        break;
      case DataType::kUInt32:
        MatMulLoop(d, a->data<uint32_t>(), b->data<uint32_t>(), y->data<uint32_t>());
        break;
      case DataType::kUInt64:
        MatMulLoop(d, a->data<uint64_t>(), b->data<uint64_t>(), y->data<uint64_t>());
        break;
      default:
        return absl::UnimplementedError(
            absl::StrFormat("%s: dtype %s is not supported on cpu (opset %d)", node.Describe(),
                            DataTypeName(a->dtype()), opset_));
    }
    return absl::OkStatus();
  }

 private:
  struct DnnlEntry {
    dnnl::matmul prim;
    dnnl::memory::desc src, weights, dst;
  };

  absl::Status RunFloat(const Node& node, const MatMulDims& d, const Tensor& a, const Tensor& b,
                        Tensor& y) {
    ONYX_ASSIGN_OR_RETURN(const DnnlEntry* entry, GetDnnl(d, a.shape(), b.shape()));
    if (entry == nullptr) {
      MatMulLoop(d, a.data<float>(), b.data<float>(), y.data<float>());
      return absl::OkStatus();
    }
    try {
      entry->prim.execute(CpuStream(), {{DNNL_ARG_SRC, AsDnnlMemory(entry->src, a)},
                                        {DNNL_ARG_WEIGHTS, AsDnnlMemory(entry->weights, b)},
                                        {DNNL_ARG_DST, AsDnnlMemory(entry->dst, y)}});
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      return DnnlError(node.Describe(), e);
    }
    return absl::OkStatus();
  }

  // Cached per (A shape, B shape); null where oneDNN cannot take the problem
  // (K == 0, rank above DNNL_MAX_NDIMS, or no implementation): the loop runs
  // then.
  absl::StatusOr<const DnnlEntry*> GetDnnl(const MatMulDims& d, const Shape& a_shape,
                                           const Shape& b_shape) {
    auto key = std::make_pair(a_shape, b_shape);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
    std::unique_ptr<DnnlEntry> entry;
    if (d.k > 0 && d.batch.size() + 2 <= DNNL_MAX_NDIMS) {
      Shape src = d.a_batch, weights = d.b_batch, dst = d.batch;
      src.insert(src.end(), {d.m, d.k});
      weights.insert(weights.end(), {d.k, d.n});
      dst.insert(dst.end(), {d.m, d.n});
      try {
        auto src_md = PlainDesc(src), weights_md = PlainDesc(weights), dst_md = PlainDesc(dst);
        dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, weights_md, dst_md),
                                        CpuEngine());
        entry.reset(new DnnlEntry{dnnl::matmul(pd), src_md, weights_md, dst_md});
      } catch (const dnnl::error& e) {
        if (e.status != dnnl_unimplemented) return DnnlError("matmul primitive creation", e);
      }
    }
    return cache_.emplace(std::move(key), std::move(entry)).first->second.get();
  }

  int64_t opset_;
  std::map<std::pair<Shape, Shape>, std::unique_ptr<DnnlEntry>> cache_;
};

}  // namespace

void RegisterMatMulOps(OpRegistry& registry) {
  for (int since : {1, 9, 13}) {
    registry.Register(
        kOnnxDomain, "MatMul", since, Device::kCpu,
        [](const Node& node, int64_t opset) -> absl::StatusOr<std::unique_ptr<Kernel>> {
          return std::make_unique<MatMulKernel>(opset);
        });
  }
}

}  // namespace onyx::math
