// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp, ReduceSumSquare on CPU. The input's dims are
// collapsed into kept/reduced groups; one reduced group (the usual case) runs
// as an [O, R, I] loop vectorized along I and spread over (O, I) tiles, other
// patterns through a table of reduced offsets. Float sums accumulate in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "ops/reduce/reduce_axes.h"
#include "ops/reduce/reduce_plan.h"
#include "runtime/status_macros.h"

namespace onyx::reduce {
namespace {

enum class Op { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// Init / Step / Finish of one reduction; `shift` is the per-output maximum for
// LogSumExp (exp(x - max) cannot overflow), unused otherwise.
template <Op kOp, typename T>
struct Reducer {
  static constexpr bool kMinMax = kOp == Op::kMax || kOp == Op::kMin;
  static constexpr bool kReal = kOp == Op::kL2 || kOp == Op::kLogSum || kOp == Op::kLogSumExp;
  // Integers wrap modulo 2^64 (then to T's width) like the elementwise ops.
  using Acc = std::conditional_t<std::is_floating_point_v<T> || kReal, double,
                                 std::conditional_t<kMinMax, T, uint64_t>>;

  static Acc Init() {
    if constexpr (kOp == Op::kMax) {
      return std::is_floating_point_v<Acc> ? -std::numeric_limits<Acc>::infinity()
                                           : std::numeric_limits<Acc>::lowest();
    } else if constexpr (kOp == Op::kMin) {
      return std::is_floating_point_v<Acc> ? std::numeric_limits<Acc>::infinity()
                                           : std::numeric_limits<Acc>::max();
    } else if constexpr (kOp == Op::kProd) {
      return Acc(1);
    } else {
      return Acc(0);
    }
  }
  static Acc Step(Acc a, T x, double shift) {
    const Acc v = static_cast<Acc>(x);
    if constexpr (kOp == Op::kMax) return elementwise::MaxPropagateNan(a, v);
    if constexpr (kOp == Op::kMin) return elementwise::MinPropagateNan(a, v);
    if constexpr (kOp == Op::kProd) return a * v;
    if constexpr (kOp == Op::kL1) {
      if constexpr (std::is_floating_point_v<Acc>) {
        return a + std::fabs(v);
      } else {
        return a + (x < T(0) ? Acc(0) - v : v);
      }
    }
    if constexpr (kOp == Op::kL2 || kOp == Op::kSumSquare) return a + v * v;
    if constexpr (kOp == Op::kLogSumExp) return a + std::exp(v - shift);
    return a + v;  // Sum, Mean, LogSum
  }
  static T Finish(Acc a, int64_t count, double shift) {
    if constexpr (kOp == Op::kMean) {
      if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(a / static_cast<double>(count));  // 0/0 = NaN for an empty set
      } else {
        return count == 0 ? T(0) : static_cast<T>(static_cast<int64_t>(a) / count);
      }
    }
    if constexpr (kOp == Op::kL2) return static_cast<T>(std::sqrt(a));
    if constexpr (kOp == Op::kLogSum) return static_cast<T>(std::log(a));
    if constexpr (kOp == Op::kLogSumExp) {
      // max is -inf (empty or all -inf), +inf or NaN: that is the answer.
      if (!std::isfinite(shift)) return static_cast<T>(shift);
      return static_cast<T>(shift + std::log(a));
    }
    return static_cast<T>(a);
  }
};

// y[k] = Finish(Step(...Step(Init, x[k, r0])..., x[k, rN])) for each output k.
template <Op kOp, typename T>
void RunReduce(const ReducePlan& p, const T* x, T* y, const double* shift) {
  using R = Reducer<kOp, T>;
  using Acc = typename R::Acc;
  const int64_t total = p.num_outputs * p.reduce_size;
  if (p.simple) {
    constexpr int64_t kTile = 256;
    const int64_t O = p.outer, Rn = p.reduce_size, I = p.inner;
    const int64_t ib = std::max<int64_t>(1, std::min(I, kTile));
    const int64_t nib = (I + ib - 1) / ib;
#pragma omp parallel for schedule(static) if (total >= (1 << 15) && O * nib > 1)
    for (int64_t t = 0; t < O * nib; ++t) {
      const int64_t o = t / nib, i0 = (t % nib) * ib, len = std::min(ib, I - i0);
      Acc acc[kTile];
      for (int64_t j = 0; j < len; ++j) acc[j] = R::Init();
      const double* sh = shift == nullptr ? nullptr : shift + o * I + i0;
      for (int64_t r = 0; r < Rn; ++r) {
        const T* row = x + (o * Rn + r) * I + i0;
        if (sh == nullptr) {
          for (int64_t j = 0; j < len; ++j) acc[j] = R::Step(acc[j], row[j], 0.0);
        } else {
          for (int64_t j = 0; j < len; ++j) acc[j] = R::Step(acc[j], row[j], sh[j]);
        }
      }
      for (int64_t j = 0; j < len; ++j) {
        y[o * I + i0 + j] = R::Finish(acc[j], Rn, sh == nullptr ? 0.0 : sh[j]);
      }
    }
    return;
  }
  const std::vector<int64_t> table = p.ReducedOffsets();
#pragma omp parallel for schedule(static) if (total >= (1 << 15))
  for (int64_t k = 0; k < p.num_outputs; ++k) {
    const int64_t base = p.KeptOffset(k);
    const double sh = shift == nullptr ? 0.0 : shift[k];
    Acc acc = R::Init();
    for (int64_t off : table) acc = R::Step(acc, x[base + off], sh);
    y[k] = R::Finish(acc, p.reduce_size, sh);
  }
}

template <Op kOp>
class ReduceKernel final : public Kernel {
 public:
  explicit ReduceKernel(ReduceAttrs attrs) : attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const std::vector<int64_t> axes,
                          RawAxes(node, attrs_, attrs_.axes_from_input ? ctx.input(1) : nullptr));
    ONYX_ASSIGN_OR_RETURN(const std::vector<bool> mask,
                          ReducedMask(node, attrs_, axes, x->rank()));
    const Shape out = ReducedShape(x->shape(), mask, attrs_.keepdims);
    const ReducePlan plan(x->shape(), mask);
    const bool is_bool = x->dtype() == DataType::kBool;
    if (is_bool && kOp != Op::kMax && kOp != Op::kMin) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: dtype bool is only supported by ReduceMax/ReduceMin",
                          node.Describe()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    // bool max/min is uint8 max/min (0/1) over the same bytes.
    const DataType compute = is_bool ? DataType::kUInt8 : x->dtype();
    return elementwise::DispatchNumeric(node, compute, [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      const T* xp = static_cast<const T*>(x->raw_data());
      T* yp = static_cast<T*>(y->raw_data());
      if constexpr (kOp == Op::kLogSumExp) {
        std::vector<T> max(y->num_elements());
        RunReduce<Op::kMax, T>(plan, xp, max.data(), nullptr);
        const std::vector<double> shift(max.begin(), max.end());
        RunReduce<kOp, T>(plan, xp, yp, shift.data());
      } else {
        RunReduce<kOp, T>(plan, xp, yp, nullptr);
      }
      return absl::OkStatus();
    });
  }

