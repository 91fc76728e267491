// Session: graph order and validation (runtime/graph_order.h), kernel creation,
// tensor lifetimes, and the run loop.
#include "runtime/session.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/passes/optimize_graph.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"

namespace onyx {
namespace {

// Prefixes a node's identity to a failing status, keeping its code.
absl::Status AtNode(const Node& node, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrFormat("%s: %s", node.Describe(), status.message()));
}

// One stderr line per op type that a device session runs on the CPU instead.
// `how`: "with copies" where device tensors move to the host and back, or
// "where its inputs are" for host inputs (integer shapes and indices).
void LogCpuFallbackOnce(const Node& node, Device device, absl::string_view why,
                        absl::string_view how = "with copies") {
  static std::mutex mu;
  static auto* logged = new absl::flat_hash_set<std::string>();
  std::lock_guard<std::mutex> lock(mu);
  if (logged->insert(node.domain + ":" + node.op_type).second) {
    std::fprintf(stderr, "onyx: %s runs on the CPU %s (no %s kernel: %s)\n",
                 node.op_type.c_str(), std::string(how).c_str(), DeviceName(device),
                 std::string(why).c_str());
  }
}

// The kWhereItIs rule (runtime/kernel.h): floating-point values are data and go
// to the device; integers (shapes, indices) stay where they are.
bool GoesToTheDevice(DataType dtype) {
  return dtype == DataType::kFloat32 || dtype == DataType::kFloat64 ||
         dtype == DataType::kFloat16 || dtype == DataType::kBFloat16;
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
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int id = step.inputs[i];
      if (id < 0) continue;
      InputMemory memory =
          step.on_device ? step.kernel->input_memory(static_cast<int>(i)) : InputMemory::kHost;
      if (memory == InputMemory::kWhereItIs) {
        memory = GoesToTheDevice(constants_[id].dtype()) ? InputMemory::kDevice
                                                         : InputMemory::kShapeOnly;
      }
      if (memory == InputMemory::kShapeOnly) continue;  // read where it is
      ++readers[id];
      if (memory == InputMemory::kHost) ++cpu_readers[id];
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
  if (options.device != Device::kCpu && options.backend == nullptr) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "device %s needs a device backend (built without it, or no device present)",
        DeviceName(options.device)));
  }
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

  const bool device_session = options_.device != Device::kCpu;
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
    output_on_device_.push_back(std::find(options_.device_outputs.begin(),
                                          options_.device_outputs.end(),
                                          out.name) != options_.device_outputs.end());
  }
  for (const std::string& name : options_.device_outputs) {
    if (!device_session) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "output \"%s\" cannot stay on the device: this session runs on the CPU", name));
    }
    if (std::none_of(graph_.outputs.begin(), graph_.outputs.end(),
                     [&](const ValueInfo& v) { return v.name == name; })) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "\"%s\" (asked to stay on the device) is not an output of this graph", name));
    }
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

  is_constant_.assign(value_names_.size(), false);
  for (const auto& [name, tensor] : graph_.initializers) {
    is_constant_[value_ids_[name]] = true;
    memory_stats_.initializer_bytes += static_cast<int64_t>(tensor.byte_size());
  }
  const bool reuse = options_.reuse_buffers;
  blocked_layouts_ = options_.blocked_layouts && options_.opt_level >= 1 && !device_session;

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
    step.node = &node;  // graph_.nodes is not resized after this point
    auto kernel = device_session
                      ? CreateDeviceOrCpuKernel(registry, node, opset, step.on_device)
                      : registry.CreateKernel(node, opset, Device::kCpu);
    if (!kernel.ok()) return AtNode(node, kernel.status());
    step.kernel = std::move(kernel).value();
    step.accepts_blocked = step.kernel->AcceptsBlockedInputs();
    if (step.on_device) {  // for inputs the device kernel turns down at run time
      auto cpu_kernel = registry.CreateKernel(node, opset, Device::kCpu);
      if (cpu_kernel.ok()) step.cpu_kernel = std::move(cpu_kernel).value();
    }
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
    step.first_input = num_input_slots_;
    step.first_output = num_output_slots_;
    num_input_slots_ += static_cast<int>(step.inputs.size());
    num_output_slots_ += static_cast<int>(step.outputs.size());
    steps_.push_back(std::move(step));
  }
  if (device_session) ONYX_RETURN_IF_ERROR(UploadDeviceOnlyConstants());
  return absl::OkStatus();
}

