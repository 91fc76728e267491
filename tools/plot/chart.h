// Line charts as data: a Figure of Panels (laid out in a grid), each with axes,
// grid, tick labels, axis labels, a legend and one polyline per Series.
// RenderSvg turns it into an SVG document.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace onyx::plot {

struct Series {
  std::string label;
  std::vector<double> x, y;  // same length; non-finite points are left out
  std::string color;         // empty: the palette colour of the series' index
  bool dashed = false;
  bool markers = false;  // a dot on every point (few points, e.g. epochs)
};

struct Panel {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  // Fixed axis domains; otherwise the data's range widened to whole tick steps.
  std::optional<std::pair<double, double>> x_range, y_range;
  bool integer_x = false;  // x ticks at whole numbers only
};

struct Figure {
  std::string title;
  std::vector<Panel> panels;
  int columns = 0;  // 0: about square
  double panel_width = 300;
  double panel_height = 230;
};

// The SVG: <g class="panel" data-title=...> per panel holding lines of class
// grid-x / grid-y paired in order with <text> tick labels of class tick-x /
// tick-y, and <polyline class="curve" data-label=...> per series.
std::string RenderSvg(const Figure& figure);

}  // namespace onyx::plot
