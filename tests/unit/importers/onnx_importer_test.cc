// ModelProto -> Graph: every field the importer fills, real conformance files, and
// hostile models (truncation, bad dims, bad sizes, IR/opset/attribute errors).
#include "importers/onnx/onnx_importer.h"

#include <cmath>
#include <cstring>
#include <random>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "onnx_proto/onnx.pb.h"
#include "tests/status_matchers.h"
#include "tests/unit/importers/test_model.h"

namespace onyx {
namespace {

using testing_util::MinimalModel;
using testing_util::ReadBytes;
using testing_util::WriteBytes;

absl::StatusOr<Graph> Parse(const onnx::ModelProto& model, const std::string& dir = "",
                            const LoadOptions& options = {}) {
  return ParseOnnxModel(model.SerializeAsString(), dir, options);
}

std::string RawBytes(const void* data, size_t n) {
  return std::string(static_cast<const char*>(data), n);
}

// Expects `status` to have `code` and mention every piece of `parts`.
void ExpectError(const absl::Status& status, absl::StatusCode code,
                 std::initializer_list<const char*> parts) {
  EXPECT_EQ(status.code(), code) << status;
  for (const char* part : parts) {
    EXPECT_NE(std::string(status.message()).find(part), std::string::npos)
        << "missing \"" << part << "\" in: " << status;
  }
}

TEST(OnnxImporter, FillsGraphFields) {
  onnx::ModelProto model = MinimalModel();
  model.mutable_opset_import(0)->set_domain("ai.onnx");
  auto* ms = model.add_opset_import();
  ms->set_domain("com.microsoft");
  ms->set_version(1);
  auto* g = model.mutable_graph();
  auto* dims = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
  dims->clear_dim();
  dims->add_dim()->set_dim_param("batch");
  dims->add_dim()->set_dim_value(3);
  dims->add_dim();  // unknown
  auto* vi = g->add_value_info();
  vi->set_name("unshaped");
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::INT64);

  auto* unnamed = g->add_node();  // its generated name "Relu_1" is taken: made unique
  unnamed->set_op_type("Relu");
  unnamed->add_input("x");
  unnamed->add_output("x2");
  g->add_node()->CopyFrom(*unnamed);
  g->mutable_node(2)->set_name("Relu_1");
  g->mutable_node(2)->set_output(0, "x3");
  auto* n = g->add_node();
  n->set_name("clip1");
  n->set_op_type("Clip");
  n->set_domain("ai.onnx");
  n->add_input("y");
  n->add_input("");
  n->add_input("hi");
  n->add_output("z");
  auto add_attr = [&](const char* name, onnx::AttributeProto::AttributeType type) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  };
  add_attr("f", onnx::AttributeProto::FLOAT)->set_f(0.5f);
  add_attr("i", onnx::AttributeProto::INT)->set_i(-7);
  add_attr("s", onnx::AttributeProto::STRING)->set_s("same");
  auto* fs = add_attr("fs", onnx::AttributeProto::FLOATS);
  fs->add_floats(1.5f);
  fs->add_floats(-2.f);
  auto* is = add_attr("is", onnx::AttributeProto::INTS);
  is->add_ints(1);
  is->add_ints(int64_t{1} << 40);
  auto* ss = add_attr("ss", onnx::AttributeProto::STRINGS);
  ss->add_strings("a");
  ss->add_strings("bc");
  auto* t = add_attr("t", onnx::AttributeProto::TENSOR)->mutable_t();
  t->set_data_type(onnx::TensorProto::INT64);
  t->add_dims(2);
  t->add_int64_data(4);
  t->add_int64_data(-5);
  add_attr("body", onnx::AttributeProto::GRAPH)->mutable_g()->set_name("sub");
  add_attr("sp", onnx::AttributeProto::SPARSE_TENSOR);

  auto* hi = g->add_initializer();
  hi->set_name("hi");
  hi->set_data_type(onnx::TensorProto::FLOAT);
  const float hi_value = 6.f;
  hi->set_raw_data(RawBytes(&hi_value, 4));

  ASSERT_OK_AND_ASSIGN(Graph graph, Parse(model));
  EXPECT_EQ(graph.ir_version, 8);
  EXPECT_EQ(graph.producer_name, "test");
  EXPECT_EQ(graph.name, "g");
  EXPECT_EQ(graph.opset_imports.size(), 2u);
  EXPECT_EQ(graph.OpsetFor(""), 13);
  EXPECT_EQ(graph.OpsetFor("com.microsoft"), 1);

