// SvgDocument: appends SVG 1.1 elements to a string.
#include "tools/plot/svg.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace onyx::plot {

std::string XmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string FormatCoord(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

SvgDocument::SvgDocument(double width, double height) : width_(width), height_(height) {}

void SvgDocument::AppendStyle(const Style& style) {
  absl::StrAppend(&body_, " stroke=\"", XmlEscape(style.stroke), "\" fill=\"",
                  XmlEscape(style.fill), "\"");
  if (style.stroke != "none") {
    absl::StrAppend(&body_, " stroke-width=\"", FormatCoord(style.stroke_width), "\"");
  }
  if (!style.dash.empty()) {
    absl::StrAppend(&body_, " stroke-dasharray=\"", XmlEscape(style.dash), "\"");
  }
  if (!style.css_class.empty()) {
    absl::StrAppend(&body_, " class=\"", XmlEscape(style.css_class), "\"");
  }
}

void SvgDocument::Rect(double x, double y, double w, double h, const Style& style) {
  absl::StrAppend(&body_, "<rect x=\"", FormatCoord(x), "\" y=\"", FormatCoord(y), "\" width=\"",
                  FormatCoord(w), "\" height=\"", FormatCoord(h), "\"");
  AppendStyle(style);
  body_ += "/>\n";
}

void SvgDocument::Line(Point a, Point b, const Style& style) {
  absl::StrAppend(&body_, "<line x1=\"", FormatCoord(a.x), "\" y1=\"", FormatCoord(a.y), "\" x2=\"",
                  FormatCoord(b.x), "\" y2=\"", FormatCoord(b.y), "\"");
  AppendStyle(style);
  body_ += "/>\n";
}

void SvgDocument::Polyline(const std::vector<Point>& points, const Style& style,
                           const Attributes& extra) {
  body_ += "<polyline points=\"";
  for (size_t i = 0; i < points.size(); ++i) {
    if (i > 0) body_ += ' ';
    absl::StrAppend(&body_, FormatCoord(points[i].x), ",", FormatCoord(points[i].y));
  }
  body_ += "\"";
  AppendStyle(style);
  body_ += " stroke-linejoin=\"round\"";
  for (const auto& [name, value] : extra) {
    absl::StrAppend(&body_, " ", name, "=\"", XmlEscape(value), "\"");
  }
  body_ += "/>\n";
}

void SvgDocument::Circle(Point center, double radius, const Style& style) {
  absl::StrAppend(&body_, "<circle cx=\"", FormatCoord(center.x), "\" cy=\"", FormatCoord(center.y),
                  "\" r=\"", FormatCoord(radius), "\"");
  AppendStyle(style);
  body_ += "/>\n";
}

void SvgDocument::Text(Point at, const std::string& text, const TextStyle& style) {
  static constexpr const char* kAnchors[] = {"start", "middle", "end"};
  absl::StrAppend(&body_, "<text x=\"", FormatCoord(at.x), "\" y=\"", FormatCoord(at.y),
                  "\" font-size=\"", FormatCoord(style.size), "\" fill=\"", XmlEscape(style.fill),
                  "\" text-anchor=\"", kAnchors[static_cast<int>(style.anchor)], "\"");
  if (style.bold) body_ += " font-weight=\"bold\"";
  if (style.rotate != 0) {
    absl::StrAppend(&body_, " transform=\"rotate(", FormatCoord(style.rotate), " ",
                    FormatCoord(at.x), " ", FormatCoord(at.y), ")\"");
  }
  if (!style.css_class.empty()) {
    absl::StrAppend(&body_, " class=\"", XmlEscape(style.css_class), "\"");
  }
  absl::StrAppend(&body_, ">", XmlEscape(text), "</text>\n");
}

void SvgDocument::BeginGroup(const Attributes& attributes) {
  body_ += "<g";
  for (const auto& [name, value] : attributes) {
    absl::StrAppend(&body_, " ", name, "=\"", XmlEscape(value), "\"");
  }
  body_ += ">\n";
  ++open_groups_;
}

void SvgDocument::EndGroup() {
  if (open_groups_ == 0) return;
  body_ += "</g>\n";
  --open_groups_;
}

std::string SvgDocument::Finish() {
  while (open_groups_ > 0) EndGroup();
  const std::string w = FormatCoord(width_), h = FormatCoord(height_);
  return absl::StrCat("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"", w,
                      "\" height=\"", h, "\" viewBox=\"0 0 ", w, " ", h,
                      "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n", body_,
                      "</svg>\n");
}

}  // namespace onyx::plot
