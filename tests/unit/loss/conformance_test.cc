// Every ONNX backend-test folder for SoftmaxCrossEntropyLoss and
// NegativeLogLikelihoodLoss (../shared/onnx-tests/node/test_sce_*, test_nllloss_*,
// not the *_expanded function bodies) run through a Session: rtol 1e-3, atol 1e-7.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "tests/status_matchers.h"
#include "tests/unit/loss/loss_test_util.h"

namespace onyx {
namespace {

namespace fs = std::filesystem;
using loss_test::ToDoubles;

std::vector<std::string> LossFolders() {
  std::vector<std::string> folders;
  const fs::path root = fs::path(ONYX_ONNX_TESTS_DIR) / "node";
  if (!fs::exists(root)) return folders;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    if ((absl::StartsWith(name, "test_sce_") || absl::StartsWith(name, "test_nllloss_")) &&
        !absl::StrContains(name, "_expanded")) {
      folders.push_back(entry.path().string());
    }
  }
  std::sort(folders.begin(), folders.end());
  return folders;
}

void RunFolder(const std::string& folder) {
  ASSERT_OK_AND_ASSIGN(Graph graph, LoadOnnxModel(folder + "/model.onnx"));
  std::vector<std::string> feed_names;
  for (const ValueInfo* info : graph.FeedInputs()) feed_names.push_back(info->name);
  const size_t num_outputs = graph.outputs.size();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Session> session,
                       Session::Create(std::move(graph), DefaultRegistry()));
  int data_sets = 0;
  for (int k = 0; fs::exists(folder + "/test_data_set_" + std::to_string(k)); ++k, ++data_sets) {
    const std::string dir = folder + "/test_data_set_" + std::to_string(k);
    NamedTensors feeds;
    for (size_t i = 0; i < feed_names.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(Tensor t,
                           LoadTensorProtoFile(dir + "/input_" + std::to_string(i) + ".pb"));
      feeds.emplace_back(feed_names[i], std::move(t));
    }
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outputs, session->Run(feeds));
    ASSERT_EQ(outputs.size(), num_outputs);
    for (size_t o = 0; o < num_outputs; ++o) {
      ASSERT_OK_AND_ASSIGN(Tensor want,
                           LoadTensorProtoFile(dir + "/output_" + std::to_string(o) + ".pb"));
      EXPECT_EQ(outputs[o].dtype(), want.dtype()) << "output " << o;
      EXPECT_EQ(outputs[o].shape(), want.shape()) << "output " << o;
      const std::vector<double> got = ToDoubles(outputs[o]), ref = ToDoubles(want);
      ASSERT_EQ(got.size(), ref.size()) << "output " << o;
      ASSERT_FALSE(ref.empty()) << "output " << o << " is not float";
      for (size_t i = 0; i < ref.size(); ++i) {
        if (std::isnan(ref[i])) {
          EXPECT_TRUE(std::isnan(got[i])) << "output " << o << " element " << i;
          continue;
        }
        EXPECT_LE(std::abs(got[i] - ref[i]), 1e-7 + 1e-3 * std::abs(ref[i]))
            << "output " << o << " element " << i << ": got " << got[i] << " want " << ref[i];
      }
    }
  }
  EXPECT_GT(data_sets, 0);
}

TEST(LossConformanceTest, AllSceAndNllLossFoldersPass) {
  const std::vector<std::string> folders = LossFolders();
  // The shared copy of the ONNX backend tests holds 34 test_sce_* and 18
  // test_nllloss_* folders (all float32 scores, int64 labels).
  ASSERT_EQ(folders.size(), 52u) << ONYX_ONNX_TESTS_DIR;
  for (const std::string& folder : folders) {
    SCOPED_TRACE(folder);
    RunFolder(folder);
  }
}

}  // namespace
}  // namespace onyx
