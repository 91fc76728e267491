// `mpirun -np N onyx train` from the e2e tests (MPI builds: ONYX_MPIEXEC), and
// the check that two runs trained alike: per-epoch losses and final weights
// within 1e-5 relative.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "tests/status_matchers.h"

namespace onyx::testing {

// The tutorial MLP's training arguments (no batch size) for `epochs` epochs.
inline std::string MlpArgs(int epochs = 3) {
  const std::filesystem::path models = std::filesystem::path(ONYX_SOURCE_DIR) / "models";
  return " " + (models / "tutorial_mlp/model.onnx").string() + " --inputs " +
         (models / "tutorial_mlp/train_x.npy").string() + " --targets " +
         (models / "tutorial_mlp/train_y.npy").string() +
         " --loss cross_entropy --optimizer sgd --lr 0.05 --momentum 0.9 --seed 4 --epochs " +
         std::to_string(epochs);
}

// The launcher line for N processes (root allowed: CI runs as root).
inline std::string MpiRun(int processes) {
  return "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + std::string(ONYX_MPIEXEC) +
         " --oversubscribe --mca btl self,vader -np " + std::to_string(processes) + " " +
         ONYX_CLI_PATH + " train";
}

inline int RunShell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// (epoch, loss) of each row of a --log-csv file.
inline std::vector<std::vector<double>> LossColumns(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::vector<double> cells;
    for (std::string cell; std::getline(ss, cell, ',');) {
      cells.push_back(cell.empty() ? NAN : std::stod(cell));
    }
    rows.push_back({cells.at(0), cells.at(1)});  // epoch, loss
  }
  return rows;
}

// Runs `a` and `b` (dir/NAME.csv and dir/NAME.onnx, 3 epochs each) trained alike.
inline void ExpectSameTraining(const std::filesystem::path& dir, const std::string& a,
                               const std::string& b) {
  const auto rows_a = LossColumns(dir / (a + ".csv")), rows_b = LossColumns(dir / (b + ".csv"));
  ASSERT_EQ(rows_a.size(), 3u);
  ASSERT_EQ(rows_b.size(), 3u);
  for (size_t e = 0; e < rows_a.size(); ++e) {
    EXPECT_NEAR(rows_b[e][1], rows_a[e][1], 1e-5 * std::abs(rows_a[e][1])) << "epoch " << e + 1;
  }
  ASSERT_OK_AND_ASSIGN(Graph ga, LoadOnnxModel((dir / (a + ".onnx")).string()));
  ASSERT_OK_AND_ASSIGN(Graph gb, LoadOnnxModel((dir / (b + ".onnx")).string()));
  for (const auto& [name, ta] : ga.initializers) {
    const Tensor& tb = gb.initializers.at(name);
    ASSERT_EQ(ta.num_elements(), tb.num_elements());
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < ta.num_elements(); ++i) {
      worst = std::max(worst, std::abs(double(ta.data<float>()[i]) - tb.data<float>()[i]));
      scale = std::max(scale, std::abs(double(ta.data<float>()[i])));
    }
    EXPECT_LE(worst, 1e-5 * scale) << name;
  }
}

}  // namespace onyx::testing