absl::Status Session::CheckFeeds(const NamedTensors& feeds, RunState& state) {
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
    if (tensor.on_device() && options_.backend == nullptr) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "input \"%s\" is device memory, but this session runs on the CPU", name));
    }
    state.values[it->second] = tensor;
  }
  for (int id : feed_ids_) {
    if (state.values[id].empty()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("input \"%s\" was not given", value_names_[id]));
    }
  }
  return absl::OkStatus();
}

std::unique_ptr<Session::RunState> Session::AcquireRunState() {
  {
    std::lock_guard<std::mutex> lock(states_mu_);
    if (!idle_states_.empty()) {
      std::unique_ptr<RunState> state = std::move(idle_states_.back());
      idle_states_.pop_back();
      return state;
    }
  }
  // First run, or every idle state is in use by a concurrent run.
  auto state = std::make_unique<RunState>();
  state->values.resize(value_names_.size());
  state->input_ptrs.resize(num_input_slots_);
  state->output_tensors.resize(num_output_slots_);
  return state;
}

void Session::ReleaseRunState(std::unique_ptr<RunState> state) {
  std::lock_guard<std::mutex> lock(states_mu_);
  idle_states_.push_back(std::move(state));
}

SessionMemoryStats Session::memory_stats() const {
  std::lock_guard<std::mutex> lock(states_mu_);
  return memory_stats_;
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const NamedTensors& feeds,
                                                 RunObserver* observer) {
  // Device kernels share one stream and the backend's allocator: one run at a time.
  std::unique_lock<std::mutex> device_lock;
  if (options_.backend != nullptr) device_lock = std::unique_lock<std::mutex>(device_run_mu_);
  std::unique_ptr<RunState> state = AcquireRunState();
  absl::StatusOr<std::vector<Tensor>> results = RunWith(*state, feeds, observer);
  ReleaseRunState(std::move(state));
  return results;
}

bool Session::budgeted() const {
  return options_.max_memory_bytes < std::numeric_limits<int64_t>::max();
}

absl::StatusOr<std::vector<Tensor>> Session::RunWith(RunState& state, const NamedTensors& feeds,
                                                     RunObserver* observer) {
  // Outputs of this state's previous run whose caller has let go become free buffers.
  for (Tensor& t : state.last_outputs) Recycle(state, t);  // host buffers only
  state.last_outputs.clear();

  absl::Status status = CheckFeeds(feeds, state);
  if (status.ok() && budgeted()) {
    // Memory accounting only when a cap is set, so the default run pays nothing.
    state.account.Clear();
    for (const Tensor& t : constants_) state.account.Hold(t);
    for (const Tensor& t : state.values) state.account.Hold(t);
    if (state.account.live_bytes() > options_.max_memory_bytes) {
      status = absl::ResourceExhaustedError(absl::StrFormat(
          "initializers and inputs hold %d bytes, more than the %d-byte memory limit",
          state.account.live_bytes(), options_.max_memory_bytes));
    }
  }
  if (status.ok()) status = RunSteps(state, observer);
  std::vector<Tensor> results;
  if (status.ok()) {
    results.reserve(output_ids_.size());
    for (size_t o = 0; o < output_ids_.size(); ++o) {
      const int id = output_ids_[o];
      if (!is_constant_[id] && !state.values[id].is_plain()) {  // graph outputs are plain
        status = MakePlain(state, state.values[id]);
        if (!status.ok()) break;
      }
      const Tensor& value = is_constant_[id] ? constants_[id] : state.values[id];
      if (value.on_device() == output_on_device_[o]) {
        results.push_back(value);
        continue;
      }
      auto moved = output_on_device_[o] ? options_.backend->ToDevice(value)
                                        : options_.backend->ToHost(value);
      if (!moved.ok()) {
        status = moved.status();
        break;
      }
      results.push_back(*std::move(moved));
    }
    // Asynchronous device failures surface here rather than in a later run.
    if (status.ok() && options_.backend != nullptr) status = options_.backend->Synchronize();
    if (status.ok() && options_.reuse_buffers) state.last_outputs = results;
  }
  EndRun(state);
  if (!status.ok()) return status;
  return results;
}

