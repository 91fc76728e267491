// `onyx info MODEL`: inputs, outputs, opsets, op histogram, parameters.
#include <cstdio>
#include <map>

#include "absl/strings/str_format.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace onyx {
namespace {

void PrintValues(const char* title, const std::vector<const ValueInfo*>& values) {
  std::printf("%s:\n", title);
  for (const ValueInfo* v : values) {
    std::printf("  %-24s %-8s %s\n", v->name.c_str(), DataTypeName(v->dtype),
                DimsToString(*v).c_str());
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
  PrintValues("inputs", graph->FeedInputs());
  std::vector<const ValueInfo*> outputs;
  for (const ValueInfo& v : graph->outputs) outputs.push_back(&v);
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

  auto session = Session::Create(*std::move(graph), DefaultRegistry());
  std::printf("runnable: %s\n",
              session.ok() ? "yes" : std::string(session.status().message()).c_str());
  return kExitOk;
}

}  // namespace onyx
