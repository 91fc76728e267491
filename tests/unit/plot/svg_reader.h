// Test helper: reads an SVG with libxml2 (a well-formedness check in itself)
// and recovers chart data the way a reader of the picture would: each panel's
// axis transform from its grid lines and the numbers printed at them, then
// every polyline's points mapped back through it to data values.
#pragma once

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace onyx::plot_test {

struct Element {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::string text;  // concatenated text content
  std::vector<Element> children;

  std::string Attr(const std::string& key) const {
    auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  }
  double Number(const std::string& key) const { return std::strtod(Attr(key).c_str(), nullptr); }
  // Every descendant (depth first, document order) with this name and class.
  void Collect(const std::string& element, const std::string& css_class,
               std::vector<const Element*>& out) const {
    for (const Element& c : children) {
      if (c.name == element && (css_class.empty() || c.Attr("class") == css_class)) {
        out.push_back(&c);
      }
      c.Collect(element, css_class, out);
    }
  }
  std::vector<const Element*> All(const std::string& element,
                                  const std::string& css_class = "") const {
    std::vector<const Element*> out;
    Collect(element, css_class, out);
    return out;
  }
};

inline Element Convert(xmlNode* node) {
  Element e;
  e.name = reinterpret_cast<const char*>(node->name);
  for (xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    xmlChar* value = xmlNodeListGetString(node->doc, a->children, 1);
    e.attributes[reinterpret_cast<const char*>(a->name)] =
        value ? reinterpret_cast<const char*>(value) : "";
    xmlFree(value);
  }
  for (xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) {
      e.children.push_back(Convert(c));
    } else if (c->type == XML_TEXT_NODE && c->content != nullptr) {
      e.text += reinterpret_cast<const char*>(c->content);
    }
  }
  return e;
}

// Parses `svg` strictly (no recovery, no network); false with a message if not
// well-formed XML.
inline bool ParseSvg(const std::string& svg, Element& root, std::string& error) {
  xmlDoc* doc = xmlReadMemory(svg.data(), static_cast<int>(svg.size()), "plot.svg", nullptr,
                              XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    const xmlError* e = xmlGetLastError();
    error = e && e->message ? e->message : "not well-formed";
    return false;
  }
  root = Convert(xmlDocGetRootElement(doc));
  xmlFreeDoc(doc);
  return true;
}

// value = offset + scale * pixel, fitted to a panel's grid lines and tick labels.
struct AxisMap {
  double offset = 0, scale = 0;
  double span = 0;  // |last tick - first tick|, for tolerances
  double operator()(double pixel) const { return offset + scale * pixel; }
};

// `axis` is "x" or "y". Pairs grid-<axis> lines with tick-<axis> labels in
// order, checks that they lie on one line, and returns the map.
inline AxisMap ReadAxis(const Element& panel, const std::string& axis) {
  const auto lines = panel.All("line", "grid-" + axis);
  const auto labels = panel.All("text", "tick-" + axis);
  AxisMap map;
  EXPECT_EQ(lines.size(), labels.size()) << panel.Attr("data-title") << " axis " << axis;
  EXPECT_GE(lines.size(), 2u) << panel.Attr("data-title") << " axis " << axis;
  if (lines.size() < 2 || lines.size() != labels.size()) return map;
  std::vector<double> px, value;
  for (size_t i = 0; i < lines.size(); ++i) {
    px.push_back(lines[i]->Number(axis == "x" ? "x1" : "y1"));
    value.push_back(std::strtod(labels[i]->text.c_str(), nullptr));
  }
  map.scale = (value.back() - value.front()) / (px.back() - px.front());
  map.offset = value.front() - map.scale * px.front();
  map.span = std::fabs(value.back() - value.front());
  for (size_t i = 0; i < px.size(); ++i) {
    EXPECT_NEAR(map(px[i]), value[i], 1e-3 * map.span)
        << panel.Attr("data-title") << ": tick " << labels[i]->text << " off the axis line";
  }
  return map;
}

struct Curve {
  std::string label;
  std::vector<double> x, y;  // data values
};

// The polylines of class "curve" in `panel`, mapped back to data values.
inline std::vector<Curve> ReadCurves(const Element& panel) {
  const AxisMap mx = ReadAxis(panel, "x"), my = ReadAxis(panel, "y");
  std::vector<Curve> curves;
  for (const Element* line : panel.All("polyline", "curve")) {
    Curve c;
    c.label = line->Attr("data-label");
    std::istringstream points(line->Attr("points"));
    std::string pair;
    while (points >> pair) {
      const size_t comma = pair.find(',');
      EXPECT_NE(comma, std::string::npos) << pair;
      if (comma == std::string::npos) break;
      c.x.push_back(mx(std::strtod(pair.substr(0, comma).c_str(), nullptr)));
      c.y.push_back(my(std::strtod(pair.substr(comma + 1).c_str(), nullptr)));
    }
    curves.push_back(std::move(c));
  }
  return curves;
}

}  // namespace onyx::plot_test
