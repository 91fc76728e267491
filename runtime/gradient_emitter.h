// GradientEmitter: collects the backward nodes a gradient builder emits for one
// forward node (runtime/gradient.h), naming every new value and node fresh.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/gradient.h"

namespace onyx {

class GradientEmitter {
 public:
  explicit GradientEmitter(const GradientContext& ctx) : ctx_(ctx) {
    out_.input_grads.assign(ctx.node.inputs.size(), "");
  }

  // True when the gradient of (present) input `i` is asked for.
  bool Wants(size_t i) const {
    return i < ctx_.wants_input_grad.size() && ctx_.wants_input_grad[i] &&
           i < ctx_.node.inputs.size() && !ctx_.node.inputs[i].empty();
  }
  const std::string& In(size_t i) const { return ctx_.node.inputs[i]; }
  const std::string& Out() const { return ctx_.node.outputs[0]; }
  std::string Fresh(const std::string& hint) const { return ctx_.fresh_name(hint); }
  std::string GradName(size_t i) const { return Fresh(In(i) + "_grad"); }

  // Emits `op` writing `outputs` ("" leaves one out); the node is named after
  // its first named output.
  void Emit(const std::string& domain, const std::string& op, std::vector<std::string> inputs,
            std::vector<std::string> outputs, std::vector<Attribute> attrs = {}) {
    std::string first;
    for (const std::string& o : outputs) {
      if (first.empty()) first = o;
    }
    Node node;
    node.name = Fresh(first + "_node");
    node.domain = domain;
    node.op_type = op;
    node.inputs = std::move(inputs);
    node.outputs = std::move(outputs);
    node.attributes = std::move(attrs);
    out_.nodes.push_back(std::move(node));
  }
  // Emits `op` with one fresh output named after `hint`; returns that name.
  std::string Op(const std::string& domain, const std::string& op,
                 std::vector<std::string> inputs, const std::string& hint,
                 std::vector<Attribute> attrs = {}) {
    const std::string out = Fresh(hint);
    Emit(domain, op, std::move(inputs), {out}, std::move(attrs));
    return out;
  }
  void SetGrad(size_t i, std::string name) { out_.input_grads[i] = std::move(name); }
  GradientNodes Take() { return std::move(out_); }

 private:
  const GradientContext& ctx_;
  GradientNodes out_;
};

}  // namespace onyx
