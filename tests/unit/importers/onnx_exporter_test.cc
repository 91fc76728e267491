// Graph -> ONNX export: load -> save -> load keeps every field, files are replaced
// atomically, and TensorProto files round-trip.
#include "importers/onnx/onnx_exporter.h"

#include <cstring>
#include <filesystem>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "onnx_proto/onnx.pb.h"
#include "tests/status_matchers.h"
#include "tests/unit/importers/test_model.h"

namespace onyx {
namespace {

using testing_util::ReadBytes;
using testing_util::ScopedTempDir;
using testing_util::WriteBytes;

void ExpectTensorsEqual(const Tensor& a, const Tensor& b, const std::string& what) {
  EXPECT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.byte_size(), b.byte_size()) << what;
  if (a.byte_size() > 0) {
    EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.byte_size()), 0) << what;
  }
}

void ExpectValueInfosEqual(const std::vector<ValueInfo>& a, const std::vector<ValueInfo>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].dtype, b[i].dtype) << a[i].name;
    EXPECT_EQ(a[i].has_shape, b[i].has_shape) << a[i].name;
    ASSERT_EQ(a[i].dims.size(), b[i].dims.size()) << a[i].name;
    for (size_t d = 0; d < a[i].dims.size(); ++d) {
      EXPECT_EQ(a[i].dims[d].value, b[i].dims[d].value) << a[i].name;
      EXPECT_EQ(a[i].dims[d].param, b[i].dims[d].param) << a[i].name;
    }
  }
}

// Everything except producer_name, which the exporter sets to "onyx".
void ExpectGraphsEqual(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.ir_version, b.ir_version);
  EXPECT_EQ(a.opset_imports, b.opset_imports);
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t n = 0; n < a.nodes.size(); ++n) {
    const Node& x = a.nodes[n];
    const Node& y = b.nodes[n];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.op_type, y.op_type);
    EXPECT_EQ(x.domain, y.domain);
    EXPECT_EQ(x.inputs, y.inputs);
    EXPECT_EQ(x.outputs, y.outputs);
    ASSERT_EQ(x.attributes.size(), y.attributes.size()) << x.name;
    for (size_t i = 0; i < x.attributes.size(); ++i) {
      const Attribute& p = x.attributes[i];
      const Attribute& q = y.attributes[i];
      EXPECT_EQ(p.name, q.name);
      EXPECT_EQ(p.type, q.type) << p.name;
      EXPECT_EQ(p.f, q.f) << p.name;
      EXPECT_EQ(p.i, q.i) << p.name;
      EXPECT_EQ(p.s, q.s) << p.name;
      EXPECT_EQ(p.floats, q.floats) << p.name;
      EXPECT_EQ(p.ints, q.ints) << p.name;
      EXPECT_EQ(p.strings, q.strings) << p.name;
      EXPECT_EQ(p.t.empty(), q.t.empty()) << p.name;
      if (!p.t.empty()) ExpectTensorsEqual(p.t, q.t, p.name);
    }
  }
  ExpectValueInfosEqual(a.inputs, b.inputs);
  ExpectValueInfosEqual(a.outputs, b.outputs);
  ExpectValueInfosEqual(a.value_info, b.value_info);
  ASSERT_EQ(a.initializers.size(), b.initializers.size());
  for (const auto& [name, tensor] : a.initializers) {
    ASSERT_EQ(b.initializers.count(name), 1u) << name;
    ExpectTensorsEqual(tensor, b.initializers.at(name), name);
  }
}

onnx::ModelProto RichModel() {
  onnx::ModelProto model = testing_util::MinimalModel();
  model.set_ir_version(7);
  auto* ms = model.add_opset_import();
  ms->set_domain("com.example");
  ms->set_version(2);
  auto* g = model.mutable_graph();
  auto* dims = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  dims->clear_dim();
  dims->add_dim()->set_dim_param("batch");
  dims->add_dim()->set_dim_value(0);
  dims->add_dim();
  auto* untyped = g->add_value_info();
  untyped->set_name("mid");
  auto* scalar = g->add_value_info();
  scalar->set_name("s");
  scalar->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);
  scalar->mutable_type()->mutable_tensor_type()->mutable_shape();  // rank 0

  auto* n = g->add_node();
  n->set_op_type("Custom");
  n->set_domain("com.example");
  n->add_input("y");
  n->add_input("");
  n->add_input("w");
  n->add_output("z");
  n->add_output("");
  auto attr = [&](const char* name, onnx::AttributeProto::AttributeType type) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  };
  attr("f", onnx::AttributeProto::FLOAT)->set_f(-0.125f);
  attr("i", onnx::AttributeProto::INT)->set_i(int64_t{-1} << 50);
  attr("s", onnx::AttributeProto::STRING)->set_s(std::string("a\0b", 3));
  attr("fs", onnx::AttributeProto::FLOATS)->add_floats(2.5f);
  attr("is", onnx::AttributeProto::INTS);  // empty list
  auto* ss = attr("ss", onnx::AttributeProto::STRINGS);
  ss->add_strings("x");
  ss->add_strings("");
  auto* t = attr("t", onnx::AttributeProto::TENSOR)->mutable_t();
  t->set_data_type(onnx::TensorProto::FLOAT16);
  t->add_dims(1);
  t->add_int32_data(0x3C00);

  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(2);
  for (float v : {1.f, -2.f, 3.5f, 1e-7f}) w->add_float_data(v);
  auto* b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(onnx::TensorProto::BOOL);
  b->add_dims(3);
  for (int v : {1, 0, 1}) b->add_int32_data(v);
  auto* e = g->add_initializer();
  e->set_name("e");
  e->set_data_type(onnx::TensorProto::INT64);
  e->add_dims(0);
  return model;
}

