// ModelProto -> Graph: opsets, nodes with typed attributes, value infos, initializers.
// Structural checks (undefined inputs, cycles, unknown ops) are left to Session::Create.
#include "importers/onnx/onnx_importer.h"

#include <climits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "importers/onnx/file_io.h"
#include "importers/onnx/tensor_proto.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

using onnx_internal::TensorFromProto;
using onnx_internal::TensorReadOptions;

constexpr int64_t kMinIrVersion = 3;
constexpr int64_t kMaxIrVersion = 13;

// Parses with explicit total-bytes and nesting limits.
template <typename Message>
bool ParseBounded(const std::string& bytes, Message* message) {
  if (static_cast<int64_t>(bytes.size()) > kMaxProtoFileBytes) return false;
  google::protobuf::io::CodedInputStream input(
      reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  input.SetTotalBytesLimit(INT_MAX);
  input.SetRecursionLimit(kMaxProtoNesting);
  return message->ParseFromCodedStream(&input) && input.ConsumedEntireMessage();
}

// Adds a tensor's bytes to the model's running total; ResourceExhausted past the cap.
absl::Status ChargeBytes(const Tensor& tensor, const std::string& what, int64_t max_total,
                         int64_t* total) {
  const int64_t bytes = static_cast<int64_t>(tensor.byte_size());
  if (__builtin_add_overflow(*total, bytes, total) || *total > max_total) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "%s (%d bytes) brings the model's tensors past the %d-byte memory limit", what, bytes,
        max_total));
  }
  return absl::OkStatus();
}

// What a graph conversion needs besides the proto: limits and the running total.
struct ConvertContext {
  TensorReadOptions tensor_options;
  int64_t max_total_bytes = 0;
  int64_t max_nodes = 0;
  int64_t total_bytes = 0;
};

std::string NormalizeDomain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string(kOnnxDomain) : domain;
}

absl::StatusOr<ValueInfo> ConvertValueInfo(const onnx::ValueInfoProto& proto,
                                           const char* role) {
  ValueInfo info;
  info.name = proto.name();
  if (info.name.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("a graph %s has an empty name", role));
  }
  // Non-tensor types (sequence, map, optional) keep dtype undefined and no shape.
  if (!proto.type().has_tensor_type()) return info;
  const auto& tensor_type = proto.type().tensor_type();
  info.dtype = static_cast<DataType>(tensor_type.elem_type());
  if (!tensor_type.has_shape()) return info;
  info.has_shape = true;
  for (const auto& dim : tensor_type.shape().dim()) {
    Dim d;
    if (dim.has_dim_value()) {
      if (dim.dim_value() < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "graph %s \"%s\" has negative dimension %d", role, info.name, dim.dim_value()));
      }
      d.value = dim.dim_value();
    } else if (dim.has_dim_param()) {
      d.param = dim.dim_param();
    }
    info.dims.push_back(std::move(d));
  }
  return info;
}

