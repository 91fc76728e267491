// `onyx run MODEL`: feeds given or seeded random inputs, prints output summaries,
// optionally writes each output as NAME.npy.
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "importers/npy/npy.h"
#include "importers/onnx/onnx_exporter.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/tensor_util.h"

namespace onyx {

int RunCommand(const RunArgs& args) {
  if (args.threads > 0) omp_set_num_threads(args.threads);
  auto dims = ParseDims(args.dims);
  if (!dims.ok()) {
    ReportError(dims.status());
    return kExitUsage;
  }

  LoadOptions load;
  load.max_total_bytes = args.max_memory;
  auto graph = LoadOnnxModel(args.model, load);
  if (!graph.ok()) return ReportError(graph.status());
  std::vector<ValueInfo> feed_infos;
  for (const ValueInfo* in : graph->FeedInputs()) feed_infos.push_back(*in);
  std::vector<std::string> output_names;
  for (const ValueInfo& out : graph->outputs) output_names.push_back(out.name);

  auto options = SessionOptionsForDevice(args.device);
  if (!options.ok()) return ReportError(options.status());
  options->opt_level = args.opt_level;
  options->max_memory_bytes = args.max_memory;
  auto session = Session::Create(*std::move(graph), DefaultRegistry(), *options);
  if (!session.ok()) return ReportError(session.status());
  if (!args.save_optimized.empty()) {
    absl::Status saved = SaveOnnxModel((*session)->graph(), args.save_optimized);
    if (!saved.ok()) return ReportError(saved);
    std::printf("wrote optimized model %s (%zu nodes)\n", args.save_optimized.c_str(),
                (*session)->graph().nodes.size());
  }

  auto input_files = ParseInputFiles(args.inputs);
  if (!input_files.ok()) {
    ReportError(input_files.status());
    return kExitUsage;
  }
  auto feeds = MakeFeeds(*input_files, feed_infos, *dims, args.seed,
                         std::min(args.max_memory, kDefaultMaxTensorBytes),
                         [](const std::string& name, const Tensor& tensor) {
                           std::printf("input %s: random %s\n", name.c_str(),
                                       tensor.DebugString().c_str());
                         });
  if (!feeds.ok()) return ReportError(feeds.status());

  auto outputs = (*session)->Run(*feeds);
  if (!outputs.ok()) return ReportError(outputs.status());

  if (!args.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.output_dir, ec);
    if (ec) {
      return ReportError(absl::InvalidArgumentError(absl::StrFormat(
          "cannot create output directory %s: %s", args.output_dir, ec.message())));
    }
  }
  for (size_t i = 0; i < outputs->size(); ++i) {
    std::printf("output %s: %s\n", output_names[i].c_str(), TensorSummary((*outputs)[i]).c_str());
    if (args.output_dir.empty()) continue;
    const std::string path =
        (std::filesystem::path(args.output_dir) / (SafeFileName(output_names[i]) + ".npy"))
            .string();
    absl::Status written = WriteNpy((*outputs)[i], path);
    if (!written.ok()) return ReportError(written);
    std::printf("  wrote %s\n", path.c_str());
  }
  return kExitOk;
}

}  // namespace onyx
