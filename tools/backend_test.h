// Runs one folder in the ONNX backend test layout (model.onnx +
// test_data_set_N/input_K.pb, output_K.pb): shared by `onyx test` and ctest.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "runtime/op_registry.h"

namespace onyx {

struct BackendTestResult {
  bool passed = false;
  std::string detail;   // why it failed, or the worst mismatch when it passed
  int data_sets = 0;
};

// As in ONNX's backend runner, input_K.pb feeds the K-th graph input that is not
// also an initializer, and output_K.pb is compared with graph output K.
// `max_memory_bytes` caps the model's tensors (see SessionOptions::max_memory_bytes).
BackendTestResult RunBackendTest(
    const std::string& dir, const OpRegistry& registry, double rtol, double atol,
    int64_t max_memory_bytes = std::numeric_limits<int64_t>::max());

}  // namespace onyx
