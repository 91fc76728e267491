// `onyx bench MODEL`: session creation and first-run time, then latency
// statistics over many runs, throughput, peak RSS and the executor's memory;
// --json prints one object, --profile writes a Chrome trace of one extra run.
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "tools/bench_report.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/tensor_util.h"

namespace onyx {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// This process's peak resident set. VmHWM first: getrusage's ru_maxrss survives
// exec, so a child of a big process (a Python driver) would report its parent's peak.
int64_t PeakRssBytes() {
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    long long kib = -1;
    while (std::fgets(line, sizeof(line), f) != nullptr) {
      if (std::sscanf(line, "VmHWM: %lld kB", &kib) == 1) break;
    }
    std::fclose(f);
    if (kib >= 0) return kib * 1024;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// Binds --batch to the leading dim of every feed input: a symbolic one gets the
// value (unless --dim named it), a fixed one must already equal it.
absl::Status ApplyBatch(int64_t batch, const std::vector<ValueInfo>& feeds,
                        const std::vector<std::string>& dim_args,
                        absl::flat_hash_map<std::string, int64_t>& dims) {
  absl::flat_hash_map<std::string, int64_t> given;
  if (auto parsed = ParseDims(dim_args); parsed.ok()) given = *parsed;
  for (const ValueInfo& info : feeds) {
    if (!info.has_shape || info.dims.empty()) continue;
    const Dim& lead = info.dims[0];
    if (lead.is_fixed()) {
      if (lead.value != batch) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "--batch %d: input \"%s\" has a fixed leading dim %d", batch, info.name,
            lead.value));
      }
    } else if (!lead.param.empty() && !given.contains(lead.param)) {
      dims[lead.param] = batch;
    }
  }
  return absl::OkStatus();
}

// Shows "bench: 120 runs, last 3.21 ms" on a terminal, at most 5 times a second.
class ProgressLine {
 public:
  ProgressLine() : enabled_(isatty(STDERR_FILENO) == 1) {}
  void Update(int64_t runs, double last_ms) {
    if (!enabled_ || MsSince(last_) < 200) return;
    last_ = Clock::now();
    std::fprintf(stderr, "\rbench: %lld runs, last %.3f ms   ", static_cast<long long>(runs),
                 last_ms);
    std::fflush(stderr);
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  Clock::time_point last_ = Clock::now();
};

void PrintText(const BenchArgs& args, const LatencyStats& s, double inferences_per_s,
               int64_t batch, int threads, double load_ms, double create_ms,
               double first_ms, double gbps, const SessionMemoryStats& mem) {
  std::printf("model: %s\n", args.model.c_str());
  std::printf("batch %lld, threads %d, opt level %d%s\n", static_cast<long long>(batch), threads,
              args.opt_level, args.device == "cpu" ? "" : (", device " + args.device).c_str());
  std::printf("load %.3f ms, session creation %.3f ms, first run %.3f ms\n", load_ms, create_ms,
              first_ms);
  std::printf("%lld runs: min %.4f  mean %.4f  stddev %.4f ms\n",
              static_cast<long long>(s.count), s.min, s.mean, s.stddev);
  std::printf("  p50 %.4f  p90 %.4f  p95 %.4f  p99 %.4f  max %.4f ms\n", s.p50, s.p90, s.p95,
              s.p99, s.max);
  std::printf("throughput: %.1f inferences/s", inferences_per_s);
  if (gbps > 0) std::printf(", %.2f GB/s (bytes in+out / p50)", gbps);
  std::printf("\npeak RSS %s; executor arena %s, initializers %s, %lld fresh buffers per run\n",
              HumanBytes(PeakRssBytes()).c_str(), HumanBytes(mem.arena_bytes).c_str(),
              HumanBytes(mem.initializer_bytes).c_str(),
              static_cast<long long>(mem.fresh_allocations));
}

}  // namespace

