// Small helpers shared by the CLI commands: error reporting and argument parsing.
#pragma once

#include <cstdint>
#include <functional>
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

// Parses every "--input NAME=FILE" into {NAME, FILE} pairs (a malformed one is
// the caller's usage error).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseInputFiles(
    const std::vector<std::string>& args);

// The feeds of one run: each {NAME, FILE} loaded, then a random tensor
// (RandomInput, seeded by `seed`, at most `max_bytes`) for every graph input in
// `feed_infos` not given; `on_random` (may be empty) sees each made-up one.
absl::StatusOr<NamedTensors> MakeFeeds(
    const std::vector<std::pair<std::string, std::string>>& input_files,
    const std::vector<ValueInfo>& feed_infos,
    const absl::flat_hash_map<std::string, int64_t>& dims, uint64_t seed, int64_t max_bytes,
    const std::function<void(const std::string&, const Tensor&)>& on_random = {});

// Session options for "--device cpu|cuda": cuda creates the CUDA backend
// (FailedPrecondition without a GPU or in a build without ONYX_CUDA).
absl::StatusOr<SessionOptions> SessionOptionsForDevice(const std::string& device);

// "1.5 KiB"
std::string HumanBytes(int64_t bytes);

// Output names may hold '/', ':' ...: keep [A-Za-z0-9._-], replace the rest by '_'.
std::string SafeFileName(const std::string& name);

}  // namespace onyx
