// CLI helpers: error lines, NAME=VALUE parsing, byte formatting.
#include "tools/cli_util.h"

#include <cstdio>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "tools/commands.h"
#include "runtime/status_macros.h"
#include "tools/tensor_util.h"

#if ONYX_CUDA
#include "runtime/cuda/cuda_backend.h"
#endif

namespace onyx {

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseInputFiles(
    const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const std::string& arg : args) {
    ONYX_ASSIGN_OR_RETURN(auto kv, SplitAssignment(arg, "--input"));
    files.push_back(std::move(kv));
  }
  return files;
}

absl::StatusOr<NamedTensors> MakeFeeds(
    const std::vector<std::pair<std::string, std::string>>& input_files,
    const std::vector<ValueInfo>& feed_infos,
    const absl::flat_hash_map<std::string, int64_t>& dims, uint64_t seed, int64_t max_bytes,
    const std::function<void(const std::string&, const Tensor&)>& on_random) {
  NamedTensors feeds;
  for (const auto& [name, file] : input_files) {
    ONYX_ASSIGN_OR_RETURN(Tensor tensor, LoadTensorFile(file));
    feeds.emplace_back(name, std::move(tensor));
  }
  std::mt19937_64 rng(seed);
  for (const ValueInfo& info : feed_infos) {
    bool given = false;
    for (const auto& [name, tensor] : feeds) given |= name == info.name;
    if (given) continue;
    auto tensor = RandomInput(info, dims, rng, max_bytes);
    if (!tensor.ok()) {
      return absl::Status(tensor.status().code(),
                          absl::StrFormat("random input \"%s\": %s", info.name,
                                          std::string(tensor.status().message())));
    }
    if (on_random) on_random(info.name, *tensor);
    feeds.emplace_back(info.name, *std::move(tensor));
  }
  return feeds;
}

absl::StatusOr<SessionOptions> SessionOptionsForDevice(const std::string& device) {
  SessionOptions options;
  if (device == "cpu") return options;
  if (device != "cuda") {
    return absl::InvalidArgumentError("--device must be cpu or cuda, got " + device);
  }
#if ONYX_CUDA
  auto backend = cuda::CudaBackend::Create();
  if (!backend.ok()) return backend.status();
  options.device = Device::kCuda;
  options.backend = *std::move(backend);
  return options;
#else
  return absl::FailedPreconditionError("--device cuda: onyx was built without CUDA (ONYX_CUDA=OFF)");
#endif
}

int ReportError(const absl::Status& status) {
  std::fprintf(stderr, "onyx: error: %s\n", std::string(status.message()).c_str());
  return kExitFailure;
}

absl::StatusOr<std::pair<std::string, std::string>> SplitAssignment(const std::string& arg,
                                                                   const std::string& flag) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s expects NAME=VALUE, got \"%s\"", flag, arg));
  }
  return std::make_pair(arg.substr(0, eq), arg.substr(eq + 1));
}

absl::StatusOr<absl::flat_hash_map<std::string, int64_t>> ParseDims(
    const std::vector<std::string>& args) {
  absl::flat_hash_map<std::string, int64_t> dims;
  for (const std::string& arg : args) {
    auto kv = SplitAssignment(arg, "--dim");
    if (!kv.ok()) return kv.status();
    int64_t value = 0;
    if (!absl::SimpleAtoi(kv->second, &value) || value < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--dim %s: \"%s\" is not a non-negative integer", kv->first, kv->second));
    }
    dims[kv->first] = value;
  }
  return dims;
}

std::string HumanBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%d B", bytes) : absl::StrFormat("%.1f %s", value, units[unit]);
}

std::string SafeFileName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

}  // namespace onyx
