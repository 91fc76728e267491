// ONNX backend test folder runner.
#include "tools/backend_test.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "importers/onnx/onnx_importer.h"
#include "runtime/session.h"
#include "tools/tensor_util.h"

namespace onyx {
namespace fs = std::filesystem;

namespace {

BackendTestResult Fail(std::string detail) {
  BackendTestResult result;
  result.detail = std::move(detail);
  return result;
}

std::vector<fs::path> DataSets(const fs::path& dir) {
  std::vector<fs::path> sets;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory() &&
        absl::StartsWith(entry.path().filename().string(), "test_data_set_")) {
      sets.push_back(entry.path());
    }
  }
  std::sort(sets.begin(), sets.end());
  return sets;
}

}  // namespace

BackendTestResult RunBackendTest(const std::string& dir, const OpRegistry& registry,
                                 double rtol, double atol, const SessionOptions& options) {
  const fs::path root(dir);
  LoadOptions load;
  load.max_total_bytes = options.max_memory_bytes;
  auto graph = LoadOnnxModel((root / "model.onnx").string(), load);
  if (!graph.ok()) return Fail(std::string(graph.status().message()));
  std::vector<std::string> feed_names;
  for (const ValueInfo* in : graph->FeedInputs()) feed_names.push_back(in->name);
  const size_t num_outputs = graph->outputs.size();

  auto session = Session::Create(*std::move(graph), registry, options);
  if (!session.ok()) return Fail(std::string(session.status().message()));

  BackendTestResult result;
  double worst = 0;
  for (const fs::path& set : DataSets(root)) {
    NamedTensors feeds;
    for (size_t k = 0;; ++k) {
      const fs::path file = set / absl::StrFormat("input_%d.pb", k);
      if (!fs::exists(file)) break;
      if (k >= feed_names.size()) {
        return Fail(absl::StrFormat("%s: the model has only %d inputs", file.string(),
                                    feed_names.size()));
      }
      auto tensor = LoadTensorFile(file.string());
      if (!tensor.ok()) return Fail(std::string(tensor.status().message()));
      feeds.emplace_back(feed_names[k], *std::move(tensor));
    }
    auto outputs = (*session)->Run(feeds);
    if (!outputs.ok()) return Fail(std::string(outputs.status().message()));
    for (size_t k = 0; k < num_outputs; ++k) {
      const fs::path file = set / absl::StrFormat("output_%d.pb", k);
      if (!fs::exists(file)) continue;
      auto expected = LoadTensorFile(file.string());
      if (!expected.ok()) return Fail(std::string(expected.status().message()));
      const Mismatch m = CompareTensors((*outputs)[k], *expected, rtol, atol);
      if (!m.ok) {
        return Fail(absl::StrFormat("%s output %d: %s", set.filename().string(), k, m.message));
      }
      worst = std::max(worst, m.worst_abs);
    }
    ++result.data_sets;
  }
  if (result.data_sets == 0) return Fail("no test_data_set_N folder");
  result.passed = true;
  result.detail = absl::StrFormat("worst |diff| %.3g", worst);
  return result;
}

BackendTestResult RunBackendTest(const std::string& dir, const OpRegistry& registry,
                                 double rtol, double atol, int opt_level) {
  SessionOptions options;
  options.opt_level = opt_level;
  return RunBackendTest(dir, registry, rtol, atol, options);
}

}  // namespace onyx
