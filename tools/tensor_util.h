// Tensor helpers for the CLI and test runners: loading from .npy/.pb, seeded
// random inputs, element access as double, summaries and comparison.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace onyx {

// Reads FILE.npy (NumPy) or FILE.pb (serialized onnx.TensorProto), by extension.
absl::StatusOr<Tensor> LoadTensorFile(const std::string& path);

// A tensor for graph input `info` filled with seeded random data: floats
// uniform in [-1, 1), integers in [0, 10), bools fair coins. Symbolic dims take
// their value from `dims` (by name), else 1; unknown rank is refused.
absl::StatusOr<Tensor> RandomInput(const ValueInfo& info,
                                   const absl::flat_hash_map<std::string, int64_t>& dims,
                                   std::mt19937_64& rng,
                                   int64_t max_bytes = kDefaultMaxTensorBytes);

// Element `i` converted to double (bool -> 0/1; float16/bfloat16 decoded).
double ElementAsDouble(const Tensor& t, int64_t i);

// "float32[2,3] min -1.2 max 3.4 mean 0.5"
std::string TensorSummary(const Tensor& t);

struct Mismatch {
  bool ok = true;
  std::string message;      // empty when ok
  double worst_abs = 0;     // largest |actual - expected| over all elements
  int64_t worst_index = -1; // flat index of the worst element
};

// ONNX backend-runner rule per element: |actual - expected| <= atol + rtol*|expected|,
// NaN matches NaN, infinities must match exactly. Dtype and shape must match.
Mismatch CompareTensors(const Tensor& actual, const Tensor& expected, double rtol, double atol);

}  // namespace onyx
