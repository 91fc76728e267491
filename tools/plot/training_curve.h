// Training curves: the rows `onyx train --log-csv` writes, read back from a
// file or collected live, drawn as loss (train/val) and validation accuracy.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/plot/chart.h"

namespace onyx::plot {

struct EpochRow {
  double epoch = 0;
  double loss = 0;
  std::optional<double> lr, val_loss, val_accuracy, seconds;
};

// Parses a --log-csv file: a header naming the columns (epoch and loss are
// required; lr, val_loss, val_accuracy, seconds are optional, in any order),
// then one row per epoch; empty cells are absent values. InvalidArgument naming
// the line for a malformed one, NotFound for an unreadable file.
absl::StatusOr<std::vector<EpochRow>> ReadTrainingLog(const std::string& path);
absl::StatusOr<std::vector<EpochRow>> ParseTrainingLog(const std::string& text,
                                                       const std::string& source);

// "Loss" panel (train, and validation when any row has it) and, when any row
// has one, a "Validation accuracy" panel; x is the epoch.
Figure TrainingFigure(const std::vector<EpochRow>& rows, const std::string& title);

// The plot of a running training: Add() appends an epoch and rewrites the file
// (atomically, so it can be watched). `earlier` holds the epochs of a resumed run.
class LivePlot {
 public:
  LivePlot(std::string path, std::string title, std::vector<EpochRow> earlier = {})
      : path_(std::move(path)), title_(std::move(title)), rows_(std::move(earlier)) {}
  absl::Status Add(const EpochRow& row);

 private:
  std::string path_, title_;
  std::vector<EpochRow> rows_;
};

}  // namespace onyx::plot
