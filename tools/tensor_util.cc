// Tensor helpers for the CLI and test runners.
#include "tools/tensor_util.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "importers/npy/npy.h"
#include "importers/onnx/onnx_importer.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// IEEE half -> float (subnormals, inf and NaN included).
float HalfToFloat(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN()
                         : std::numeric_limits<float>::infinity();
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400), static_cast<int>(exponent) - 25);
  }
  return sign ? -magnitude : magnitude;
}

float BFloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

template <typename T>
void FillUniform(Tensor& t, std::mt19937_64& rng, double lo, double hi) {
  std::uniform_real_distribution<double> dist(lo, hi);
  for (T& v : t.span<T>()) v = static_cast<T>(dist(rng));
}

template <typename T>
void FillIntegers(Tensor& t, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> dist(0, 9);
  for (T& v : t.span<T>()) v = static_cast<T>(dist(rng));
}

}  // namespace

absl::StatusOr<Tensor> LoadTensorFile(const std::string& path) {
  if (absl::EndsWith(path, ".npy")) return ReadNpy(path);
  if (absl::EndsWith(path, ".pb")) return LoadTensorProtoFile(path);
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: tensor files must end in .npy or .pb", path));
}

absl::StatusOr<Tensor> RandomInput(const ValueInfo& info,
                                   const absl::flat_hash_map<std::string, int64_t>& dims,
                                   std::mt19937_64& rng, int64_t max_bytes) {
  if (!info.has_shape) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "input \"%s\" has no declared shape: give it with --input", info.name));
  }
  Shape shape;
  for (const Dim& d : info.dims) {
    if (d.is_fixed()) {
      shape.push_back(d.value);
      continue;
    }
    auto it = dims.find(d.param);
    shape.push_back(it == dims.end() ? 1 : it->second);
  }
  ONYX_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(info.dtype, shape, max_bytes));
  switch (info.dtype) {
    case DataType::kFloat32: FillUniform<float>(t, rng, -1, 1); break;
    case DataType::kFloat64: FillUniform<double>(t, rng, -1, 1); break;
    case DataType::kInt64: FillIntegers<int64_t>(t, rng); break;
    case DataType::kInt32: FillIntegers<int32_t>(t, rng); break;
    case DataType::kInt16: FillIntegers<int16_t>(t, rng); break;
    case DataType::kInt8: FillIntegers<int8_t>(t, rng); break;
    case DataType::kUInt8: FillIntegers<uint8_t>(t, rng); break;
    case DataType::kUInt16: FillIntegers<uint16_t>(t, rng); break;
    case DataType::kUInt32: FillIntegers<uint32_t>(t, rng); break;
    case DataType::kUInt64: FillIntegers<uint64_t>(t, rng); break;
    case DataType::kBool: {
      std::bernoulli_distribution coin(0.5);
      for (bool& v : t.span<bool>()) v = coin(rng);
      break;
    }
    default:
      return absl::UnimplementedError(absl::StrFormat(
          "cannot make random data of dtype %s for input \"%s\"", DataTypeName(info.dtype),
          info.name));
  }
  return t;
}

double ElementAsDouble(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32: return t.data<float>()[i];
    case DataType::kFloat64: return t.data<double>()[i];
    case DataType::kInt64: return static_cast<double>(t.data<int64_t>()[i]);
    case DataType::kInt32: return t.data<int32_t>()[i];
    case DataType::kInt16: return t.data<int16_t>()[i];
    case DataType::kInt8: return t.data<int8_t>()[i];
    case DataType::kUInt8: return t.data<uint8_t>()[i];
    case DataType::kUInt16: return t.data<uint16_t>()[i];
    case DataType::kUInt32: return t.data<uint32_t>()[i];
    case DataType::kUInt64: return static_cast<double>(t.data<uint64_t>()[i]);
    case DataType::kBool: return t.data<bool>()[i] ? 1.0 : 0.0;
    case DataType::kFloat16: return HalfToFloat(t.data<uint16_t>()[i]);
    case DataType::kBFloat16: return BFloat16ToFloat(t.data<uint16_t>()[i]);
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

std::string TensorSummary(const Tensor& t) {
  std::string head = t.DebugString();
  if (t.num_elements() == 0) return head + " (empty)";
  double lo = std::numeric_limits<double>::infinity(), hi = -lo, sum = 0;
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = ElementAsDouble(t, i);
    lo = std::fmin(lo, v);
    hi = std::fmax(hi, v);
    sum += v;
  }
  return absl::StrFormat("%s min %.6g max %.6g mean %.6g", head, lo, hi,
                         sum / static_cast<double>(t.num_elements()));
}

Mismatch CompareTensors(const Tensor& actual, const Tensor& expected, double rtol,
                        double atol) {
  Mismatch result;
  if (actual.dtype() != expected.dtype() || actual.shape() != expected.shape()) {
    result.ok = false;
    result.message = absl::StrFormat("expected %s, got %s", expected.DebugString(),
                                     actual.DebugString());
    return result;
  }
  int64_t bad = 0;
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    const double a = ElementAsDouble(actual, i), e = ElementAsDouble(expected, i);
    if ((std::isnan(a) && std::isnan(e)) || a == e) continue;  // a == e covers inf == inf
    double diff = std::fabs(a - e);
    if (std::isnan(diff)) diff = std::numeric_limits<double>::infinity();
    if (result.worst_index < 0 || diff > result.worst_abs) {
      result.worst_abs = diff;
      result.worst_index = i;
    }
    const bool within = std::isfinite(a) && std::isfinite(e) && diff <= atol + rtol * std::fabs(e);
    if (!within) ++bad;
  }
  if (bad > 0) {
    result.ok = false;
    const int64_t w = result.worst_index;
    result.message = absl::StrFormat(
        "%d of %d elements differ; worst at index %d: got %.9g, expected %.9g (|diff| %.3g)",
        bad, actual.num_elements(), w, ElementAsDouble(actual, w),
        ElementAsDouble(expected, w), result.worst_abs);
  }
  return result;
}

}  // namespace onyx
