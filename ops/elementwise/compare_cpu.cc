// Comparisons Equal (1, 7, 11, 13, 19), Less, Greater (7, 9, 13), LessOrEqual,
// GreaterOrEqual (12, 16) with broadcasting and a bool output, for every numeric
// dtype and bool; logical And, Or, Xor (7) and Not (1) on bool. NaN compares
// unequal and unordered (IEEE), as NumPy. Strings are Unimplemented.
#include <memory>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

enum class Cmp { kEqual, kLess, kGreater, kLessOrEqual, kGreaterOrEqual, kAnd, kOr, kXor };

template <Cmp kOp, typename T>
inline bool Compare(T a, T b) {
  if constexpr (kOp == Cmp::kEqual) return a == b;
  if constexpr (kOp == Cmp::kLess) return a < b;
  if constexpr (kOp == Cmp::kGreater) return a > b;
  if constexpr (kOp == Cmp::kLessOrEqual) return a <= b;
  if constexpr (kOp == Cmp::kGreaterOrEqual) return a >= b;
  if constexpr (kOp == Cmp::kAnd) return a && b;
  if constexpr (kOp == Cmp::kOr) return a || b;
  if constexpr (kOp == Cmp::kXor) return a != b;
}

template <Cmp kOp>
class CompareKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Shape out, SameDtypeBroadcastShape(node.Describe(), *a, *b));
    constexpr bool kLogical = kOp == Cmp::kAnd || kOp == Cmp::kOr || kOp == Cmp::kXor;
    if (kLogical && a->dtype() != DataType::kBool) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: inputs must be bool, got %s", node.Describe(), DataTypeName(a->dtype())));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kBool, out));
    if (y->num_elements() == 0) return absl::OkStatus();
    return DispatchNumeric</*kBool=*/true>(node, a->dtype(), [&](auto tag) {
      using T = decltype(tag);
      BroadcastBinary<T, T, bool>(*a, *b, *y, [](T u, T v) { return Compare<kOp, T>(u, v); });
      return absl::OkStatus();
    });
  }
};

class NotKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->dtype() != DataType::kBool) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input must be bool, got %s", ctx.node().Describe(), DataTypeName(x->dtype())));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kBool, x->shape()));
    const bool* xp = x->data<bool>();
    bool* yp = y->data<bool>();
    const int64_t n = x->num_elements();
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
    for (int64_t i = 0; i < n; ++i) yp[i] = !xp[i];
    return absl::OkStatus();
  }
};

template <typename K>
KernelFactory Factory() {
  return [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::make_unique<K>();
  };
}

}  // namespace

void RegisterCompareOps(OpRegistry& registry) {
  RegisterCpu(registry, "Equal", {1, 7, 11, 13, 19}, Factory<CompareKernel<Cmp::kEqual>>());
  RegisterCpu(registry, "Less", {7, 9, 13}, Factory<CompareKernel<Cmp::kLess>>());
  RegisterCpu(registry, "Greater", {7, 9, 13}, Factory<CompareKernel<Cmp::kGreater>>());
  RegisterCpu(registry, "LessOrEqual", {12, 16}, Factory<CompareKernel<Cmp::kLessOrEqual>>());
  RegisterCpu(registry, "GreaterOrEqual", {12, 16},
              Factory<CompareKernel<Cmp::kGreaterOrEqual>>());
  RegisterCpu(registry, "And", {7}, Factory<CompareKernel<Cmp::kAnd>>());
  RegisterCpu(registry, "Or", {7}, Factory<CompareKernel<Cmp::kOr>>());
  RegisterCpu(registry, "Xor", {7}, Factory<CompareKernel<Cmp::kXor>>());
  RegisterCpu(registry, "Not", {1}, Factory<NotKernel>());
}

}  // namespace onyx::elementwise