absl::StatusOr<Attribute> ConvertAttribute(const onnx::AttributeProto& proto,
                                           const Node& node, ConvertContext* context) {
  Attribute attr;
  attr.name = proto.name();
  const std::string where =
      absl::StrFormat("%s: attribute \"%s\"", node.Describe(), proto.name());
  if (attr.name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s has an attribute with an empty name", node.Describe()));
  }
  switch (proto.type()) {
    case onnx::AttributeProto::FLOAT:
      attr.type = AttrType::kFloat;
      attr.f = proto.f();
      break;
    case onnx::AttributeProto::INT:
      attr.type = AttrType::kInt;
      attr.i = proto.i();
      break;
    case onnx::AttributeProto::STRING:
      attr.type = AttrType::kString;
      attr.s = proto.s();
      break;
    case onnx::AttributeProto::TENSOR: {
      attr.type = AttrType::kTensor;
      if (!proto.has_t()) {
        return absl::InvalidArgumentError(absl::StrCat(where, " has type TENSOR but no tensor"));
      }
      auto tensor = TensorFromProto(proto.t(), context->tensor_options);
      if (!tensor.ok()) {
        return absl::Status(tensor.status().code(),
                            absl::StrCat(where, ": ", tensor.status().message()));
      }
      ONYX_RETURN_IF_ERROR(
          ChargeBytes(*tensor, where, context->max_total_bytes, &context->total_bytes));
      attr.t = *std::move(tensor);
      break;
    }
    case onnx::AttributeProto::FLOATS:
      attr.type = AttrType::kFloats;
      attr.floats.assign(proto.floats().begin(), proto.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      attr.type = AttrType::kInts;
      attr.ints.assign(proto.ints().begin(), proto.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      attr.type = AttrType::kStrings;
      attr.strings.assign(proto.strings().begin(), proto.strings().end());
      break;
    case onnx::AttributeProto::GRAPH:
    case onnx::AttributeProto::GRAPHS:
      attr.type = AttrType::kGraph;  // subgraphs are not imported: no payload
      break;
    case onnx::AttributeProto::SPARSE_TENSOR:
    case onnx::AttributeProto::SPARSE_TENSORS:
    case onnx::AttributeProto::TENSORS:
    case onnx::AttributeProto::TYPE_PROTO:
    case onnx::AttributeProto::TYPE_PROTOS:
      attr.type = AttrType::kOther;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat(where, " has an undefined type (AttributeProto.type is not set)"));
  }
  return attr;
}

absl::StatusOr<Node> ConvertNode(const onnx::NodeProto& proto, int index,
                                 ConvertContext* context, std::set<std::string>* used_names) {
  Node node;
  node.op_type = proto.op_type();
  if (node.op_type.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "node %d (\"%s\") has no op_type", index, proto.name()));
  }
  node.name = proto.name();
  if (node.name.empty()) {
    // "<op_type>_<index>", made unique against names the model itself uses.
    node.name = absl::StrCat(node.op_type, "_", index);
    while (used_names->count(node.name) > 0) node.name += "_";
    used_names->insert(node.name);
  }
  node.domain = NormalizeDomain(proto.domain());
  node.inputs.assign(proto.input().begin(), proto.input().end());
  node.outputs.assign(proto.output().begin(), proto.output().end());
  for (const auto& attr_proto : proto.attribute()) {
    ONYX_ASSIGN_OR_RETURN(Attribute attr, ConvertAttribute(attr_proto, node, context));
    node.attributes.push_back(std::move(attr));
  }
  return node;
}

absl::Status ConvertGraph(const onnx::GraphProto& proto, ConvertContext* context, Graph* graph) {
  graph->name = proto.name();
  if (proto.node_size() > context->max_nodes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the graph has %d nodes, more than the limit of %d", proto.node_size(),
        context->max_nodes));
  }
  if (proto.sparse_initializer_size() > 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "sparse initializer \"%s\" is not supported",
        proto.sparse_initializer(0).values().name()));
  }
  for (const auto& init : proto.initializer()) {
    if (init.name().empty()) {
      return absl::InvalidArgumentError("an initializer has an empty name");
    }
    if (graph->initializers.count(init.name()) > 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("duplicate initializer \"%s\"", init.name()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor tensor, TensorFromProto(init, context->tensor_options));
    ONYX_RETURN_IF_ERROR(ChargeBytes(tensor, absl::StrFormat("initializer \"%s\"", init.name()),
                                     context->max_total_bytes, &context->total_bytes));
    graph->initializers.emplace(init.name(), std::move(tensor));
  }
  for (const auto& in : proto.input()) {
    ONYX_ASSIGN_OR_RETURN(ValueInfo info, ConvertValueInfo(in, "input"));
    graph->inputs.push_back(std::move(info));
  }
  for (const auto& out : proto.output()) {
    ONYX_ASSIGN_OR_RETURN(ValueInfo info, ConvertValueInfo(out, "output"));
    graph->outputs.push_back(std::move(info));
  }
  for (const auto& vi : proto.value_info()) {
    ONYX_ASSIGN_OR_RETURN(ValueInfo info, ConvertValueInfo(vi, "value_info"));
    graph->value_info.push_back(std::move(info));
  }
  std::set<std::string> used_names;
  for (const auto& node : proto.node()) used_names.insert(node.name());
  graph->nodes.reserve(proto.node_size());
  for (int i = 0; i < proto.node_size(); ++i) {
    ONYX_ASSIGN_OR_RETURN(Node node, ConvertNode(proto.node(i), i, context, &used_names));
    graph->nodes.push_back(std::move(node));
  }
  return absl::OkStatus();
}

