// com.onyx backward ops of the math family (since 1, CPU, float32/float64):
// ReduceToShape, Scale, MatMulT (batched transposed matmul, Gemm's backward) and
// MatMulGrad (MatMul's backward with NumPy 1-D and batch-broadcast semantics).
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "ops/math/broadcast.h"
#include "ops/math/grad_matmul.h"
#include "ops/math/math_kernels.h"
#include "runtime/gradient.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

absl::Status CheckFloat(const Node& node, const char* input, const Tensor& t) {
  if (t.dtype() == DataType::kFloat32 || t.dtype() == DataType::kFloat64) {
    return absl::OkStatus();
  }
  return absl::UnimplementedError(
      absl::StrFormat("%s: input %s is %s; only float32 and float64 are supported on cpu",
                      node.Describe(), input, DataTypeName(t.dtype())));
}

// grad summed to `target` (shared when the shapes already agree).
absl::StatusOr<Tensor> SumTo(const Node& node, const Tensor& grad, const Shape& target) {
  if (grad.shape() == target) return grad;
  auto sum = ReduceSumToShape(grad, target);
  if (!sum.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s", node.Describe(), sum.status().message()));
  }
  return sum;
}

// ReduceToShape(grad, like) -> out: out = grad summed over the dims along which
// a tensor of like's shape was broadcast to grad's shape (only like's shape is read).
class ReduceToShapeKernel : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* grad, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* like, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "grad", *grad));
    ONYX_ASSIGN_OR_RETURN(Tensor out, SumTo(node, *grad, like->shape()));
    ctx.SetOutput(0, std::move(out));
    return absl::OkStatus();
  }
};

// Scale(x) -> y, y = alpha * x.
class ScaleKernel : public Kernel {
 public:
  explicit ScaleKernel(float alpha) : alpha_(alpha) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "x", *x));
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
    if (x->dtype() == DataType::kFloat32) {
      Apply<float>(x->data<float>(), y->data<float>(), x->num_elements());
    } else {
      Apply<double>(x->data<double>(), y->data<double>(), x->num_elements());
    }
    return absl::OkStatus();
  }

 private:
  template <typename T>
  void Apply(const T* x, T* y, int64_t n) const {
    const T alpha = static_cast<T>(alpha_);
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
  }

  float alpha_;
};

// MatMulT(a, b) -> y = alpha * op(a) * op(b) (see grad_matmul.h); rank >= 2.
class MatMulTKernel : public Kernel {
 public:
  MatMulTKernel(bool trans_a, bool trans_b, float alpha)
      : trans_a_(trans_a), trans_b_(trans_b), alpha_(alpha) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "A", *a));
    const std::string what = node.Describe();
    ONYX_ASSIGN_OR_RETURN(TransposedDims d,
                          ResolveTransposed(what, a->shape(), trans_a_, b->shape(), trans_b_));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, a->dtype(), d.out));
    return matmul_.Run(what, d, *a, *b, alpha_, *y);
  }

 private:
  bool trans_a_, trans_b_;
  float alpha_;
  TransposedMatMul matmul_;
};

