// Mod (10, 13) with broadcasting. fmod = 0 (integers only): the remainder takes
// the divisor's sign, as Python and NumPy's mod; fmod = 1: it takes the
// dividend's sign, as C's fmod (the only choice for floats, which fmod = 0
// refuses, as the spec and ONNX Runtime do). An integer zero divisor is an
// error naming the node, not undefined behaviour.
#include <cmath>
#include <memory>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

// a mod b for b != 0; b == -1 is special-cased since INT_MIN % -1 traps.
template <typename T>
T IntegerMod(T a, T b, bool c_fmod) {
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return T(0);
    T r = static_cast<T>(a % b);
    if (!c_fmod && r != T(0) && ((r < T(0)) != (b < T(0)))) r = static_cast<T>(r + b);
    return r;
  } else {
    return static_cast<T>(a % b);
  }
}

class ModKernel final : public Kernel {
 public:
  explicit ModKernel(bool c_fmod) : c_fmod_(c_fmod) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Shape out, SameDtypeBroadcastShape(node.Describe(), *a, *b));
    return DispatchNumeric(node, a->dtype(), [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        if (!c_fmod_) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "%s: fmod must be 1 for %s inputs", node.Describe(), DataTypeName(a->dtype())));
        }
      } else {
        const T* divisor = b->data<T>();
        for (int64_t i = 0; i < b->num_elements(); ++i) {
          if (divisor[i] == T(0)) {
            return absl::InvalidArgumentError(absl::StrFormat(
                "%s: integer division by zero (input B, element %d)", node.Describe(), i));
          }
        }
      }
      ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(
                                            0, a->shape() == out ? 0 : 1, a->dtype(), out));
      if (y->num_elements() == 0) return absl::OkStatus();
      const bool c_fmod = c_fmod_;
      BroadcastBinary<T, T, T>(*a, *b, *y, [c_fmod](T x, T d) {
        if constexpr (std::is_floating_point_v<T>) {
          return std::fmod(x, d);
        } else {
          return IntegerMod(x, d, c_fmod);
        }
      });
      return absl::OkStatus();
    });
  }

 private:
  bool c_fmod_;
};

}  // namespace

void RegisterModOps(OpRegistry& registry) {
  RegisterCpu(registry, "Mod", {10, 13},
              [](const Node& node, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                ONYX_ASSIGN_OR_RETURN(int64_t fmod, node.GetInt("fmod", 0));
                if (fmod != 0 && fmod != 1) {
                  return absl::InvalidArgumentError(absl::StrFormat(
                      "%s: attribute fmod must be 0 or 1, got %d", node.Describe(), fmod));
                }
                return std::make_unique<ModKernel>(fmod == 1);
              });
}

}  // namespace onyx::elementwise
