// Shape functions of the math family: Add/Sub/Mul/Div (NumPy broadcasting;
// known shape values are combined element by element, so Shape -> Mul ->
// Reshape chains resolve), MatMul (1-D promotion, batch broadcasting), Gemm,
// and the com.onyx backward ops ReduceToShape, Scale, MatMulT, MatMulGrad.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/math/math_kernels.h"
#include "ops/tensor/shape_fn_util.h"
#include "runtime/gradient.h"
#include "runtime/status_macros.h"

namespace onyx::math {
namespace {

using tensor::Fail;
using tensor::InputType;
using tensor::RankedInput;

// The common dtype of inputs `names` (kUndefined when none is known);
// InvalidArgument when two known dtypes differ.
absl::StatusOr<DataType> CommonType(const ShapeInferenceContext& ctx,
                                    std::initializer_list<const char*> names) {
  DataType common = DataType::kUndefined;
  int i = 0, first = 0;
  for (const char* name : names) {
    const DataType t = InputType(ctx, i);
    if (t != DataType::kUndefined && common != DataType::kUndefined && t != common) {
      return Fail(ctx.node(), absl::StrFormat("input %s is %s but input %s is %s; all inputs "
                                              "must have the same dtype",
                                              *(names.begin() + first), DataTypeName(common), name,
                                              DataTypeName(t)));
    }
    if (common == DataType::kUndefined && t != DataType::kUndefined) {
      common = t;
      first = i;
    }
    ++i;
  }
  return common;
}

enum class Arith { kAdd, kSub, kMul, kDiv };

// One element of a shape-value computation; unknown when a symbol does not
// survive (batch * 1 stays batch, batch * 2 is unknown).
SymbolicInt Combine(Arith op, const SymbolicInt& a, const SymbolicInt& b) {
  if (a.fixed && b.fixed) {
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
      case Arith::kAdd: overflow = __builtin_add_overflow(a.value, b.value, &r); break;
      case Arith::kSub: overflow = __builtin_sub_overflow(a.value, b.value, &r); break;
      case Arith::kMul: overflow = __builtin_mul_overflow(a.value, b.value, &r); break;
      case Arith::kDiv:
        overflow = b.value == 0 || (b.value == -1 && a.value == INT64_MIN);
        if (!overflow) r = a.value / b.value;
        break;
    }
    return overflow ? SymbolicInt{} : FixedInt(r);
  }
  const int64_t identity = op == Arith::kMul || op == Arith::kDiv ? 1 : 0;
  if (b.fixed && b.value == identity) return a;
  if (a.fixed && a.value == identity && (op == Arith::kAdd || op == Arith::kMul)) return b;
  return SymbolicInt{};
}

absl::Status BinaryFn(ShapeInferenceContext& ctx, Arith op) {
  const Node& node = ctx.node();
  ONYX_ASSIGN_OR_RETURN(DataType dtype, CommonType(ctx, {"A", "B"}));
  const TypeInfo* a = RankedInput(ctx, 0);
  const TypeInfo* b = RankedInput(ctx, 1);
  if (ctx.opset() < 7) {
    // Before opset 7, B is broadcast onto A (attribute broadcast=1) or equal to it.
    if (a != nullptr) {
      ctx.SetOutput(0, dtype, a->dims);
    } else if (dtype != DataType::kUndefined) {
      ctx.SetOutputRankUnknown(0, dtype);
    }
    return absl::OkStatus();
  }
  if (a == nullptr || b == nullptr) {
    if (dtype != DataType::kUndefined) ctx.SetOutputRankUnknown(0, dtype);
    return absl::OkStatus();
  }
  auto out = BroadcastDims(a->dims, b->dims);
  if (!out.ok()) {
    return Fail(node, absl::StrFormat("shapes %s and %s cannot be broadcast together (%s)",
                                      DimsToString(*a), DimsToString(*b), out.status().message()));
  }
  const size_t rank = out->size();
  ctx.SetOutput(0, dtype, *std::move(out));
  const SymbolicInts* x = ctx.input_ints(0);
  const SymbolicInts* y = ctx.input_ints(1);
  if (x != nullptr && y != nullptr && rank <= 1 && !x->empty() && !y->empty()) {
    const size_t n = std::max(x->size(), y->size());
    if ((x->size() != n && x->size() != 1) || (y->size() != n && y->size() != 1)) {
      return absl::OkStatus();
    }
    SymbolicInts elements;
    for (size_t i = 0; i < n; ++i) {
      elements.push_back(Combine(op, (*x)[x->size() == 1 ? 0 : i], (*y)[y->size() == 1 ? 0 : i]));
    }
    ctx.SetOutputInts(0, std::move(elements));
  }
  return absl::OkStatus();
}

// NumPy matmul dims of A and B, either transposed (MatMulT's last two dims).
absl::StatusOr<std::vector<Dim>> MatMulDims(const Node& node, const TypeInfo& a, bool trans_a,
                                            const TypeInfo& b, bool trans_b) {
  if (a.dims.empty() || b.dims.empty()) {
    return Fail(node, absl::StrFormat("A %s and B %s must have rank >= 1", DimsToString(a),
                                      DimsToString(b)));
  }
  std::vector<Dim> a2 = a.dims, b2 = b.dims;
  if (a2.size() == 1) a2.insert(a2.begin(), FixedDim(1));
  if (b2.size() == 1) b2.push_back(FixedDim(1));
  const size_t ra = a2.size(), rb = b2.size();
  if (trans_a) std::swap(a2[ra - 2], a2[ra - 1]);
  if (trans_b) std::swap(b2[rb - 2], b2[rb - 1]);
  const Dim& ka = a2[ra - 1];
  const Dim& kb = b2[rb - 2];
  if (ka.is_fixed() && kb.is_fixed() && ka.value != kb.value) {
    return Fail(node, absl::StrFormat("A has shape %s and B has shape %s: inner dims %d and %d "
                                      "differ",
                                      DimsToString(a), DimsToString(b), ka.value, kb.value));
  }
  const std::vector<Dim> a_batch(a2.begin(), a2.end() - 2), b_batch(b2.begin(), b2.end() - 2);
  auto batch = BroadcastDims(a_batch, b_batch);
  if (!batch.ok()) {
    return Fail(node, absl::StrFormat("A has shape %s and B has shape %s: batch dims %s and %s "
                                      "cannot be broadcast (%s)",
                                      DimsToString(a), DimsToString(b), DimsToString(a_batch),
                                      DimsToString(b_batch), batch.status().message()));
  }
  std::vector<Dim> out = *std::move(batch);
  if (a.dims.size() != 1) out.push_back(a2[ra - 2]);
  if (b.dims.size() != 1) out.push_back(b2[rb - 1]);
  return out;
}

absl::Status MatMulFn(ShapeInferenceContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(DataType dtype, CommonType(ctx, {"A", "B"}));
  const TypeInfo* a = RankedInput(ctx, 0);
  const TypeInfo* b = RankedInput(ctx, 1);
  if (a == nullptr || b == nullptr) {
    if (dtype != DataType::kUndefined) ctx.SetOutputRankUnknown(0, dtype);
    return absl::OkStatus();
  }
  ONYX_ASSIGN_OR_RETURN(std::vector<Dim> out, MatMulDims(ctx.node(), *a, false, *b, false));
  ctx.SetOutput(0, dtype, std::move(out));
  return absl::OkStatus();
}

absl::Status GemmFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  ONYX_ASSIGN_OR_RETURN(DataType dtype, CommonType(ctx, {"A", "B", "C"}));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  const TypeInfo* a = RankedInput(ctx, 0);
  const TypeInfo* b = RankedInput(ctx, 1);
  for (const TypeInfo* t : {a, b}) {
    if (t != nullptr && t->dims.size() != 2) {
      return Fail(node, absl::StrFormat("input %s has shape %s; A and B must be 2-D",
                                        t == a ? "A" : "B", DimsToString(*t)));
    }
  }
  Dim m = UnknownDim(), n = UnknownDim();
  if (a != nullptr) m = a->dims[trans_a ? 1 : 0];
  if (b != nullptr) n = b->dims[trans_b ? 0 : 1];
  if (a != nullptr && b != nullptr) {
    const Dim& ka = a->dims[trans_a ? 0 : 1];
    const Dim& kb = b->dims[trans_b ? 1 : 0];
    if (ka.is_fixed() && kb.is_fixed() && ka.value != kb.value) {
      return Fail(node, absl::StrFormat("A has shape %s (transA=%d) and B has shape %s "
                                        "(transB=%d): K is %d for A but %d for B",
                                        DimsToString(*a), trans_a, DimsToString(*b), trans_b,
                                        ka.value, kb.value));
    }
  }
  if (const TypeInfo* c = RankedInput(ctx, 2)) {
    // C broadcasts to [M, N] unidirectionally.
    bool ok = c->dims.size() <= 2;
    const std::vector<Dim> mn = {m, n};
    for (size_t i = 0; ok && i < c->dims.size(); ++i) {
      const Dim& cd = c->dims[i];
      const Dim& target = mn[2 - c->dims.size() + i];
      ok = !cd.is_fixed() || cd.value == 1 || !target.is_fixed() || cd.value == target.value;
    }
    if (!ok) {
      return Fail(node, absl::StrFormat("C has shape %s, which does not broadcast to %s",
                                        DimsToString(*c), DimsToString(mn)));
    }
  }
  if (dtype != DataType::kUndefined) ctx.SetOutput(0, dtype, {m, n});
  return absl::OkStatus();
}

