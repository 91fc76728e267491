// ArgMax, ArgMin (1, 11, 12, 13): int64 index of the largest / smallest element
// along `axis` (keepdims, select_last_index from opset 12). A NaN counts as the
// extreme value (its first occurrence wins, as numpy.argmax).
#include <algorithm>
#include <cmath>
#include <memory>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "ops/reduce/reduce_axes.h"
#include "runtime/status_macros.h"

namespace onyx::reduce {
namespace {

// True when v should replace the current best b (strictly better, or equal and
// `last`). NaN beats everything and is never replaced.
template <bool kMax, typename T>
inline bool Better(T v, T b, bool last) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(b)) return false;
    if (std::isnan(v)) return true;
  }
  if (kMax ? v > b : v < b) return true;
  return last && v == b;
}

template <bool kMax>
class ArgKernel final : public Kernel {
 public:
  ArgKernel(int64_t axis, bool keepdims, bool last)
      : axis_(axis), keepdims_(keepdims), last_(last) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int rank = std::max(1, x->rank());
    auto axis = NormalizeAxis(axis_, rank);
    if (!axis.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: axis %d is out of range for input %s", node.Describe(), axis_,
          ShapeToString(x->shape())));
    }
    const Shape xs = x->rank() == 0 ? Shape{1} : x->shape();
    if (xs[*axis] == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: cannot take an arg%s over empty axis %d of %s", node.Describe(),
          kMax ? "max" : "min", *axis, ShapeToString(x->shape())));
    }
    Shape out;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < rank; ++d) {
      if (d < *axis) outer *= xs[d];
      if (d > *axis) inner *= xs[d];
      if (d != *axis || keepdims_) out.push_back(d == *axis ? 1 : xs[d]);
    }
    const int64_t n = xs[*axis];
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kInt64, out));
    if (y->num_elements() == 0) return absl::OkStatus();
    const bool last = last_;
    const DataType compute = x->dtype() == DataType::kBool ? DataType::kUInt8 : x->dtype();
    return elementwise::DispatchNumeric(node, compute, [&](auto tag) {
      using T = decltype(tag);
      const T* xp = static_cast<const T*>(x->raw_data());
      int64_t* yp = y->data<int64_t>();
#pragma omp parallel for schedule(static) if (outer * n * inner >= (1 << 15) && outer > 1)
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t i = 0; i < inner; ++i) {
          const T* col = xp + o * n * inner + i;
          T best = col[0];
          int64_t best_index = 0;
          for (int64_t k = 1; k < n; ++k) {
            if (Better<kMax>(col[k * inner], best, last)) {
              best = col[k * inner];
              best_index = k;
            }
          }
          yp[o * inner + i] = best_index;
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t axis_;
  bool keepdims_, last_;
};

template <bool kMax>
KernelFactory Factory() {
  return [](const Node& node, int64_t opset) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
    ONYX_ASSIGN_OR_RETURN(int64_t keepdims, node.GetInt("keepdims", 1));
    ONYX_ASSIGN_OR_RETURN(int64_t last, node.GetInt("select_last_index", 0));
    if (opset < 12 && last != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: select_last_index needs opset >= 12 (model opset %d)", node.Describe(), opset));
    }
    return std::make_unique<ArgKernel<kMax>>(axis, keepdims != 0, last != 0);
  };
}

}  // namespace

void RegisterArgKernels(OpRegistry& registry) {
  elementwise::RegisterCpu(registry, "ArgMax", {1, 11, 12, 13}, Factory<true>());
  elementwise::RegisterCpu(registry, "ArgMin", {1, 11, 12, 13}, Factory<false>());
}

}  // namespace onyx::reduce
