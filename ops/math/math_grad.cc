// Gradient builders of the math family: MatMul, Gemm, Add, Sub, Mul, Div. They
// emit ONNX Mul/Div where those suffice and the com.onyx ops of grad_ops_cpu.cc
// (ReduceToShape folds broadcast dims back to an operand's shape).
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/math/math_kernels.h"
#include "runtime/gradient.h"
#include "runtime/gradient_emitter.h"
#include "runtime/op_registry.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

Attribute IntAttr(const std::string& name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}

Attribute FloatAttr(const std::string& name, float v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}

// The shared emitter plus the folds the broadcasting math ops need.
class Emitter : public GradientEmitter {
 public:
  using GradientEmitter::GradientEmitter;
  // ReduceToShape(value, like): `value` folded to the shape of input i.
  std::string ReduceTo(const std::string& value, size_t i) {
    return Op(kOnyxDomain, "ReduceToShape", {value, In(i)}, In(i) + "_grad");
  }
  std::string Scale(const std::string& value, float alpha) {
    return Op(kOnyxDomain, "Scale", {value}, value + "_scaled", {FloatAttr("alpha", alpha)});
  }
};

// The gradient flowing into output 0, or an error when the forward output is
// the only one and none flows (autograd never asks then).
absl::StatusOr<std::string> OutputGrad(const GradientContext& ctx) {
  if (ctx.output_grads.empty() || ctx.output_grads[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no gradient flows into output 0", ctx.node.Describe()));
  }
  if (ctx.node.inputs.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: expected at least 2 inputs", ctx.node.Describe()));
  }
  return ctx.output_grads[0];
}

// Y = A + B: dA = ReduceToShape(dY, A), dB = ReduceToShape(dY, B).
// Y = A - B: dB = -ReduceToShape(dY, B).
absl::StatusOr<GradientNodes> AddSubGradient(const GradientContext& ctx, bool sub) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx));
  Emitter e(ctx);
  if (e.Wants(0)) e.SetGrad(0, e.ReduceTo(dy, 0));
  if (e.Wants(1)) {
    const std::string db = e.ReduceTo(dy, 1);
    e.SetGrad(1, sub ? e.Scale(db, -1.f) : db);
  }
  return e.Take();
}

// Y = A * B: dA = ReduceToShape(dY * B, A), dB = ReduceToShape(dY * A, B).
absl::StatusOr<GradientNodes> MulGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx));
  Emitter e(ctx);
  if (e.Wants(0)) {
    e.SetGrad(0, e.ReduceTo(e.Op(kOnnxDomain, "Mul", {dy, e.In(1)}, dy + "_mul"), 0));
  }
  if (e.Wants(1)) {
    e.SetGrad(1, e.ReduceTo(e.Op(kOnnxDomain, "Mul", {dy, e.In(0)}, dy + "_mul"), 1));
  }
  return e.Take();
}

// Y = A / B: dA = ReduceToShape(dY / B, A),
// dB = ReduceToShape(-dY * A / B^2, B) = -ReduceToShape(dY * Y / B, B) (reads Y, B).
absl::StatusOr<GradientNodes> DivGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx));
  Emitter e(ctx);
  if (e.Wants(0)) {
    e.SetGrad(0, e.ReduceTo(e.Op(kOnnxDomain, "Div", {dy, e.In(1)}, dy + "_div"), 0));
  }
  if (e.Wants(1)) {
    const std::string dy_y = e.Op(kOnnxDomain, "Mul", {dy, ctx.node.outputs[0]}, dy + "_mul");
    const std::string q = e.Op(kOnnxDomain, "Div", {dy_y, e.In(1)}, dy + "_div");
    e.SetGrad(1, e.Scale(e.ReduceTo(q, 1), -1.f));
  }
  return e.Take();
}

// Y = MatMul(A, B): one MatMulGrad node (NumPy 1-D and batch broadcasting are
// settled at run time, when the shapes are known).
absl::StatusOr<GradientNodes> MatMulGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx));
  Emitter e(ctx);
  const std::string da = e.Wants(0) ? e.Fresh(e.In(0) + "_grad") : "";
  const std::string db = e.Wants(1) ? e.Fresh(e.In(1) + "_grad") : "";
  if (da.empty() && db.empty()) return e.Take();
  e.Emit(kOnyxDomain, "MatMulGrad", {dy, e.In(0), e.In(1)}, {da, db}, {});
  e.SetGrad(0, da);
  e.SetGrad(1, db);
  return e.Take();
}

// Y = alpha * A' * B' + beta * C with A' = transA ? A^T : A (B' likewise):
//   dA' = alpha * dY * B'^T, so dA = alpha * dY * B'^T or, transposed,
//   alpha * B' * dY^T;  dB' = alpha * A'^T * dY, so dB = alpha * A'^T * dY or
//   alpha * dY^T * A';  dC = beta * ReduceToShape(dY, C).
// Each is one MatMulT whose operand transposes absorb the ' and ^T.
absl::StatusOr<GradientNodes> GemmGradient(const GradientContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const std::string dy, OutputGrad(ctx));
  const Node& fwd = ctx.node;
  ONYX_ASSIGN_OR_RETURN(const float alpha, fwd.GetFloat("alpha", 1.f));
  ONYX_ASSIGN_OR_RETURN(const float beta, fwd.GetFloat("beta", 1.f));
  ONYX_ASSIGN_OR_RETURN(const int64_t trans_a_attr, fwd.GetInt("transA", 0));
  ONYX_ASSIGN_OR_RETURN(const int64_t trans_b_attr, fwd.GetInt("transB", 0));
  const bool ta = trans_a_attr != 0, tb = trans_b_attr != 0;
  Emitter e(ctx);
  auto matmul_t = [&](const std::string& x, bool tx, const std::string& w, bool tw,
                      size_t input) {
    return e.Op(kOnyxDomain, "MatMulT", {x, w}, e.In(input) + "_grad",
                {IntAttr("trans_a", tx), IntAttr("trans_b", tw), FloatAttr("alpha", alpha)});
  };
  if (e.Wants(0)) {
    // B'^T = B when transB, else B^T; B' = B^T when transB, else B.
    e.SetGrad(0, ta ? matmul_t(e.In(1), tb, dy, true, 0) : matmul_t(dy, false, e.In(1), !tb, 0));
  }
  if (e.Wants(1)) {
    // A'^T = A when transA, else A^T; A' = A^T when transA, else A.
    e.SetGrad(1, tb ? matmul_t(dy, true, e.In(0), ta, 1) : matmul_t(e.In(0), !ta, dy, false, 1));
  }
  if (e.Wants(2)) {
    const std::string dc = e.ReduceTo(dy, 2);
    e.SetGrad(2, beta == 1.f ? dc : e.Scale(dc, beta));
  }
  return e.Take();
}

}  // namespace

void RegisterMathGradients(OpRegistry& registry) {
  registry.RegisterGradient(kOnnxDomain, "Add", [](const GradientContext& ctx) {
    return AddSubGradient(ctx, /*sub=*/false);
  });
  registry.RegisterGradient(kOnnxDomain, "Sub", [](const GradientContext& ctx) {
    return AddSubGradient(ctx, /*sub=*/true);
  });
  registry.RegisterGradient(kOnnxDomain, "Mul", MulGradient);
  registry.RegisterGradient(kOnnxDomain, "Div", DivGradient);
  registry.RegisterGradient(kOnnxDomain, "MatMul", MatMulGradient);
  registry.RegisterGradient(kOnnxDomain, "Gemm", GemmGradient);
}

}  // namespace onyx::math