// MatMulT(a, b) -> alpha * op(a) * op(b), rank >= 2.
absl::Status MatMulTFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  ONYX_ASSIGN_OR_RETURN(DataType dtype, CommonType(ctx, {"A", "B"}));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("trans_a", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("trans_b", 0));
  const TypeInfo* a = RankedInput(ctx, 0);
  const TypeInfo* b = RankedInput(ctx, 1);
  if (a == nullptr || b == nullptr) {
    if (dtype != DataType::kUndefined) ctx.SetOutputRankUnknown(0, dtype);
    return absl::OkStatus();
  }
  if (a->dims.size() < 2 || b->dims.size() < 2) {
    return Fail(node, absl::StrFormat("A %s and B %s must have rank >= 2", DimsToString(*a),
                                      DimsToString(*b)));
  }
  ONYX_ASSIGN_OR_RETURN(std::vector<Dim> out,
                        MatMulDims(node, *a, trans_a != 0, *b, trans_b != 0));
  ctx.SetOutput(0, dtype, std::move(out));
  return absl::OkStatus();
}

// MatMulGrad(dY, A, B) -> (dA, dB), shaped like A and B.
absl::Status MatMulGradFn(ShapeInferenceContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(DataType dtype, CommonType(ctx, {"dY", "A", "B"}));
  const TypeInfo* a = RankedInput(ctx, 1);
  const TypeInfo* b = RankedInput(ctx, 2);
  const TypeInfo* dy = RankedInput(ctx, 0);
  if (a != nullptr && b != nullptr && dy != nullptr) {
    ONYX_ASSIGN_OR_RETURN(std::vector<Dim> y, MatMulDims(ctx.node(), *a, false, *b, false));
    bool ok = y.size() == dy->dims.size();
    for (size_t i = 0; ok && i < y.size(); ++i) {
      ok = !y[i].is_fixed() || !dy->dims[i].is_fixed() || y[i].value == dy->dims[i].value;
    }
    if (!ok) {
      return Fail(ctx.node(), absl::StrFormat("dY has shape %s but MatMul of A %s and B %s has "
                                              "shape %s",
                                              DimsToString(*dy), DimsToString(*a),
                                              DimsToString(*b), DimsToString(y)));
    }
  }
  if (dtype == DataType::kUndefined) return absl::OkStatus();
  if (a != nullptr) ctx.SetOutput(0, dtype, a->dims);
  if (b != nullptr) ctx.SetOutput(1, dtype, b->dims);
  return absl::OkStatus();
}

