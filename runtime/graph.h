// Onyx's graph IR: what the importer produces and the session runs. No protobuf
// types appear here; attribute defaults are applied by each kernel.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/data_type.h"
#include "runtime/tensor.h"

namespace onyx {

// The ONNX default domain; "ai.onnx" is normalized to this by the importer.
inline constexpr char kOnnxDomain[] = "";

enum class AttrType { kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings, kOther };

const char* AttrTypeName(AttrType type);

struct Attribute {
  std::string name;
  AttrType type = AttrType::kOther;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
};

// One dimension of a declared shape: a fixed size, a named symbol, or unknown.
struct Dim {
  int64_t value = -1;  // >= 0 when fixed
  std::string param;   // symbolic name ("batch") when not fixed; may be empty
  bool is_fixed() const { return value >= 0; }
};

struct ValueInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  bool has_shape = false;  // false: rank unknown
  std::vector<Dim> dims;
};

// "[batch,3,224,224]", "?" for unknown rank.
std::string DimsToString(const ValueInfo& info);

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;               // kOnnxDomain for the default domain
  std::vector<std::string> inputs;  // "" marks an omitted optional input
  std::vector<std::string> outputs; // "" marks an omitted optional output
  std::vector<Attribute> attributes;

  const Attribute* FindAttribute(std::string_view attr_name) const;
  // Typed attribute access with a default for absent attributes;
  // InvalidArgument naming node and attribute when the stored type differs.
  absl::StatusOr<float> GetFloat(std::string_view attr_name, float default_value) const;
  absl::StatusOr<int64_t> GetInt(std::string_view attr_name, int64_t default_value) const;
  absl::StatusOr<std::string> GetString(std::string_view attr_name,
                                        std::string default_value) const;
  absl::StatusOr<std::vector<int64_t>> GetInts(std::string_view attr_name,
                                               std::vector<int64_t> default_value) const;
  absl::StatusOr<std::vector<float>> GetFloats(std::string_view attr_name,
                                               std::vector<float> default_value) const;
  // "Relu node \"r1\"" for error messages.
  std::string Describe() const;
  int num_present_inputs() const;
};

struct Graph {
  std::string name;
  int64_t ir_version = 0;
  std::string producer_name;
  std::map<std::string, int64_t> opset_imports;  // domain ("" = ONNX) -> version
  std::vector<Node> nodes;
  std::vector<ValueInfo> inputs;   // as declared; may include initializer names
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> value_info;
  std::map<std::string, Tensor> initializers;

  // Graph inputs the caller must feed (declared inputs that are not initializers).
  std::vector<const ValueInfo*> FeedInputs() const;
  // Opset in force for `domain`, or -1 when the model does not import it.
  int64_t OpsetFor(const std::string& domain) const;
};

}  // namespace onyx
