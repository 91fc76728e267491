// Helpers of the tensor family: int-list inputs, the byte-level strided copy
// every data-movement kernel is built on, fills and scalar conversions.
#include "ops/tensor/tensor_util.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {

absl::StatusOr<std::vector<int64_t>> ReadInts(const Node& node, const Tensor& t, const char* what) {
  if (t.rank() > 1) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s must be a 1-D tensor, got %s",
                                                      node.Describe(), what, t.DebugString()));
  }
  std::vector<int64_t> values(t.num_elements());
  if (t.dtype() == DataType::kInt64) {
    std::copy_n(t.data<int64_t>(), t.num_elements(), values.begin());
  } else if (t.dtype() == DataType::kInt32) {
    std::copy_n(t.data<int32_t>(), t.num_elements(), values.begin());
  } else {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s must be int64 or int32, got %s",
                                                      node.Describe(), what, t.DebugString()));
  }
  return values;
}

absl::StatusOr<int64_t> ReadIntScalar(const Node& node, const Tensor& t, const char* what) {
  if (t.num_elements() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: %s must hold one value, got %s",
                                                      node.Describe(), what, t.DebugString()));
  }
  switch (t.dtype()) {
    case DataType::kInt64:
      return t.data<int64_t>()[0];
    case DataType::kInt32:
      return t.data<int32_t>()[0];
    case DataType::kInt16:
      return t.data<int16_t>()[0];
    case DataType::kInt8:
      return t.data<int8_t>()[0];
    case DataType::kUInt8:
      return t.data<uint8_t>()[0];
    default:
      return absl::InvalidArgumentError(absl::StrFormat("%s: %s must be an integer, got %s",
                                                        node.Describe(), what, t.DebugString()));
  }
}

absl::StatusOr<std::vector<int>> NormalizeAxes(const Node& node, absl::Span<const int64_t> axes,
                                               int rank) {
  std::vector<int> result;
  std::vector<bool> seen(rank, false);
  for (int64_t axis : axes) {
    if (axis < -rank || axis >= rank) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: axis %d is out of range for rank %d", node.Describe(), axis, rank));
    }
    const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
    if (seen[a]) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: axis %d is repeated", node.Describe(), axis));
    }
    seen[a] = true;
    result.push_back(a);
  }
  return result;
}

absl::StatusOr<SliceArgs> SliceAttributes(const Node& node) {
  if (node.FindAttribute("starts") == nullptr || node.FindAttribute("ends") == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: attributes starts and ends are required", node.Describe()));
  }
  SliceArgs args;
  ONYX_ASSIGN_OR_RETURN(args.starts, node.GetInts("starts", {}));
  ONYX_ASSIGN_OR_RETURN(args.ends, node.GetInts("ends", {}));
  ONYX_ASSIGN_OR_RETURN(args.axes, node.GetInts("axes", {}));
  return args;
}

absl::StatusOr<SliceArgs> ReadSliceArgs(KernelContext& ctx, const SliceArgs* attrs,
                                        int first_input) {
  const Node& node = ctx.node();
  SliceArgs args;
  if (attrs != nullptr) {
    args = *attrs;
  } else {
    ONYX_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(first_input));
    ONYX_ASSIGN_OR_RETURN(const Tensor* e, ctx.RequiredInput(first_input + 1));
    ONYX_ASSIGN_OR_RETURN(args.starts, ReadInts(node, *s, "input starts"));
    ONYX_ASSIGN_OR_RETURN(args.ends, ReadInts(node, *e, "input ends"));
    if (ctx.input(first_input + 2) != nullptr) {
      ONYX_ASSIGN_OR_RETURN(args.axes, ReadInts(node, *ctx.input(first_input + 2), "input axes"));
    }
    if (ctx.input(first_input + 3) != nullptr) {
      ONYX_ASSIGN_OR_RETURN(args.steps,
                            ReadInts(node, *ctx.input(first_input + 3), "input steps"));
    }
  }
  const size_t n = args.starts.size();
  if (args.axes.empty()) {
    for (size_t i = 0; i < n; ++i) args.axes.push_back(static_cast<int64_t>(i));
  }
  if (args.steps.empty()) args.steps.assign(n, 1);
  if (args.ends.size() != n || args.axes.size() != n || args.steps.size() != n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: starts, ends, axes and steps have %d, %d, %d and %d entries (must be equal)",
        node.Describe(), n, args.ends.size(), args.axes.size(), args.steps.size()));
  }
  return args;
}

