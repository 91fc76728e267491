// A minimal SVG document builder: shapes, text and groups appended in order,
// with XML escaping and compact coordinates. Knows nothing about charts.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace onyx::plot {

struct Point {
  double x = 0;
  double y = 0;
};

// Presentation attributes shared by the shapes.
struct Style {
  std::string stroke = "none";
  std::string fill = "none";
  double stroke_width = 1;
  std::string dash;  // stroke-dasharray, e.g. "5,3"; empty for solid
  std::string css_class;
};

enum class Anchor { kStart, kMiddle, kEnd };

struct TextStyle {
  double size = 11;
  std::string fill = "#222";
  Anchor anchor = Anchor::kStart;
  bool bold = false;
  double rotate = 0;  // degrees about the text's own position
  std::string css_class;
};

// Extra attributes on an element or group, written verbatim-escaped.
using Attributes = std::vector<std::pair<std::string, std::string>>;

class SvgDocument {
 public:
  SvgDocument(double width, double height);

  void Rect(double x, double y, double w, double h, const Style& style);
  void Line(Point a, Point b, const Style& style);
  void Polyline(const std::vector<Point>& points, const Style& style, const Attributes& extra = {});
  void Circle(Point center, double radius, const Style& style);
  void Text(Point at, const std::string& text, const TextStyle& style);
  void BeginGroup(const Attributes& attributes);
  void EndGroup();

  // The finished document (closes any open group).
  std::string Finish();

 private:
  void AppendStyle(const Style& style);
  std::string body_;
  double width_, height_;
  int open_groups_ = 0;
};

// XML-escapes &, <, >, " and ' for text content and attribute values.
std::string XmlEscape(const std::string& text);
// A coordinate with at most two decimals and no trailing zeros ("12.5", "-3").
std::string FormatCoord(double v);

}  // namespace onyx::plot
