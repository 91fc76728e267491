// End-to-end tests of `onyx bench`: the JSON report, the Chrome trace and usage
// errors. JSON is checked with protobuf's independent parser (google.protobuf.Struct).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"

namespace onyx {
namespace {
namespace fs = std::filesystem;
using google::protobuf::Struct;
using google::protobuf::Value;
using testing::CliResult;
using testing::RunCli;
using BenchTest = testing::TempDirTest;

const std::string kMlp = (fs::path(ONYX_SOURCE_DIR) / "models" / "tutorial_mlp" / "model.onnx").string();

// Parses `json` (one object) or fails the test.
Struct ParseObject(const std::string& json) {
  Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return parsed;
}

double Number(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end() || it->second.kind_case() != Value::kNumberValue) {
    ADD_FAILURE() << "missing number field " << key;
    return -1;
  }
  return it->second.number_value();
}

TEST_F(BenchTest, JsonReportHasEveryFieldAndConsistentStatistics) {
  const CliResult r = RunCli("bench " + kMlp + " --json --iters 3 --warmup 1 --batch 4 --threads 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Struct report = ParseObject(r.out);
  for (const char* key :
       {"batch", "threads", "opt_level", "nodes", "warmup", "iterations", "load_ms",
        "session_create_ms", "first_run_ms", "min_ms", "mean_ms", "stddev_ms", "p50_ms",
        "p90_ms", "p95_ms", "p99_ms", "max_ms", "runs_per_s", "inferences_per_s",
        "peak_rss_bytes", "initializer_bytes", "arena_bytes", "fresh_allocations_per_run",
        "fresh_bytes_per_run"}) {
    EXPECT_GE(Number(report, key), 0) << key;
  }
  EXPECT_EQ(Number(report, "iterations"), 3);
  EXPECT_EQ(Number(report, "batch"), 4);
  EXPECT_EQ(Number(report, "threads"), 1);
  EXPECT_EQ(Number(report, "nodes"), 3);  // FusedGemm(Gemm+Relu), Gemm, Softmax
  // 20*50 + 50 + 50*2 + 2 float weights.
  EXPECT_EQ(Number(report, "initializer_bytes"), 1152 * 4);
  EXPECT_LE(Number(report, "min_ms"), Number(report, "p50_ms"));
  EXPECT_LE(Number(report, "p50_ms"), Number(report, "p90_ms"));
  EXPECT_LE(Number(report, "p90_ms"), Number(report, "p95_ms"));
  EXPECT_LE(Number(report, "p95_ms"), Number(report, "p99_ms"));
  EXPECT_LE(Number(report, "p99_ms"), Number(report, "max_ms"));
  EXPECT_LE(Number(report, "min_ms"), Number(report, "mean_ms"));
  EXPECT_LE(Number(report, "mean_ms"), Number(report, "max_ms"));
  EXPECT_GT(Number(report, "peak_rss_bytes"), 0);
  // The steady state reuses its buffers: nothing is allocated by the executor.
  EXPECT_EQ(Number(report, "fresh_allocations_per_run"), 0);
  // At least the [4,50] hidden and [4,2] output buffers are kept for reuse.
  EXPECT_GE(Number(report, "arena_bytes"), (4 * 50 + 4 * 2) * 4);
  // A multi-node graph has no GB/s figure.
  EXPECT_EQ(report.fields().at("gb_per_s").kind_case(), Value::kNullValue);
}

TEST_F(BenchTest, ProfileWritesOneTraceEventPerNode) {
  const fs::path trace = dir_ / "trace.json";
  const CliResult r =
      RunCli("bench " + kMlp + " --iters 2 --warmup 0 --profile " + trace.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("p50"), std::string::npos) << r.out;
  std::ifstream in(trace);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  const Struct parsed = ParseObject(text);
  ASSERT_TRUE(parsed.fields().contains("traceEvents")) << text;
  const auto& events = parsed.fields().at("traceEvents").list_value().values();
  ASSERT_EQ(events.size(), 3) << text;
  // The only valid order; Gemm+Relu fused by the default graph passes.
  const char* ops[] = {"FusedGemm", "Gemm", "Softmax"};
  double previous_end = 0;
  for (int i = 0; i < events.size(); ++i) {
    const Struct& e = events[i].struct_value();
    EXPECT_EQ(e.fields().at("ph").string_value(), "X");
    EXPECT_EQ(e.fields().at("cat").string_value(), ops[i]);
    EXPECT_EQ(e.fields().at("args").struct_value().fields().at("op").string_value(), ops[i]);
    const double ts = Number(e, "ts");
    const double dur = Number(e, "dur");
    EXPECT_GE(dur, 0);
    EXPECT_GE(ts + 0.002, previous_end);  // nodes run one after another (3-decimal rounding)
    previous_end = ts + dur;
  }
  // Shapes name the batch the bench bound (default 1) and the model's widths.
  const Struct& first_args = events[0].struct_value().fields().at("args").struct_value();
  EXPECT_EQ(first_args.fields().at("inputs").list_value().values(0).string_value(),
            "float32[1,20]");
  EXPECT_EQ(first_args.fields().at("outputs").list_value().values(0).string_value(),
            "float32[1,50]");
}

TEST_F(BenchTest, OptLevelZeroAllocatesFreshBuffers) {
  const CliResult r = RunCli("bench " + kMlp + " --json --iters 2 --opt-level 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Struct report = ParseObject(r.out);
  EXPECT_EQ(Number(report, "opt_level"), 0);
  EXPECT_EQ(Number(report, "nodes"), 4);  // no fusion: Gemm, Relu, Gemm, Softmax
  EXPECT_EQ(Number(report, "arena_bytes"), 0);
}

TEST_F(BenchTest, BadArgumentsExitTwo) {
  for (const std::string& args : std::vector<std::string>{
           "bench", "bench " + kMlp + " --iters 0", "bench " + kMlp + " --iters 3 --duration 1",
        "bench " + kMlp + " --threads 0", "bench " + kMlp + " --batch -1",
        "bench " + kMlp + " --dim batch", "bench " + kMlp + " --input nofile",
        "bench " + kMlp + " --opt-level 100", "bench " + kMlp + " --bogus"}) {
    const CliResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
  }
}

TEST_F(BenchTest, MissingModelExitsOneAndDimOverridesBatch) {
  EXPECT_EQ(RunCli("bench " + (dir_ / "missing.onnx").string()).exit_code, 1);
  const CliResult r = RunCli("bench " + kMlp + " --dim batch=2 --batch 3 --iters 1");
  // --dim wins over --batch for the dim it names.
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("batch 2,"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace onyx