  ASSERT_EQ(graph.nodes.size(), 4u);
  EXPECT_EQ(graph.nodes[0].name, "Relu_0");  // generated
  EXPECT_EQ(graph.nodes[0].op_type, "Relu");
  EXPECT_EQ(graph.nodes[1].name, "Relu_1_");
  EXPECT_EQ(graph.nodes[2].name, "Relu_1");
  const Node& clip = graph.nodes[3];
  EXPECT_EQ(clip.name, "clip1");
  EXPECT_EQ(clip.domain, "");
  EXPECT_EQ(clip.inputs, (std::vector<std::string>{"y", "", "hi"}));
  EXPECT_EQ(clip.outputs, (std::vector<std::string>{"z"}));
  ASSERT_EQ(clip.attributes.size(), 9u);
  EXPECT_EQ(*clip.GetFloat("f", 0), 0.5f);
  EXPECT_EQ(*clip.GetInt("i", 0), -7);
  EXPECT_EQ(*clip.GetString("s", ""), "same");
  EXPECT_EQ(*clip.GetFloats("fs", {}), (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(*clip.GetInts("is", {}), (std::vector<int64_t>{1, int64_t{1} << 40}));
  EXPECT_EQ(clip.FindAttribute("ss")->strings, (std::vector<std::string>{"a", "bc"}));
  const Attribute* ta = clip.FindAttribute("t");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->type, AttrType::kTensor);
  EXPECT_EQ(ta->t.dtype(), DataType::kInt64);
  EXPECT_EQ(ta->t.shape(), Shape({2}));
  EXPECT_EQ(ta->t.data<int64_t>()[0], 4);
  EXPECT_EQ(ta->t.data<int64_t>()[1], -5);
  EXPECT_EQ(clip.FindAttribute("body")->type, AttrType::kGraph);
  EXPECT_EQ(clip.FindAttribute("sp")->type, AttrType::kOther);

  ASSERT_EQ(graph.inputs.size(), 1u);
  const ValueInfo& x = graph.inputs[0];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.dtype, DataType::kFloat32);
  EXPECT_TRUE(x.has_shape);
  ASSERT_EQ(x.dims.size(), 3u);
  EXPECT_EQ(x.dims[0].param, "batch");
  EXPECT_FALSE(x.dims[0].is_fixed());
  EXPECT_EQ(x.dims[1].value, 3);
  EXPECT_FALSE(x.dims[2].is_fixed());
  EXPECT_EQ(x.dims[2].param, "");
  ASSERT_EQ(graph.value_info.size(), 1u);
  EXPECT_EQ(graph.value_info[0].dtype, DataType::kInt64);
  EXPECT_FALSE(graph.value_info[0].has_shape);
  ASSERT_EQ(graph.outputs.size(), 1u);
  EXPECT_EQ(graph.outputs[0].name, "y");

  ASSERT_EQ(graph.initializers.count("hi"), 1u);
  const Tensor& hi_t = graph.initializers.at("hi");
  EXPECT_EQ(hi_t.dtype(), DataType::kFloat32);
  EXPECT_EQ(hi_t.rank(), 0);
  EXPECT_EQ(hi_t.data<float>()[0], 6.f);
}

