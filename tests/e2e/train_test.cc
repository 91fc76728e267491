// `onyx train` end to end: per-epoch losses and validation metrics against the
// PyTorch runs in models/reference (made by models/make_training_references.py),
// resume equivalence, checkpoint corruption, frozen weights, export, bad input.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "importers/npy/npy.h"
#include "importers/onnx/onnx_importer.h"
#include "tests/e2e/cli_runner.h"
#include "tests/e2e/pytorch_reference.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {
namespace fs = std::filesystem;
using testing::kModels;
using testing::ReadCsv;
using testing::RunCli;
using TrainTest = testing::TempDirTest;

class PyTorchAgreementTest : public testing::TempDirTest,
                             public ::testing::WithParamInterface<std::string> {};

TEST_P(PyTorchAgreementTest, LossCurveAndAccuracyMatch) {
  // Accuracy is a count over 200 samples: equal means equal.
  testing::ExpectTrainingMatchesPyTorch(dir_, GetParam(), "", 1e-5, 1e-9);
}

std::string RunName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }
INSTANTIATE_TEST_SUITE_P(Reference, PyTorchAgreementTest,
                         ::testing::ValuesIn(testing::ReferenceRuns()), RunName);

const std::string kMlpData = " " + (kModels / "tutorial_mlp/model.onnx").string() + " --inputs " +
                             (kModels / "tutorial_mlp/train_x.npy").string() + " --targets " +
                             (kModels / "tutorial_mlp/train_y.npy").string() +
                             " --loss cross_entropy";

std::string FileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(TrainTest, ResumedRunEqualsStraightRun) {
  const std::string common = kMlpData + " --optimizer adam --lr 0.01 --batch-size 64 --seed 3";
  const fs::path ckpt = dir_ / "ckpt.bin";
  auto straight = RunCli("train" + common + " --epochs 6 --log-csv " + (dir_ / "a.csv").string() +
                         " --out " + (dir_ / "a.onnx").string());
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  auto first =
      RunCli("train" + common + " --epochs 3 --checkpoint " + ckpt.string() + " --log-csv " +
             (dir_ / "b.csv").string() + " --out " + (dir_ / "b3.onnx").string());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto second = RunCli("train" + common + " --epochs 6 --resume " + ckpt.string() +
                       " --checkpoint " + ckpt.string() + " --log-csv " +
                       (dir_ / "b.csv").string() + " --out " + (dir_ / "b.onnx").string());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("resumed from"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(Graph a, LoadOnnxModel((dir_ / "a.onnx").string()));
  ASSERT_OK_AND_ASSIGN(Graph b, LoadOnnxModel((dir_ / "b.onnx").string()));
  ASSERT_OK_AND_ASSIGN(Graph b3, LoadOnnxModel((dir_ / "b3.onnx").string()));
  for (const auto& [name, tensor] : a.initializers) {
    const Tensor& other = b.initializers.at(name);
    ASSERT_EQ(tensor.byte_size(), other.byte_size());
    EXPECT_EQ(std::memcmp(tensor.raw_data(), other.raw_data(), tensor.byte_size()), 0) << name;
    EXPECT_NE(
        std::memcmp(tensor.raw_data(), b3.initializers.at(name).raw_data(), tensor.byte_size()), 0)
        << name << " should still change after epoch 3";
  }
  const auto rows_a = ReadCsv(dir_ / "a.csv"), rows_b = ReadCsv(dir_ / "b.csv");
  ASSERT_EQ(rows_a.size(), 6u);
  ASSERT_EQ(rows_b.size(), 6u);
  for (size_t e = 0; e < rows_a.size(); ++e) {
    for (int c = 0; c < 5; ++c) EXPECT_EQ(rows_a[e][c], rows_b[e][c]) << "row " << e;
  }
}

// A run stopped mid-epoch by --max-steps and resumed from its checkpoint ends
// with the same weights and log as a straight run (shuffled mini-batches).
TEST_F(TrainTest, MidEpochResumeEqualsStraightRun) {
  const std::string common = kMlpData + " --optimizer sgd --lr 0.05 --momentum 0.9" +
                             " --batch-size 64 --seed 5 --epochs 3";
  const fs::path ckpt = dir_ / "ckpt.bin";
  auto straight = RunCli("train" + common + " --log-csv " + (dir_ / "a.csv").string() + " --out " +
                         (dir_ / "a.onnx").string());
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  // 800 rows / 64 = 13 steps per epoch: step 17 is inside epoch 2.
  auto first = RunCli("train" + common + " --max-steps 17 --checkpoint-every 4 --checkpoint " +
                      ckpt.string() + " --log-csv " + (dir_ / "b.csv").string() + " --out " +
                      (dir_ / "b1.onnx").string());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("stopped after 17 steps, in epoch 2"), std::string::npos) << first.out;
  auto second = RunCli("train" + common + " --resume " + ckpt.string() + " --log-csv " +
                       (dir_ / "b.csv").string() + " --out " + (dir_ / "b.onnx").string());
  ASSERT_EQ(second.exit_code, 0) << second.err;

  ASSERT_OK_AND_ASSIGN(Graph a, LoadOnnxModel((dir_ / "a.onnx").string()));
  ASSERT_OK_AND_ASSIGN(Graph b, LoadOnnxModel((dir_ / "b.onnx").string()));
  for (const auto& [name, tensor] : a.initializers) {
    const Tensor& other = b.initializers.at(name);
    ASSERT_EQ(tensor.byte_size(), other.byte_size());
    EXPECT_EQ(std::memcmp(tensor.raw_data(), other.raw_data(), tensor.byte_size()), 0) << name;
  }
  const auto rows_a = ReadCsv(dir_ / "a.csv"), rows_b = ReadCsv(dir_ / "b.csv");
  ASSERT_EQ(rows_a.size(), 3u);
  ASSERT_EQ(rows_b.size(), 3u);
  for (size_t e = 0; e < rows_a.size(); ++e) {
    for (int c = 0; c < 5; ++c) EXPECT_EQ(rows_a[e][c], rows_b[e][c]) << "row " << e;
  }
}

