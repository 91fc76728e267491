// Graphs of the CUDA coverage and whole-graph tests: the training graph the
// trainer builds (runtime/training/trainer.cc: float32 initializers become
// inputs, a "target" input, a com.onyx loss node, then BuildGradientGraph) and
// a small CNN (Conv, Relu, MaxPool, Conv, Clip, GlobalAveragePool, Flatten,
// Gemm).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "runtime/graph.h"
#include "runtime/training/autograd.h"
#include "tests/unit/common/run_node.h"

namespace onyx::gpu_test {

struct TrainingGraph {
  GradientGraph grad;
  std::vector<std::string> params;  // the trained initializers (now graph inputs)
};

// `model` with a com.onyx `loss_op` (reduction mean) on its first output
// against input "target" of `target_dtype`, and the backward to every float32
// initializer the loss depends on (the others stay initializers).
inline absl::StatusOr<TrainingGraph> BuildTrainingGraph(Graph model, const std::string& loss_op,
                                                        DataType target_dtype) {
  Graph train = model;
  std::vector<std::string> candidates;
  for (const auto& [name, tensor] : model.initializers) {
    if (tensor.dtype() == DataType::kFloat32) candidates.push_back(name);
  }
  for (const std::string& name : candidates) {
    train.inputs.push_back(testing_util::InputInfo(name, train.initializers[name]));
    train.initializers.erase(name);
  }
  ValueInfo target;
  target.name = "target";
  target.dtype = target_dtype;
  train.inputs.push_back(target);
  train.nodes.push_back(testing_util::MakeNode(
      loss_op, {model.outputs.at(0).name, "target"}, {"loss"},
      {testing_util::StringAttr("reduction", "mean")}, kOnyxDomain, train.nodes.size()));
  train.opset_imports[kOnyxDomain] = 1;
  TrainingGraph out;
  auto grad = BuildGradientGraph(std::move(train), "loss", candidates, DefaultRegistry());
  if (!grad.ok()) return grad.status();
  out.grad = *std::move(grad);
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!out.grad.grad_names[i].empty()) {
      out.params.push_back(candidates[i]);
      continue;
    }
    std::erase_if(out.grad.graph.inputs,
                  [&](const ValueInfo& v) { return v.name == candidates[i]; });
    out.grad.graph.initializers[candidates[i]] = model.initializers[candidates[i]];
  }
  return out;
}

// x [2,3,8,8] -> Conv(4, 3x3, pad 1) -> Relu -> MaxPool(2x2) -> Conv(6, 3x3,
// pad 1) -> Clip(0, 6) -> GlobalAveragePool -> Flatten -> Gemm(transB) -> y [2,5].
// Weights are small deterministic values (for the graph's structure, not its
// numbers: tests that compare feed their own).
inline Graph SmallCnn() {
  using testing_util::IntAttr;
  using testing_util::IntsAttr;
  using testing_util::MakeNode;
  Graph g;
  g.name = "small_cnn";
  g.opset_imports[kOnnxDomain] = 17;
  g.inputs = {testing_util::InputInfo("x", DataType::kFloat32, {2, 3, 8, 8})};
  g.outputs = {testing_util::InputInfo("y", DataType::kFloat32, {2, 5})};
  auto filled = [](const Shape& shape, float scale) {
    std::vector<float> v(NumElements(shape));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = scale * static_cast<float>((i * 7) % 11) - scale * 5;
    return *Tensor::FromVector<float>(shape, v);
  };
  g.initializers["w1"] = filled({4, 3, 3, 3}, 0.05f);
  g.initializers["b1"] = filled({4}, 0.01f);
  g.initializers["w2"] = filled({6, 4, 3, 3}, 0.04f);
  g.initializers["b2"] = filled({6}, 0.01f);
  g.initializers["clip_min"] = *Tensor::FromVector<float>({}, {0.f});
  g.initializers["clip_max"] = *Tensor::FromVector<float>({}, {6.f});
  g.initializers["wf"] = filled({5, 6}, 0.1f);
  g.initializers["bf"] = filled({5}, 0.02f);
  const std::vector<Attribute> pad1 = {IntsAttr("pads", {1, 1, 1, 1})};
  std::vector<Node>& n = g.nodes;
  n.push_back(MakeNode("Conv", {"x", "w1", "b1"}, {"c1"}, pad1, kOnnxDomain, n.size()));
  n.push_back(MakeNode("Relu", {"c1"}, {"r1"}, {}, kOnnxDomain, n.size()));
  n.push_back(MakeNode("MaxPool", {"r1"}, {"p1"},
                       {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2})}, kOnnxDomain,
                       n.size()));
  n.push_back(MakeNode("Conv", {"p1", "w2", "b2"}, {"c2"}, pad1, kOnnxDomain, n.size()));
  n.push_back(MakeNode("Clip", {"c2", "clip_min", "clip_max"}, {"k2"}, {}, kOnnxDomain, n.size()));
  n.push_back(MakeNode("GlobalAveragePool", {"k2"}, {"g"}, {}, kOnnxDomain, n.size()));
  n.push_back(MakeNode("Flatten", {"g"}, {"f"}, {IntAttr("axis", 1)}, kOnnxDomain, n.size()));
  n.push_back(
      MakeNode("Gemm", {"f", "wf", "bf"}, {"y"}, {IntAttr("transB", 1)}, kOnnxDomain, n.size()));
  return g;
}

}  // namespace onyx::gpu_test
