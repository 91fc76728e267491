// RenderSvg: lays panels out in a grid and draws each chart.
#include "tools/plot/chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tools/plot/axis.h"
#include "tools/plot/svg.h"

namespace onyx::plot {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                    "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr double kOuterMargin = 10;
constexpr double kTitleHeight = 30;
constexpr double kTickFont = 10;
constexpr double kLabelFont = 11;

// Rough width of `text` at `size` for layout (no font metrics available).
double TextWidth(const std::string& text, double size) {
  size_t glyphs = 0;
  for (unsigned char c : text) glyphs += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes
  return glyphs * size * 0.6;
}

std::string SeriesColor(const Series& s, size_t index) {
  if (!s.color.empty()) return s.color;
  return kPalette[index % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

// The finite data range of one axis over all series; nullopt when there is none.
std::optional<std::pair<double, double>> DataRange(const Panel& panel, bool x_axis) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : panel.series) {
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      const double v = x_axis ? s.x[i] : s.y[i];
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (lo > hi) return std::nullopt;
  return std::make_pair(lo, hi);
}

Ticks AxisTicks(const std::optional<std::pair<double, double>>& fixed,
                const std::optional<std::pair<double, double>>& data, int target, bool integer) {
  if (fixed) return NiceTicks(fixed->first, fixed->second, target, /*widen=*/false, integer);
  if (data) return NiceTicks(data->first, data->second, target, /*widen=*/true, integer);
  return NiceTicks(0, 1, target, /*widen=*/true, integer);
}

// Legend entries (swatch, label) left to right in series order, ending at `right`.
void DrawLegend(SvgDocument& svg, const Panel& panel, double right, double baseline) {
  constexpr double kSwatch = 18, kGap = 4, kSpacing = 10;
  double width = 0;
  for (const Series& s : panel.series) width += kSwatch + kGap + TextWidth(s.label, kLabelFont);
  if (!panel.series.empty()) width += kSpacing * (panel.series.size() - 1);
  double x = right - width;
  for (size_t i = 0; i < panel.series.size(); ++i) {
    const Series& s = panel.series[i];
    svg.Line({x, baseline - 4}, {x + kSwatch, baseline - 4},
             {.stroke = SeriesColor(s, i), .stroke_width = 2, .dash = s.dashed ? "5,3" : ""});
    x += kSwatch + kGap;
    svg.Text({x, baseline}, s.label, {.size = kLabelFont, .css_class = "legend"});
    x += TextWidth(s.label, kLabelFont) + kSpacing;
  }
}

void DrawPanel(SvgDocument& svg, const Panel& panel, double left, double top, double width,
               double height) {
  const double margin_left = panel.y_label.empty() ? 50 : 64;
  const double margin_bottom = panel.x_label.empty() ? 26 : 42;
  const double x0 = left + margin_left, x1 = left + width - 14;
  const double y0 = top + 28, y1 = top + height - margin_bottom;
  const Ticks xt = AxisTicks(panel.x_range, DataRange(panel, true), 6, panel.integer_x);
  const Ticks yt = AxisTicks(panel.y_range, DataRange(panel, false), 5, false);
  const LinearScale sx{xt.lo, xt.hi, x0, x1};
  const LinearScale sy{yt.lo, yt.hi, y1, y0};

  svg.BeginGroup({{"class", "panel"}, {"data-title", panel.title}});
  svg.Text({x0, top + 16}, panel.title, {.size = 13, .bold = true, .css_class = "panel-title"});
  DrawLegend(svg, panel, x1, top + 16);
  svg.Rect(x0, y0, x1 - x0, y1 - y0, {.stroke = "#888", .fill = "#fcfcfc", .stroke_width = 1});

  const Style grid{.stroke = "#ddd", .stroke_width = 1};
  const Style zero{.stroke = "#999", .stroke_width = 1};
  for (double v : xt.values) {
    const double px = sx(v);
    Style style = v == 0 && xt.lo < 0 ? zero : grid;
    style.css_class = "grid-x";
    svg.Line({px, y0}, {px, y1}, style);
    svg.Line({px, y1}, {px, y1 + 4}, {.stroke = "#888"});
    svg.Text({px, y1 + 15}, FormatTick(v, xt.step),
             {.size = kTickFont, .anchor = Anchor::kMiddle, .css_class = "tick-x"});
  }
  for (double v : yt.values) {
    const double py = sy(v);
    Style style = v == 0 && yt.lo < 0 ? zero : grid;
    style.css_class = "grid-y";
    svg.Line({x0, py}, {x1, py}, style);
    svg.Line({x0 - 4, py}, {x0, py}, {.stroke = "#888"});
    svg.Text({x0 - 6, py + 3.5}, FormatTick(v, yt.step),
             {.size = kTickFont, .anchor = Anchor::kEnd, .css_class = "tick-y"});
  }
  if (!panel.x_label.empty()) {
    svg.Text({(x0 + x1) / 2, y1 + 32}, panel.x_label,
             {.size = kLabelFont, .anchor = Anchor::kMiddle, .css_class = "axis-label"});
  }
  if (!panel.y_label.empty()) {
    svg.Text(
        {left + 14, (y0 + y1) / 2}, panel.y_label,
        {.size = kLabelFont, .anchor = Anchor::kMiddle, .rotate = -90, .css_class = "axis-label"});
  }

  for (size_t i = 0; i < panel.series.size(); ++i) {
    const Series& s = panel.series[i];
    std::vector<Point> points;
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t k = 0; k < n; ++k) {
      if (std::isfinite(s.x[k]) && std::isfinite(s.y[k]))
        points.push_back({sx(s.x[k]), sy(s.y[k])});
    }
    const std::string color = SeriesColor(s, i);
    svg.Polyline(
        points,
        {.stroke = color, .stroke_width = 1.8, .dash = s.dashed ? "5,3" : "", .css_class = "curve"},
        {{"data-label", s.label}});
    if (s.markers) {
      for (const Point& p : points) svg.Circle(p, 2.5, {.fill = color, .css_class = "marker"});
    }
  }
  svg.EndGroup();
}

}  // namespace

std::string RenderSvg(const Figure& figure) {
  const int count = std::max<int>(1, figure.panels.size());
  int columns = figure.columns;
  if (columns <= 0) columns = static_cast<int>(std::ceil(std::sqrt(count)));
  columns = std::min(columns, count);
  const int rows = (count + columns - 1) / columns;
  const double title_height = figure.title.empty() ? 0 : kTitleHeight;
  // Wide enough for the title too (a figure of one or two panels).
  const double width = std::max(2 * kOuterMargin + columns * figure.panel_width,
                                TextWidth(figure.title, 16) + 4 * kOuterMargin);
  const double height = 2 * kOuterMargin + title_height + rows * figure.panel_height;

  SvgDocument svg(width, height);
  svg.Rect(0, 0, width, height, {.fill = "white"});
  if (!figure.title.empty()) {
    svg.Text({width / 2, kOuterMargin + 18}, figure.title,
             {.size = 16, .anchor = Anchor::kMiddle, .bold = true, .css_class = "figure-title"});
  }
  for (size_t i = 0; i < figure.panels.size(); ++i) {
    const double left = kOuterMargin + (i % columns) * figure.panel_width;
    const double top = kOuterMargin + title_height + (i / columns) * figure.panel_height;
    DrawPanel(svg, figure.panels[i], left, top, figure.panel_width, figure.panel_height);
  }
  return svg.Finish();
}

}  // namespace onyx::plot