// One initializer per dtype, stored in the typed field ONNX uses for it.
TEST(OnnxImporter, TypedFieldsForEveryDtype) {
  onnx::ModelProto model = MinimalModel();
  auto* g = model.mutable_graph();
  auto add = [&](const char* name, onnx::TensorProto::DataType type) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    t->add_dims(2);
    return t;
  };
  auto* f32 = add("f32", onnx::TensorProto::FLOAT);
  f32->add_float_data(1.25f);
  f32->add_float_data(-3.f);
  auto* f64 = add("f64", onnx::TensorProto::DOUBLE);
  f64->add_double_data(0.1);
  f64->add_double_data(-1e300);
  auto* i64 = add("i64", onnx::TensorProto::INT64);
  i64->add_int64_data(INT64_MIN);
  i64->add_int64_data(INT64_MAX);
  auto* u64 = add("u64", onnx::TensorProto::UINT64);
  u64->add_uint64_data(UINT64_MAX);
  u64->add_uint64_data(3);
  auto* u32 = add("u32", onnx::TensorProto::UINT32);
  u32->add_uint64_data(4000000000u);
  u32->add_uint64_data(1);
  auto* i32 = add("i32", onnx::TensorProto::INT32);
  i32->add_int32_data(-2147483647);
  i32->add_int32_data(9);
  auto* i16 = add("i16", onnx::TensorProto::INT16);
  i16->add_int32_data(-32768);
  i16->add_int32_data(32767);
  auto* i8 = add("i8", onnx::TensorProto::INT8);
  i8->add_int32_data(-128);
  i8->add_int32_data(127);
  auto* u8 = add("u8", onnx::TensorProto::UINT8);
  u8->add_int32_data(255);
  u8->add_int32_data(0);
  auto* u16 = add("u16", onnx::TensorProto::UINT16);
  u16->add_int32_data(65535);
  u16->add_int32_data(1);
  auto* b = add("b", onnx::TensorProto::BOOL);
  b->add_int32_data(1);
  b->add_int32_data(0);
  auto* h = add("h", onnx::TensorProto::FLOAT16);
  h->add_int32_data(0x3C00);  // 1.0
  h->add_int32_data(0xC000);  // -2.0
  auto* bf = add("bf", onnx::TensorProto::BFLOAT16);
  bf->add_int32_data(0x3F80);  // 1.0
  bf->add_int32_data(0x4000);  // 2.0

  ASSERT_OK_AND_ASSIGN(Graph graph, Parse(model));
  const auto& in = graph.initializers;
  EXPECT_EQ(in.at("f32").data<float>()[0], 1.25f);
  EXPECT_EQ(in.at("f32").data<float>()[1], -3.f);
  EXPECT_EQ(in.at("f64").data<double>()[0], 0.1);
  EXPECT_EQ(in.at("f64").data<double>()[1], -1e300);
  EXPECT_EQ(in.at("i64").data<int64_t>()[0], INT64_MIN);
  EXPECT_EQ(in.at("i64").data<int64_t>()[1], INT64_MAX);
  EXPECT_EQ(in.at("u64").data<uint64_t>()[0], UINT64_MAX);
  EXPECT_EQ(in.at("u32").dtype(), DataType::kUInt32);
  EXPECT_EQ(in.at("u32").data<uint32_t>()[0], 4000000000u);
  EXPECT_EQ(in.at("i32").data<int32_t>()[0], -2147483647);
  EXPECT_EQ(in.at("i16").data<int16_t>()[0], -32768);
  EXPECT_EQ(in.at("i16").data<int16_t>()[1], 32767);
  EXPECT_EQ(in.at("i8").data<int8_t>()[0], -128);
  EXPECT_EQ(in.at("u8").data<uint8_t>()[0], 255);
  EXPECT_EQ(in.at("u16").data<uint16_t>()[0], 65535);
  EXPECT_EQ(in.at("b").dtype(), DataType::kBool);
  EXPECT_EQ(in.at("b").data<uint8_t>()[0], 1);
  EXPECT_EQ(in.at("b").data<uint8_t>()[1], 0);
  EXPECT_EQ(in.at("h").dtype(), DataType::kFloat16);
  EXPECT_EQ(in.at("h").data<uint16_t>()[1], 0xC000);
  EXPECT_EQ(in.at("bf").dtype(), DataType::kBFloat16);
  EXPECT_EQ(in.at("bf").data<uint16_t>()[0], 0x3F80);
  EXPECT_EQ(in.at("bf").byte_size(), 4u);
}

TEST(OnnxImporter, RawDataLittleEndianAndEmptyTensor) {
  onnx::ModelProto model = MinimalModel();
  auto* t = model.mutable_graph()->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::INT32);
  t->add_dims(2);
  t->set_raw_data(std::string("\x01\x02\x00\x00\xff\xff\xff\xff", 8));
  auto* e = model.mutable_graph()->add_initializer();
  e->set_name("empty");
  e->set_data_type(onnx::TensorProto::FLOAT);
  e->add_dims(3);
  e->add_dims(0);
  ASSERT_OK_AND_ASSIGN(Graph graph, Parse(model));
  EXPECT_EQ(graph.initializers.at("w").data<int32_t>()[0], 0x0201);
  EXPECT_EQ(graph.initializers.at("w").data<int32_t>()[1], -1);
  EXPECT_EQ(graph.initializers.at("empty").num_elements(), 0);
  EXPECT_EQ(graph.initializers.at("empty").shape(), Shape({3, 0}));
}

