// GraphEditor: the index every pass works through (who produces and who consumes
// each value, which values are constants or graph outputs) and the edits that
// keep that index true. Node indices stay stable until Commit().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

#include "runtime/graph.h"
#include "runtime/op_registry.h"

namespace onyx::passes {

class GraphEditor {
 public:
  explicit GraphEditor(Graph& graph);

  Graph& graph() { return graph_; }
  const Graph& graph() const { return graph_; }
  const Node& node(int index) const { return graph_.nodes[index]; }
  int num_nodes() const { return static_cast<int>(graph_.nodes.size()); }
  bool removed(int index) const { return removed_[index]; }

  // Index of the node producing `value`, or -1 (graph input, initializer, unknown).
  int Producer(const std::string& value) const;
  // Nodes reading `value`, once per input slot (a node reading it twice is listed twice).
  const std::vector<int>& Consumers(const std::string& value) const;
  bool IsGraphOutput(const std::string& value) const { return outputs_.contains(value); }
  // True when exactly one input slot reads `value` and it is not a graph output,
  // so the producer's result may disappear into a fused node.
  bool HasSingleUse(const std::string& value) const;
  // The producer if it is `op_type` in the ONNX domain (or `domain`), else -1.
  int ProducerOp(const std::string& value, const std::string& op_type,
                 const std::string& domain = kOnnxDomain) const;

  // An initializer's value or a Constant node's "value" tensor, else null.
  const Tensor* Constant(const std::string& value) const;
  // A one-element float32/float64 constant of rank 0 or 1 as double (so it
  // broadcasts without changing the other operand's shape).
  std::optional<double> ScalarConstant(const std::string& value) const;
  // The declared or inferred type of `value`, or null. dtype falls back to the
  // first input's dtype through dtype-preserving producers when not recorded.
  const ValueInfo* TypeOf(const std::string& value) const;
  DataType DTypeOf(const std::string& value) const;
  // The static dims of `value` when all are fixed.
  std::optional<Shape> StaticShape(const std::string& value) const;
  // True when both values are known to have the same shape: equal rank, each
  // dim fixed and equal or symbolic with the same non-empty name ("batch").
  bool SameShape(const std::string& a, const std::string& b) const;

  // A value/initializer/node name not yet used in the graph, derived from `base`.
  std::string UniqueName(const std::string& base);
  // Adds an initializer under a fresh name derived from `base`; returns the name.
  std::string AddInitializer(const std::string& base, Tensor tensor);

  // Replaces node `index` by `node` (its slot and file position are kept).
  void ReplaceNode(int index, Node node);
  void RemoveNode(int index);
  // Appends `node` (execution order comes from the session's topological sort).
  void AddNode(Node node);
  // Makes every input slot that reads `from` read `to` instead (graph outputs
  // are not touched: callers keep graph output names themselves).
  void ReplaceUses(const std::string& from, const std::string& to);
  // Renames the value produced by node `index` at output `slot` everywhere.
  void RenameOutput(int index, int slot, const std::string& to);

  // True when `registry` has a kernel for (domain, op_type) on `device` at the
  // opset the graph imports for `domain` (1 when it imports none yet).
  bool CanEmit(const OpRegistry& registry, Device device, const std::string& domain,
               const std::string& op_type) const;
  // Imports com.onyx (version 1) when the graph does not yet.
  void ImportOnyxDomain();

  // Erases removed nodes from the graph; indices change afterwards.
  void Commit();

  // True when some node of `graph` is `op_type` in `domain`: passes check this
  // before building an editor.
  static bool HasOp(const Graph& graph, const std::string& op_type,
                    const std::string& domain = kOnnxDomain);

 private:
  void Index(int index);
  void Unindex(int index);

  Graph& graph_;
  std::vector<bool> removed_;
  // Hash maps: a pass builds one per run, and sessions build graphs of 100k nodes.
  absl::flat_hash_map<std::string, int> producer_;
  absl::flat_hash_map<std::string, std::vector<int>> consumers_;
  absl::flat_hash_set<std::string> outputs_;
  absl::flat_hash_map<std::string, ValueInfo> types_;  // declared, inferred, initializers
  mutable absl::flat_hash_map<std::string, DataType> dtype_memo_;  // keeps DTypeOf linear
  absl::flat_hash_set<std::string> names_;
  int next_id_ = 0;
};

}  // namespace onyx::passes