// MatMulGrad(dY, A, B) -> (dA, dB) for Y = MatMul(A, B) with NumPy semantics:
// with A2, B2 the operands promoted to >= 2-D ([K] -> [1,K] for A, [K,1] for B)
// and dY2 = dY read as batch + [M, N]:
//   dA = sum over A's broadcast batch dims of dY2 * B2^T, reshaped to A's shape,
//   dB = sum over B's broadcast batch dims of A2^T * dY2, reshaped to B's shape.
// Either output may be omitted.
class MatMulGradKernel : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const std::string what = node.Describe();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "dY", *dy));
    for (const Tensor* t : {a, b}) {
      if (t->dtype() != dy->dtype()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: dY is %s but A is %s and B is %s; all must have the same dtype", what,
            DataTypeName(dy->dtype()), DataTypeName(a->dtype()), DataTypeName(b->dtype())));
      }
    }
    if (a->rank() == 0 || b->rank() == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: A %s and B %s must have rank >= 1", what,
                          ShapeToString(a->shape()), ShapeToString(b->shape())));
    }
    const Shape a2 = a->rank() == 1 ? Shape{1, a->dim(0)} : a->shape();
    const Shape b2 = b->rank() == 1 ? Shape{b->dim(0), 1} : b->shape();
    ONYX_ASSIGN_OR_RETURN(TransposedDims fwd, ResolveTransposed(what, a2, false, b2, false));
    Shape y_shape = fwd.batch;
    if (a->rank() != 1) y_shape.push_back(fwd.m);
    if (b->rank() != 1) y_shape.push_back(fwd.n);
    if (dy->shape() != y_shape) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: dY has shape %s but MatMul of A %s and B %s has shape %s", what,
          ShapeToString(dy->shape()), ShapeToString(a->shape()), ShapeToString(b->shape()),
          ShapeToString(y_shape)));
    }
    ONYX_ASSIGN_OR_RETURN(const Tensor dy2, dy->Reshaped(fwd.out));
    ONYX_ASSIGN_OR_RETURN(const Tensor a2_view, a->Reshaped(a2));
    ONYX_ASSIGN_OR_RETURN(const Tensor b2_view, b->Reshaped(b2));
    if (ctx.wants_output(0)) {
      ONYX_ASSIGN_OR_RETURN(Tensor da, Product(ctx, dy2, false, b2_view, true));
      ONYX_ASSIGN_OR_RETURN(da, SumTo(node, da, a2));
      ONYX_ASSIGN_OR_RETURN(da, da.Reshaped(a->shape()));
      ctx.SetOutput(0, std::move(da));
    }
    if (ctx.wants_output(1)) {
      Tensor db;
      if (FoldsBatchIntoRows(fwd)) {
        // B is shared by every batch matrix: one [K, P*M] x [P*M, N] product.
        const int64_t rows = NumElements(fwd.batch) * fwd.m;
        ONYX_ASSIGN_OR_RETURN(const Tensor a_flat, a2_view.Reshaped({rows, fwd.k}));
        ONYX_ASSIGN_OR_RETURN(const Tensor dy_flat, dy2.Reshaped({rows, fwd.n}));
        ONYX_ASSIGN_OR_RETURN(db, Product(ctx, a_flat, true, dy_flat, false));
      } else {
        ONYX_ASSIGN_OR_RETURN(db, Product(ctx, a2_view, true, dy2, false));
        ONYX_ASSIGN_OR_RETURN(db, SumTo(node, db, b2));
      }
      ONYX_ASSIGN_OR_RETURN(db, db.Reshaped(b->shape()));
      ctx.SetOutput(1, std::move(db));
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<Tensor> Product(KernelContext& ctx, const Tensor& x, bool trans_x,
                                 const Tensor& w, bool trans_w) {
    const std::string what = ctx.node().Describe();
    ONYX_ASSIGN_OR_RETURN(TransposedDims d,
                          ResolveTransposed(what, x.shape(), trans_x, w.shape(), trans_w));
    ONYX_ASSIGN_OR_RETURN(Tensor out,
                          Tensor::Uninitialized(x.dtype(), d.out, ctx.max_tensor_bytes()));
    ONYX_RETURN_IF_ERROR(matmul_.Run(what, d, x, w, 1.f, out));
    return out;
  }

  TransposedMatMul matmul_;
};

template <typename K>
absl::StatusOr<std::unique_ptr<Kernel>> MakePlain(const Node&, int64_t) {
  return std::make_unique<K>();
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeScale(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
  return std::make_unique<ScaleKernel>(alpha);
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeMatMulT(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("trans_a", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("trans_b", 0));
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
  return std::make_unique<MatMulTKernel>(trans_a != 0, trans_b != 0, alpha);
}

}  // namespace

void RegisterMathGradOps(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "ReduceToShape", 1, Device::kCpu,
                    MakePlain<ReduceToShapeKernel>);
  registry.Register(kOnyxDomain, "Scale", 1, Device::kCpu, MakeScale);
  registry.Register(kOnyxDomain, "MatMulT", 1, Device::kCpu, MakeMatMulT);
  registry.Register(kOnyxDomain, "MatMulGrad", 1, Device::kCpu, MakePlain<MatMulGradKernel>);
}

}  // namespace onyx::math
