// The `onyx` subcommands. Each returns the process exit status:
// 0 success, 1 bad model/input or failed run, 2 bad usage.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "runtime/training/trainer.h"

namespace onyx {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct InfoArgs {
  std::string model;
};
int InfoCommand(const InfoArgs& args);

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;  // NAME=FILE.npy|FILE.pb
  std::vector<std::string> dims;    // NAME=VALUE for symbolic dims
  std::string output_dir;
  int threads = 0;  // 0: OpenMP's default
  uint64_t seed = 0;
  int opt_level = 2;            // runtime/passes/optimize_graph.h
  std::string save_optimized;   // write the optimized graph here (ONNX)
  std::string device = "cpu";
  int64_t max_memory = std::numeric_limits<int64_t>::max();  // bytes of live tensors
};
int RunCommand(const RunArgs& args);

struct BenchArgs {
  std::string model;
  std::vector<std::string> dims;    // NAME=VALUE for symbolic dims
  std::vector<std::string> inputs;  // NAME=FILE.npy|FILE.pb; others get seeded random data
  int64_t batch = 0;                // > 0: leading dim of every input
  int threads = 0;                  // 0: OpenMP's default
  int warmup = 5;
  int64_t iters = 0;                // > 0: this many measured runs
  double duration = 0;              // > 0: measure this many seconds (default 3)
  int opt_level = 2;                // graph passes; 0 also turns off buffer reuse
  bool json = false;
  std::string profile;              // Chrome trace of one extra run
  uint64_t seed = 0;
  std::string device = "cpu";
};
int BenchCommand(const BenchArgs& args);

struct TestArgs {
  std::vector<std::string> dirs;
  double rtol = 1e-3;  // the ONNX backend runner's defaults
  double atol = 1e-7;
  int opt_level = 2;
  std::string device = "cpu";
  int64_t max_memory = std::numeric_limits<int64_t>::max();
};
int TestCommand(const TestArgs& args);

struct TrainArgs {
  std::string model;
  std::string inputs, targets;          // .npy, rows are samples
  std::string val_inputs, val_targets;  // optional
  TrainConfig config;
  std::string schedule = "constant";    // see runtime/training/lr_schedule.h
  int epochs = 10;
  int threads = 0;
  std::string checkpoint, resume, log_csv;
  int64_t checkpoint_every = 0;         // steps; 0: only at the end of each epoch
  bool distributed = false;             // also on when launched by mpirun
  std::string plot;                     // .svg/.png rewritten after every epoch
  std::string out;
  std::string device = "cpu";
};
int TrainCommand(const TrainArgs& args);

struct PlotActivationsArgs {
  std::vector<std::string> ops;  // empty: every plottable activation
  std::string range = "-5,5";
  int points = 201;
  std::string out = "activations.svg";
};
int PlotActivationsCommand(const PlotActivationsArgs& args);

struct PlotLogArgs {
  std::string csv;
  std::string out;  // empty: the CSV's path with .svg
  std::string title;
};
int PlotLogCommand(const PlotLogArgs& args);

}  // namespace onyx
