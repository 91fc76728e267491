// `onyx plot activations` and `onyx plot log`: figures drawn by tools/plot from
// the runtime's own activation kernels, or from a saved `onyx train --log-csv`.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/register_all.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/plot/activation_curves.h"
#include "tools/plot/chart.h"
#include "tools/plot/output.h"
#include "tools/plot/training_curve.h"

namespace onyx {
namespace {

int UsageError(const std::string& message) {
  std::fprintf(stderr, "onyx: usage error: %s\n", message.c_str());
  return kExitUsage;
}

}  // namespace

int PlotActivationsCommand(const PlotActivationsArgs& args) {
  double lo = 0, hi = 0;
  char extra = 0;
  if (std::sscanf(args.range.c_str(), "%lf,%lf%c", &lo, &hi, &extra) != 2) {
    return UsageError(absl::StrFormat("--range expects LO,HI, got \"%s\"", args.range));
  }
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi) || std::fabs(lo) > 1e30 ||
      std::fabs(hi) > 1e30) {
    return UsageError(
        absl::StrFormat("--range needs LO < HI within +-1e30, got \"%s\"", args.range));
  }
  const std::vector<std::string>& known = plot::PlottableActivations();
  std::vector<std::string> ops = args.ops.empty() ? known : args.ops;
  for (std::string& op : ops) {
    absl::StripAsciiWhitespace(&op);  // "Relu, Gelu" given as one argument
    if (std::find(known.begin(), known.end(), op) == known.end()) {
      return UsageError(absl::StrFormat("--ops: cannot plot \"%s\"; expected some of %s", op,
                                        absl::StrJoin(known, ",")));
    }
  }
  if (absl::Status ok = plot::CheckOutputPath(args.out); !ok.ok()) {
    return UsageError(std::string(ok.message()));
  }

  std::vector<plot::ActivationCurve> curves;
  for (const std::string& op : ops) {
    auto curve = plot::SampleActivation(op, lo, hi, args.points, DefaultRegistry());
    if (!curve.ok()) return ReportError(curve.status());
    curves.push_back(*std::move(curve));
  }
  const std::string svg = plot::RenderSvg(plot::ActivationFigure(curves, lo, hi));
  if (absl::Status written = plot::WriteFigure(svg, args.out); !written.ok()) {
    return ReportError(written);
  }
  std::printf("wrote %s (%zu activations over [%g, %g], %d points each)\n", args.out.c_str(),
              curves.size(), lo, hi, args.points);
  return kExitOk;
}

int PlotLogCommand(const PlotLogArgs& args) {
  const std::string out = args.out.empty()
                              ? std::filesystem::path(args.csv).replace_extension(".svg").string()
                              : args.out;
  if (absl::Status ok = plot::CheckOutputPath(out); !ok.ok()) {
    return UsageError(std::string(ok.message()));
  }
  if (out == args.csv) return UsageError("--out must differ from the log file");
  auto rows = plot::ReadTrainingLog(args.csv);
  if (!rows.ok()) return ReportError(rows.status());
  const std::string title =
      args.title.empty() ? "Training log " + std::filesystem::path(args.csv).filename().string()
                         : args.title;
  const std::string svg = plot::RenderSvg(plot::TrainingFigure(*rows, title));
  if (absl::Status written = plot::WriteFigure(svg, out); !written.ok()) {
    return ReportError(written);
  }
  std::printf("wrote %s (%zu epochs)\n", out.c_str(), rows->size());
  return kExitOk;
}

}  // namespace onyx
