// Graph -> ModelProto serialization, the inverse of onnx_importer.cc.
#include "importers/onnx/onnx_exporter.h"

#include <climits>

#include "absl/strings/str_format.h"
#include "importers/onnx/file_io.h"
#include "importers/onnx/tensor_proto.h"
#include "onnx_proto/onnx.pb.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

using onnx_internal::TensorToProto;

constexpr int64_t kDefaultIrVersion = 8;

void ExportValueInfo(const ValueInfo& info, onnx::ValueInfoProto* proto) {
  proto->set_name(info.name);
  if (info.dtype == DataType::kUndefined && !info.has_shape) return;
  auto* tensor_type = proto->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(static_cast<int>(info.dtype));
  if (!info.has_shape) return;
  auto* shape = tensor_type->mutable_shape();
  for (const Dim& d : info.dims) {
    auto* dim = shape->add_dim();
    if (d.is_fixed()) {
      dim->set_dim_value(d.value);
    } else if (!d.param.empty()) {
      dim->set_dim_param(d.param);
    }
  }
}

absl::Status ExportAttribute(const Node& node, const Attribute& attr,
                             onnx::AttributeProto* proto) {
  proto->set_name(attr.name);
  switch (attr.type) {
    case AttrType::kFloat:
      proto->set_type(onnx::AttributeProto::FLOAT);
      proto->set_f(attr.f);
      return absl::OkStatus();
    case AttrType::kInt:
      proto->set_type(onnx::AttributeProto::INT);
      proto->set_i(attr.i);
      return absl::OkStatus();
    case AttrType::kString:
      proto->set_type(onnx::AttributeProto::STRING);
      proto->set_s(attr.s);
      return absl::OkStatus();
    case AttrType::kTensor:
      proto->set_type(onnx::AttributeProto::TENSOR);
      return TensorToProto(attr.t, "", proto->mutable_t());
    case AttrType::kFloats:
      proto->set_type(onnx::AttributeProto::FLOATS);
      for (float v : attr.floats) proto->add_floats(v);
      return absl::OkStatus();
    case AttrType::kInts:
      proto->set_type(onnx::AttributeProto::INTS);
      for (int64_t v : attr.ints) proto->add_ints(v);
      return absl::OkStatus();
    case AttrType::kStrings:
      proto->set_type(onnx::AttributeProto::STRINGS);
      for (const std::string& v : attr.strings) proto->add_strings(v);
      return absl::OkStatus();
    case AttrType::kGraph:
    case AttrType::kOther:
      break;
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s: attribute \"%s\" of type %s has no payload in Onyx and cannot be exported",
      node.Describe(), attr.name, AttrTypeName(attr.type)));
}

absl::Status ExportModel(const Graph& graph, onnx::ModelProto* model) {
  model->set_ir_version(graph.ir_version > 0 ? graph.ir_version : kDefaultIrVersion);
  model->set_producer_name("onyx");
  for (const auto& [domain, version] : graph.opset_imports) {
    auto* opset = model->add_opset_import();
    opset->set_domain(domain);
    opset->set_version(version);
  }
  onnx::GraphProto* g = model->mutable_graph();
  g->set_name(graph.name);
  for (const Node& node : graph.nodes) {
    onnx::NodeProto* n = g->add_node();
    n->set_name(node.name);
    n->set_op_type(node.op_type);
    if (!node.domain.empty()) n->set_domain(node.domain);
    for (const std::string& in : node.inputs) n->add_input(in);
    for (const std::string& out : node.outputs) n->add_output(out);
    for (const Attribute& attr : node.attributes) {
      ONYX_RETURN_IF_ERROR(ExportAttribute(node, attr, n->add_attribute()));
    }
  }
  for (const ValueInfo& info : graph.inputs) ExportValueInfo(info, g->add_input());
  for (const ValueInfo& info : graph.outputs) ExportValueInfo(info, g->add_output());
  for (const ValueInfo& info : graph.value_info) ExportValueInfo(info, g->add_value_info());
  for (const auto& [name, tensor] : graph.initializers) {
    ONYX_RETURN_IF_ERROR(TensorToProto(tensor, name, g->add_initializer()));
  }
  return absl::OkStatus();
}

template <typename Message>
absl::StatusOr<std::string> SerializeBounded(const Message& message, const char* what) {
  const size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s needs %d bytes, over protobuf's 2 GiB limit (external data is not written)", what,
        size));
  }
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    return absl::InternalError(absl::StrFormat("serializing the %s failed", what));
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> SerializeOnnxModel(const Graph& graph) {
  onnx::ModelProto model;
  ONYX_RETURN_IF_ERROR(ExportModel(graph, &model));
  return SerializeBounded(model, "model");
}

absl::Status SaveOnnxModel(const Graph& graph, const std::string& path) {
  ONYX_ASSIGN_OR_RETURN(std::string bytes, SerializeOnnxModel(graph));
  return WriteFileAtomically(path, bytes);
}

absl::Status SaveTensorProtoFile(const Tensor& t, const std::string& name,
                                 const std::string& path) {
  onnx::TensorProto proto;
  ONYX_RETURN_IF_ERROR(TensorToProto(t, name, &proto));
  ONYX_ASSIGN_OR_RETURN(std::string bytes, SerializeBounded(proto, "tensor"));
  return WriteFileAtomically(path, bytes);
}

}  // namespace onyx