// Conformance data: relu(input_0) must equal output_0, with relu computed here.
TEST(OnnxImporter, LoadsConformanceRelu) {
  const std::string dir = ONYX_ONNX_TESTS_DIR "/node/test_relu";
  ASSERT_OK_AND_ASSIGN(Graph graph, LoadOnnxModel(dir + "/model.onnx"));
  EXPECT_GE(graph.ir_version, 3);
  EXPECT_GE(graph.OpsetFor(kOnnxDomain), 1);
  ASSERT_EQ(graph.nodes.size(), 1u);
  EXPECT_EQ(graph.nodes[0].op_type, "Relu");
  ASSERT_EQ(graph.inputs.size(), 1u);
  ASSERT_EQ(graph.outputs.size(), 1u);
  EXPECT_EQ(graph.nodes[0].inputs[0], graph.inputs[0].name);
  EXPECT_EQ(graph.nodes[0].outputs[0], graph.outputs[0].name);
  EXPECT_EQ(graph.inputs[0].dtype, DataType::kFloat32);
  EXPECT_EQ(DimsToString(graph.inputs[0]), "[3,4,5]");

  ASSERT_OK_AND_ASSIGN(Tensor x, LoadTensorProtoFile(dir + "/test_data_set_0/input_0.pb"));
  ASSERT_OK_AND_ASSIGN(Tensor y, LoadTensorProtoFile(dir + "/test_data_set_0/output_0.pb"));
  ASSERT_EQ(x.dtype(), DataType::kFloat32);
  ASSERT_EQ(x.shape(), Shape({3, 4, 5}));
  ASSERT_EQ(y.shape(), x.shape());
  int negatives = 0;
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const float xi = x.data<float>()[i];
    negatives += xi < 0;
    EXPECT_EQ(y.data<float>()[i], xi > 0 ? xi : 0.f) << i;
  }
  EXPECT_GT(negatives, 0);  // the data exercises both branches

  // The same bytes through ParseTensorProto.
  ASSERT_OK_AND_ASSIGN(Tensor x2, ParseTensorProto(ReadBytes(dir + "/test_data_set_0/input_0.pb")));
  EXPECT_EQ(std::memcmp(x2.raw_data(), x.raw_data(), x.byte_size()), 0);
}

TEST(OnnxImporter, UnreadableFiles) {
  ExpectError(LoadOnnxModel("/nonexistent/model.onnx").status(), absl::StatusCode::kNotFound,
              {"/nonexistent/model.onnx"});
  ExpectError(LoadOnnxModel(::testing::TempDir()).status(),
              absl::StatusCode::kInvalidArgument, {"not a regular file"});
  EXPECT_EQ(LoadTensorProtoFile("/nonexistent/x.pb").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(OnnxImporter, TruncatedAndRandomBytes) {
  const std::string bytes = ReadBytes(ONYX_ONNX_TESTS_DIR "/node/test_relu/model.onnx");
  ASSERT_GT(bytes.size(), 20u);
  testing_util::ScopedTempDir tmp;
  const std::string& dir = tmp.path();
  WriteBytes(dir + "/cut.onnx", bytes.substr(0, bytes.size() / 2));
  ExpectError(LoadOnnxModel(dir + "/cut.onnx").status(), absl::StatusCode::kInvalidArgument,
              {"not a valid ONNX model", "cut.onnx"});
  std::mt19937 rng(42);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  EXPECT_FALSE(ParseOnnxModel(noise, "").ok());
  EXPECT_FALSE(ParseTensorProto(noise).ok());
  EXPECT_EQ(ParseOnnxModel("", "").status().code(), absl::StatusCode::kInvalidArgument);
  // Every prefix fails cleanly or parses to something; none may crash.
  for (size_t n = 0; n < bytes.size(); ++n) (void)ParseOnnxModel(bytes.substr(0, n), "");
}

TEST(OnnxImporter, IrVersionAndOpsets) {
  onnx::ModelProto model = MinimalModel();
  for (int64_t ir : {3, 13}) {
    model.set_ir_version(ir);
    EXPECT_OK(Parse(model));
  }
  for (int64_t ir : {0, 2, 14}) {
    model.set_ir_version(ir);
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument,
                {absl::StrCat("unsupported IR version ", ir).c_str()});
  }
  model = MinimalModel();
  model.clear_opset_import();
  ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"opset_import"});
  model = MinimalModel();
  model.clear_graph();
  ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"no graph"});
}

TEST(OnnxImporter, BadNodesAndAttributes) {
  onnx::ModelProto model = MinimalModel();
  auto* a = model.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("alpha");
  a->set_f(1.f);  // type left UNDEFINED
  model.mutable_graph()->mutable_node(0)->set_name("r");
  ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument,
              {"\"r\"", "\"alpha\"", "undefined type"});

  // The type field decides: FLOAT with only ints set reads f (0).
  a->set_type(onnx::AttributeProto::FLOAT);
  a->clear_f();
  a->add_ints(3);
  ASSERT_OK_AND_ASSIGN(Graph graph, Parse(model));
  EXPECT_EQ(graph.nodes[0].FindAttribute("alpha")->type, AttrType::kFloat);

  a->set_type(onnx::AttributeProto::TENSOR);  // but no tensor
  ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"\"alpha\""});

  model = MinimalModel();
  model.mutable_graph()->mutable_node(0)->clear_op_type();
  ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"no op_type"});

  model = MinimalModel();
  model.mutable_graph()->mutable_output(0)->clear_name();
  ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"output", "empty name"});

  model = MinimalModel();
  model.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()
      ->mutable_shape()->mutable_dim(0)->set_dim_value(-3);
  ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"\"x\"", "negative"});
}

