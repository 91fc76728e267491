// `mpirun -np 2 onyx train --device cuda`: one GPU per process, gradients summed
// with NCCL on device buffers, must train like one process with twice the batch
// on one GPU. Label gpu: it skips without two GPUs or without MPI, and runs in
// the CUDA emulator build (tests/cuda_emu: two emulated devices, NCCL over
// shared memory).
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "runtime/cuda/cuda_backend.h"
#include "tests/e2e/cli_runner.h"
#include "tests/e2e/mpi_runner.h"

namespace onyx {
namespace {

class DistributedCudaTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    testing::TempDirTest::SetUp();
#ifndef ONYX_HAVE_MPI
    GTEST_SKIP() << "skipped: built without MPI (ONYX_MPI=OFF)";
#endif
    if (cuda::DeviceCount() < 2) {
      GTEST_SKIP() << "skipped: two processes need two GPUs (NCCL takes one rank per GPU); "
                   << cuda::DeviceCount() << " here";
    }
  }
};

#ifdef ONYX_HAVE_MPI
TEST_F(DistributedCudaTest, TwoProcessesOnTwoGpusTrainLikeOneWithTwiceTheBatch) {
  const std::string cuda = " --device cuda";
  auto single =
      testing::RunCli("train" + testing::MlpArgs() + cuda + " --batch-size 120 --log-csv " +
                      (dir_ / "one.csv").string() + " --out " + (dir_ / "one.onnx").string());
  ASSERT_EQ(single.exit_code, 0) << single.err;
  const std::string command = testing::MpiRun(2) + testing::MlpArgs() + cuda +
                              " --batch-size 60 --log-csv " + (dir_ / "np2.csv").string() +
                              " --out " + (dir_ / "np2.onnx").string() + " > " +
                              (dir_ / "np2.log").string() + " 2>&1";
  ASSERT_EQ(testing::RunShell(command), 0) << command;
  std::ifstream log_file(dir_ / "np2.log");
  const std::string log(std::istreambuf_iterator<char>(log_file), {});
  EXPECT_EQ(log.find("reduced on the host"), std::string::npos) << "NCCL was not used:\n" << log;
  EXPECT_EQ(log.find("runs on the CPU"), std::string::npos) << "an op left the GPU:\n" << log;
  testing::ExpectSameTraining(dir_, "one", "np2");
}
#endif

}  // namespace
}  // namespace onyx
