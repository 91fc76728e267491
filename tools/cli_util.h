// Small helpers shared by the CLI commands: error reporting and argument parsing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/session.h"

namespace onyx {

// Prints "onyx: error: <message>" to stderr; returns kExitFailure.
int ReportError(const absl::Status& status);

// "NAME=VALUE" -> {NAME, VALUE}; InvalidArgument naming `flag` otherwise.
absl::StatusOr<std::pair<std::string, std::string>> SplitAssignment(const std::string& arg,
                                                                   const std::string& flag);

// Parses every "--dim NAME=VALUE" (VALUE a non-negative integer).
absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> ParseDims(
    const std::vector<std::string>& args);

// Session options for "--device cpu|cuda": cuda creates the CUDA backend
// (FailedPrecondition without a GPU or in a build without ONYX_CUDA).
absl::StatusOr<SessionOptions> SessionOptionsForDevice(const std::string& device);

// "1.5 KiB"
std::string HumanBytes(int64_t bytes);

// Output names may hold '/', ':' ...: keep [A-Za-z0-9._-], replace the rest by '_'.
std::string SafeFileName(const std::string& name);

}  // namespace onyx