// Number of entries in `dir` (temporary files of a save must not remain).
int FilesIn(const std::string& dir) {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++count;
  return count;
}

TEST(OnnxExporter, RoundTripKeepsEverything) {
  ASSERT_OK_AND_ASSIGN(Graph original, ParseOnnxModel(RichModel().SerializeAsString(), ""));
  ScopedTempDir tmp;
  const std::string path = tmp.path() + "/out.onnx";
  ASSERT_OK(SaveOnnxModel(original, path));
  EXPECT_EQ(FilesIn(tmp.path()), 1) << "a temporary file was left behind";
  ASSERT_OK_AND_ASSIGN(Graph reloaded, LoadOnnxModel(path));
  ExpectGraphsEqual(original, reloaded);
  EXPECT_EQ(reloaded.producer_name, "onyx");
  EXPECT_EQ(reloaded.nodes[0].name, "Relu_0");
  EXPECT_EQ(reloaded.initializers.at("w").data<float>()[3], 1e-7f);

  // The file itself: default domain written as "", tensors as raw_data.
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(ReadBytes(path)));
  EXPECT_EQ(proto.producer_name(), "onyx");
  EXPECT_EQ(proto.ir_version(), 7);
  bool saw_default = false;
  for (const auto& opset : proto.opset_import()) saw_default |= opset.domain().empty();
  EXPECT_TRUE(saw_default);
  for (const auto& init : proto.graph().initializer()) {
    EXPECT_TRUE(init.has_raw_data()) << init.name();
    EXPECT_EQ(init.float_data_size() + init.int32_data_size(), 0) << init.name();
  }
}

// Real models: every conformance model under these names survives the trip.
TEST(OnnxExporter, RoundTripsConformanceModels) {
  for (const char* test : {"test_relu", "test_conv_with_strides_padding", "test_constant",
                           "test_gemm_all_attributes", "test_reshape_negative_dim",
                           "test_softmax_axis_0"}) {
    const std::string model = std::string(ONYX_ONNX_TESTS_DIR "/node/") + test + "/model.onnx";
    if (!std::filesystem::exists(model)) continue;
    SCOPED_TRACE(test);
    ASSERT_OK_AND_ASSIGN(Graph original, LoadOnnxModel(model));
    ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeOnnxModel(original));
    ASSERT_OK_AND_ASSIGN(Graph reloaded, ParseOnnxModel(bytes, ""));
    ExpectGraphsEqual(original, reloaded);
  }
}

TEST(OnnxExporter, FailedSaveLeavesExistingFileIntact) {
  ScopedTempDir tmp;
  const std::string path = tmp.path() + "/model.onnx";
  WriteBytes(path, "previous contents");
  ASSERT_OK_AND_ASSIGN(Graph graph, ParseOnnxModel(RichModel().SerializeAsString(), ""));
  Attribute body;
  body.name = "body";
  body.type = AttrType::kGraph;
  graph.nodes[0].attributes.push_back(body);
  const absl::Status status = SaveOnnxModel(graph, path);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << status;
  EXPECT_NE(std::string(status.message()).find("\"body\""), std::string::npos) << status;
  EXPECT_EQ(ReadBytes(path), "previous contents");
  EXPECT_EQ(FilesIn(tmp.path()), 1) << "a temporary file was left behind";
  EXPECT_FALSE(SaveOnnxModel(Graph(), tmp.path() + "/no/such/dir/m.onnx").ok());
  // A successful save replaces it.
  graph.nodes[0].attributes.pop_back();
  ASSERT_OK(SaveOnnxModel(graph, path));
  EXPECT_OK(LoadOnnxModel(path));
}

TEST(OnnxExporter, TensorProtoFiles) {
  const std::string input = ONYX_ONNX_TESTS_DIR "/node/test_relu/test_data_set_0/input_0.pb";
  ASSERT_OK_AND_ASSIGN(Tensor x, LoadTensorProtoFile(input));
  ScopedTempDir tmp;
  ASSERT_OK(SaveTensorProtoFile(x, "x", tmp.path() + "/x.pb"));
  ASSERT_OK_AND_ASSIGN(Tensor back, LoadTensorProtoFile(tmp.path() + "/x.pb"));
  ExpectTensorsEqual(x, back, "x");
  onnx::TensorProto proto;
  ASSERT_TRUE(proto.ParseFromString(ReadBytes(tmp.path() + "/x.pb")));
  EXPECT_EQ(proto.name(), "x");

  ASSERT_OK_AND_ASSIGN(Tensor scalar, Tensor::FromVector<int64_t>({}, {std::vector<int64_t>{-9}}));
  ASSERT_OK(SaveTensorProtoFile(scalar, "s", tmp.path() + "/s.pb"));
  ASSERT_OK_AND_ASSIGN(Tensor s, LoadTensorProtoFile(tmp.path() + "/s.pb"));
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data<int64_t>()[0], -9);
  EXPECT_FALSE(SaveTensorProtoFile(Tensor(), "empty", tmp.path() + "/e.pb").ok());
}

}  // namespace
}  // namespace onyx
