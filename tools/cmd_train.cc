// `onyx train MODEL ...`: fine-tunes a model's float initializers on .npy data,
// with checkpoints, resume, a CSV log, and export of the trained model.
#include <omp.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "importers/npy/npy.h"
#include "importers/onnx/onnx_exporter.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/distributed/communicator.h"
#include "runtime/training/trainer.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/plot/output.h"
#include "tools/plot/training_curve.h"

namespace onyx {
namespace {

std::string FormatOptional(const std::optional<double>& v) {
  return v ? absl::StrFormat("%.8g", *v) : std::string();
}

// On resume the log keeps the rows of the epochs the checkpoint covers and
// drops later ones (written after that checkpoint by a run that then died).
absl::Status PrepareLog(const std::string& path, bool resume, int64_t epochs_done) {
  const std::string header = "epoch,loss,lr,val_loss,val_accuracy,seconds\n";
  std::string kept = header;
  if (resume) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      int64_t epoch = 0;
      if (std::sscanf(line.c_str(), "%ld,", &epoch) == 1 && epoch <= epochs_done) {
        kept += line + "\n";
      }
    }
  }
  std::ofstream out(path, std::ios::trunc);
  out << kept;
  if (!out) return absl::InvalidArgumentError(absl::StrFormat("cannot write log %s", path));
  return absl::OkStatus();
}

void PrintProgress(int epoch, int epochs, int64_t step, int64_t steps, double loss,
                   double samples_per_second) {
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(kWidth * step / std::max<int64_t>(steps, 1));
  std::printf("\r\033[Kepoch %d/%d [%s%s] step %ld/%ld loss %.6f %.0f samples/s", epoch, epochs,
              std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
              static_cast<long>(step), static_cast<long>(steps), loss, samples_per_second);
  std::fflush(stdout);
}

