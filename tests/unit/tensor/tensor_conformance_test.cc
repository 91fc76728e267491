// Runs the ONNX backend node tests of the tensor family (Reshape, Slice, Pad,
// Cast, ...) through a Session built with RegisterTensorOps and compares every
// output with the stored reference (floats: rtol 1e-3, atol 1e-7; others exact).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/session.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {
namespace fs = std::filesystem;

const fs::path kNodeDir = fs::path(ONYX_ONNX_TESTS_DIR) / "node";

const char* const kPrefixes[] = {"test_reshape_",   "test_flatten_",
                                 "test_transpose_", "test_concat_",
                                 "test_split_",     "test_slice",
                                 "test_gather_",    "test_squeeze",
                                 "test_unsqueeze",  "test_expand",
                                 "test_pad",        "test_constant_pad",
                                 "test_edge_pad",   "test_reflect_pad",
                                 "test_wrap_pad",   "test_shape",
                                 "test_size",       "test_constant",
                                 "test_range",      "test_tile",
                                 "test_dropout",    "test_training_dropout",
                                 "test_cast_",      "test_where"};

// Folders not expected to pass, with the reason.
std::string SkipReason(const std::string& name) {
  for (const char* t : {"FLOAT8", "FLOAT4", "INT4", "INT2", "UINT4", "UINT2", "e8m0"}) {
    if (name.find(t) != std::string::npos) return "float8/float4/int4/int2 types are not supported";
  }
  if (name.find("STRING") != std::string::npos) return "string tensors are not supported";
  static const std::map<std::string, std::string> kOthers = {
      {"test_training_dropout", "training-mode Dropout with ratio > 0 (random mask)"},
      {"test_training_dropout_default", "training-mode Dropout with ratio > 0 (random mask)"},
      {"test_training_dropout_default_mask", "training-mode Dropout with ratio > 0 (random mask)"},
      {"test_training_dropout_mask", "training-mode Dropout with ratio > 0 (random mask)"},
  };
  auto it = kOthers.find(name);
  return it == kOthers.end() ? "" : it->second;
}

std::vector<std::string> Folders() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kNodeDir, ec)) {
    const std::string name = entry.path().filename().string();
    for (const char* p : kPrefixes) {
      if (name.rfind(p, 0) == 0 && fs::exists(entry.path() / "model.onnx")) {
        names.push_back(name);
        break;
      }
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

const OpRegistry& Registry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterAllOps(*r);
    RegisterTensorOps(*r);
    return r;
  }();
  return *registry;
}

bool IsFloat(DataType t) {
  return t == DataType::kFloat32 || t == DataType::kFloat64 || t == DataType::kFloat16 ||
         t == DataType::kBFloat16;
}

double FloatAt(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32:
      return t.data<float>()[i];
    case DataType::kFloat64:
      return t.data<double>()[i];
    case DataType::kFloat16:
      return tensor::HalfToFloat(t.data<uint16_t>()[i]);
    default:
      return tensor::BFloat16ToFloat(t.data<uint16_t>()[i]);
  }
}

void ExpectMatches(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  if (IsFloat(want.dtype())) {
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      const double g = FloatAt(got, i), w = FloatAt(want, i);
      if (std::isnan(w)) {
        EXPECT_TRUE(std::isnan(g)) << what << " at " << i;
      } else if (g != w) {  // exact also covers matching infinities
        EXPECT_LE(std::abs(g - w), 1e-7 + 1e-3 * std::abs(w)) << what << " at " << i;
      }
    }
  } else {
    EXPECT_EQ(std::memcmp(got.raw_data(), want.raw_data(), want.byte_size()), 0) << what;
  }
}

class TensorConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TensorConformanceTest, MatchesReference) {
  const std::string name = GetParam();
  const std::string reason = SkipReason(name);
  if (!reason.empty()) GTEST_SKIP() << reason;
  const fs::path dir = kNodeDir / name;
  ASSERT_OK_AND_ASSIGN(Graph graph, LoadOnnxModel((dir / "model.onnx").string()));
  const fs::path data = dir / "test_data_set_0";
  NamedTensors feeds;
  {
    const std::vector<const ValueInfo*> inputs = graph.FeedInputs();
    for (size_t k = 0; k < inputs.size(); ++k) {
      const fs::path file = data / ("input_" + std::to_string(k) + ".pb");
      ASSERT_TRUE(fs::exists(file)) << file;
      ASSERT_OK_AND_ASSIGN(Tensor t, LoadTensorProtoFile(file.string()));
      feeds.emplace_back(inputs[k]->name, std::move(t));
    }
  }
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(std::move(graph), Registry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outputs, session->Run(feeds));
  for (size_t k = 0; k < outputs.size(); ++k) {
    const fs::path file = data / ("output_" + std::to_string(k) + ".pb");
    ASSERT_OK_AND_ASSIGN(Tensor want, LoadTensorProtoFile(file.string()));
    ExpectMatches(outputs[k], want, name + " output " + std::to_string(k));
  }
}

INSTANTIATE_TEST_SUITE_P(Node, TensorConformanceTest, ::testing::ValuesIn(Folders()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(TensorConformanceSetup, FindsFolders) { EXPECT_GT(Folders().size(), 150u); }

}  // namespace
}  // namespace onyx