absl::StatusOr<Graph> ConvertModel(const onnx::ModelProto& model, const std::string& model_dir,
                                   const LoadOptions& options) {
  Graph graph;
  graph.ir_version = model.ir_version();
  if (graph.ir_version < kMinIrVersion || graph.ir_version > kMaxIrVersion) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "unsupported IR version %d (Onyx reads %d..%d)", graph.ir_version, kMinIrVersion,
        kMaxIrVersion));
  }
  graph.producer_name = model.producer_name();
  if (model.opset_import_size() == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the model has no opset_import (required from IR version %d)", kMinIrVersion));
  }
  for (const auto& opset : model.opset_import()) {
    const std::string domain = NormalizeDomain(opset.domain());
    if (!graph.opset_imports.emplace(domain, opset.version()).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("opset_import lists domain \"%s\" twice", domain));
    }
  }
  if (!model.has_graph()) return absl::InvalidArgumentError("the model has no graph");
  ConvertContext context;
  context.tensor_options.base_dir = model_dir;
  context.tensor_options.max_tensor_bytes = options.max_tensor_bytes;
  context.max_total_bytes = options.max_total_bytes;
  context.max_nodes = options.max_nodes;
  ONYX_RETURN_IF_ERROR(ConvertGraph(model.graph(), &context, &graph));
  return graph;
}

}  // namespace

absl::StatusOr<Graph> ParseOnnxModel(const std::string& bytes, const std::string& model_dir,
                                     const LoadOptions& options) {
  if (static_cast<int64_t>(bytes.size()) > kMaxProtoFileBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "model of %d bytes exceeds the %d-byte protobuf limit", bytes.size(),
        kMaxProtoFileBytes));
  }
  onnx::ModelProto model;
  if (!ParseBounded(bytes, &model)) {
    return absl::InvalidArgumentError(
        "not a valid ONNX model (protobuf parsing failed: truncated or corrupt bytes)");
  }
  return ConvertModel(model, model_dir, options);
}

absl::StatusOr<Graph> LoadOnnxModel(const std::string& path, const LoadOptions& options) {
  ONYX_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path, kMaxProtoFileBytes));
  auto graph = ParseOnnxModel(bytes, DirName(path), options);
  if (!graph.ok()) {
    return absl::Status(graph.status().code(),
                        absl::StrFormat("%s: %s", path, std::string(graph.status().message())));
  }
  return graph;
}

absl::StatusOr<Tensor> ParseTensorProto(const std::string& bytes) {
  onnx::TensorProto proto;
  if (!ParseBounded(bytes, &proto)) {
    return absl::InvalidArgumentError("not a valid ONNX TensorProto (protobuf parsing failed)");
  }
  return TensorFromProto(proto, TensorReadOptions{});
}

absl::StatusOr<Tensor> LoadTensorProtoFile(const std::string& path) {
  ONYX_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path, kMaxProtoFileBytes));
  onnx::TensorProto proto;
  if (!ParseBounded(bytes, &proto)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: not a valid ONNX TensorProto (protobuf parsing failed)", path));
  }
  TensorReadOptions tensor_options;
  tensor_options.base_dir = DirName(path);
  auto tensor = TensorFromProto(proto, tensor_options);
  if (!tensor.ok()) {
    return absl::Status(tensor.status().code(),
                        absl::StrFormat("%s: %s", path, std::string(tensor.status().message())));
  }
  return tensor;
}

}  // namespace onyx
