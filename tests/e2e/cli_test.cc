// End-to-end tests of the `onyx` binary: info, run, test and their error paths.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "importers/npy/npy.h"
#include "importers/onnx/onnx_exporter.h"
#include "importers/onnx/onnx_importer.h"
#include "onnx_proto/onnx.pb.h"
#include "tests/e2e/cli_runner.h"
#include "tests/status_matchers.h"
#include "tools/tensor_util.h"

namespace onyx {
namespace {
namespace fs = std::filesystem;

const fs::path kModels = fs::path(ONYX_SOURCE_DIR) / "models";
const fs::path kOnnxTests = ONYX_ONNX_TESTS_DIR;

using testing::CliResult;
using testing::RunCli;
using CliTest = testing::TempDirTest;

const std::string kMlp = (kModels / "tutorial_mlp" / "model.onnx").string();

TEST_F(CliTest, InfoShowsInputsOutputsOpsAndParameters) {
  const CliResult r = RunCli("info " + kMlp);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("input"), std::string::npos);
  EXPECT_NE(r.out.find("[batch,20]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[batch,2]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ai.onnx 17"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Gemm 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Softmax 1"), std::string::npos) << r.out;
  // 20*50 + 50 + 50*2 + 2 weights and biases.
  EXPECT_NE(r.out.find("parameters: 1152 in 4 initializers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("runnable: yes"), std::string::npos) << r.out;
}

TEST_F(CliTest, RunWritesOutputsMatchingPyTorch) {
  const fs::path data = kModels / "tutorial_mlp" / "test_data_set_0";
  const CliResult r = RunCli("run " + kMlp + " --input input=" + (data / "input_0.pb").string() +
                             " --output-dir " + dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("output probabilities: float32[16,2]"), std::string::npos) << r.out;
  ASSERT_OK_AND_ASSIGN(Tensor written, ReadNpy((dir_ / "probabilities.npy").string()));
  ASSERT_OK_AND_ASSIGN(Tensor expected, LoadTensorProtoFile((data / "output_0.pb").string()));
  const Mismatch m = CompareTensors(written, expected, 1e-4, 1e-6);
  EXPECT_TRUE(m.ok) << m.message;
}

TEST_F(CliTest, RunFillsMissingInputsWithSeededRandomDataAndBindsDims) {
  const CliResult a = RunCli("run " + kMlp + " --dim batch=8 --seed 7");
  const CliResult b = RunCli("run " + kMlp + " --dim batch=8 --seed 7");
  const CliResult c = RunCli("run " + kMlp + " --dim batch=8 --seed 8");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("float32[8,2]"), std::string::npos) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
}

TEST_F(CliTest, TestPassesOnConformanceAndBundledFolders) {
  const CliResult r = RunCli("test " + (kOnnxTests / "node" / "test_relu").string() + " " +
                             (kModels / "tutorial_mlp").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS"), std::string::npos);
  EXPECT_NE(r.out.find("\n2 passed, 0 failed\n"), std::string::npos) << r.out;
}

TEST_F(CliTest, TestFailsOnWrongExpectedOutput) {
  const fs::path src = kModels / "tutorial_mlp";
  fs::create_directories(dir_ / "test_data_set_0");
  fs::copy_file(src / "model.onnx", dir_ / "model.onnx");
  fs::copy_file(src / "test_data_set_0" / "input_0.pb", dir_ / "test_data_set_0" / "input_0.pb");
  ASSERT_OK_AND_ASSIGN(Tensor expected,
                       LoadTensorProtoFile((src / "test_data_set_0" / "output_0.pb").string()));
  ASSERT_OK_AND_ASSIGN(Tensor wrong, expected.Clone());
  wrong.data<float>()[5] += 0.01f;
  ASSERT_OK(SaveTensorProtoFile(wrong, "probabilities",
                                (dir_ / "test_data_set_0" / "output_0.pb").string()));
  const CliResult r = RunCli("test " + dir_.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("index 5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 passed, 1 failed"), std::string::npos) << r.out;
}

TEST_F(CliTest, MalformedModelIsRefusedWithExitOne) {
  std::ofstream(dir_ / "bad.onnx") << "this is not a protobuf \x01\x02\xff\xff\xff";
  for (const char* cmd : {"info", "run"}) {
    const CliResult r = RunCli(std::string(cmd) + " " + (dir_ / "bad.onnx").string());
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_NE(r.err.find("onyx: error:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bad.onnx"), std::string::npos) << r.err;
  }
  const CliResult missing = RunCli("info " + (dir_ / "absent.onnx").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("absent.onnx"), std::string::npos) << missing.err;
}

TEST_F(CliTest, ExternalDataEscapingTheModelFolderIsRefused) {
  std::ofstream(dir_ / "secret.bin") << std::string(16, 'x');
  fs::create_directories(dir_ / "model");
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(17);
  onnx::GraphProto* graph = model.mutable_graph();
  onnx::TensorProto* w = graph->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* location = w->add_external_data();
  location->set_key("location");
  location->set_value("../secret.bin");
  onnx::NodeProto* node = graph->add_node();
  node->set_op_type("Relu");
  node->add_input("w");
  node->add_output("y");
  auto* out = graph->add_output();
  out->set_name("y");
  out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  std::ofstream(dir_ / "model" / "model.onnx", std::ios::binary) << model.SerializeAsString();
  const CliResult r = RunCli("run " + (dir_ / "model" / "model.onnx").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("secret.bin"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"w\""), std::string::npos) << r.err;
}

TEST_F(CliTest, WrongDtypeInputIsRefused) {
  ASSERT_OK_AND_ASSIGN(Tensor ints, Tensor::Zeros(DataType::kInt64, {3, 20}));
  ASSERT_OK(WriteNpy(ints, (dir_ / "ints.npy").string()));
  const CliResult r = RunCli("run " + kMlp + " --input input=" + (dir_ / "ints.npy").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("input \"input\" must have dtype float32, got int64"), std::string::npos)
      << r.err;
  ASSERT_OK_AND_ASSIGN(Tensor wide, Tensor::Zeros(DataType::kFloat32, {3, 21}));
  ASSERT_OK(WriteNpy(wide, (dir_ / "wide.npy").string()));
  const CliResult w = RunCli("run " + kMlp + " --input input=" + (dir_ / "wide.npy").string());
  EXPECT_EQ(w.exit_code, 1);
  EXPECT_NE(w.err.find("dim 1 must be 20"), std::string::npos) << w.err;
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  EXPECT_EQ(RunCli("").exit_code, 2);
  EXPECT_EQ(RunCli("frobnicate").exit_code, 2);
  EXPECT_EQ(RunCli("run").exit_code, 2);
  EXPECT_EQ(RunCli("run " + kMlp + " --dim batch=-3").exit_code, 2);
  EXPECT_EQ(RunCli("run " + kMlp + " --input nofile").exit_code, 2);
  EXPECT_EQ(RunCli("test").exit_code, 2);
  EXPECT_EQ(RunCli("--help").exit_code, 0);
}

}  // namespace
}  // namespace onyx
