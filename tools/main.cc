// The `onyx` command line: info, run, bench, test, train, plot.
#include <cstdio>

#include "CLI/CLI.hpp"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"onyx: ONNX inference and training runtime"};
  app.require_subcommand(1);

  onyx::InfoArgs info;
  CLI::App* info_cmd = app.add_subcommand("info", "Show a model's inputs, outputs, ops and parameters");
  info_cmd->add_option("model", info.model, "model.onnx")->required();

  onyx::RunArgs run;
  CLI::App* run_cmd = app.add_subcommand("run", "Run a model once and summarize its outputs");
  run_cmd->add_option("model", run.model, "model.onnx")->required();
  run_cmd->add_option("--input", run.inputs, "NAME=FILE.npy|FILE.pb (repeatable); missing inputs get seeded random data");
  run_cmd->add_option("--dim", run.dims, "NAME=VALUE for a symbolic dim (repeatable; default 1)");
  run_cmd->add_option("--output-dir", run.output_dir, "write each output as NAME.npy here");
  run_cmd->add_option("--threads", run.threads, "compute threads (default: all cores)")
      ->check(CLI::Range(1, 1024));
  run_cmd->add_option("--seed", run.seed, "seed for random inputs");
  run_cmd->add_option("--opt-level", run.opt_level, "graph optimization level 0|1|2 (default 2)")->check(CLI::Range(0, 2));
  run_cmd->add_option("--save-optimized", run.save_optimized, "write the optimized graph as ONNX here");
  run_cmd->add_option("--device", run.device, "cpu|cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  run_cmd->add_option("--max-memory", run.max_memory, "cap on live tensor bytes (e.g. 512MiB)")
      ->transform(CLI::AsSizeValue(false))->check(CLI::PositiveNumber);

  onyx::BenchArgs bench;
  CLI::App* bench_cmd = app.add_subcommand("bench", "Measure a model's latency, throughput and memory");
  bench_cmd->add_option("model", bench.model, "model.onnx")->required();
  bench_cmd->add_option("--dim", bench.dims, "NAME=VALUE for a symbolic dim (repeatable; default 1)");
  bench_cmd->add_option("--batch", bench.batch, "leading dim of every input")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  bench_cmd->add_option("--threads", bench.threads, "compute threads (default: all cores)")->check(CLI::Range(1, 1024));
  bench_cmd->add_option("--warmup", bench.warmup, "unmeasured runs after the first (default 5)")->check(CLI::Range(0, 1 << 30));
  CLI::Option* iters_opt = bench_cmd->add_option("--iters", bench.iters, "measured runs")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  bench_cmd->add_option("--duration", bench.duration, "seconds to measure (default 3)")->check(CLI::Range(1e-3, 1e6))->excludes(iters_opt);
  bench_cmd->add_option("--input", bench.inputs, "NAME=FILE.npy|FILE.pb (repeatable); missing inputs get seeded random data");
  bench_cmd->add_option("--opt-level", bench.opt_level, "graph optimization level 0|1|2 (default 2); 0 also turns off buffer reuse")->check(CLI::Range(0, 2));
  bench_cmd->add_flag("--json", bench.json, "print one JSON object");
  bench_cmd->add_option("--profile", bench.profile, "write a Chrome trace of one extra run here");
  bench_cmd->add_option("--device", bench.device, "cpu|cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  bench_cmd->add_option("--seed", bench.seed, "seed for random inputs");

  onyx::TestArgs test;
  CLI::App* test_cmd = app.add_subcommand("test", "Run ONNX backend test folders (model.onnx + test_data_set_N)");
  test_cmd->add_option("dirs", test.dirs, "test folders")->required();
  test_cmd->add_option("--rtol", test.rtol, "relative tolerance")->check(CLI::NonNegativeNumber);
  test_cmd->add_option("--atol", test.atol, "absolute tolerance")->check(CLI::NonNegativeNumber);
  test_cmd->add_option("--opt-level", test.opt_level, "graph optimization level 0|1|2 (default 2)")->check(CLI::Range(0, 2));
  test_cmd->add_option("--device", test.device, "cpu|cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  test_cmd->add_option("--max-memory", test.max_memory, "cap on live tensor bytes (e.g. 512MiB)")
      ->transform(CLI::AsSizeValue(false))->check(CLI::PositiveNumber);

  onyx::TrainArgs train;
  onyx::TrainConfig& tc = train.config;
  std::string betas;
  double weight_decay = -1, eps = -1;
  CLI::App* train_cmd = app.add_subcommand("train", "Fine-tune a model's float initializers on .npy data");
  train_cmd->add_option("model", train.model, "model.onnx")->required();
  train_cmd->add_option("--inputs", train.inputs, "inputs .npy (rows are samples)")->required();
  train_cmd->add_option("--targets", train.targets, "targets .npy: int64 class indices for cross_entropy, float otherwise")->required();
  train_cmd->add_option("--output", tc.output, "model output the loss attaches to (default: the first)");
  train_cmd->add_option("--loss", tc.loss, "mse|cross_entropy|bce|bce_logits")
      ->check(CLI::IsMember({"mse", "cross_entropy", "bce", "bce_logits"}))->required();
  train_cmd->add_option("--reduction", tc.reduction, "mean|sum")->check(CLI::IsMember({"mean", "sum"}));
  train_cmd->add_option("--label-smoothing", tc.label_smoothing, "cross_entropy label smoothing")
      ->check(CLI::Range(0.0, 1.0));
  train_cmd->add_option("--optimizer", tc.optimizer.kind, "sgd|adam|adamw|rmsprop|adagrad")
      ->check(CLI::IsMember({"sgd", "adam", "adamw", "rmsprop", "adagrad"}))->required();
  train_cmd->add_option("--lr", tc.optimizer.lr, "learning rate (default 0.001)")->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--momentum", tc.optimizer.momentum, "sgd/rmsprop momentum");
  train_cmd->add_option("--dampening", tc.optimizer.dampening, "sgd dampening");
  train_cmd->add_flag("--nesterov", tc.optimizer.nesterov, "sgd Nesterov momentum");
  train_cmd->add_option("--weight-decay", weight_decay, "weight decay (adamw default 0.01, else 0)");
  train_cmd->add_option("--betas", betas, "adam/adamw betas as B1,B2 (default 0.9,0.999)");
  train_cmd->add_option("--eps", eps, "epsilon (torch's default per optimizer)");
  train_cmd->add_flag("--amsgrad", tc.optimizer.amsgrad, "adam/adamw AMSGrad");
  train_cmd->add_option("--alpha", tc.optimizer.alpha, "rmsprop smoothing constant (0.99)");
  train_cmd->add_flag("--centered", tc.optimizer.centered, "rmsprop centered");
  train_cmd->add_option("--lr-decay", tc.optimizer.lr_decay, "adagrad lr decay");
  train_cmd->add_option("--initial-accumulator", tc.optimizer.initial_accumulator_value, "adagrad initial accumulator value");
  train_cmd->add_option("--schedule", train.schedule, "learning-rate schedule per epoch: constant | step:SIZE:GAMMA | cosine:T_MAX[:MIN_LR] | warmup:N,...");
  train_cmd->add_option("--clip-norm", tc.clip_norm, "clip gradients to this global L2 norm")->check(CLI::NonNegativeNumber);
  train_cmd->add_option("--epochs", train.epochs, "total epochs (a resumed run continues up to this)")->check(CLI::Range(0, 1000000));
  train_cmd->add_option("--batch-size", tc.batch_size, "samples per step (default: all)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  train_cmd->add_option("--accumulate-steps", tc.accumulate_steps, "micro-batches whose gradients are averaged per step")->check(CLI::Range(1, 1 << 20));
  train_cmd->add_flag("--shuffle,!--no-shuffle", tc.shuffle, "shuffle samples each epoch (default on)");
  train_cmd->add_option("--seed", tc.seed, "seed for shuffling");
  train_cmd->add_option("--freeze", tc.freeze_regex, "initializers whose name matches this regex are not trained");
  train_cmd->add_option("--val-inputs", train.val_inputs, "validation inputs .npy");
  train_cmd->add_option("--val-targets", train.val_targets, "validation targets .npy");
  train_cmd->add_option("--checkpoint", train.checkpoint, "write a checkpoint here after every epoch");
  train_cmd->add_option("--max-steps", tc.max_steps, "stop after this many optimizer steps in all (a checkpoint keeps the position)")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  train_cmd->add_option("--checkpoint-every", train.checkpoint_every, "also write the checkpoint every N optimizer steps")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  train_cmd->add_option("--class-weights", tc.class_weights, "cross_entropy weight per class, as W0,W1,...")->delimiter(',');
  train_cmd->add_flag("--distributed", train.distributed, "data-parallel over MPI processes (automatic under mpirun); --batch-size is per process");
  train_cmd->add_option("--bucket-mb", tc.bucket_mb, "distributed: allreduce gradients in buckets of this many MiB while backward runs; 0: one bucket after backward (default 25)")->check(CLI::Range(0.0, 1e6));
  train_cmd->add_option("--resume", train.resume, "continue from this checkpoint");
  train_cmd->add_option("--log-csv", train.log_csv, "per-epoch log: epoch,loss,lr,val_loss,val_accuracy,seconds");
  train_cmd->add_option("--plot", train.plot, "loss/accuracy curves (.svg or .png), rewritten after every epoch");
  train_cmd->add_option("--threads", train.threads, "compute threads")->check(CLI::Range(1, 1024));
  train_cmd->add_option("--device", train.device, "cpu|cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  train_cmd->add_option("--out", train.out, "write the trained model (inference ONNX) here")->required();

  CLI::App* plot_cmd = app.add_subcommand("plot", "Draw activation curves or a training log");
  plot_cmd->require_subcommand(1);
  onyx::PlotActivationsArgs plot_act;
  CLI::App* plot_act_cmd = plot_cmd->add_subcommand("activations", "Each activation and its derivative, from Onyx's kernels");
  plot_act_cmd->add_option("--ops", plot_act.ops, "comma-separated ops (default: all)")->delimiter(',');
  plot_act_cmd->add_option("--range", plot_act.range, "x range LO,HI (default -5,5)");
  plot_act_cmd->add_option("--points", plot_act.points, "samples per curve")->check(CLI::Range(2, 2001));
  plot_act_cmd->add_option("--out", plot_act.out, "FILE.svg or FILE.png (default activations.svg)");
  onyx::PlotLogArgs plot_log;
  CLI::App* plot_log_cmd = plot_cmd->add_subcommand("log", "Loss and accuracy curves of a saved --log-csv");
  plot_log_cmd->add_option("csv", plot_log.csv, "log written by onyx train --log-csv")->required();
  plot_log_cmd->add_option("--out", plot_log.out, "FILE.svg or FILE.png (default: the CSV's name with .svg)");
  plot_log_cmd->add_option("--title", plot_log.title, "figure title");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "onyx: usage error: %s\nRun 'onyx --help' for usage.\n", e.what());
    return onyx::kExitUsage;
  }
  if (*info_cmd) return onyx::InfoCommand(info);
  if (*run_cmd) return onyx::RunCommand(run);
  if (*bench_cmd) return onyx::BenchCommand(bench);
  if (*test_cmd) return onyx::TestCommand(test);
  if (*plot_act_cmd) return onyx::PlotActivationsCommand(plot_act);
  if (*plot_log_cmd) return onyx::PlotLogCommand(plot_log);
  if (*train_cmd) {
    if (weight_decay >= 0) tc.optimizer.weight_decay = weight_decay;
    if (eps >= 0) tc.optimizer.eps = eps;
    if (!betas.empty()) {
      double b1, b2;
      char extra;
      if (std::sscanf(betas.c_str(), "%lf,%lf%c", &b1, &b2, &extra) != 2) {
        std::fprintf(stderr, "onyx: usage error: --betas expects B1,B2, got \"%s\"\n", betas.c_str());
        return onyx::kExitUsage;
      }
      tc.optimizer.beta1 = b1;
      tc.optimizer.beta2 = b2;
    }
    return onyx::TrainCommand(train);
  }
  return onyx::kExitUsage;
}
