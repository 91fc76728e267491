// Runs every folder of the ONNX backend conformance data (node/ and simple/).
// A folder on expected_pass.txt must pass; every other folder must be listed in
// excluded.tsv with the reason it does not pass, and must indeed not pass (so
// the lists stay true: regenerate them with update_lists.sh).
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "tests/conformance/conformance_lists.h"
#include "tools/backend_test.h"

namespace onyx {
namespace {
namespace fs = std::filesystem;
using conformance::AllFolders;
using conformance::kDataDir;
using conformance::kListDir;
using conformance::ReadAllowList;
using conformance::TestName;

std::map<std::string, std::string> ReadExclusions() {
  std::map<std::string, std::string> reasons;
  std::ifstream in(kListDir / "excluded.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab != std::string::npos) reasons[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return reasons;
}

class ConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceTest, MatchesReference) {
  static const std::set<std::string> allowed = ReadAllowList();
  static const std::map<std::string, std::string> excluded = ReadExclusions();
  const std::string& folder = GetParam();
  const BackendTestResult result =
      RunBackendTest((kDataDir / folder).string(), DefaultRegistry(), 1e-3, 1e-7);
  if (allowed.contains(folder)) {
    EXPECT_TRUE(result.passed) << folder << ": " << result.detail;
    return;
  }
  auto reason = excluded.find(folder);
  ASSERT_NE(reason, excluded.end())
      << folder << " is on neither expected_pass.txt nor excluded.tsv (it "
      << (result.passed ? "passes" : "fails: " + result.detail) << ")";
  EXPECT_FALSE(result.passed) << folder << " now passes: move it to expected_pass.txt";
}

INSTANTIATE_TEST_SUITE_P(Onnx, ConformanceTest, ::testing::ValuesIn(AllFolders()), TestName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceTest);

TEST(ConformanceData, IsPresent) {
  if (!fs::exists(kDataDir / "node")) {
    GTEST_SKIP() << "no conformance data at " << kDataDir << " (set ONYX_ONNX_TESTS_DIR)";
  }
  EXPECT_GT(AllFolders().size(), 500u);
}

}  // namespace
}  // namespace onyx