absl::Status Session::RunSteps(RunState& state, RunObserver* observer) {
  const bool budget = budgeted();
  for (Step& step : steps_) {
    const Node& node = *step.node;
    absl::Span<Tensor> outputs(state.output_tensors.data() + step.first_output,
                               step.outputs.size());
    int64_t memory_left = options_.max_memory_bytes - state.account.live_bytes();
    int64_t* budget_left = budget ? &memory_left : nullptr;
    std::chrono::steady_clock::time_point start;
    if (observer != nullptr) start = std::chrono::steady_clock::now();
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(*step.kernel_lock);
      status = ComputeStep(state, step, *step.kernel, step.on_device, budget_left);
      // A device kernel that does not take these inputs (a dtype it lacks)
      // says Unimplemented before touching anything: run the CPU kernel instead.
      if (step.on_device && absl::IsUnimplemented(status) && step.cpu_kernel != nullptr) {
        bool copies = false;
        for (size_t i = 0; i < step.inputs.size(); ++i) {
          const Tensor* input = state.input_ptrs[step.first_input + i];
          copies = copies || (input != nullptr && input->on_device());
        }
        LogCpuFallbackOnce(node, options_.device, status.message(),
                           copies ? "with copies" : "where its inputs are");
        for (Tensor& t : outputs) t = Tensor();
        memory_left = options_.max_memory_bytes - state.account.live_bytes();
        status = ComputeStep(state, step, *step.cpu_kernel, /*on_device=*/false, budget_left);
      }
    }
    if (!status.ok()) {
      for (Tensor& t : outputs) t = Tensor();
      // Kernels that already name their node are left as they are.
      if (absl::StrContains(status.message(), node.Describe())) return status;
      return AtNode(node, status);
    }
    if (observer != nullptr) {
      // A device kernel only queues work: wait for it when the observer asks.
      if (step.on_device && options_.backend != nullptr && observer->WantsDeviceTime()) {
        ONYX_RETURN_IF_ERROR(AtNode(node, options_.backend->Synchronize()));
      }
      observer->OnNode(node,
                       absl::MakeConstSpan(state.input_ptrs.data() + step.first_input,
                                           step.inputs.size()),
                       outputs, start, std::chrono::steady_clock::now());
    }
    for (int id : step.release) {
      if (budget) state.account.Drop(state.values[id]);
      Recycle(state, state.values[id]);
    }
    for (size_t o = 0; o < step.outputs.size(); ++o) {
      Tensor& out = outputs[o];
      if (step.outputs[o] < 0) {
        out = Tensor();  // an output the graph does not name
        continue;
      }
      if (out.empty()) {
        return AtNode(node, absl::InternalError(absl::StrFormat(
                                "kernel did not produce output %d (\"%s\")", o,
                                node.outputs[o])));
      }
      if (budget) state.account.Hold(out);
      state.values[step.outputs[o]] = std::move(out);
      out = Tensor();
    }
    // Outputs a kernel made without AllocateOutput (views, constants) count too.
    if (budget && state.account.live_bytes() > options_.max_memory_bytes) {
      return AtNode(node, absl::ResourceExhaustedError(absl::StrFormat(
                              "live tensors reach %d bytes, more than the %d-byte memory limit",
                              state.account.live_bytes(), options_.max_memory_bytes)));
    }
  }
  return absl::OkStatus();
}

