// `onyx run --opt-level` / `--save-optimized` and `onyx test --opt-level`: the
// optimized tutorial MLP (Gemm + Relu fused) still matches PyTorch's outputs,
// and the saved optimized model loads and runs on its own.
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "importers/npy/npy.h"
#include "importers/onnx/onnx_importer.h"
#include "tests/e2e/cli_runner.h"
#include "tests/status_matchers.h"
#include "tools/tensor_util.h"

namespace onyx {
namespace {
namespace fs = std::filesystem;

using testing::CliResult;
using testing::RunCli;
using OptLevelTest = testing::TempDirTest;

const fs::path kMlpDir = fs::path(ONYX_SOURCE_DIR) / "models" / "tutorial_mlp";

void ExpectMatchesPyTorch(const fs::path& npy) {
  ASSERT_OK_AND_ASSIGN(Tensor written, ReadNpy(npy.string()));
  ASSERT_OK_AND_ASSIGN(Tensor expected,
                       LoadTensorProtoFile((kMlpDir / "test_data_set_0" / "output_0.pb").string()));
  const Mismatch m = CompareTensors(written, expected, 1e-4, 1e-6);
  EXPECT_TRUE(m.ok) << m.message;
}

TEST_F(OptLevelTest, EveryLevelMatchesPyTorchAndTheSavedModelRuns) {
  const std::string input = " --input input=" + (kMlpDir / "test_data_set_0" / "input_0.pb").string();
  for (int level = 0; level <= 2; ++level) {
    const fs::path out = dir_ / ("level" + std::to_string(level));
    const fs::path saved = dir_ / ("optimized" + std::to_string(level) + ".onnx");
    const CliResult r = RunCli("run " + (kMlpDir / "model.onnx").string() + input +
                               " --opt-level " + std::to_string(level) + " --save-optimized " +
                               saved.string() + " --output-dir " + out.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ExpectMatchesPyTorch(out / "probabilities.npy");

    ASSERT_OK_AND_ASSIGN(Graph g, LoadOnnxModel(saved.string()));
    int fused = 0;
    for (const Node& n : g.nodes) fused += n.domain == "com.onyx" && n.op_type == "FusedGemm";
    EXPECT_EQ(fused, level == 2 ? 1 : 0) << "level " << level;

    const fs::path rerun = dir_ / ("rerun" + std::to_string(level));
    const CliResult again = RunCli("run " + saved.string() + input +
                                   " --opt-level 0 --output-dir " + rerun.string());
    ASSERT_EQ(again.exit_code, 0) << again.err;
    ExpectMatchesPyTorch(rerun / "probabilities.npy");
  }
}

TEST_F(OptLevelTest, TestCommandTakesALevelAndBadLevelsAreUsageErrors) {
  const CliResult ok = RunCli("test " + kMlpDir.string() + " --opt-level 1");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("1 passed, 0 failed"), std::string::npos) << ok.out;
  for (const char* cmd : {"test ", "run "}) {
    const CliResult bad = RunCli(std::string(cmd) + (kMlpDir / "model.onnx").string() +
                                 " --opt-level 3");
    EXPECT_EQ(bad.exit_code, 2) << cmd;
  }
}

}  // namespace
}  // namespace onyx