// kill -9 at arbitrary moments of a run that checkpoints after every step never
// leaves a missing or unreadable checkpoint: each resume picks up where the last
// complete write left off, and the run finishes.
TEST_F(TrainTest, KilledRunsAlwaysLeaveAResumableCheckpoint) {
  const fs::path ckpt = dir_ / "ckpt.bin";
  const std::string base = "train" + kMlpData + " --optimizer adam --batch-size 8";
  const std::string args = base + " --epochs 4 --checkpoint-every 1 --checkpoint " + ckpt.string() +
                           " --out " + (dir_ / "out.onnx").string();
  std::mt19937 rng(7);
  int killed = 0;
  for (int attempt = 0; attempt < 12 && !fs::exists(dir_ / "out.onnx"); ++attempt) {
    std::string full = args + (fs::exists(ckpt) ? " --resume " + ckpt.string() : "");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c",
            ("exec " + std::string(ONYX_CLI_PATH) + " " + full + " >/dev/null 2>&1").c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 400));
    if (kill(pid, SIGKILL) == 0) ++killed;
    int status = 0;
    waitpid(pid, &status, 0);
    if (fs::exists(ckpt)) {
      // The checkpoint on disk is always a complete one.
      auto check = RunCli(base + " --epochs 0 --resume " + ckpt.string() + " --out " +
                          (dir_ / "check.onnx").string());
      ASSERT_EQ(check.exit_code, 0) << "after kill " << attempt << ": " << check.err;
    }
  }
  EXPECT_GT(killed, 0);
  auto finish = RunCli(args + (fs::exists(ckpt) ? " --resume " + ckpt.string() : ""));
  ASSERT_EQ(finish.exit_code, 0) << finish.err;
  EXPECT_TRUE(fs::exists(dir_ / "out.onnx"));
}