absl::Status Session::PlaceInputs(RunState& state, const Step& step, const Kernel& kernel,
                                  bool on_device) {
  const Tensor** input_ptrs = state.input_ptrs.data() + step.first_input;
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    const int id = step.inputs[i];
    if (id < 0) {
      input_ptrs[i] = nullptr;
      continue;
    }
    const Tensor* t = is_constant_[id] ? &constants_[id] : &state.values[id];
    InputMemory memory = on_device ? kernel.input_memory(static_cast<int>(i)) : InputMemory::kHost;
    if (memory == InputMemory::kWhereItIs && GoesToTheDevice(t->dtype())) {
      memory = InputMemory::kDevice;
    }
    const bool wants_device = memory == InputMemory::kDevice;
    const bool stays = memory == InputMemory::kShapeOnly || memory == InputMemory::kWhereItIs;
    if (!t->empty() && !stays && t->on_device() != wants_device) {
      // The moved copy lands in the run's values (for a constant: a copy for
      // this run), so later readers on the same side reuse it.
      Tensor& moved = state.values[id];
      if (moved.empty() || moved.on_device() != wants_device) {
        ONYX_ASSIGN_OR_RETURN(Tensor copy, wants_device ? options_.backend->ToDevice(*t)
                                                        : options_.backend->ToHost(*t));
        if (budgeted()) {
          state.account.Drop(moved);
          state.account.Hold(copy);
        }
        Recycle(state, moved);
        moved = std::move(copy);
      }
      t = &moved;
    }
    input_ptrs[i] = t->empty() ? nullptr : t;
  }
  return absl::OkStatus();
}

absl::Status Session::ComputeStep(RunState& state, const Step& step, Kernel& kernel,
                                  bool on_device, int64_t* memory_left) {
  const Tensor** input_ptrs = state.input_ptrs.data() + step.first_input;
  if (options_.backend != nullptr) {
    ONYX_RETURN_IF_ERROR(PlaceInputs(state, step, kernel, on_device));
  } else {
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const int id = step.inputs[i];
      const Tensor* t = id < 0 ? nullptr : is_constant_[id] ? &constants_[id] : &state.values[id];
      // Blocked values reach only kernels that opt in; the plain copy replaces
      // the value, so later plain readers share it.
      if (t != nullptr && !t->is_plain() && !step.accepts_blocked) {
        ONYX_RETURN_IF_ERROR(MakePlain(state, state.values[id]));
      }
      input_ptrs[i] = t == nullptr || t->empty() ? nullptr : t;
    }
  }
  KernelContext ctx(*step.node, absl::MakeConstSpan(input_ptrs, step.inputs.size()),
                    absl::MakeConstSpan(step.input_dies.get(), step.inputs.size()),
                    absl::MakeSpan(state.output_tensors.data() + step.first_output,
                                   step.outputs.size()),
                    options_.max_tensor_bytes, memory_left);
  if (on_device) {
    ctx.set_backend(options_.backend.get());
  } else if (options_.reuse_buffers) {
    ctx.set_pool(&state.pool);
  }
  ctx.set_blocked_outputs_allowed(blocked_layouts_);
  return kernel.Compute(ctx);
}

absl::Status Session::MakePlain(RunState& state, Tensor& value) {
  ONYX_ASSIGN_OR_RETURN(Tensor plain,
                        EnsurePlain(value, options_.reuse_buffers ? &state.pool : nullptr,
                                    options_.max_tensor_bytes));
  Recycle(state, value);
  value = std::move(plain);
  return absl::OkStatus();
}

void Session::Recycle(RunState& state, Tensor& tensor) {
  // Device buffers belong to the backend's allocator, never to the host pool.
  if (options_.reuse_buffers && !tensor.on_device()) {
    state.pool.Give(tensor);
  } else {
    tensor = Tensor();
  }
}

void Session::EndRun(RunState& state) {
  // Values still held (graph outputs, feeds, results of a failed run) are dropped;
  // sole-owned ones go back to the pool.
  for (Tensor& t : state.values) {
    if (!t.empty()) Recycle(state, t);
  }
  const int64_t fresh_allocations = state.pool.fresh_allocations();
  const int64_t fresh_bytes = state.pool.fresh_bytes();
  state.pool.EndRun();
  int64_t held = state.pool.free_bytes();
  for (const Tensor& t : state.last_outputs) held += static_cast<int64_t>(t.storage_bytes());
  std::lock_guard<std::mutex> lock(states_mu_);
  memory_stats_.fresh_allocations = fresh_allocations;
  memory_stats_.fresh_bytes = fresh_bytes;
  memory_stats_.arena_bytes = held;
}

}  // namespace onyx
