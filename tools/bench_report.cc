// Latency statistics, JSON output and the Chrome trace of `onyx bench`.
#include "tools/bench_report.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace onyx {

LatencyStats ComputeLatencyStats(std::vector<double> samples) {
  LatencyStats s;
  s.count = static_cast<int64_t>(samples.size());
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  auto rank = [&](double p) {  // nearest rank: the smallest value with >= p% at or below it
    const size_t r = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
    return samples[std::clamp<size_t>(r, 1, n) - 1];
  };
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / static_cast<double>(n);
  double sq = 0;
  for (double v : samples) sq += (v - s.mean) * (v - s.mean);
  s.stddev = n > 1 ? std::sqrt(sq / static_cast<double>(n - 1)) : 0.0;
  s.min = samples.front();
  s.max = samples.back();
  s.p50 = rank(50);
  s.p90 = rank(90);
  s.p95 = rank(95);
  s.p99 = rank(99);
  return s;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void JsonObject::Key(const std::string& key) {
  if (!body_.empty()) body_ += ", ";
  body_ += JsonString(key) + ": ";
}

void JsonObject::Add(const std::string& key, const std::string& value) {
  Key(key);
  body_ += JsonString(value);
}

void JsonObject::Add(const std::string& key, double value) {
  Key(key);
  body_ += std::isfinite(value) ? absl::StrFormat("%.6g", value) : "null";
}

void JsonObject::Add(const std::string& key, int64_t value) {
  Key(key);
  body_ += absl::StrFormat("%d", value);
}

void JsonObject::AddNull(const std::string& key) {
  Key(key);
  body_ += "null";
}

void JsonObject::AddRaw(const std::string& key, const std::string& json) {
  Key(key);
  body_ += json;
}

void TraceRecorder::OnNode(const Node& node, absl::Span<const Tensor* const> inputs,
                           absl::Span<const Tensor> outputs,
                           std::chrono::steady_clock::time_point start,
                           std::chrono::steady_clock::time_point end) {
  auto shapes = [](auto&& tensors, auto&& get) {
    std::vector<std::string> parts;
    for (const auto& t : tensors) {
      const Tensor* tensor = get(t);
      parts.push_back(JsonString(tensor == nullptr || tensor->empty() ? ""
                                                                      : tensor->DebugString()));
    }
    return "[" + absl::StrJoin(parts, ", ") + "]";
  };
  const double ts = std::chrono::duration<double, std::micro>(start - origin_).count();
  const double dur = std::chrono::duration<double, std::micro>(end - start).count();
  JsonObject args;
  args.Add("op", node.op_type);
  args.Add("node", node.name);
  args.AddRaw("inputs", shapes(inputs, [](const Tensor* t) { return t; }));
  args.AddRaw("outputs", shapes(outputs, [](const Tensor& t) { return &t; }));
  JsonObject event;
  event.Add("name", node.name.empty() ? node.op_type : node.op_type + " " + node.name);
  event.Add("cat", node.op_type);
  event.Add("ph", "X");
  event.AddRaw("ts", absl::StrFormat("%.3f", ts));
  event.AddRaw("dur", absl::StrFormat("%.3f", dur));
  event.Add("pid", 1);
  event.Add("tid", 1);
  event.AddRaw("args", args.str());
  events_.push_back(event.str());
}

absl::Status TraceRecorder::Write(const std::string& path) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::InvalidArgumentError(absl::StrFormat("cannot write profile to %s", path));
  }
  out << "{\"traceEvents\": [\n" << absl::StrJoin(events_, ",\n")
      << "\n], \"displayTimeUnit\": \"ms\"}\n";
  out.close();
  if (!out) return absl::DataLossError(absl::StrFormat("writing profile %s failed", path));
  return absl::OkStatus();
}

}  // namespace onyx
