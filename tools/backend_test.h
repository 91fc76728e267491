// Runs one folder in the ONNX backend test layout (model.onnx +
// test_data_set_N/input_K.pb, output_K.pb): shared by `onyx test` and ctest.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "runtime/op_registry.h"
#include "runtime/session.h"

namespace onyx {

struct BackendTestResult {
  bool passed = false;
  std::string detail;   // why it failed, or the worst mismatch when it passed
  int data_sets = 0;
};

// As in ONNX's backend runner, input_K.pb feeds the K-th graph input that is not
// also an initializer, and output_K.pb is compared with graph output K. The
// session runs with `options` (device, graph optimization level).
BackendTestResult RunBackendTest(const std::string& dir, const OpRegistry& registry,
                                 double rtol, double atol,
                                 const SessionOptions& options);
// The same on the CPU, with the graph optimized at `opt_level`.
BackendTestResult RunBackendTest(const std::string& dir, const OpRegistry& registry,
                                 double rtol, double atol, int opt_level = 2);

}  // namespace onyx