// The training run; with `comm`, one of several processes (only rank 0 is
// given output paths by TrainCommand).
int RunTraining(const TrainArgs& args, Communicator* comm) {
  const bool is_root = comm == nullptr || comm->rank() == 0;
  if (args.threads > 0) omp_set_num_threads(args.threads);
  auto schedule = ParseSchedule(args.schedule);
  if (!schedule.ok()) {
    ReportError(schedule.status());
    return kExitUsage;
  }
  if (!args.plot.empty()) {
    if (absl::Status ok = plot::CheckOutputPath(args.plot); !ok.ok()) {
      ReportError(ok);
      return kExitUsage;
    }
  }
  if (args.val_inputs.empty() != args.val_targets.empty()) {
    ReportError(absl::InvalidArgumentError("--val-inputs and --val-targets go together"));
    return kExitUsage;
  }
  auto graph = LoadOnnxModel(args.model);
  if (!graph.ok()) return ReportError(graph.status());
  auto x = ReadNpy(args.inputs);
  if (!x.ok()) return ReportError(x.status());
  auto y = ReadNpy(args.targets);
  if (!y.ok()) return ReportError(y.status());
  std::optional<Tensor> val_x, val_y;
  if (!args.val_inputs.empty()) {
    auto vx = ReadNpy(args.val_inputs);
    if (!vx.ok()) return ReportError(vx.status());
    auto vy = ReadNpy(args.val_targets);
    if (!vy.ok()) return ReportError(vy.status());
    val_x = *std::move(vx);
    val_y = *std::move(vy);
  }

  TrainConfig config = args.config;
  auto session_options = SessionOptionsForDevice(args.device);
  if (!session_options.ok()) return ReportError(session_options.status());
  config.session = *session_options;
  config.schedule = *schedule;
  auto trainer_or = Trainer::Create(*std::move(graph), config, DefaultRegistry());
  if (!trainer_or.ok()) return ReportError(trainer_or.status());
  Trainer& trainer = **trainer_or;
  trainer.set_communicator(comm);
  if (const GradBucketReducer* reducer = trainer.grad_reducer(); reducer != nullptr) {
    std::printf("distributed: %d processes; %zu gradients in %zu allreduce bucket(s) %s; "
                "%lld gradient bytes reduced per step\n",
                comm->size(), trainer.param_names().size(), reducer->buckets().size(),
                reducer->overlapped()
                    ? absl::StrFormat("of at most %g MiB, overlapped with backward",
                                      config.bucket_mb).c_str()
                    : "after backward",
                static_cast<long long>(reducer->bytes_per_step()));
  }

  if (!args.resume.empty() && is_root) {
    absl::Status loaded = trainer.LoadCheckpoint(args.resume);
    if (!loaded.ok()) return ReportError(loaded);
    std::printf("resumed from %s at epoch %d\n", args.resume.c_str(), trainer.epoch());
  }
  if (comm != nullptr) {
    // Rank 0's weights, optimizer state and position start every process.
    std::string state = is_root ? trainer.CheckpointBytes() : std::string();
    if (absl::Status s = comm->BroadcastFromRoot(state); !s.ok()) return ReportError(s);
    if (!is_root) {
      if (absl::Status s = trainer.RestoreCheckpointBytes(state, "rank 0's state"); !s.ok()) {
        return ReportError(s);
      }
    }
  }
  if (!args.log_csv.empty()) {
    absl::Status log = PrepareLog(args.log_csv, !args.resume.empty(), trainer.epoch());
    if (!log.ok()) return ReportError(log);
  }
  std::optional<plot::LivePlot> live_plot;
  if (!args.plot.empty()) {
    // A resumed run's plot starts with the epochs its log kept.
    std::vector<plot::EpochRow> earlier;
    if (!args.resume.empty() && !args.log_csv.empty()) {
      earlier = plot::ReadTrainingLog(args.log_csv).value_or(std::vector<plot::EpochRow>{});
    }
    const std::filesystem::path model(args.model);
    live_plot.emplace(args.plot,
                      "onyx train " + (model.parent_path().filename() / model.filename()).string(),
                      std::move(earlier));
  }
  if (val_x) {
    auto before = trainer.Evaluate(*val_x, *val_y);
    if (!before.ok()) return ReportError(before.status());
    std::printf("before training: val_loss %.6f%s\n", before->loss,
                before->accuracy ? absl::StrFormat(" val_accuracy %.4f", *before->accuracy).c_str()
                                 : "");
  }

  if (args.checkpoint_every > 0 && args.checkpoint.empty()) {
    ReportError(absl::InvalidArgumentError("--checkpoint-every needs --checkpoint PATH"));
    return kExitUsage;
  }
  const bool tty = isatty(fileno(stdout));
  const int64_t rows = x->rank() > 0 ? x->dim(0) : 0;
  const int64_t max_steps = args.config.max_steps;
  while (trainer.epoch() < args.epochs &&
         (max_steps == 0 || trainer.optimizer().step_count() < max_steps)) {
    const auto start = std::chrono::steady_clock::now();
    absl::Status step_checkpoint;
    auto on_step = [&](int epoch, int64_t step, int64_t steps, double loss) {
      if (tty) {
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double done = static_cast<double>(rows) * step / std::max<int64_t>(steps, 1);
        PrintProgress(epoch, args.epochs, step, steps, loss, done / std::max(seconds, 1e-9));
      }
      if (args.checkpoint_every > 0 && step_checkpoint.ok() && step < steps &&
          trainer.optimizer().step_count() % args.checkpoint_every == 0) {
        step_checkpoint = trainer.SaveCheckpoint(args.checkpoint);
      }
    };
    auto stats = trainer.TrainEpoch(*x, *y, on_step);
    if (tty) std::printf("\r\033[K");
    if (!step_checkpoint.ok()) return ReportError(step_checkpoint);
    if (!stats.ok()) return ReportError(stats.status());
    if (!stats->complete) {
      std::printf("stopped after %lld steps, in epoch %d\n",
                  static_cast<long long>(trainer.optimizer().step_count()), stats->epoch);
      if (!args.checkpoint.empty()) {
        absl::Status saved = trainer.SaveCheckpoint(args.checkpoint);
        if (!saved.ok()) return ReportError(saved);
      }
      break;
    }
    if (val_x) {
      auto eval = trainer.Evaluate(*val_x, *val_y);
      if (!eval.ok()) return ReportError(eval.status());
      stats->val_loss = eval->loss;
      stats->val_accuracy = eval->accuracy;
    }
    std::printf("epoch %d/%d loss %.6f lr %.6g", stats->epoch, args.epochs, stats->loss,
                stats->lr);
    if (stats->val_loss) std::printf(" val_loss %.6f", *stats->val_loss);
    if (stats->val_accuracy) std::printf(" val_accuracy %.4f", *stats->val_accuracy);
    std::printf(" (%.2f s)\n", stats->seconds);
    std::fflush(stdout);
    // Checkpoint first, then the log row: a crash in between leaves a row the
    // next resume drops and writes again.
    if (!args.checkpoint.empty()) {
      absl::Status saved = trainer.SaveCheckpoint(args.checkpoint);
      if (!saved.ok()) return ReportError(saved);
    }
    if (!args.log_csv.empty()) {
      std::ofstream log(args.log_csv, std::ios::app);
      log << absl::StrFormat("%d,%.8g,%.8g,%s,%s,%.4f\n", stats->epoch, stats->loss, stats->lr,
                             FormatOptional(stats->val_loss),
                             FormatOptional(stats->val_accuracy), stats->seconds);
    }
    if (live_plot) {
      absl::Status drawn = live_plot->Add({.epoch = double(stats->epoch), .loss = stats->loss,
                                           .lr = stats->lr, .val_loss = stats->val_loss,
                                           .val_accuracy = stats->val_accuracy,
                                           .seconds = stats->seconds});
      if (!drawn.ok()) return ReportError(drawn);
    }
  }

  if (args.out.empty()) return kExitOk;  // not rank 0
  absl::Status saved = SaveOnnxModel(trainer.TrainedModel(), args.out);
  if (!saved.ok()) return ReportError(saved);
  std::printf("wrote %s\n", args.out.c_str());
  return kExitOk;
}

}  // namespace

int TrainCommand(const TrainArgs& args) {
  if (!args.distributed && !LaunchedByMpi()) return RunTraining(args, nullptr);
  auto comm = CreateMpiCommunicator();
  if (!comm.ok()) {
    ReportError(comm.status());
    return kExitUsage;
  }
  TrainArgs mine = args;
  if ((*comm)->rank() != 0) {
    // Only rank 0 writes files and prints; the others compute.
    mine.checkpoint_every = 0;
    mine.checkpoint.clear();
    mine.log_csv.clear();
    mine.plot.clear();
    mine.out.clear();
    if (std::freopen("/dev/null", "w", stdout) == nullptr) return kExitFailure;
  }
  const int code = RunTraining(mine, comm->get());
  // A process that fails must not leave the others waiting in a collective.
  if (code != kExitOk && (*comm)->size() > 1) (*comm)->Abort(code);
  return code;
}

}  // namespace onyx
