// The SVG writer and chart renderer: escaping, well-formed output (libxml2),
// and curves that map back through the drawn axes to the data they were given.
#include "tools/plot/chart.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gtest/gtest.h"
#include "tests/unit/plot/svg_reader.h"
#include "tools/plot/output.h"
#include "tools/plot/svg.h"

namespace onyx::plot {
namespace {

using plot_test::Element;

TEST(SvgTest, EscapesMarkupAndControlCharacters) {
  EXPECT_EQ(XmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;");
  EXPECT_EQ(XmlEscape(std::string("x\x01y")), "x y");
}

TEST(SvgTest, CompactCoordinates) {
  EXPECT_EQ(FormatCoord(12.5), "12.5");
  EXPECT_EQ(FormatCoord(3.0), "3");
  EXPECT_EQ(FormatCoord(-0.001), "0");
  EXPECT_EQ(FormatCoord(1.005e3), "1005");
  EXPECT_EQ(FormatCoord(NAN), "0");
}

TEST(SvgTest, DocumentIsWellFormedWithGroupsClosed) {
  SvgDocument svg(100, 50);
  svg.BeginGroup({{"class", "outer"}, {"data-title", "<T&>"}});
  svg.Polyline({{1, 2}, {3.25, 4}}, {.stroke = "red"}, {{"data-label", "f'(x)"}});
  svg.Text({5, 5}, "a < b", {.rotate = -90});
  svg.Circle({1, 1}, 2, {.fill = "blue"});
  // One group left open: Finish closes it.
  const std::string text = svg.Finish();
  Element root;
  std::string error;
  ASSERT_TRUE(plot_test::ParseSvg(text, root, error)) << error << "\n" << text;
  EXPECT_EQ(root.name, "svg");
  EXPECT_EQ(root.Attr("width"), "100");
  const auto groups = root.All("g", "outer");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0]->Attr("data-title"), "<T&>");
  const auto lines = root.All("polyline");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]->Attr("points"), "1,2 3.25,4");
  EXPECT_EQ(lines[0]->Attr("data-label"), "f'(x)");
  EXPECT_EQ(root.All("text")[0]->text, "a < b");
}

Figure TwoPanelFigure() {
  Figure figure;
  figure.title = "A & B";
  Panel a{.title = "quadratic <x^2>", .x_label = "x", .y_label = "y"};
  Series sq{.label = "x^2"}, lin{.label = "1 - x", .dashed = true};
  for (int i = 0; i <= 40; ++i) {
    const double x = -3 + 0.15 * i;
    sq.x.push_back(x);
    sq.y.push_back(x * x);
    lin.x.push_back(x);
    lin.y.push_back(1 - x);
  }
  a.series = {sq, lin};
  Panel b{.title = "gappy", .integer_x = true};
  b.series.push_back(
      {.label = "with NaN", .x = {1, 2, 3, 4}, .y = {10, NAN, 30, 25}, .markers = true});
  figure.panels = {a, b};
  return figure;
}

TEST(ChartTest, CurvesMapBackThroughTheDrawnAxes) {
  const Figure figure = TwoPanelFigure();
  Element root;
  std::string error;
  ASSERT_TRUE(plot_test::ParseSvg(RenderSvg(figure), root, error)) << error;
  const auto panels = root.All("g", "panel");
  ASSERT_EQ(panels.size(), 2u);
  EXPECT_EQ(panels[0]->Attr("data-title"), "quadratic <x^2>");

  const auto curves = plot_test::ReadCurves(*panels[0]);
  ASSERT_EQ(curves.size(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    const Series& want = figure.panels[0].series[s];
    EXPECT_EQ(curves[s].label, want.label);
    ASSERT_EQ(curves[s].x.size(), want.x.size());
    for (size_t i = 0; i < want.x.size(); ++i) {
      EXPECT_NEAR(curves[s].x[i], want.x[i], 1e-3) << want.label;
      EXPECT_NEAR(curves[s].y[i], want.y[i], 1e-3 * 9) << want.label;
    }
  }
  // The NaN point is left out; the rest keep their order; one marker per point.
  const auto gappy = plot_test::ReadCurves(*panels[1]);
  ASSERT_EQ(gappy.size(), 1u);
  ASSERT_EQ(gappy[0].y.size(), 3u);
  EXPECT_NEAR(gappy[0].x[1], 3, 1e-3);
  EXPECT_NEAR(gappy[0].y[1], 30, 0.05);
  EXPECT_EQ(panels[1]->All("circle", "marker").size(), 3u);
  for (const Element* tick : panels[1]->All("text", "tick-x")) {
    EXPECT_EQ(tick->text.find('.'), std::string::npos) << "integer axis tick " << tick->text;
  }
}

TEST(ChartTest, EveryPanelHasTitleLegendAndAxisLabels) {
  Element root;
  std::string error;
  ASSERT_TRUE(plot_test::ParseSvg(RenderSvg(TwoPanelFigure()), root, error)) << error;
  const auto panel = root.All("g", "panel")[0];
  EXPECT_EQ(panel->All("text", "panel-title")[0]->text, "quadratic <x^2>");
  const auto legend = panel->All("text", "legend");
  ASSERT_EQ(legend.size(), 2u);
  EXPECT_EQ(legend[0]->text, "x^2");
  EXPECT_EQ(legend[1]->text, "1 - x");
  EXPECT_EQ(panel->All("text", "axis-label").size(), 2u);
  EXPECT_EQ(root.All("text", "figure-title")[0]->text, "A & B");
}

TEST(OutputTest, RejectsUnknownExtensionsAndWritesAtomically) {
  EXPECT_EQ(CheckOutputPath("plot.jpg").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckOutputPath("plot").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckOutputPath("plot.SVG").ok());
  EXPECT_EQ(CheckOutputPath("plot.png").ok(), PngSupported());

  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("onyx_plot_out_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "f.svg";
  ASSERT_TRUE(WriteFigure("<svg/>", file.string()).ok());
  ASSERT_TRUE(WriteFigure("<svg>2</svg>", file.string()).ok());
  std::ifstream in(file);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "<svg>2</svg>");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1)
      << "temporary file left behind";
  EXPECT_FALSE(WriteFigure("<svg/>", (dir / "missing" / "f.svg").string()).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace onyx::plot
