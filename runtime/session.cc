// Session: graph order and validation (runtime/graph_order.h), kernel creation,
// tensor lifetimes, and the run loop.
#include "runtime/session.h"

#include <algorithm>
#include <cstdio>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// Prefixes a node's identity to a failing status, keeping its code.
absl::Status AtNode(const Node& node, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrFormat("%s: %s", node.Describe(), status.message()));
}

// One stderr line per op type that a device session runs on the CPU instead.
void LogCpuFallbackOnce(const Node& node, Device device, absl::string_view why) {
  static std::mutex mu;
  static auto* logged = new absl::flat_hash_set<std::string>();
  std::lock_guard<std::mutex> lock(mu);
  if (logged->insert(node.domain + ":" + node.op_type).second) {
    std::fprintf(stderr, "onyx: %s runs on the CPU with copies (no %s kernel: %s)\n",
                 node.op_type.c_str(), DeviceName(device), std::string(why).c_str());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> Session::CreateDeviceOrCpuKernel(
    const OpRegistry& registry, const Node& node, int64_t opset, bool& on_device) const {
  auto kernel = registry.CreateKernel(node, opset, options_.device);
  on_device = kernel.ok();
  if (kernel.ok()) return kernel;
  LogCpuFallbackOnce(node, options_.device, kernel.status().message());
  return registry.CreateKernel(node, opset, Device::kCpu);
}

// Initializers read only by device kernels are copied to the device once.
absl::Status Session::UploadDeviceOnlyConstants() {
  std::vector<int> readers(constants_.size(), 0), cpu_readers(constants_.size(), 0);
  for (const Step& step : steps_) {
    for (int id : step.inputs) {
      if (id < 0) continue;
      ++readers[id];
      if (!step.on_device) ++cpu_readers[id];
    }
  }
  for (size_t id = 0; id < constants_.size(); ++id) {
    if (constants_[id].empty() || readers[id] == 0 || cpu_readers[id] > 0) continue;
    ONYX_ASSIGN_OR_RETURN(constants_[id], options_.backend->ToDevice(constants_[id]));
  }
  return absl::OkStatus();
}

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

  const bool device_session = options_.device != Device::kCpu;
  if (device_session && options_.backend == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "device %s needs a device backend (built without it, or no device present)",
        DeviceName(options_.device)));
  }
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
  for (const auto& [name, tensor] : graph_.initializers) constants_[value_ids_[name]] = tensor;

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
    Step step;
    step.node_index = order_[s];
    auto kernel = device_session
                      ? CreateDeviceOrCpuKernel(registry, node, opset, step.on_device)
                      : registry.CreateKernel(node, opset, Device::kCpu);
    if (!kernel.ok()) return AtNode(node, kernel.status());
    step.kernel = std::move(kernel).value();
    if (step.on_device) {  // for inputs the device kernel turns down at run time
      auto cpu_kernel = registry.CreateKernel(node, opset, Device::kCpu);
      if (cpu_kernel.ok()) step.cpu_kernel = std::move(cpu_kernel).value();
    }
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
  if (device_session) ONYX_RETURN_IF_ERROR(UploadDeviceOnlyConstants());
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

absl::Status Session::RunStep(const Step& step, Kernel& kernel, bool on_device,
                              std::vector<Tensor>& values, std::vector<Tensor>& outputs) const {
  const Node& node = graph_.nodes[step.node_index];
  // Device sessions: move each input to where this step runs; the moved copy
  // replaces the value, so later readers on the same side reuse it.
  for (int id : step.inputs) {
    if (id < 0 || values[id].empty() || values[id].on_device() == on_device) continue;
    ONYX_ASSIGN_OR_RETURN(values[id], on_device ? options_.backend->ToDevice(values[id])
                                                : options_.backend->ToHost(values[id]));
  }
  std::vector<const Tensor*> inputs;
  for (int id : step.inputs) {
    inputs.push_back(id < 0 || values[id].empty() ? nullptr : &values[id]);
  }
  outputs.assign(step.outputs.size(), Tensor());
  // std::vector<bool> has no contiguous storage: copy into a plain array.
  std::unique_ptr<bool[]> dies(new bool[step.input_dies.size() + 1]);
  for (size_t i = 0; i < step.input_dies.size(); ++i) dies[i] = step.input_dies[i];
  KernelContext ctx(node, inputs, absl::MakeConstSpan(dies.get(), step.input_dies.size()),
                    absl::MakeSpan(outputs), options_.max_tensor_bytes);
  if (on_device) ctx.set_backend(options_.backend.get());
  return kernel.Compute(ctx);
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const NamedTensors& feeds) {
  std::vector<Tensor> values = constants_;
  ONYX_RETURN_IF_ERROR(CheckFeeds(feeds, values));

  std::vector<Tensor> outputs;
  for (Step& step : steps_) {
    const Node& node = graph_.nodes[step.node_index];
    absl::Status status = RunStep(step, *step.kernel, step.on_device, values, outputs);
    // A device kernel that does not take these inputs (a dtype it lacks)
    // says Unimplemented before touching anything: run the CPU kernel instead.
    if (step.on_device && absl::IsUnimplemented(status) && step.cpu_kernel != nullptr) {
      LogCpuFallbackOnce(node, options_.device, status.message());
      status = RunStep(step, *step.cpu_kernel, /*on_device=*/false, values, outputs);
    }
    if (!status.ok()) {
      // Kernels that already name their node are left as they are.
      if (absl::StrContains(status.message(), node.Describe())) return status;
      return AtNode(node, status);
    }
    for (int id : step.release) values[id] = Tensor();
    for (size_t o = 0; o < step.outputs.size(); ++o) {
      if (step.outputs[o] < 0) continue;
      if (outputs[o].empty()) {
        return AtNode(node, absl::InternalError(absl::StrFormat(
                                "kernel did not produce output %d (\"%s\")", o,
                                node.outputs[o])));
      }
      values[step.outputs[o]] = std::move(outputs[o]);
    }
  }

  std::vector<Tensor> results;
  results.reserve(output_ids_.size());
  for (int id : output_ids_) {
    if (values[id].on_device()) {
      ONYX_ASSIGN_OR_RETURN(Tensor host, options_.backend->ToHost(values[id]));
      results.push_back(std::move(host));
    } else {
      results.push_back(values[id]);
    }
  }
  // Asynchronous device failures surface here rather than in a later run.
  if (options_.backend != nullptr) ONYX_RETURN_IF_ERROR(options_.backend->Synchronize());
  return results;
}

}  // namespace onyx
