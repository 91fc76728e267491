// `onyx info MODEL`: inputs, outputs, opsets, op histogram, parameters, the
// inferred type of every value, and whether (or why not) the model loads.
#include <cstdio>
#include <map>

#include "absl/strings/str_format.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/graph_order.h"
#include "runtime/session.h"
#include "runtime/shape_inference.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace onyx {
namespace {

void PrintValue(const ValueInfo& v) {
  const char* dtype = v.dtype == DataType::kUndefined ? "?" : DataTypeName(v.dtype);
  std::printf("  %-24s %-8s %s\n", v.name.c_str(), dtype, DimsToString(v).c_str());
}

void PrintValues(const char* title, const std::vector<const ValueInfo*>& values) {
  std::printf("%s:\n", title);
  for (const ValueInfo* v : values) PrintValue(*v);
}

// Every node output in execution order with its inferred dtype and dims
// (symbolic dims by name, "?" where inference could not tell).
void PrintInferredValues(const Graph& graph) {
  std::map<std::string, const ValueInfo*> inferred;
  for (const ValueInfo& v : graph.value_info) inferred[v.name] = &v;
  std::vector<int> order;
  if (auto sorted = TopologicalOrder(graph); sorted.ok()) {
    order = *std::move(sorted);
  } else {
    for (size_t i = 0; i < graph.nodes.size(); ++i) order.push_back(static_cast<int>(i));
  }
  std::printf("values:\n");
  for (int index : order) {
    for (const std::string& name : graph.nodes[index].outputs) {
      if (name.empty()) continue;
      auto it = inferred.find(name);
      ValueInfo unknown;
      unknown.name = name;
      PrintValue(it == inferred.end() ? unknown : *it->second);
    }
  }
}

}  // namespace

int InfoCommand(const InfoArgs& args) {
  auto graph = LoadOnnxModel(args.model);
  if (!graph.ok()) return ReportError(graph.status());

  std::printf("model: %s\n", args.model.c_str());
  std::printf("ir_version: %lld  producer: %s\n", static_cast<long long>(graph->ir_version),
              graph->producer_name.empty() ? "-" : graph->producer_name.c_str());
  std::printf("opsets:");
  for (const auto& [domain, version] : graph->opset_imports) {
    std::printf(" %s %lld", domain.empty() ? "ai.onnx" : domain.c_str(),
                static_cast<long long>(version));
  }
  std::printf("\n");
  // Inference on a copy keeps what it learned up to a failing node, so the
  // values are shown even for a model that does not load.
  Graph inferred = *graph;
  (void)InferShapes(inferred, DefaultRegistry());
  std::map<std::string, const ValueInfo*> inferred_by_name;
  for (const ValueInfo& v : inferred.value_info) inferred_by_name[v.name] = &v;

  PrintValues("inputs", graph->FeedInputs());
  std::vector<const ValueInfo*> outputs;  // inferred types (merged with the declared ones)
  for (const ValueInfo& v : graph->outputs) {
    auto it = inferred_by_name.find(v.name);
    outputs.push_back(it == inferred_by_name.end() ? &v : it->second);
  }
  PrintValues("outputs", outputs);

  std::map<std::string, int> histogram;
  for (const Node& node : graph->nodes) {
    histogram[node.domain.empty() ? node.op_type : node.domain + ":" + node.op_type]++;
  }
  std::printf("ops (%zu nodes):", graph->nodes.size());
  for (const auto& [op, count] : histogram) std::printf(" %s %d", op.c_str(), count);
  std::printf("\n");

  int64_t params = 0, bytes = 0;
  for (const auto& [name, tensor] : graph->initializers) {
    params += tensor.num_elements();
    bytes += static_cast<int64_t>(tensor.byte_size());
  }
  std::printf("parameters: %lld in %zu initializers (%s)\n", static_cast<long long>(params),
              graph->initializers.size(), HumanBytes(bytes).c_str());

  PrintInferredValues(inferred);

  auto session = Session::Create(*std::move(graph), DefaultRegistry());
  if (!session.ok()) {
    std::printf("runnable: no\nload error: %s\n", std::string(session.status().message()).c_str());
    return ReportError(session.status());
  }
  std::printf("runnable: yes\n");
  return kExitOk;
}

}  // namespace onyx
