// OpRegistry lookup: the version in force for a model's opset.
#include "runtime/op_registry.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx {

const char* DeviceName(Device device) {
  return device == Device::kCpu ? "cpu" : "cuda";
}

void OpRegistry::Register(std::string domain, std::string op_type, int since_version,
                          Device device, KernelFactory factory) {
  auto& list = entries_[{std::move(domain), std::move(op_type), device}];
  list.push_back({since_version, std::move(factory)});
  std::sort(list.begin(), list.end(),
            [](const Entry& a, const Entry& b) { return a.since_version < b.since_version; });
}

absl::StatusOr<const KernelFactory*> OpRegistry::Find(const std::string& domain,
                                                      const std::string& op_type,
                                                      int64_t opset, Device device) const {
  auto it = entries_.find({domain, op_type, device});
  const std::string shown_domain = domain.empty() ? "ai.onnx" : domain;
  if (it == entries_.end()) {
    if (Knows(domain, op_type)) {
      return absl::UnimplementedError(absl::StrFormat(
          "op %s (domain %s, opset %d) has no kernel for device %s", op_type,
          shown_domain, opset, DeviceName(device)));
    }
    return absl::UnimplementedError(absl::StrFormat(
        "op %s (domain %s, opset %d) is not supported", op_type, shown_domain, opset));
  }
  const Entry* best = nullptr;
  for (const Entry& e : it->second) {
    if (e.since_version <= opset) best = &e;
  }
  if (best == nullptr) {
    return absl::UnimplementedError(absl::StrFormat(
        "op %s (domain %s) has no kernel for opset %d on %s (earliest supported: %d)",
        op_type, shown_domain, opset, DeviceName(device), it->second.front().since_version));
  }
  return &best->factory;
}

absl::StatusOr<std::unique_ptr<Kernel>> OpRegistry::CreateKernel(const Node& node,
                                                                 int64_t opset,
                                                                 Device device) const {
  ONYX_ASSIGN_OR_RETURN(const KernelFactory* factory,
                        Find(node.domain, node.op_type, opset, device));
  return (*factory)(node, opset);
}

bool OpRegistry::Knows(const std::string& domain, const std::string& op_type) const {
  for (Device d : {Device::kCpu, Device::kCuda}) {
    if (entries_.contains({domain, op_type, d})) return true;
  }
  return false;
}

void OpRegistry::RegisterGradient(std::string domain, std::string op_type,
                                  GradientBuilder builder) {
  gradients_[{std::move(domain), std::move(op_type)}] = std::move(builder);
}

void OpRegistry::RegisterShapeFn(std::string domain, std::string op_type, ShapeFn fn) {
  shape_fns_[{std::move(domain), std::move(op_type)}] = std::move(fn);
}

const ShapeFn* OpRegistry::FindShapeFn(const std::string& domain,
                                       const std::string& op_type) const {
  auto it = shape_fns_.find({domain, op_type});
  return it == shape_fns_.end() ? nullptr : &it->second;
}

const GradientBuilder* OpRegistry::FindGradient(const std::string& domain,
                                                const std::string& op_type) const {
  auto it = gradients_.find({domain, op_type});
  return it == gradients_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::OpNames() const {
  std::set<std::string> names;
  for (const auto& [key, list] : entries_) {
    const auto& [domain, op_type, device] = key;
    names.insert(domain.empty() ? op_type : absl::StrCat(domain, ":", op_type));
  }
  return {names.begin(), names.end()};
}

}  // namespace onyx