onnx::TensorProto* AddFloatInit(onnx::ModelProto* model, const char* name,
                                std::initializer_list<int64_t> dims) {
  auto* t = model->mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  return t;
}

TEST(OnnxImporter, BadTensors) {
  {
    onnx::ModelProto model = MinimalModel();
    AddFloatInit(&model, "neg", {2, -1});
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"\"neg\"", "negative"});
  }
  {
    onnx::ModelProto model = MinimalModel();
    AddFloatInit(&model, "huge", {int64_t{1} << 40, int64_t{1} << 40});
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"\"huge\""});
  }
  {  // Within int64 elements, but over the byte limit: refused before any allocation.
    onnx::ModelProto model = MinimalModel();
    AddFloatInit(&model, "big", {int64_t{1} << 40})->set_raw_data("abcd");
    ExpectError(Parse(model).status(), absl::StatusCode::kResourceExhausted, {"\"big\""});
    LoadOptions small;
    small.max_tensor_bytes = 8;
    onnx::ModelProto model2 = MinimalModel();
    AddFloatInit(&model2, "w", {3})->set_raw_data(std::string(12, '\0'));
    ExpectError(Parse(model2, "", small).status(), absl::StatusCode::kResourceExhausted, {"\"w\""});
  }
  {
    onnx::ModelProto model = MinimalModel();
    AddFloatInit(&model, "short", {2, 3})->set_raw_data(std::string(20, '\0'));
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument,
                {"\"short\"", "20 bytes", "24 bytes"});
  }
  {
    onnx::ModelProto model = MinimalModel();
    AddFloatInit(&model, "long", {2})->set_raw_data(std::string(12, '\0'));
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument,
                {"\"long\"", "12 bytes", "8 bytes"});
  }
  {
    onnx::ModelProto model = MinimalModel();
    auto* t = AddFloatInit(&model, "few", {3});
    t->add_float_data(1.f);
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"\"few\"", "12 bytes"});
  }
  {
    onnx::ModelProto model = MinimalModel();
    AddFloatInit(&model, "nodata", {4});
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"\"nodata\""});
  }
  {
    onnx::ModelProto model = MinimalModel();
    auto* t = AddFloatInit(&model, "words", {1});
    t->set_data_type(onnx::TensorProto::STRING);
    t->add_string_data("hi");
    ExpectError(Parse(model).status(), absl::StatusCode::kUnimplemented, {"\"words\"", "string"});
  }
  {
    onnx::ModelProto model = MinimalModel();
    AddFloatInit(&model, "dup", {})->add_float_data(1.f);
    AddFloatInit(&model, "dup", {})->add_float_data(2.f);
    ExpectError(Parse(model).status(), absl::StatusCode::kInvalidArgument, {"duplicate", "\"dup\""});
  }
}

}  // namespace
}  // namespace onyx

namespace onyx {
namespace {

// Every conformance model loads; every data file loads or is an Unimplemented type
// (string, float8, int4).
TEST(OnnxImporter, SweepsConformanceModels) {
  int models = 0, tensors = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ONYX_ONNX_TESTS_DIR "/node")) {
    const std::string model_path = entry.path().string() + "/model.onnx";
    if (!std::filesystem::exists(model_path)) continue;
    ++models;
    EXPECT_OK(LoadOnnxModel(model_path));
    // Data of sequence/optional tests are SequenceProto/OptionalProto, not tensors.
    const std::string test = entry.path().filename().string();
    if (test.find("sequence") != std::string::npos || test.find("optional") != std::string::npos ||
        test.find("_opt") != std::string::npos) {
      continue;
    }
    for (const auto& f : std::filesystem::recursive_directory_iterator(entry.path())) {
      if (f.path().extension() != ".pb") continue;
      auto t = LoadTensorProtoFile(f.path().string());
      if (t.ok()) {
        ++tensors;
      } else {
        EXPECT_EQ(t.status().code(), absl::StatusCode::kUnimplemented) << t.status();
      }
    }
  }
  EXPECT_GT(models, 500);
  EXPECT_GT(tensors, 1000);
}

}  // namespace
}  // namespace onyx
