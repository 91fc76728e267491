// Session: graph order and validation (runtime/graph_order.h), kernel creation,
// tensor lifetimes, and the run loop.
#include "runtime/session.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/passes/optimize_graph.h"
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
  ONYX_RETURN_IF_ERROR(
      OptimizeGraph(session->graph_, registry, options.opt_level, options.device));
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
  for (const auto& [name, tensor] : graph_.initializers) constants_[value_ids_[name]] = tensor;

  // Last use of each value; graph outputs and constants are never released.
  std::vector<int> last_use(value_names_.size(), -1);
  for (size_t s = 0; s < order_.size(); ++s) {
    for (const std::string& in : graph_.nodes[order_[s]].inputs) {
      if (!in.empty()) last_use[value_ids_[in]] = static_cast<int>(s);
    }
  }
  absl::flat_hash_set<int> kept(output_ids_.begin(), output_ids_.end());

  is_constant_.assign(value_names_.size(), false);
  for (const auto& [name, tensor] : graph_.initializers) {
    is_constant_[value_ids_[name]] = true;
    memory_stats_.initializer_bytes += static_cast<int64_t>(tensor.byte_size());
  }
  values_.resize(value_names_.size());
  const bool reuse = options_.reuse_buffers;

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
    step.node = &node;  // graph_.nodes is not resized after this point
    auto kernel = registry.CreateKernel(node, opset, options_.device);
    if (!kernel.ok()) return AtNode(node, kernel.status());
    step.kernel = std::move(kernel).value();
    step.input_dies.reset(new bool[node.inputs.size() + 1]);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const std::string& in = node.inputs[i];
      const int id = in.empty() ? -1 : value_ids_[in];
      step.inputs.push_back(id);
      const bool dies = id >= 0 && last_use[id] == static_cast<int>(s) && !kept.contains(id) &&
                        !is_constant_[id];
      step.input_dies[i] = dies && reuse;
      if (dies && std::find(step.release.begin(), step.release.end(), id) == step.release.end()) {
        step.release.push_back(id);
      }
    }
    for (const std::string& out : node.outputs) {
      step.outputs.push_back(out.empty() ? -1 : value_ids_[out]);
    }
    step.input_ptrs.resize(step.inputs.size());
    step.output_tensors.resize(step.outputs.size());
    steps_.push_back(std::move(step));
  }
  return absl::OkStatus();
}

absl::Status Session::CheckFeeds(const NamedTensors& feeds) {
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
    values_[it->second] = tensor;
  }
  for (int id : feed_ids_) {
    if (values_[id].empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("input \"%s\" was not given", value_names_[id]));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const NamedTensors& feeds,
                                                 RunObserver* observer) {
  // Outputs of the previous run whose caller has let go become free buffers.
  for (Tensor& t : last_outputs_) pool_.Give(t);
  last_outputs_.clear();

  absl::Status status = CheckFeeds(feeds);
  if (status.ok()) status = RunSteps(observer);
  std::vector<Tensor> results;
  if (status.ok()) {
    results.reserve(output_ids_.size());
    for (int id : output_ids_) {
      results.push_back(is_constant_[id] ? constants_[id] : values_[id]);
    }
    if (options_.reuse_buffers) last_outputs_ = results;
  }
  EndRun();
  if (!status.ok()) return status;
  return results;
}

absl::Status Session::RunSteps(RunObserver* observer) {
  const bool reuse = options_.reuse_buffers;
  for (Step& step : steps_) {
    const Node& node = *step.node;
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int id = step.inputs[i];
      const Tensor* t = id < 0 ? nullptr : is_constant_[id] ? &constants_[id] : &values_[id];
      step.input_ptrs[i] = t == nullptr || t->empty() ? nullptr : t;
    }
    KernelContext ctx(node, step.input_ptrs,
                      absl::MakeConstSpan(step.input_dies.get(), step.inputs.size()),
                      absl::MakeSpan(step.output_tensors), options_.max_tensor_bytes);
    if (reuse) ctx.set_pool(&pool_);
    std::chrono::steady_clock::time_point start;
    if (observer != nullptr) start = std::chrono::steady_clock::now();
    absl::Status status = step.kernel->Compute(ctx);
    if (!status.ok()) {
      for (Tensor& t : step.output_tensors) t = Tensor();
      // Kernels that already name their node are left as they are.
      if (absl::StrContains(status.message(), node.Describe())) return status;
      return AtNode(node, status);
    }
    if (observer != nullptr) {
      observer->OnNode(node, step.input_ptrs, step.output_tensors, start,
                       std::chrono::steady_clock::now());
    }
    for (int id : step.release) {
      if (reuse) {
        pool_.Give(values_[id]);
      } else {
        values_[id] = Tensor();
      }
    }
    for (size_t o = 0; o < step.outputs.size(); ++o) {
      Tensor& out = step.output_tensors[o];
      if (step.outputs[o] < 0) {
        out = Tensor();  // an output the graph does not name
        continue;
      }
      if (out.empty()) {
        return AtNode(node, absl::InternalError(absl::StrFormat(
                                "kernel did not produce output %d (\"%s\")", o,
                                node.outputs[o])));
      }
      values_[step.outputs[o]] = std::move(out);
      out = Tensor();
    }
  }
  return absl::OkStatus();
}

void Session::EndRun() {
  // Values still held (graph outputs, feeds, results of a failed run) are dropped;
  // sole-owned ones go back to the pool.
  const bool reuse = options_.reuse_buffers;
  for (Tensor& t : values_) {
    if (t.empty()) continue;
    if (reuse) {
      pool_.Give(t);
    } else {
      t = Tensor();
    }
  }
  memory_stats_.fresh_allocations = pool_.fresh_allocations();
  memory_stats_.fresh_bytes = pool_.fresh_bytes();
  pool_.EndRun();
  int64_t held = pool_.free_bytes();
  for (const Tensor& t : last_outputs_) held += static_cast<int64_t>(t.byte_size());
  memory_stats_.arena_bytes = held;
}

}  // namespace onyx
