// The conformance folders that pass on the CPU (expected_pass.txt), run by a
// CUDA session: every node with a CUDA kernel runs it, the others run on the
// CPU with copies, and the outputs must match the ONNX reference data. Label
// gpu: it skips without a GPU, and runs in the CUDA emulator build.
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "tests/conformance/conformance_lists.h"
#include "tools/backend_test.h"
#include "tools/cli_util.h"

namespace onyx {
namespace {

class ConformanceOnCudaTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceOnCudaTest, MatchesReference) {
  if (cuda::DeviceCount() == 0) GTEST_SKIP() << "skipped: " << cuda::NoDeviceReason();
  absl::StatusOr<SessionOptions> options = SessionOptionsForDevice("cuda");
  ASSERT_TRUE(options.ok()) << options.status();
  const std::string& folder = GetParam();
  // The CPU test's tolerances, atol aside: device math (cuDNN's convolution
  // algorithms, reductions in another order) leaves ~1e-6 near zero.
  const BackendTestResult result = RunBackendTest((conformance::kDataDir / folder).string(),
                                                  DefaultRegistry(), 1e-3, 1e-5, *options);
  EXPECT_TRUE(result.passed) << folder << ": " << result.detail;
}

std::vector<std::string> PassingFolders() {
  const auto allowed = conformance::ReadAllowList();
  return std::vector<std::string>(allowed.begin(), allowed.end());
}

INSTANTIATE_TEST_SUITE_P(Onnx, ConformanceOnCudaTest, ::testing::ValuesIn(PassingFolders()),
                         conformance::TestName);

}  // namespace
}  // namespace onyx
