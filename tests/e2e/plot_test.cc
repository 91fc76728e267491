// `onyx plot activations`, `onyx plot log` and `onyx train --plot` end to end:
// the SVG parses as XML, holds one curve per requested function, and its points
// read back through the drawn axes agree with double-precision formulas (or the
// CSV); a PNG is non-blank; bad arguments exit 2 and unreadable logs exit 1.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/cli_runner.h"
#include "tests/unit/plot/activation_reference.h"
#include "tests/unit/plot/svg_reader.h"

#ifdef ONYX_HAVE_PNG
#include <cairo.h>
#endif

namespace onyx {
namespace {
namespace fs = std::filesystem;
using plot_test::Curve;
using plot_test::Element;
using testing::RunCli;
using PlotTest = testing::TempDirTest;

const std::vector<std::string> kAllOps = {"Relu",    "LeakyRelu", "Sigmoid", "Tanh",
                                          "Softmax", "Softplus",  "Elu",     "Selu",
                                          "Gelu",    "Mish",      "Swish",   "HardSwish"};

Element ReadSvgFile(const fs::path& path) {
  std::ifstream in(path);
  const std::string text(std::istreambuf_iterator<char>(in), {});
  Element root;
  std::string error;
  EXPECT_TRUE(plot_test::ParseSvg(text, root, error)) << path << ": " << error;
  return root;
}

// Checks a panel's two curves (f, f') against the formulas at the sample grid
// lo + (hi - lo) i / (n - 1); tolerances are a small share of each axis span,
// far below what a wrong function or derivative would miss by.
void ExpectPanelMatches(const Element& panel, const std::string& op, double lo, double hi, int n) {
  SCOPED_TRACE(op);
  EXPECT_EQ(panel.Attr("data-title"), op);
  const plot_test::AxisMap mx = plot_test::ReadAxis(panel, "x");
  const plot_test::AxisMap my = plot_test::ReadAxis(panel, "y");
  const std::vector<Curve> curves = plot_test::ReadCurves(panel);
  ASSERT_EQ(curves.size(), 2u) << "f and f'";
  std::vector<double> xs(n);
  for (int i = 0; i < n; ++i) xs[i] = static_cast<float>(lo + (hi - lo) * i / (n - 1));
  std::vector<double> f(n), df(n);
  if (op == "Softmax") {
    plot_test::SoftmaxReference(xs, f, df);
  } else {
    for (int i = 0; i < n; ++i) {
      const plot_test::Reference r = plot_test::Elementwise(op, xs[i]);
      f[i] = r.f;
      df[i] = r.df;
    }
  }
  const double x_tol = 2e-3 * (hi - lo);
  const double y_tol = 2e-3 * my.span;
  for (int c = 0; c < 2; ++c) {
    ASSERT_EQ(curves[c].x.size(), size_t(n)) << curves[c].label;
    const std::vector<double>& want = c == 0 ? f : df;
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(curves[c].x[i], xs[i], x_tol) << curves[c].label << " point " << i;
      bool kink = false;
      for (double k : plot_test::Kinks(op)) kink |= c == 1 && std::fabs(xs[i] - k) < 1e-6;
      if (kink) continue;
      EXPECT_NEAR(curves[c].y[i], want[i], y_tol) << curves[c].label << " at x=" << xs[i];
    }
  }
  // The x axis spans exactly the requested range.
  EXPECT_GT(mx.span, 0);
}

TEST_F(PlotTest, DefaultActivationsSvgMatchesFormulas) {
  const fs::path out = dir_ / "activations.svg";
  const auto r = RunCli("plot activations --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Element root = ReadSvgFile(out);
  EXPECT_EQ(root.name, "svg");
  const auto panels = root.All("g", "panel");
  ASSERT_EQ(panels.size(), kAllOps.size());
  EXPECT_EQ(root.All("polyline", "curve").size(), 2 * kAllOps.size());
  for (size_t i = 0; i < kAllOps.size(); ++i) {
    ExpectPanelMatches(*panels[i], kAllOps[i], -5, 5, 201);
    EXPECT_EQ(panels[i]->All("text", "legend").size(), 2u);
  }
}

TEST_F(PlotTest, ChosenOpsRangeAndPoints) {
  const fs::path out = dir_ / "two.svg";
  const auto r =
      RunCli("plot activations --ops Gelu,Softmax,HardSwish --range=-4,2.5 --points 66 --out " +
             out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote"), std::string::npos);
  const Element root = ReadSvgFile(out);
  const auto panels = root.All("g", "panel");
  ASSERT_EQ(panels.size(), 3u);
  ExpectPanelMatches(*panels[0], "Gelu", -4, 2.5, 66);
  ExpectPanelMatches(*panels[1], "Softmax", -4, 2.5, 66);
  ExpectPanelMatches(*panels[2], "HardSwish", -4, 2.5, 66);
}

#ifdef ONYX_HAVE_PNG
TEST_F(PlotTest, DefaultActivationsPngIsNonBlank) {
  const fs::path png = dir_ / "activations.png";
  const auto r = RunCli("plot activations --out " + png.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  cairo_surface_t* image = cairo_image_surface_create_from_png(png.c_str());
  ASSERT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS);
  const int width = cairo_image_surface_get_width(image);
  const int height = cairo_image_surface_get_height(image);
  const int stride = cairo_image_surface_get_stride(image);
  const unsigned char* data = cairo_image_surface_get_data(image);
  EXPECT_GT(width, 800);
  EXPECT_GT(height, 500);
  // Luminance statistics and the share of strongly coloured pixels (the curves).
  double sum = 0, sum_sq = 0;
  int64_t dark = 0, red = 0, blue = 0;
  for (int y = 0; y < height; ++y) {
    const uint32_t* row = reinterpret_cast<const uint32_t*>(data + y * stride);
    for (int x = 0; x < width; ++x) {
      const int rr = (row[x] >> 16) & 255, gg = (row[x] >> 8) & 255, bb = row[x] & 255;
      const double lum = 0.299 * rr + 0.587 * gg + 0.114 * bb;
      sum += lum;
      sum_sq += lum * lum;
      dark += lum < 128;
      red += rr > 150 && gg < 100 && bb < 100;
      blue += bb > 120 && rr < 100;
    }
  }
  cairo_surface_destroy(image);
  const double n = double(width) * height;
  const double variance = sum_sq / n - (sum / n) * (sum / n);
  EXPECT_GT(sum / n, 150) << "mostly white background";
  EXPECT_GT(variance, 50) << "not a blank image";
  EXPECT_GT(dark, 2000) << "text and axes drawn";
  EXPECT_GT(red, 1000) << "derivative curves drawn";
  EXPECT_GT(blue, 1000) << "function curves drawn";
}
#else
TEST_F(PlotTest, PngWithoutLibrsvgIsAClearUsageError) {
  const auto r = RunCli("plot activations --out " + (dir_ / "a.png").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("without PNG support"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "a.png"));
}
#endif

TEST_F(PlotTest, LogCsvDrawsLossAndAccuracy) {
  const fs::path csv = dir_ / "log.csv";
  std::ofstream(csv) << "epoch,loss,lr,val_loss,val_accuracy,seconds\n"
                        "1,2.25,0.01,2.5,0.25,0.5\n"
                        "2,1.5,0.01,1.75,0.5,0.5\n"
                        "3,0.875,0.005,1.25,0.625,0.5\n"
                        "4,0.5,0.005,1.125,0.75,0.5\n";
  const fs::path out = dir_ / "curve.svg";
  const auto r = RunCli("plot log " + csv.string() + " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Element root = ReadSvgFile(out);
  const auto panels = root.All("g", "panel");
  ASSERT_EQ(panels.size(), 2u);
  const auto loss = plot_test::ReadCurves(*panels[0]);
  const auto acc = plot_test::ReadCurves(*panels[1]);
  ASSERT_EQ(loss.size(), 2u);
  ASSERT_EQ(acc.size(), 1u);
  const double train[] = {2.25, 1.5, 0.875, 0.5}, val[] = {2.5, 1.75, 1.25, 1.125},
               accuracy[] = {0.25, 0.5, 0.625, 0.75};
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(loss[0].x.size(), 4u);
    EXPECT_NEAR(loss[0].x[i], i + 1, 1e-3);
    EXPECT_NEAR(loss[0].y[i], train[i], 1e-3);
    EXPECT_NEAR(loss[1].y[i], val[i], 1e-3);
    EXPECT_NEAR(acc[0].y[i], accuracy[i], 1e-3);
  }
  // Default output: the CSV's name with .svg.
  const auto d = RunCli("plot log " + csv.string());
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_TRUE(fs::exists(dir_ / "log.svg"));
}

TEST_F(PlotTest, BadArgumentsExit2) {
  const std::string out = " --out " + (dir_ / "x.svg").string();
  const std::vector<std::string> cases = {
      "plot",
      "plot activations --ops Relu,Conv" + out,
      "plot activations --range 5,-5" + out,
      "plot activations --range=abc" + out,
      "plot activations --range=1,2,3" + out,
      "plot activations --range=-inf,1" + out,
      "plot activations --points 1" + out,
      "plot activations --points 100000" + out,
      "plot activations --out x.jpg",
      "plot log",
      "plot log " + (dir_ / "log.csv").string() + " --out x.txt",
      "plot nonsense"};
  for (const std::string& args : cases) {
    const auto r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << args;
  }
  EXPECT_FALSE(fs::exists(dir_ / "x.svg"));
}

TEST_F(PlotTest, UnreadableOrMalformedLogExits1) {
  const std::string out = " --out " + (dir_ / "x.svg").string();
  auto r = RunCli("plot log " + (dir_ / "missing.csv").string() + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.csv"), std::string::npos) << r.err;

  r = RunCli("plot log " + dir_.string() + out);  // a folder
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("folder"), std::string::npos) << r.err;

  // A log that is fine, written where no folder exists: a failed run, not usage.
  const fs::path good = dir_ / "good.csv";
  std::ofstream(good) << "epoch,loss\n1,0.5\n";
  r = RunCli("plot log " + good.string() + " --out " + (dir_ / "no" / "x.svg").string());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot write"), std::string::npos) << r.err;

  const fs::path bad = dir_ / "bad.csv";
  std::ofstream(bad) << "epoch,loss\n1,0.5\n2,oops\n";
  r = RunCli("plot log " + bad.string() + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.csv:3"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "x.svg"));
}

TEST_F(PlotTest, TrainPlotFollowsTheLog) {
  const fs::path data = fs::path(ONYX_SOURCE_DIR) / "models" / "tutorial_mlp";
  const fs::path csv = dir_ / "log.csv", plot = dir_ / "train.svg";
  const std::string common =
      (data / "model.onnx").string() + " --inputs " + (data / "train_x.npy").string() +
      " --targets " + (data / "train_y.npy").string() + " --val-inputs " +
      (data / "test_x.npy").string() + " --val-targets " + (data / "test_y.npy").string() +
      " --loss cross_entropy --optimizer adam --lr 0.01 --batch-size 64"
      " --seed 1 --log-csv " +
      csv.string() + " --plot " + plot.string();
  auto r = RunCli("train " + common + " --epochs 2 --checkpoint " + (dir_ / "ck").string() +
                  " --out " + (dir_ / "m.onnx").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Resume to 4 epochs: the plot keeps the first two from the log.
  r = RunCli("train " + common + " --epochs 4 --resume " + (dir_ / "ck").string() + " --out " +
             (dir_ / "m.onnx").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(std::stod(cell));
    rows.push_back(cells);
  }
  ASSERT_EQ(rows.size(), 4u);
  const Element root = ReadSvgFile(plot);
  const auto panels = root.All("g", "panel");
  ASSERT_EQ(panels.size(), 2u);
  const auto loss = plot_test::ReadCurves(*panels[0]);
  const auto acc = plot_test::ReadCurves(*panels[1]);
  ASSERT_EQ(loss.size(), 2u);
  ASSERT_EQ(acc.size(), 1u);
  const double loss_span = plot_test::ReadAxis(*panels[0], "y").span;
  const double acc_span = plot_test::ReadAxis(*panels[1], "y").span;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(loss[0].y.size(), rows.size());
    EXPECT_NEAR(loss[0].x[i], rows[i][0], 1e-3);
    EXPECT_NEAR(loss[0].y[i], rows[i][1], 1e-3 * loss_span);
    EXPECT_NEAR(loss[1].y[i], rows[i][3], 1e-3 * loss_span);
    EXPECT_NEAR(acc[0].y[i], rows[i][4], 1e-3 * acc_span);
  }
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos)
        << "temporary file left: " << entry.path();
  }
}

TEST_F(PlotTest, TrainPlotWithBadExtensionIsAUsageError) {
  const fs::path data = fs::path(ONYX_SOURCE_DIR) / "models" / "tutorial_mlp";
  const auto r =
      RunCli("train " + (data / "model.onnx").string() + " --inputs " +
             (data / "train_x.npy").string() + " --targets " + (data / "train_y.npy").string() +
             " --loss cross_entropy --optimizer sgd --epochs 1 --plot " +
             (dir_ / "p.gif").string() + " --out " + (dir_ / "m.onnx").string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "m.onnx"));
}

}  // namespace
}  // namespace onyx