int64_t SliceCount(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* first) {
  start = start < 0 ? start + dim : start;
  end = end < 0 ? end + dim : end;
  *first = 0;
  if (dim == 0) return 0;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    *first = start;
    return end > start ? (end - start - 1) / step + 1 : 0;
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  *first = start;
  if (start <= end) return 0;
  return step == std::numeric_limits<int64_t>::min() ? 1 : (start - end - 1) / -step + 1;
}


absl::StatusOr<SliceWindow> ResolveSlice(const Node& node, const Shape& source,
                                         const SliceArgs& args) {
  ONYX_ASSIGN_OR_RETURN(std::vector<int> axes,
                        NormalizeAxes(node, args.axes, static_cast<int>(source.size())));
  const std::vector<int64_t> source_strides = ContiguousStrides(source);
  SliceWindow window{source, 0, source_strides};
  for (size_t i = 0; i < axes.size(); ++i) {
    const int a = axes[i];
    const int64_t step = args.steps[i];
    if (step == 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: step for axis %d is 0", node.Describe(), a));
    }
    int64_t first = 0;
    const int64_t count = SliceCount(source[a], args.starts[i], args.ends[i], step, &first);
    window.shape[a] = count;
    if (count > 0) {
      window.offset += first * source_strides[a];
      // A single element ignores the step (and so cannot overflow with it).
      window.strides[a] = count > 1 ? source_strides[a] * step : 0;
    }
  }
  return window;
}

std::vector<int64_t> ContiguousStrides(absl::Span<const int64_t> dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * dims[i + 1];
  }
  return strides;
}

namespace {

template <typename U>
void CopyRowTyped(const char* src, int64_t ss, char* dst, int64_t ds, int64_t n) {
  const U* s = reinterpret_cast<const U*>(src);
  U* d = reinterpret_cast<U*>(dst);
  if (ds == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] = s[i * ss];
  } else {
    for (int64_t i = 0; i < n; ++i) d[i * ds] = s[i * ss];
  }
}

// Copies one run of `n` elements; strides in elements.
void CopyRow(size_t es, const char* src, int64_t ss, char* dst, int64_t ds, int64_t n) {
  if (ss == 1 && ds == 1) {
    std::memcpy(dst, src, n * es);
    return;
  }
  switch (es) {
    case 1:
      return CopyRowTyped<uint8_t>(src, ss, dst, ds, n);
    case 2:
      return CopyRowTyped<uint16_t>(src, ss, dst, ds, n);
    case 4:
      return CopyRowTyped<uint32_t>(src, ss, dst, ds, n);
    case 8:
      return CopyRowTyped<uint64_t>(src, ss, dst, ds, n);
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds * es, src + i * ss * es, es);
  }
}

}  // namespace

void StridedCopy(size_t es, absl::Span<const int64_t> dims, const void* src,
                 absl::Span<const int64_t> src_strides, void* dst,
                 absl::Span<const int64_t> dst_strides) {
  // Drop unit dims and merge neighbours that are contiguous in both operands.
  std::vector<int64_t> d, s, t;
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t n = dims[i];
    if (n == 0) return;
    if (n == 1) continue;
    if (!d.empty() && s.back() == src_strides[i] * n && t.back() == dst_strides[i] * n) {
      d.back() *= n;
      s.back() = src_strides[i];
      t.back() = dst_strides[i];
    } else {
      d.push_back(n);
      s.push_back(src_strides[i]);
      t.push_back(dst_strides[i]);
    }
  }
  const char* sp = static_cast<const char*>(src);
  char* dp = static_cast<char*>(dst);
  if (d.empty()) {
    std::memcpy(dp, sp, es);
    return;
  }
  const int outer_rank = static_cast<int>(d.size()) - 1;
  const int64_t n = d.back(), ss = s.back(), ds = t.back();
  int64_t rows = 1;
  for (int i = 0; i < outer_rank; ++i) rows *= d[i];
  const int64_t total_bytes = rows * n * static_cast<int64_t>(es);
  const int chunks = (total_bytes >= (int64_t{1} << 20) && rows > 1)
                         ? static_cast<int>(std::min<int64_t>(rows, 4 * omp_get_max_threads()))
                         : 1;
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int c = 0; c < chunks; ++c) {
    const int64_t begin = rows * c / chunks, end = rows * (c + 1) / chunks;
    // Odometer over the outer dims, started by div/mod at `begin`.
    std::vector<int64_t> index(outer_rank);
    int64_t so = 0, dof = 0, rest = begin;
    for (int i = outer_rank - 1; i >= 0; --i) {
      index[i] = rest % d[i];
      rest /= d[i];
      so += index[i] * s[i];
      dof += index[i] * t[i];
    }
    for (int64_t row = begin; row < end; ++row) {
      CopyRow(es, sp + so * static_cast<int64_t>(es), ss, dp + dof * static_cast<int64_t>(es), ds,
              n);
      for (int i = outer_rank - 1; i >= 0; --i) {
        so += s[i];
        dof += t[i];
        if (++index[i] < d[i]) break;
        so -= s[i] * d[i];
        dof -= t[i] * d[i];
        index[i] = 0;
      }
    }
  }
}

