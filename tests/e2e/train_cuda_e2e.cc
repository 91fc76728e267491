// `onyx train --device cuda` end to end against the PyTorch runs in
// models/reference: the whole training step (graph, loss, optimizer) on the
// GPU must give PyTorch's per-epoch losses. Label gpu: it skips without a GPU,
// and runs in the CUDA emulator build (tests/cuda_emu).
#include <string>

#include "gtest/gtest.h"
#include "runtime/cuda/cuda_backend.h"
#include "tests/e2e/cli_runner.h"
#include "tests/e2e/pytorch_reference.h"

namespace onyx {
namespace {

class PyTorchAgreementOnCudaTest : public testing::TempDirTest,
                                   public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    testing::TempDirTest::SetUp();
    if (cuda::DeviceCount() == 0) GTEST_SKIP() << "skipped: " << cuda::NoDeviceReason();
  }
};

TEST_P(PyTorchAgreementOnCudaTest, LossCurveAndAccuracyMatch) {
  // cuBLAS and the reductions sum in another order than PyTorch on the CPU:
  // a looser loss tolerance, and one of the 200 validation samples may flip.
  testing::ExpectTrainingMatchesPyTorch(dir_, GetParam(), " --device cuda", 1e-4, 0.005 + 1e-9);
}

std::string RunName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }
INSTANTIATE_TEST_SUITE_P(Reference, PyTorchAgreementOnCudaTest,
                         ::testing::ValuesIn(testing::ReferenceRuns()), RunName);

}  // namespace
}  // namespace onyx
