// Pieces of `onyx bench`: latency statistics, a tiny JSON writer, and the Chrome
// trace recorder behind --profile.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/session.h"

namespace onyx {

struct LatencyStats {
  int64_t count = 0;
  double min = 0, mean = 0, stddev = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

// Statistics of `samples` (any unit). Percentiles use the nearest-rank rule;
// stddev is the sample standard deviation (0 for fewer than two samples).
LatencyStats ComputeLatencyStats(std::vector<double> samples);

// `s` as a JSON string literal, quotes included.
std::string JsonString(const std::string& s);

// Builds one flat JSON object: {"key": value, ...} in insertion order.
class JsonObject {
 public:
  void Add(const std::string& key, const std::string& value);  // string
  void Add(const std::string& key, const char* value) { Add(key, std::string(value)); }
  void Add(const std::string& key, double value);              // null when not finite
  void Add(const std::string& key, int64_t value);
  void Add(const std::string& key, int value) { Add(key, static_cast<int64_t>(value)); }
  void AddNull(const std::string& key);
  void AddRaw(const std::string& key, const std::string& json);  // already JSON
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void Key(const std::string& key);
  std::string body_;
};

// Records one Chrome trace "X" event per node of the runs it observes.
class TraceRecorder final : public RunObserver {
 public:
  TraceRecorder() : origin_(std::chrono::steady_clock::now()) {}
  void OnNode(const Node& node, absl::Span<const Tensor* const> inputs,
              absl::Span<const Tensor> outputs, std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end) override;
  // On a device, each node's own time rather than the time to queue it.
  bool WantsDeviceTime() const override { return true; }
  int64_t num_events() const { return static_cast<int64_t>(events_.size()); }
  // Writes {"traceEvents": [...], "displayTimeUnit": "ms"}.
  absl::Status Write(const std::string& path) const;

 private:
  std::chrono::steady_clock::time_point origin_;
  std::vector<std::string> events_;
};

}  // namespace onyx
