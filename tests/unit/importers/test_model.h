// A minimal ModelProto for the ONNX importer/exporter tests.
#pragma once

#include <initializer_list>

#include "onnx_proto/onnx.pb.h"
#include "tests/unit/importers/test_files.h"

namespace onyx::testing_util {

inline void SetFloatTensorType(onnx::ValueInfoProto* vi, std::initializer_list<int64_t> dims) {
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = tt->mutable_shape();
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

// IR 8, opset 13, y = Relu(x) with x, y float[2].
inline onnx::ModelProto MinimalModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("test");
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* graph = model.mutable_graph();
  graph->set_name("g");
  auto* node = graph->add_node();
  node->set_op_type("Relu");
  node->add_input("x");
  node->add_output("y");
  auto* in = graph->add_input();
  in->set_name("x");
  SetFloatTensorType(in, {2});
  auto* out = graph->add_output();
  out->set_name("y");
  SetFloatTensorType(out, {2});
  return model;
}

}  // namespace onyx::testing_util
