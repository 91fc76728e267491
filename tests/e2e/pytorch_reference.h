// The PyTorch training runs in models/reference (made by
// models/make_training_references.py) and the check that `onyx train` with the
// same arguments reproduces their per-epoch losses and validation accuracy.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "importers/npy/npy.h"
#include "tests/e2e/cli_runner.h"
#include "tests/status_matchers.h"

namespace onyx::testing {

inline const std::filesystem::path kModels = std::filesystem::path(ONYX_SOURCE_DIR) / "models";

// Names of the reference runs (NAME.args + NAME.npy).
inline std::vector<std::string> ReferenceRuns() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kModels / "reference", ec)) {
    if (entry.path().extension() == ".args") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The reference's `onyx train` arguments with model paths made absolute.
inline std::string ReferenceArgs(const std::string& name) {
  std::ifstream in(kModels / "reference" / (name + ".args"));
  std::string args, line;
  while (std::getline(in, line)) {
    const bool is_path = line.ends_with(".onnx") || line.ends_with(".npy");
    args += " " + (is_path ? (kModels / line).string() : line);
  }
  return args;
}

// Rows of a --log-csv file: epoch,loss,lr,val_loss,val_accuracy,seconds.
inline std::vector<std::vector<std::string>> ReadCsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "epoch,loss,lr,val_loss,val_accuracy,seconds");
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (line.ends_with(",")) cells.push_back("");
    rows.push_back(cells);
  }
  return rows;
}

inline void ExpectRelativelyNear(double actual, double expected, double rtol,
                                 const std::string& what) {
  EXPECT_LE(std::fabs(actual - expected), rtol * std::fabs(expected) + 1e-7)
      << what << ": onyx " << actual << " vs PyTorch " << expected;
}

// Runs `onyx train` with reference `name`'s arguments plus `extra` (in `dir`)
// and compares every epoch: losses within `rtol`, validation accuracy (a count
// over 200 samples) within `accuracy_tolerance`.
inline void ExpectTrainingMatchesPyTorch(const std::filesystem::path& dir, const std::string& name,
                                         const std::string& extra, double rtol,
                                         double accuracy_tolerance) {
  ASSERT_OK_AND_ASSIGN(Tensor reference,
                       ReadNpy((kModels / "reference" / (name + ".npy")).string()));
  const std::filesystem::path log = dir / "log.csv";
  const auto r = RunCli("train" + ReferenceArgs(name) + extra + " --log-csv " + log.string() +
                        " --out " + (dir / "out.onnx").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = ReadCsv(log);
  ASSERT_EQ(static_cast<int64_t>(rows.size()), reference.dim(0));
  const double* ref = reference.data<double>();
  for (size_t e = 0; e < rows.size(); ++e) {
    const std::string epoch = name + " epoch " + std::to_string(e + 1);
    ExpectRelativelyNear(std::stod(rows[e][1]), ref[3 * e], rtol, epoch + " loss");
    ExpectRelativelyNear(std::stod(rows[e][3]), ref[3 * e + 1], rtol, epoch + " val_loss");
    if (!std::isnan(ref[3 * e + 2])) {
      EXPECT_NEAR(std::stod(rows[e][4]), ref[3 * e + 2], accuracy_tolerance)
          << epoch << " val_accuracy";
    }
  }
}

}  // namespace onyx::testing