int BenchCommand(const BenchArgs& args) {
  if (args.iters > 0 && args.duration > 0) {
    std::fprintf(stderr, "onyx: usage error: give --iters or --duration, not both\n");
    return kExitUsage;
  }
  auto dims = ParseDims(args.dims);
  if (!dims.ok()) {
    ReportError(dims.status());
    return kExitUsage;
  }
  if (args.threads > 0) {
    omp_set_dynamic(0);
    omp_set_num_threads(args.threads);  // oneDNN runs on this same OpenMP pool
  }
  const int threads = omp_get_max_threads();

  Clock::time_point t0 = Clock::now();
  auto graph = LoadOnnxModel(args.model);
  if (!graph.ok()) return ReportError(graph.status());
  const double load_ms = MsSince(t0);
  std::vector<ValueInfo> feed_infos;
  for (const ValueInfo* in : graph->FeedInputs()) feed_infos.push_back(*in);
  const bool single_node = graph->nodes.size() == 1;
  if (args.batch > 0) {
    absl::Status status = ApplyBatch(args.batch, feed_infos, args.dims, *dims);
    if (!status.ok()) return ReportError(status);
  }

  auto device_options = SessionOptionsForDevice(args.device);
  if (!device_options.ok()) return ReportError(device_options.status());
  SessionOptions options = *device_options;
  options.opt_level = args.opt_level;
  options.reuse_buffers = args.opt_level >= 1;
  t0 = Clock::now();
  auto created = Session::Create(*std::move(graph), DefaultRegistry(), options);
  if (!created.ok()) return ReportError(created.status());
  const double create_ms = MsSince(t0);
  Session& session = **created;

  auto input_files = ParseInputFiles(args.inputs);
  if (!input_files.ok()) {
    ReportError(input_files.status());
    return kExitUsage;
  }
  auto made = MakeFeeds(*input_files, feed_infos, *dims, args.seed, kDefaultMaxTensorBytes);
  if (!made.ok()) return ReportError(made.status());
  const NamedTensors& feeds = *made;
  int64_t batch = 1;
  int64_t bytes_moved = 0;
  for (const auto& [name, tensor] : feeds) bytes_moved += static_cast<int64_t>(tensor.byte_size());
  if (!feeds.empty() && feeds[0].second.rank() > 0) batch = feeds[0].second.dim(0);

  t0 = Clock::now();
  {
    auto outputs = session.Run(feeds);
    if (!outputs.ok()) return ReportError(outputs.status());
    for (const Tensor& t : *outputs) bytes_moved += static_cast<int64_t>(t.byte_size());
  }
  const double first_ms = MsSince(t0);

  ProgressLine progress;
  std::vector<double> latencies;
  const bool by_time = args.iters <= 0;
  const double duration_ms = (args.duration > 0 ? args.duration : 3.0) * 1000.0;
  const int64_t min_runs = by_time ? 10 : args.iters;
  latencies.reserve(by_time ? 4096 : static_cast<size_t>(args.iters));
  Clock::time_point measure_start;
  for (int64_t run = 0;; ++run) {
    const bool warming = run < args.warmup;
    if (run == args.warmup) measure_start = Clock::now();
    if (!warming) {
      const int64_t done = run - args.warmup;
      if (!by_time && done >= args.iters) break;
      if (by_time && done >= min_runs && MsSince(measure_start) >= duration_ms) break;
    }
    t0 = Clock::now();
    auto outputs = session.Run(feeds);
    const double ms = MsSince(t0);
    if (!outputs.ok()) {
      progress.Clear();
      return ReportError(outputs.status());
    }
    if (!warming) latencies.push_back(ms);
    progress.Update(run + 1, ms);
  }
  const double measured_ms = MsSince(measure_start);
  progress.Clear();
  const SessionMemoryStats mem = session.memory_stats();
  const LatencyStats s = ComputeLatencyStats(latencies);

  int64_t profiled_events = -1;
  if (!args.profile.empty()) {
    TraceRecorder trace;
    auto outputs = session.Run(feeds, &trace);
    if (!outputs.ok()) return ReportError(outputs.status());
    absl::Status written = trace.Write(args.profile);
    if (!written.ok()) return ReportError(written);
    profiled_events = trace.num_events();
  }

  const double gbps = single_node && s.p50 > 0 ? bytes_moved / (s.p50 * 1e6) : 0.0;
  JsonObject json;
  json.Add("model", args.model);
  json.Add("batch", batch);
  json.Add("threads", threads);
  json.Add("opt_level", args.opt_level);
  json.Add("device", args.device);
  json.Add("nodes", static_cast<int64_t>(session.order().size()));
  json.Add("warmup", args.warmup);
  json.Add("iterations", s.count);
  json.Add("load_ms", load_ms);
  json.Add("session_create_ms", create_ms);
  json.Add("first_run_ms", first_ms);
  json.Add("min_ms", s.min);
  json.Add("mean_ms", s.mean);
  json.Add("stddev_ms", s.stddev);
  json.Add("p50_ms", s.p50);
  json.Add("p90_ms", s.p90);
  json.Add("p95_ms", s.p95);
  json.Add("p99_ms", s.p99);
  json.Add("max_ms", s.max);
  json.Add("runs_per_s", s.count * 1000.0 / measured_ms);
  const double inferences_per_s = batch * s.count * 1000.0 / measured_ms;
  json.Add("inferences_per_s", inferences_per_s);
  if (single_node) {
    json.Add("bytes_per_run", bytes_moved);
    json.Add("gb_per_s", gbps);
  } else {
    json.AddNull("bytes_per_run");
    json.AddNull("gb_per_s");
  }
  json.Add("peak_rss_bytes", PeakRssBytes());
  json.Add("initializer_bytes", mem.initializer_bytes);
  json.Add("arena_bytes", mem.arena_bytes);
  json.Add("fresh_allocations_per_run", mem.fresh_allocations);
  json.Add("fresh_bytes_per_run", mem.fresh_bytes);
  if (profiled_events >= 0) {
    json.Add("profile", args.profile);
    json.Add("profile_events", profiled_events);
  }
  if (args.json) {
    std::printf("%s\n", json.str().c_str());
  } else {
    PrintText(args, s, inferences_per_s, batch, threads, load_ms, create_ms, first_ms, gbps, mem);
    if (profiled_events >= 0) {
      std::printf("profile: %lld node events in %s\n", static_cast<long long>(profiled_events),
                  args.profile.c_str());
    }
  }
  return kExitOk;
}

}  // namespace onyx
