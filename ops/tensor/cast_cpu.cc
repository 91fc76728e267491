// Cast-6, 9, 13, 19, 21 between every numeric type, bool, float16 and bfloat16.
// float -> integer truncates toward zero (C++/NumPy); NaN gives 0 and values
// beyond int64 saturate, then narrower integers wrap as NumPy's C casts do.
// Strings, float8 and 4-bit types are Unimplemented.
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

struct Half {
  uint16_t bits;
};
struct BFloat16 {
  uint16_t bits;
};

// Source element as an arithmetic value (16-bit floats widen to float).
template <typename T>
auto Load(T v) {
  if constexpr (std::is_same_v<T, Half>) {
    return HalfToFloat(v.bits);
  } else if constexpr (std::is_same_v<T, BFloat16>) {
    return BFloat16ToFloat(v.bits);
  } else {
    return v;
  }
}

// y = trunc(v) as an integer type To (v floating).
template <typename To, typename S>
To FloatToInt(S v) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isnan(v)) return To(0);
  if constexpr (std::is_same_v<To, uint64_t>) {
    if (v >= 2 * kTwo63) return std::numeric_limits<uint64_t>::max();
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  int64_t i;
  if (v >= kTwo63) {
    i = std::numeric_limits<int64_t>::max();
  } else if (v <= -kTwo63) {
    i = std::numeric_limits<int64_t>::min();
  } else {
    i = static_cast<int64_t>(v);
  }
  return static_cast<To>(i);  // modular for narrower types (C++20)
}

template <typename To, typename S>
To StoreAs(S v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != S(0);
  } else if constexpr (std::is_same_v<To, Half>) {
    return Half{FloatToHalf(static_cast<float>(v))};
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16{FloatToBFloat16(static_cast<float>(v))};
  } else if constexpr (std::is_floating_point_v<To> || !std::is_floating_point_v<S>) {
    return static_cast<To>(v);
  } else {
    return FloatToInt<To>(v);
  }
}

template <typename From, typename To>
void CastLoop(const void* x, void* y, int64_t n) {
  const From* xp = static_cast<const From*>(x);
  To* yp = static_cast<To*>(y);
#pragma omp parallel for schedule(static) if (n >= (int64_t{1} << 16))
  for (int64_t i = 0; i < n; ++i) yp[i] = StoreAs<To>(Load(xp[i]));
}

// Calls fn(T{}) with the C++ type of `type`; Unimplemented for the others.
template <typename Fn>
absl::Status WithType(DataType type, Fn&& fn) {
  switch (type) {
    case DataType::kFloat32:
      return fn(float{});
    case DataType::kFloat64:
      return fn(double{});
    case DataType::kInt8:
      return fn(int8_t{});
    case DataType::kInt16:
      return fn(int16_t{});
    case DataType::kInt32:
      return fn(int32_t{});
    case DataType::kInt64:
      return fn(int64_t{});
    case DataType::kUInt8:
      return fn(uint8_t{});
    case DataType::kUInt16:
      return fn(uint16_t{});
    case DataType::kUInt32:
      return fn(uint32_t{});
    case DataType::kUInt64:
      return fn(uint64_t{});
    case DataType::kBool:
      return fn(bool{});
    case DataType::kFloat16:
      return fn(Half{});
    case DataType::kBFloat16:
      return fn(BFloat16{});
    default:
      return absl::UnimplementedError(
          absl::StrFormat("Cast of dtype %s is not supported", DataTypeName(type)));
  }
}

class CastKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<CastKernel>();
    if (node.FindAttribute("to") == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: attribute to is required", node.Describe()));
    }
    ONYX_ASSIGN_OR_RETURN(int64_t to, node.GetInt("to", 0));
    k->to_ = static_cast<DataType>(to);
    if (!IsStorableType(k->to_)) {
      return absl::UnimplementedError(absl::StrFormat("%s: cast to %s (type %d) is not supported",
                                                      node.Describe(), DataTypeName(k->to_), to));
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->dtype() == to_) {
      ctx.SetOutput(0, *x);
      return absl::OkStatus();
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, to_, x->shape()));
    const int64_t n = x->num_elements();
    absl::Status status = WithType(x->dtype(), [&](auto from) {
      return WithType(to_, [&](auto to) {
        CastLoop<decltype(from), decltype(to)>(x->raw_data(), y->raw_data(), n);
        return absl::OkStatus();
      });
    });
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrFormat("%s: %s", ctx.node().Describe(), status.message()));
    }
    return absl::OkStatus();
  }

 private:
  DataType to_ = DataType::kUndefined;
};

}  // namespace

void RegisterCastOps(OpRegistry& registry) {
  RegisterCpu(registry, "Cast", {6, 9, 13, 19, 21}, &CastKernel::Create);
}

}  // namespace onyx::tensor