// ReduceToShape(grad, like): grad's dtype, like's dims.
absl::Status ReduceToShapeFn(ShapeInferenceContext& ctx) {
  const DataType dtype = InputType(ctx, 0);
  if (dtype == DataType::kUndefined) return absl::OkStatus();
  if (const TypeInfo* like = RankedInput(ctx, 1)) {
    ctx.SetOutput(0, dtype, like->dims);
  } else {
    ctx.SetOutputRankUnknown(0, dtype);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterMathShapeFns(OpRegistry& registry) {
  const std::pair<const char*, Arith> binary[] = {
      {"Add", Arith::kAdd}, {"Sub", Arith::kSub}, {"Mul", Arith::kMul}, {"Div", Arith::kDiv}};
  for (const auto& [op, arith] : binary) {
    registry.RegisterShapeFn(kOnnxDomain, op, [arith = arith](ShapeInferenceContext& ctx) {
      return BinaryFn(ctx, arith);
    });
  }
  registry.RegisterShapeFn(kOnnxDomain, "MatMul", MatMulFn);
  registry.RegisterShapeFn(kOnnxDomain, "Gemm", GemmFn);
  registry.RegisterShapeFn(kOnyxDomain, "ReduceToShape", ReduceToShapeFn);
  registry.RegisterShapeFn(kOnyxDomain, "Scale", [](ShapeInferenceContext& ctx) {
    ctx.PropagateInput(0, 0);
    return absl::OkStatus();
  });
  registry.RegisterShapeFn(kOnyxDomain, "MatMulT", MatMulTFn);
  registry.RegisterShapeFn(kOnyxDomain, "MatMulGrad", MatMulGradFn);
}

}  // namespace onyx::math