void FillElements(size_t es, const void* value, int64_t count, void* dst) {
  switch (es) {
    case 1: {
      std::memset(dst, *static_cast<const uint8_t*>(value), count);
      return;
    }
    case 2: {
      uint16_t v;
      std::memcpy(&v, value, 2);
      std::fill_n(static_cast<uint16_t*>(dst), count, v);
      return;
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, value, 4);
      std::fill_n(static_cast<uint32_t*>(dst), count, v);
      return;
    }
    case 8: {
      uint64_t v;
      std::memcpy(&v, value, 8);
      std::fill_n(static_cast<uint64_t*>(dst), count, v);
      return;
    }
    default:
      for (int64_t i = 0; i < count; ++i) {
        std::memcpy(static_cast<char*>(dst) + i * es, value, es);
      }
  }
}

namespace {
template <typename T>
void Store(double value, void* dst) {
  const T v = static_cast<T>(value);
  std::memcpy(dst, &v, sizeof(T));
}
}  // namespace

void StoreScalar(DataType dtype, double value, void* dst) {
  switch (dtype) {
    case DataType::kFloat32:
      return Store<float>(value, dst);
    case DataType::kFloat64:
      return Store<double>(value, dst);
    case DataType::kInt8:
      return Store<int8_t>(value, dst);
    case DataType::kInt16:
      return Store<int16_t>(value, dst);
    case DataType::kInt32:
      return Store<int32_t>(value, dst);
    case DataType::kInt64:
      return Store<int64_t>(value, dst);
    case DataType::kUInt8:
      return Store<uint8_t>(value, dst);
    case DataType::kUInt16:
      return Store<uint16_t>(value, dst);
    case DataType::kUInt32:
      return Store<uint32_t>(value, dst);
    case DataType::kUInt64:
      return Store<uint64_t>(value, dst);
    case DataType::kBool:
      return Store<bool>(value != 0, dst);
    case DataType::kFloat16: {
      const uint16_t h = FloatToHalf(static_cast<float>(value));
      std::memcpy(dst, &h, 2);
      return;
    }
    case DataType::kBFloat16: {
      const uint16_t b = FloatToBFloat16(static_cast<float>(value));
      std::memcpy(dst, &b, 2);
      return;
    }
    default:
      return;
  }
}

namespace {
uint32_t FloatBits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}
float BitsFloat(uint32_t x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}
}  // namespace

// half = sign | 5-bit exponent (bias 15) | 10-bit mantissa.
float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return BitsFloat(sign | 0x7f800000u | (mant << 13));
  return BitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t FloatToHalf(float f) {
  uint32_t x = FloatBits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return sign | (x > 0x7f800000u ? 0x7e00 : 0x7c00);
  if (x >= 0x477ff000u) return sign | 0x7c00;  // >= 65520 rounds to infinity
  if (x < 0x38800000u) {
    // Below the smallest normal half (2^-14): round |f| * 2^24 to an integer
    // (exact scaling; nearbyint rounds half to even).
    const float r = std::nearbyint(BitsFloat(x) * 16777216.0f);
    return sign | static_cast<uint16_t>(r);
  }
  // Rebias the exponent (127 -> 15) and round the 13 dropped bits to even;
  // a mantissa carry correctly bumps the exponent.
  const uint32_t rounded = x + 0xfffu + ((x >> 13) & 1u) - (112u << 23);
  return sign | static_cast<uint16_t>(rounded >> 13);
}

float BFloat16ToFloat(uint16_t b) { return BitsFloat(static_cast<uint32_t>(b) << 16); }

uint16_t FloatToBFloat16(float f) {
  const uint32_t x = FloatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

void RegisterCpu(OpRegistry& registry, const char* op_type, std::initializer_list<int> versions,
                 KernelFactory factory) {
  for (int v : versions) registry.Register(kOnnxDomain, op_type, v, Device::kCpu, factory);
}

}  // namespace onyx::tensor
