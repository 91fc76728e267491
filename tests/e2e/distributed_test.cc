// `mpirun -np N onyx train`: N processes with per-process batch B train like one
// process with batch N*B (same log and weights within 1e-5), and a process that
// dies makes the job end with an error instead of hanging.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "tests/e2e/cli_runner.h"
#include "tests/e2e/mpi_runner.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {
namespace fs = std::filesystem;
using testing::ExpectSameTraining;
using testing::MlpArgs;
using testing::MpiRun;
using testing::RunCli;
using testing::RunShell;
using DistributedTest = testing::TempDirTest;

#ifdef ONYX_HAVE_MPI
TEST_F(DistributedTest, ProcessesWithBatchBTrainLikeOneWithBatchNB) {
  // 800 rows: 120 per step in all runs, the last step has 80 (split unevenly over 3).
  auto single = RunCli("train" + MlpArgs() + " --batch-size 120 --log-csv " +
                       (dir_ / "one.csv").string() + " --out " + (dir_ / "one.onnx").string());
  ASSERT_EQ(single.exit_code, 0) << single.err;
  for (int n : {2, 3}) {
    const std::string name = "np" + std::to_string(n);
    const std::string command = MpiRun(n) + MlpArgs() + " --batch-size " + std::to_string(120 / n) +
                                " --log-csv " + (dir_ / (name + ".csv")).string() + " --out " +
                                (dir_ / (name + ".onnx")).string() + " > " +
                                (dir_ / (name + ".log")).string() + " 2>&1";
    ASSERT_EQ(RunShell(command), 0) << command;
    ExpectSameTraining(dir_, "one", name);
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(DistributedTest, SmallBucketsAndAccumulationTrainLikeOneProcess) {
  // The MLP's gradients: fc2 (100 + 2 floats), then fc1 (1000 + 50), in the
  // order backward finishes them. 0.0005 MiB = 131 floats: {fc2.*}, then fc1's
  // two each alone, whatever their order within a layer: 3 buckets. 0.0001 MiB
  // = 26 floats: one bucket per gradient.
  // Steps of 2 micro-batches of 120 rows: 800 rows = 3 steps of 240 + one of 80.
  auto single = RunCli("train" + MlpArgs() + " --batch-size 120 --accumulate-steps 2 --log-csv " +
                       (dir_ / "one.csv").string() + " --out " + (dir_ / "one.onnx").string());
  ASSERT_EQ(single.exit_code, 0) << single.err;
  struct Run {
    int processes;
    const char* bucket_mb;
    int buckets;
  };
  for (const Run& run : {Run{2, "0.0005", 3}, Run{3, "0.0001", 4}}) {
    const std::string name = "np" + std::to_string(run.processes);
    const std::string command =
        MpiRun(run.processes) + MlpArgs() + " --batch-size " + std::to_string(120 / run.processes) +
        " --accumulate-steps 2 --bucket-mb " + run.bucket_mb + " --log-csv " +
        (dir_ / (name + ".csv")).string() + " --out " + (dir_ / (name + ".onnx")).string() + " > " +
        (dir_ / (name + ".log")).string() + " 2>&1";
    ASSERT_EQ(RunShell(command), 0) << command;
    const std::string log = ReadFile(dir_ / (name + ".log"));
    EXPECT_NE(log.find("4 gradients in " + std::to_string(run.buckets) +
                       " allreduce bucket(s) of at most " + run.bucket_mb + " MiB"),
              std::string::npos)
        << log;
    ExpectSameTraining(dir_, "one", name);
  }
}

TEST_F(DistributedTest, ResumeWithAnotherProcessCount) {
  const std::string ckpt = (dir_ / "ckpt.bin").string();
  auto straight = RunCli("train" + MlpArgs() + " --batch-size 120 --log-csv " +
                         (dir_ / "one.csv").string() + " --out " + (dir_ / "one.onnx").string());
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  // Epoch 1 on two processes, epochs 2-3 on three.
  std::string first = MpiRun(2) + MlpArgs(1) + " --batch-size 60 --checkpoint " + ckpt +
                      " --log-csv " + (dir_ / "mixed.csv").string() + " --out " +
                      (dir_ / "first.onnx").string() + " > /dev/null 2>&1";
  ASSERT_EQ(RunShell(first), 0);
  std::string second = MpiRun(3) + MlpArgs() + " --batch-size 40 --resume " + ckpt + " --log-csv " +
                       (dir_ / "mixed.csv").string() + " --out " + (dir_ / "mixed.onnx").string() +
                       " > /dev/null 2>&1";
  ASSERT_EQ(RunShell(second), 0);
  ExpectSameTraining(dir_, "one", "mixed");
}

// Pids of the `onyx` processes whose command line mentions `marker`.
std::vector<pid_t> OnyxProcesses(const std::string& marker) {
  std::vector<pid_t> pids;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream comm(entry.path() / "comm");
    std::string exe;
    std::getline(comm, exe);
    if (exe != "onyx") continue;
    std::ifstream cmdline(entry.path() / "cmdline");
    std::string args(std::istreambuf_iterator<char>(cmdline), {});
    if (args.find(marker) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

class DeadProcessTest : public DistributedTest,
                        public ::testing::WithParamInterface<const char*> {};

// One blocking allreduce per step (the MLP fits the default bucket), and three
// buckets started during backward (the non-blocking path).
INSTANTIATE_TEST_SUITE_P(Buckets, DeadProcessTest, ::testing::Values("", " --bucket-mb 0.0005"));

TEST_P(DeadProcessTest, ADeadProcessEndsTheJobWithAnError) {
  const std::string command = MpiRun(2) + MlpArgs(1000) + GetParam() + " --batch-size 4 --out " +
                              (dir_ / "never.onnx").string() + " > " + (dir_ / "job.log").string() +
                              " 2>&1";
  const pid_t job = fork();
  ASSERT_GE(job, 0);
  if (job == 0) {
    setpgid(0, 0);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string marker = (dir_ / "never.onnx").string();
  std::vector<pid_t> ranks;
  for (int i = 0; i < 300 && ranks.size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ranks = OnyxProcesses(marker);
  }
  ASSERT_EQ(ranks.size(), 2u) << "the two processes did not start";
  std::this_thread::sleep_for(std::chrono::seconds(1));  // into the training loop
  kill(ranks.back(), SIGKILL);
  int status = 0;
  bool ended = false;
  for (int i = 0; i < 600 && !ended; ++i) {  // up to 60 s
    ended = waitpid(job, &status, WNOHANG) == job;
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!ended) {
    kill(-job, SIGKILL);
    waitpid(job, &status, 0);
  }
  ASSERT_TRUE(ended) << "the job hung after a process died";
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_TRUE(OnyxProcesses(marker).empty()) << "a process was left running";
  EXPECT_FALSE(fs::exists(dir_ / "never.onnx"));
}
#else
TEST_F(DistributedTest, DistributedNeedsAnMpiBuild) {
  auto result =
      RunCli("train " + (fs::path(ONYX_SOURCE_DIR) / "models/tutorial_mlp/model.onnx").string() +
             " --inputs x.npy --targets y.npy --distributed --out " + (dir_ / "m.onnx").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("built without"), std::string::npos) << result.err;
}
#endif

}  // namespace
}  // namespace onyx
