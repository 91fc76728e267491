// --log-csv parsing and the training-curve figure.
#include "tools/plot/training_curve.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tools/plot/output.h"

namespace onyx::plot {
namespace {

// A whole cell as a number (strtod accepts "nan" and "inf": the log may hold them).
bool ParseNumber(const std::string& cell, double& value) {
  if (cell.empty()) return false;
  errno = 0;
  char* end = nullptr;
  value = std::strtod(cell.c_str(), &end);
  return end == cell.c_str() + cell.size() && errno != ERANGE;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\t')) ++start;
  return s.substr(start);
}

}  // namespace

absl::StatusOr<std::vector<EpochRow>> ParseTrainingLog(const std::string& text,
                                                       const std::string& source) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: empty file, expected a header", source));
  }
  enum Column { kEpoch, kLoss, kLr, kValLoss, kValAccuracy, kSeconds, kIgnored };
  std::vector<Column> columns;
  bool has_epoch = false, has_loss = false;
  for (absl::string_view raw : absl::StrSplit(line, ',')) {
    const std::string name = Trim(std::string(raw));
    Column c = name == "epoch"          ? kEpoch
               : name == "loss"         ? kLoss
               : name == "lr"           ? kLr
               : name == "val_loss"     ? kValLoss
               : name == "val_accuracy" ? kValAccuracy
               : name == "seconds"      ? kSeconds
                                        : kIgnored;
    has_epoch |= c == kEpoch;
    has_loss |= c == kLoss;
    columns.push_back(c);
  }
  if (!has_epoch || !has_loss) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s:1: header must name columns epoch and loss, got \"%s\"", source,
                        Trim(line).substr(0, 80)));
  }

  std::vector<EpochRow> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    line = Trim(line);
    if (line.empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (cells.size() != columns.size()) {
      return absl::InvalidArgumentError(absl::StrFormat("%s:%d: expected %d cells, got %d", source,
                                                        number, columns.size(), cells.size()));
    }
    EpochRow row;
    bool has_row_epoch = false, has_row_loss = false;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string cell = Trim(cells[i]);
      if (columns[i] == kIgnored || cell.empty()) continue;
      double v = 0;
      if (!ParseNumber(cell, v)) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s:%d: cell %d is not a number: \"%s\"", source, number, i + 1, cell));
      }
      switch (columns[i]) {
        case kEpoch:
          row.epoch = v;
          has_row_epoch = true;
          break;
        case kLoss:
          row.loss = v;
          has_row_loss = true;
          break;
        case kLr:
          row.lr = v;
          break;
        case kValLoss:
          row.val_loss = v;
          break;
        case kValAccuracy:
          row.val_accuracy = v;
          break;
        case kSeconds:
          row.seconds = v;
          break;
        case kIgnored:
          break;
      }
    }
    if (!has_row_epoch || !has_row_loss) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d: epoch and loss must not be empty", source, number));
    }
    rows.push_back(row);
  }
  if (rows.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: no epoch rows after the header", source));
  }
  return rows;
}

absl::StatusOr<std::vector<EpochRow>> ReadTrainingLog(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::NotFoundError(absl::StrFormat("cannot read log %s: it is a folder", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrFormat("cannot read log %s: %s", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrFormat("cannot read log %s", path));
  return ParseTrainingLog(text.str(), path);
}

Figure TrainingFigure(const std::vector<EpochRow>& rows, const std::string& title) {
  Series train{.label = "train loss", .color = "#1f77b4", .markers = true};
  Series val{.label = "val loss", .color = "#d62728", .dashed = true, .markers = true};
  Series accuracy{.label = "val accuracy", .color = "#2ca02c", .markers = true};
  for (const EpochRow& r : rows) {
    train.x.push_back(r.epoch);
    train.y.push_back(r.loss);
    if (r.val_loss) {
      val.x.push_back(r.epoch);
      val.y.push_back(*r.val_loss);
    }
    if (r.val_accuracy) {
      accuracy.x.push_back(r.epoch);
      accuracy.y.push_back(*r.val_accuracy);
    }
  }
  Figure figure;
  figure.title = title;
  figure.panel_width = 440;
  figure.panel_height = 300;
  Panel loss{.title = "Loss", .x_label = "epoch", .y_label = "loss", .integer_x = true};
  loss.series.push_back(std::move(train));
  if (!val.x.empty()) loss.series.push_back(std::move(val));
  figure.panels.push_back(std::move(loss));
  if (!accuracy.x.empty()) {
    Panel acc{.title = "Validation accuracy",
              .x_label = "epoch",
              .y_label = "accuracy",
              .integer_x = true};
    acc.series.push_back(std::move(accuracy));
    figure.panels.push_back(std::move(acc));
  }
  figure.columns = static_cast<int>(figure.panels.size());
  return figure;
}

absl::Status LivePlot::Add(const EpochRow& row) {
  rows_.push_back(row);
  return WriteFigure(RenderSvg(TrainingFigure(rows_, title_)), path_);
}

}  // namespace onyx::plot
