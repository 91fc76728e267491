// Session: graph order and validation (runtime/graph_order.h), kernel creation,
// tensor lifetimes, and the run loop.
#include "runtime/session.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/memory_account.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// Prefixes a node's identity to a failing status, keeping its code.
absl::Status AtNode(const Node& node, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrFormat("%s: %s", node.Describe(), status.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Session>> Session::Create(Graph graph,
                                                         const OpRegistry& registry,
                                                         SessionOptions options) {
  std::unique_ptr<Session> session(new Session());
  session->graph_ = std::move(graph);
  session->options_ = options;
  ONYX_RETURN_IF_ERROR(session->Plan(registry));
  return session;
}

absl::Status Session::Plan(const OpRegistry& registry) {
  auto add_value = [&](const std::string& name) {
    auto [it, inserted] = value_ids_.try_emplace(name, static_cast<int>(value_names_.size()));
    if (inserted) value_names_.push_back(name);
    return it->second;
  };

  ONYX_ASSIGN_OR_RETURN(order_, TopologicalOrder(graph_));
  // A model whose shapes cannot fit fails here, with the node named.
  ONYX_RETURN_IF_ERROR(InferShapes(graph_, registry));
  for (const auto& [name, tensor] : graph_.initializers) add_value(name);
  for (const ValueInfo& in : graph_.inputs) add_value(in.name);
  for (const Node& node : graph_.nodes) {
    for (const std::string& out : node.outputs) {
      if (!out.empty()) add_value(out);
    }
  }

  for (const ValueInfo& out : graph_.outputs) {
    auto it = value_ids_.find(out.name);
    if (it == value_ids_.end()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("graph output \"%s\" is never produced", out.name));
    }
    output_ids_.push_back(it->second);
  }
  for (const ValueInfo* in : graph_.FeedInputs()) feed_ids_.push_back(value_ids_[in->name]);
  constants_.resize(value_names_.size());
  int64_t constant_bytes = 0;
  for (const auto& [name, tensor] : graph_.initializers) {
    constants_[value_ids_[name]] = tensor;
    constant_bytes += static_cast<int64_t>(tensor.byte_size());
  }
  if (constant_bytes > options_.max_memory_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "the model's initializers hold %d bytes, more than the %d-byte memory limit",
        constant_bytes, options_.max_memory_bytes));
  }

  // Last use of each value; graph outputs and constants are never released.
  std::vector<int> last_use(value_names_.size(), -1);
  for (size_t s = 0; s < order_.size(); ++s) {
    for (const std::string& in : graph_.nodes[order_[s]].inputs) {
      if (!in.empty()) last_use[value_ids_[in]] = static_cast<int>(s);
    }
  }
  absl::flat_hash_set<int> kept(output_ids_.begin(), output_ids_.end());

  steps_.reserve(order_.size());
  for (size_t s = 0; s < order_.size(); ++s) {
    const Node& node = graph_.nodes[order_[s]];
    const int64_t opset = graph_.OpsetFor(node.domain);
    if (opset < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: the model imports no opset for domain \"%s\"", node.Describe(),
          node.domain.empty() ? "ai.onnx" : node.domain));
    }
    // Fuzz finding: kernels write output 0 unconditionally; every ONNX op has one.
    if (node.outputs.empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s has no outputs (every op needs at least one)", node.Describe()));
    }
    Step step;
    step.node_index = order_[s];
    auto kernel = registry.CreateKernel(node, opset, options_.device);
    if (!kernel.ok()) return AtNode(node, kernel.status());
    step.kernel = std::move(kernel).value();
    for (const std::string& in : node.inputs) {
      const int id = in.empty() ? -1 : value_ids_[in];
      step.inputs.push_back(id);
      const bool dies = id >= 0 && last_use[id] == static_cast<int>(s) && !kept.contains(id) &&
                        constants_[id].empty();
      step.input_dies.push_back(dies);
      if (dies && std::find(step.release.begin(), step.release.end(), id) == step.release.end()) {
        step.release.push_back(id);
      }
    }
    for (const std::string& out : node.outputs) {
      step.outputs.push_back(out.empty() ? -1 : value_ids_[out]);
    }
    steps_.push_back(std::move(step));
  }
  return absl::OkStatus();
}

