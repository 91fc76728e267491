// --log-csv parsing and the training figure built from it.
#include "tools/plot/training_curve.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gtest/gtest.h"
#include "tests/unit/plot/svg_reader.h"

namespace onyx::plot {
namespace {

TEST(ParseTrainingLogTest, ReadsTheTrainLogFormatWithEmptyCells) {
  auto rows = ParseTrainingLog(
      "epoch,loss,lr,val_loss,val_accuracy,seconds\n"
      "1,0.9,0.01,0.8,0.5,0.12\n"
      "2,0.5,0.01,,,0.11\r\n"
      "\n",
      "log.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].epoch, 1);
  EXPECT_DOUBLE_EQ((*rows)[0].loss, 0.9);
  EXPECT_DOUBLE_EQ(*(*rows)[0].val_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(*(*rows)[0].seconds, 0.12);
  EXPECT_FALSE((*rows)[1].val_loss.has_value());
  EXPECT_FALSE((*rows)[1].val_accuracy.has_value());
}

TEST(ParseTrainingLogTest, ColumnsByNameInAnyOrder) {
  auto rows = ParseTrainingLog("loss,extra,epoch\n0.25,x,7\n", "log.csv");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)[0].epoch, 7);
  EXPECT_DOUBLE_EQ((*rows)[0].loss, 0.25);
  EXPECT_FALSE((*rows)[0].lr.has_value());
}

TEST(ParseTrainingLogTest, ErrorsNameTheLine) {
  const auto expect_error = [](const std::string& text, const std::string& fragment) {
    auto rows = ParseTrainingLog(text, "log.csv");
    ASSERT_FALSE(rows.ok()) << text;
    EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(rows.status().message()).find(fragment), std::string::npos)
        << rows.status();
  };
  expect_error("", "empty file");
  expect_error("epoch,lr\n1,2\n", "log.csv:1");
  expect_error("epoch,loss\n", "no epoch rows");
  expect_error("epoch,loss\n1,0.5\n2,abc\n", "log.csv:3");
  expect_error("epoch,loss\n1,0.5,9\n", "expected 2 cells, got 3");
  expect_error("epoch,loss\n1,\n", "must not be empty");
  expect_error("epoch,loss\n1,1e999\n", "log.csv:2");
}

TEST(ReadTrainingLogTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadTrainingLog("/nonexistent/onyx/log.csv").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TrainingFigureTest, LossPanelAndAccuracyPanelWhenPresent) {
  std::vector<EpochRow> rows = {{.epoch = 1, .loss = 2.0, .val_loss = 2.5, .val_accuracy = 0.4},
                                {.epoch = 2, .loss = 1.0, .val_loss = 1.5, .val_accuracy = 0.7},
                                {.epoch = 3, .loss = 0.5, .val_loss = 1.25, .val_accuracy = 0.8}};
  const Figure full = TrainingFigure(rows, "run");
  ASSERT_EQ(full.panels.size(), 2u);
  ASSERT_EQ(full.panels[0].series.size(), 2u);
  EXPECT_EQ(full.panels[0].series[1].y, (std::vector<double>{2.5, 1.5, 1.25}));
  EXPECT_EQ(full.panels[1].series[0].y, (std::vector<double>{0.4, 0.7, 0.8}));

  plot_test::Element root;
  std::string error;
  ASSERT_TRUE(plot_test::ParseSvg(RenderSvg(full), root, error)) << error;
  const auto panels = root.All("g", "panel");
  ASSERT_EQ(panels.size(), 2u);
  const auto loss = plot_test::ReadCurves(*panels[0]);
  ASSERT_EQ(loss.size(), 2u);
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_NEAR(loss[0].x[i], rows[i].epoch, 1e-3);
    EXPECT_NEAR(loss[0].y[i], rows[i].loss, 1e-3);
    EXPECT_NEAR(loss[1].y[i], *rows[i].val_loss, 1e-3);
  }

  for (EpochRow& r : rows) r.val_loss.reset(), r.val_accuracy.reset();
  const Figure train_only = TrainingFigure(rows, "run");
  ASSERT_EQ(train_only.panels.size(), 1u);
  EXPECT_EQ(train_only.panels[0].series.size(), 1u);
}

TEST(LivePlotTest, RewritesThePlotWithEveryEpoch) {
  namespace fs = std::filesystem;
  const fs::path file =
      fs::temp_directory_path() / ("onyx_live_plot_" + std::to_string(getpid()) + ".svg");
  LivePlot live(file.string(), "live", {{.epoch = 1, .loss = 3}});
  for (int epoch = 2; epoch <= 4; ++epoch) {
    ASSERT_TRUE(live.Add({.epoch = double(epoch), .loss = 3.0 / epoch}).ok());
    std::ifstream in(file);
    plot_test::Element root;
    std::string error;
    ASSERT_TRUE(
        plot_test::ParseSvg(std::string(std::istreambuf_iterator<char>(in), {}), root, error))
        << error;
    const auto curves = plot_test::ReadCurves(*root.All("g", "panel")[0]);
    ASSERT_EQ(curves.size(), 1u);
    ASSERT_EQ(curves[0].y.size(), size_t(epoch)) << "earlier epochs plus the new one";
    EXPECT_NEAR(curves[0].y.back(), 3.0 / epoch, 1e-3 * 3);
  }
  fs::remove(file);
}

}  // namespace
}  // namespace onyx::plot
