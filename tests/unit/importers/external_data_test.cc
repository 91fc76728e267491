// External tensor data: reads inside the model folder, and refuses every way out of it
// (absolute paths, "..", symlinks) and ranges beyond the file.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "onnx_proto/onnx.pb.h"
#include "tests/status_matchers.h"
#include "tests/unit/importers/test_model.h"

namespace onyx {
namespace {

using testing_util::MinimalModel;
using testing_util::WriteBytes;

struct ExternalRef {
  std::string location;
  std::string offset;  // "" = not given
  std::string length;
};

// A model with initializer "w" = float[3] stored externally.
onnx::ModelProto ModelWithExternal(const ExternalRef& ref) {
  onnx::ModelProto model = MinimalModel();
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(3);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto add = [&](const char* key, const std::string& value) {
    if (value.empty()) return;
    auto* e = t->add_external_data();
    e->set_key(key);
    e->set_value(value);
  };
  add("location", ref.location);
  add("offset", ref.offset);
  add("length", ref.length);
  return model;
}

class ExternalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = dir_holder_.path();
    const float values[3] = {1.5f, -2.f, 1e-3f};
    // 8 bytes of junk, then the 12 bytes of the tensor.
    WriteBytes(dir_ + "/weights.bin",
               "JUNKJUNK" + std::string(reinterpret_cast<const char*>(values), 12));
    ASSERT_EQ(::mkdir((dir_ + "/sub").c_str(), 0755), 0);
    WriteBytes(dir_ + "/sub/w.bin", std::string(reinterpret_cast<const char*>(values), 12));
    outside_ = outside_holder_.path();
    WriteBytes(outside_ + "/secret.bin", std::string(12, '\x7f'));
  }

  absl::Status Load(const ExternalRef& ref) {
    return ParseOnnxModel(ModelWithExternal(ref).SerializeAsString(), dir_).status();
  }

  void ExpectRefused(const ExternalRef& ref, absl::StatusCode code, const char* why) {
    const absl::Status status = Load(ref);
    EXPECT_EQ(status.code(), code) << status;
    const std::string message(status.message());
    EXPECT_NE(message.find("\"w\""), std::string::npos) << message;
    EXPECT_NE(message.find(why), std::string::npos) << message;
  }

  testing_util::ScopedTempDir dir_holder_;
  testing_util::ScopedTempDir outside_holder_;
  std::string dir_;
  std::string outside_;
};

void ExpectValues(const Graph& graph) {
  const Tensor& w = graph.initializers.at("w");
  ASSERT_EQ(w.shape(), Shape({3}));
  EXPECT_EQ(w.data<float>()[0], 1.5f);
  EXPECT_EQ(w.data<float>()[1], -2.f);
  EXPECT_EQ(w.data<float>()[2], 1e-3f);
}

TEST_F(ExternalDataTest, ReadsInsideModelFolder) {
  ASSERT_OK_AND_ASSIGN(
      Graph a, ParseOnnxModel(ModelWithExternal({"weights.bin", "8", "12"}).SerializeAsString(),
                              dir_));
  ExpectValues(a);
  // No length: to the end of the file.
  ASSERT_OK_AND_ASSIGN(
      Graph b, ParseOnnxModel(ModelWithExternal({"weights.bin", "8", ""}).SerializeAsString(),
                              dir_));
  ExpectValues(b);
  // Subfolder, read through LoadOnnxModel: resolved relative to the model file.
  testing_util::WriteBytes(dir_ + "/model.onnx",
                           ModelWithExternal({"sub/w.bin", "", ""}).SerializeAsString());
  ASSERT_OK_AND_ASSIGN(Graph c, LoadOnnxModel(dir_ + "/model.onnx"));
  ExpectValues(c);
  // A symlink that stays inside the folder is fine.
  ASSERT_EQ(::symlink("sub/w.bin", (dir_ + "/inside_link.bin").c_str()), 0);
  EXPECT_OK(Load({"inside_link.bin", "", ""}));
}

TEST_F(ExternalDataTest, RefusedWithoutModelFolder) {
  const absl::Status status =
      ParseOnnxModel(ModelWithExternal({"weights.bin", "8", "12"}).SerializeAsString(), "")
          .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(ExternalDataTest, RefusesPathsLeavingTheFolder) {
  ExpectRefused({outside_ + "/secret.bin", "", ""}, absl::StatusCode::kInvalidArgument,
                "absolute");
  ExpectRefused({"../x", "", ""}, absl::StatusCode::kInvalidArgument, "..");
  ExpectRefused({"sub/../weights.bin", "8", ""}, absl::StatusCode::kInvalidArgument, "..");
  ASSERT_EQ(::symlink((outside_ + "/secret.bin").c_str(), (dir_ + "/evil.bin").c_str()), 0);
  ExpectRefused({"evil.bin", "", ""}, absl::StatusCode::kInvalidArgument, "outside");
  ASSERT_EQ(::symlink(outside_.c_str(), (dir_ + "/evil_dir").c_str()), 0);
  ExpectRefused({"evil_dir/secret.bin", "", ""}, absl::StatusCode::kInvalidArgument,
                "outside");
}

TEST_F(ExternalDataTest, RefusesBadRanges) {
  ExpectRefused({"weights.bin", "100", "12"}, absl::StatusCode::kInvalidArgument, "offset");
  ExpectRefused({"weights.bin", "12", "12"}, absl::StatusCode::kInvalidArgument, "beyond");
  ExpectRefused({"weights.bin", "0", "16"}, absl::StatusCode::kInvalidArgument,
                "holds 16 bytes but float32[3] needs 12 bytes");
  ExpectRefused({"weights.bin", "-4", ""}, absl::StatusCode::kInvalidArgument, "offset");
  ExpectRefused({"weights.bin", "abc", ""}, absl::StatusCode::kInvalidArgument, "offset");
  ExpectRefused({"missing.bin", "", ""}, absl::StatusCode::kNotFound, "missing.bin");
  ExpectRefused({"", "", ""}, absl::StatusCode::kInvalidArgument, "location");
}

}  // namespace
}  // namespace onyx