absl::Status Session::CheckFeeds(const NamedTensors& feeds, std::vector<Tensor>& values) const {
  absl::flat_hash_map<std::string, int64_t> symbols;  // symbolic dim -> bound size
  const std::vector<const ValueInfo*> declared = graph_.FeedInputs();
  for (const auto& [name, tensor] : feeds) {
    auto it = value_ids_.find(name);
    const ValueInfo* info = nullptr;
    for (const ValueInfo* d : declared) {
      if (d->name == name) info = d;
    }
    if (it == value_ids_.end() || info == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("\"%s\" is not an input of this model", name));
    }
    if (info->dtype != DataType::kUndefined && tensor.dtype() != info->dtype) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "input \"%s\" must have dtype %s, got %s", name, DataTypeName(info->dtype),
          DataTypeName(tensor.dtype())));
    }
    if (info->has_shape) {
      if (tensor.rank() != static_cast<int>(info->dims.size())) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "input \"%s\" must have rank %d (shape %s), got shape %s", name,
            info->dims.size(), DimsToString(*info), ShapeToString(tensor.shape())));
      }
      for (int d = 0; d < tensor.rank(); ++d) {
        const Dim& dim = info->dims[d];
        const int64_t actual = tensor.dim(d);
        if (dim.is_fixed() && dim.value != actual) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "input \"%s\" dim %d must be %d (shape %s), got shape %s", name, d, dim.value,
              DimsToString(*info), ShapeToString(tensor.shape())));
        }
        if (!dim.is_fixed() && !dim.param.empty()) {
          auto [bound, inserted] = symbols.try_emplace(dim.param, actual);
          if (!inserted && bound->second != actual) {
            return absl::InvalidArgumentError(absl::StrFormat(
                "input \"%s\" dim %d (\"%s\") is %d, but another input bound \"%s\" to %d",
                name, d, dim.param, actual, dim.param, bound->second));
          }
        }
      }
    }
    values[it->second] = tensor;
  }
  for (int id : feed_ids_) {
    if (values[id].empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("input \"%s\" was not given", value_names_[id]));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const NamedTensors& feeds) {
  std::vector<Tensor> values = constants_;
  ONYX_RETURN_IF_ERROR(CheckFeeds(feeds, values));
  // Memory accounting only when a cap is set, so the default run pays nothing.
  const bool budgeted = options_.max_memory_bytes < std::numeric_limits<int64_t>::max();
  MemoryAccount account;
  if (budgeted) {
    for (const Tensor& t : values) account.Hold(t);
    if (account.live_bytes() > options_.max_memory_bytes) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "initializers and inputs hold %d bytes, more than the %d-byte memory limit",
          account.live_bytes(), options_.max_memory_bytes));
    }
  }

  std::vector<const Tensor*> inputs;
  std::vector<Tensor> outputs;
  std::vector<bool> dies_storage;
  for (Step& step : steps_) {
    const Node& node = graph_.nodes[step.node_index];
    inputs.clear();
    for (int id : step.inputs) {
      inputs.push_back(id < 0 || values[id].empty() ? nullptr : &values[id]);
    }
    outputs.assign(step.outputs.size(), Tensor());
    // std::vector<bool> has no contiguous storage: copy into a plain array.
    std::unique_ptr<bool[]> dies(new bool[step.input_dies.size() + 1]);
    for (size_t i = 0; i < step.input_dies.size(); ++i) dies[i] = step.input_dies[i];
    int64_t memory_left = options_.max_memory_bytes - account.live_bytes();
    KernelContext ctx(node, inputs, absl::MakeConstSpan(dies.get(), step.input_dies.size()),
                      absl::MakeSpan(outputs), options_.max_tensor_bytes,
                      budgeted ? &memory_left : nullptr);
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(*step.kernel_lock);
      status = step.kernel->Compute(ctx);
    }
    if (!status.ok()) {
      // Kernels that already name their node are left as they are.
      if (absl::StrContains(status.message(), node.Describe())) return status;
      return AtNode(node, status);
    }
    for (int id : step.release) {
      if (budgeted) account.Drop(values[id]);
      values[id] = Tensor();
    }
    for (size_t o = 0; o < step.outputs.size(); ++o) {
      if (step.outputs[o] < 0) continue;
      if (outputs[o].empty()) {
        return AtNode(node, absl::InternalError(absl::StrFormat(
                                "kernel did not produce output %d (\"%s\")", o,
                                node.outputs[o])));
      }
      if (budgeted) account.Hold(outputs[o]);
      values[step.outputs[o]] = std::move(outputs[o]);
    }
    // Outputs a kernel made without AllocateOutput (views, constants) count too.
    if (budgeted && account.live_bytes() > options_.max_memory_bytes) {
      return AtNode(node, absl::ResourceExhaustedError(absl::StrFormat(
                              "live tensors reach %d bytes, more than the %d-byte memory limit",
                              account.live_bytes(), options_.max_memory_bytes)));
    }
  }

  std::vector<Tensor> results;
  results.reserve(output_ids_.size());
  for (int id : output_ids_) results.push_back(values[id]);
  return results;
}

}  // namespace onyx