 private:
  ReduceAttrs attrs_;
};

template <Op kOp>
KernelFactory Factory() {
  return [](const Node& node, int64_t opset) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    ONYX_ASSIGN_OR_RETURN(ReduceAttrs attrs, ParseReduceAttrs(node, node.op_type, opset));
    return std::make_unique<ReduceKernel<kOp>>(std::move(attrs));
  };
}

}  // namespace

void RegisterReduceKernels(OpRegistry& registry) {
  using elementwise::RegisterCpu;
  RegisterCpu(registry, "ReduceSum", {1, 11, 13}, Factory<Op::kSum>());
  RegisterCpu(registry, "ReduceMean", {1, 11, 13, 18}, Factory<Op::kMean>());
  RegisterCpu(registry, "ReduceMax", {1, 11, 12, 13, 18, 20}, Factory<Op::kMax>());
  RegisterCpu(registry, "ReduceMin", {1, 11, 12, 13, 18, 20}, Factory<Op::kMin>());
  RegisterCpu(registry, "ReduceProd", {1, 11, 13, 18}, Factory<Op::kProd>());
  RegisterCpu(registry, "ReduceL1", {1, 11, 13, 18}, Factory<Op::kL1>());
  RegisterCpu(registry, "ReduceL2", {1, 11, 13, 18}, Factory<Op::kL2>());
  RegisterCpu(registry, "ReduceLogSum", {1, 11, 13, 18}, Factory<Op::kLogSum>());
  RegisterCpu(registry, "ReduceLogSumExp", {1, 11, 13, 18}, Factory<Op::kLogSumExp>());
  RegisterCpu(registry, "ReduceSumSquare", {1, 11, 13, 18}, Factory<Op::kSumSquare>());
}

}  // namespace onyx::reduce