TEST_F(TrainTest, CorruptOrForeignCheckpointIsRefused) {
  const fs::path ckpt = dir_ / "ckpt.bin";
  auto r = RunCli("train" + kMlpData + " --optimizer sgd --lr 0.1 --epochs 1 --checkpoint " +
                  ckpt.string() + " --out " + (dir_ / "o.onnx").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string bytes = FileBytes(ckpt);
  std::ofstream(dir_ / "truncated.bin", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  bytes[bytes.size() / 2] ^= 0x40;
  std::ofstream(dir_ / "flipped.bin", std::ios::binary) << bytes;
  for (const char* file : {"truncated.bin", "flipped.bin"}) {
    auto bad = RunCli("train" + kMlpData + " --optimizer sgd --lr 0.1 --epochs 2 --resume " +
                      (dir_ / file).string() + " --out " + (dir_ / "o2.onnx").string());
    EXPECT_EQ(bad.exit_code, 1) << file;
    EXPECT_NE(bad.err.find("truncated or corrupt"), std::string::npos) << bad.err;
  }
  // A checkpoint of SGD without momentum has no state; Adam's needs its moments.
  auto foreign = RunCli("train" + kMlpData + " --optimizer adam --epochs 2 --resume " +
                        ckpt.string() + " --out " + (dir_ / "o3.onnx").string());
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_NE(foreign.err.find("does not match"), std::string::npos) << foreign.err;
  EXPECT_FALSE(fs::exists(dir_ / "o2.onnx"));
}

TEST_F(TrainTest, FreezeKeepsMatchingWeightsAndInputModelIsUntouched) {
  const fs::path model = kModels / "tutorial_mlp/model.onnx";
  const std::string before = FileBytes(model);
  auto r =
      RunCli("train" + kMlpData + " --optimizer sgd --lr 0.1 --epochs 2 --freeze '^fc1\\.' --out " +
             (dir_ / "out.onnx").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FileBytes(model), before);
  ASSERT_OK_AND_ASSIGN(Graph original, LoadOnnxModel(model.string()));
  ASSERT_OK_AND_ASSIGN(Graph tuned, LoadOnnxModel((dir_ / "out.onnx").string()));
  // The exported model is an inference model with the original interface.
  EXPECT_EQ(tuned.nodes.size(), original.nodes.size());
  EXPECT_EQ(tuned.opset_imports, original.opset_imports);
  ASSERT_EQ(tuned.outputs.size(), 1u);
  EXPECT_EQ(tuned.outputs[0].name, "probabilities");
  for (const auto& [name, tensor] : original.initializers) {
    const bool same = std::memcmp(tensor.raw_data(), tuned.initializers.at(name).raw_data(),
                                  tensor.byte_size()) == 0;
    EXPECT_EQ(same, name.starts_with("fc1.")) << name;
  }
  // And `onyx run` loads it.
  auto run = RunCli("run " + (dir_ / "out.onnx").string() + " --dim batch=4");
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST_F(TrainTest, DivergingLossStopsWithClearError) {
  auto r = RunCli("train" + kMlpData + " --optimizer sgd --lr 1e30 --epochs 20 --out " +
                  (dir_ / "out.onnx").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("loss became"), std::string::npos) << r.err << r.out;
  EXPECT_NE(r.err.find("step"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "out.onnx"));
}

TEST_F(TrainTest, BadArgumentsAreRefused) {
  EXPECT_EQ(RunCli("train" + kMlpData + " --optimizer sgd").exit_code, 2);  // no --out
  EXPECT_EQ(RunCli("train" + kMlpData + " --optimizer nadam --out x.onnx").exit_code, 2);
  auto wrong_targets =
      RunCli("train " + (kModels / "tutorial_mlp/model.onnx").string() + " --inputs " +
             (kModels / "tutorial_mlp/train_x.npy").string() + " --targets " +
             (kModels / "tutorial_mlp/test_y.npy").string() +
             " --loss cross_entropy --optimizer sgd --out " + (dir_ / "o.onnx").string());
  EXPECT_EQ(wrong_targets.exit_code, 1);
  EXPECT_NE(wrong_targets.err.find("rows"), std::string::npos) << wrong_targets.err;
}

}  // namespace
}  // namespace onyx
