// Shared by the device-training tests (CPU stand-in device and GPU): a small
// MLP, its data, the optimizer configurations every device step is checked
// with, and a registry without any device kernel (every node of a device
// session then runs on the CPU with copies, so only the optimizer step and the
// gradient sums run on the device).
#pragma once

#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"
#include "runtime/training/trainer.h"

namespace onyx::train_test {

// Every CPU kernel and no device kernel, and nothing registered for the
// trainer's device step (RegisterOptimOps is left out: it registers CUDA's).
inline const OpRegistry& CpuOnlyRegistry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterActivationOps(*r);
    RegisterMathOps(*r);
    RegisterLossOps(*r);
    RegisterTensorOps(*r);
    RegisterPoolOps(*r);
    RegisterNormOps(*r);
    RegisterElementwiseOps(*r);
    RegisterReduceOps(*r);
    RegisterConvOps(*r);
    RegisterFusedOps(*r);
    return r;
  }();
  return *registry;
}

inline Tensor Uniform(const Shape& shape, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(NumElements(shape));
  for (float& x : v) x = dist(rng);
  return *Tensor::FromVector<float>(shape, v);
}

// x[batch, 4] -> MatMul W1[4, 8] -> Add b1 -> Relu -> MatMul W2[8, 3] -> Add b2 -> y.
inline Graph SmallMlp() {
  Graph g;
  g.name = "mlp";
  g.opset_imports[""] = 17;
  auto info = [](const std::string& name, std::vector<Dim> dims) {
    ValueInfo v;
    v.name = name;
    v.dtype = DataType::kFloat32;
    v.has_shape = true;
    v.dims = std::move(dims);
    return v;
  };
  g.inputs.push_back(info("x", {Dim{-1, "batch"}, Dim{4, ""}}));
  g.outputs.push_back(info("y", {Dim{-1, "batch"}, Dim{3, ""}}));
  g.initializers["W1"] = Uniform({4, 8}, -0.7f, 0.7f, 1);
  g.initializers["b1"] = Uniform({8}, -0.1f, 0.1f, 2);
  g.initializers["W2"] = Uniform({8, 3}, -0.5f, 0.5f, 3);
  g.initializers["b2"] = Uniform({3}, -0.1f, 0.1f, 4);
  auto node = [&](const std::string& op, std::vector<std::string> in, std::string out) {
    Node n;
    n.name = out + "_node";
    n.op_type = op;
    n.inputs = std::move(in);
    n.outputs = {std::move(out)};
    g.nodes.push_back(std::move(n));
  };
  node("MatMul", {"x", "W1"}, "h0");
  node("Add", {"h0", "b1"}, "h1");
  node("Relu", {"h1"}, "h2");
  node("MatMul", {"h2", "W2"}, "h3");
  node("Add", {"h3", "b2"}, "y");
  return g;
}

struct Case {
  std::string name;
  OptimizerConfig optimizer;
  double clip_norm = 0;
  int accumulate_steps = 1;
};

// gtest prints the case by name (ctest lists the parameter too).
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

inline OptimizerConfig Opt(const std::string& kind, double lr) {
  OptimizerConfig c;
  c.kind = kind;
  c.lr = lr;
  return c;
}

inline std::vector<Case> Cases() {
  std::vector<Case> cases;
  cases.push_back({"sgd", Opt("sgd", 0.1)});
  {
    Case c{"sgd_momentum_dampening_wd", Opt("sgd", 0.05)};
    c.optimizer.momentum = 0.9;
    c.optimizer.dampening = 0.1;
    c.optimizer.weight_decay = 0.01;
    cases.push_back(c);
  }
  {
    Case c{"sgd_nesterov_clip_accumulate", Opt("sgd", 0.05)};
    c.optimizer.momentum = 0.8;
    c.optimizer.nesterov = true;
    c.clip_norm = 0.3;  // small enough to scale every step
    c.accumulate_steps = 2;
    cases.push_back(c);
  }
  cases.push_back({"adam", Opt("adam", 0.01)});
  {
    Case c{"adam_amsgrad_wd_maximize", Opt("adam", 0.002)};
    c.optimizer.amsgrad = true;
    c.optimizer.weight_decay = 0.05;
    c.optimizer.maximize = true;
    cases.push_back(c);
  }
  {
    Case c{"adamw_amsgrad_accumulate", Opt("adamw", 0.01)};
    c.optimizer.amsgrad = true;
    c.accumulate_steps = 3;
    cases.push_back(c);
  }
  cases.push_back({"rmsprop", Opt("rmsprop", 0.01)});
  {
    Case c{"rmsprop_centered_momentum_wd_clip", Opt("rmsprop", 0.01)};
    c.optimizer.centered = true;
    c.optimizer.momentum = 0.5;
    c.optimizer.weight_decay = 0.01;
    c.clip_norm = 0.5;
    cases.push_back(c);
  }
  {
    Case c{"adagrad_decay_init_maximize", Opt("adagrad", 0.05)};
    c.optimizer.lr_decay = 0.1;
    c.optimizer.initial_accumulator_value = 0.2;
    c.optimizer.weight_decay = 0.02;
    c.optimizer.maximize = true;
    cases.push_back(c);
  }
  return cases;
}

inline TrainConfig Config(const Case& c) {
  TrainConfig config;
  config.loss = "mse";
  config.optimizer = c.optimizer;
  config.clip_norm = c.clip_norm;
  config.accumulate_steps = c.accumulate_steps;
  config.batch_size = 4;
  config.seed = 7;
  return config;
}

struct Data {
  Tensor x = Uniform({12, 4}, -1.f, 1.f, 11);
  Tensor y = Uniform({12, 3}, -1.f, 1.f, 12);
};

// Bit-for-bit equality of two trainers' parameters, naming the first difference.
inline ::testing::AssertionResult SameParams(const Trainer& a, const Trainer& b) {
  auto pa = a.HostParams();
  auto pb = b.HostParams();
  if (!pa.ok() || !pb.ok()) return ::testing::AssertionFailure() << "HostParams failed";
  for (size_t p = 0; p < pa->size(); ++p) {
    const Tensor& ta = (*pa)[p];
    const Tensor& tb = (*pb)[p];
    if (ta.shape() != tb.shape()) return ::testing::AssertionFailure() << "shapes differ";
    for (int64_t i = 0; i < ta.num_elements(); ++i) {
      if (ta.data<float>()[i] != tb.data<float>()[i]) {
        return ::testing::AssertionFailure()
               << a.param_names()[p] << "[" << i << "]: " << ta.data<float>()[i] << " vs "
               << tb.data<float>()[i];
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace onyx::train_test
