// Attribute access and small helpers of the graph IR.
#include "runtime/graph.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace onyx {

const char* AttrTypeName(AttrType type) {
  switch (type) {
    case AttrType::kFloat: return "float";
    case AttrType::kInt: return "int";
    case AttrType::kString: return "string";
    case AttrType::kTensor: return "tensor";
    case AttrType::kGraph: return "graph";
    case AttrType::kFloats: return "floats";
    case AttrType::kInts: return "ints";
    case AttrType::kStrings: return "strings";
    case AttrType::kOther: return "other";
  }
  return "other";
}

std::string DimsToString(const ValueInfo& info) {
  if (!info.has_shape) return "?";
  std::vector<std::string> parts;
  for (const Dim& d : info.dims) {
    parts.push_back(d.is_fixed() ? absl::StrCat(d.value) : (d.param.empty() ? "?" : d.param));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

const Attribute* Node::FindAttribute(std::string_view attr_name) const {
  for (const Attribute& a : attributes) {
    if (a.name == attr_name) return &a;
  }
  return nullptr;
}

std::string Node::Describe() const {
  return absl::StrFormat("%s node \"%s\"", op_type, name);
}

int Node::num_present_inputs() const {
  int count = 0;
  for (const auto& in : inputs) count += !in.empty();
  return count;
}

namespace {

absl::Status WrongType(const Node& node, const Attribute& attr, AttrType expected) {
  return absl::InvalidArgumentError(absl::StrFormat(
      "%s: attribute \"%s\" must be of type %s, got %s", node.Describe(), attr.name,
      AttrTypeName(expected), AttrTypeName(attr.type)));
}

}  // namespace

absl::StatusOr<float> Node::GetFloat(std::string_view attr_name, float default_value) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return default_value;
  if (a->type != AttrType::kFloat) return WrongType(*this, *a, AttrType::kFloat);
  return a->f;
}

absl::StatusOr<int64_t> Node::GetInt(std::string_view attr_name, int64_t default_value) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return default_value;
  if (a->type != AttrType::kInt) return WrongType(*this, *a, AttrType::kInt);
  return a->i;
}

absl::StatusOr<std::string> Node::GetString(std::string_view attr_name,
                                            std::string default_value) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return default_value;
  if (a->type != AttrType::kString) return WrongType(*this, *a, AttrType::kString);
  return a->s;
}

absl::StatusOr<std::vector<int64_t>> Node::GetInts(std::string_view attr_name,
                                                   std::vector<int64_t> default_value) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return default_value;
  if (a->type != AttrType::kInts) return WrongType(*this, *a, AttrType::kInts);
  return a->ints;
}

absl::StatusOr<std::vector<float>> Node::GetFloats(std::string_view attr_name,
                                                   std::vector<float> default_value) const {
  const Attribute* a = FindAttribute(attr_name);
  if (a == nullptr) return default_value;
  if (a->type != AttrType::kFloats) return WrongType(*this, *a, AttrType::kFloats);
  return a->floats;
}

std::vector<const ValueInfo*> Graph::FeedInputs() const {
  std::vector<const ValueInfo*> feeds;
  for (const ValueInfo& in : inputs) {
    if (!initializers.contains(in.name)) feeds.push_back(&in);
  }
  return feeds;
}

int64_t Graph::OpsetFor(const std::string& domain) const {
  auto it = opset_imports.find(domain);
  return it == opset_imports.end() ? -1 : it->second;
}

}  // namespace onyx
