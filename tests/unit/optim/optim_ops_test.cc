// The ai.onnx.preview.training ops (Adagrad, Adam, Momentum): ONNX conformance
// folders run through a Session, plus spec pseudo-code in double for the
// attributes those folders leave out.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

class ConformanceTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ConformanceTest, MatchesOnnxData) {
  const std::string dir = std::string(ONYX_ONNX_TESTS_DIR) + "/node/" + GetParam();
  ASSERT_OK_AND_ASSIGN(Graph graph, LoadOnnxModel(dir + "/model.onnx"));
  std::vector<std::string> feed_names;
  for (const ValueInfo* info : graph.FeedInputs()) feed_names.push_back(info->name);
  const size_t num_outputs = graph.outputs.size();
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(std::move(graph), DefaultRegistry()));
  NamedTensors feeds;
  for (size_t i = 0; i < feed_names.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(
        Tensor t, LoadTensorProtoFile(dir + "/test_data_set_0/input_" + std::to_string(i) + ".pb"));
    feeds.push_back({feed_names[i], std::move(t)});
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outputs, session->Run(feeds));
  ASSERT_EQ(outputs.size(), num_outputs);
  for (size_t o = 0; o < num_outputs; ++o) {
    ASSERT_OK_AND_ASSIGN(Tensor expected, LoadTensorProtoFile(dir + "/test_data_set_0/output_" +
                                                              std::to_string(o) + ".pb"));
    ASSERT_EQ(outputs[o].dtype(), expected.dtype()) << "output " << o;
    ASSERT_EQ(outputs[o].shape(), expected.shape()) << "output " << o;
    ASSERT_EQ(expected.dtype(), DataType::kFloat32);
    for (int64_t i = 0; i < expected.num_elements(); ++i) {
      const double want = expected.data<float>()[i];
      EXPECT_NEAR(outputs[o].data<float>()[i], want, 1e-7 + 1e-3 * std::fabs(want))
          << "output " << o << " element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Node, ConformanceTest,
                         ::testing::Values("test_adagrad", "test_adagrad_multiple", "test_adam",
                                           "test_adam_multiple", "test_momentum",
                                           "test_momentum_multiple", "test_nesterov_momentum"),
                         [](const auto& info) { return std::string(info.param); });

using testing_util::FloatAttr;

// One training-domain node over feeds named after its inputs.
absl::StatusOr<std::vector<Tensor>> RunTrainingOp(const std::string& op,
                                                  std::vector<Attribute> attrs,
                                                  const NamedTensors& inputs, int num_outputs) {
  Graph g;
  g.opset_imports[""] = 17;
  g.opset_imports["ai.onnx.preview.training"] = 1;
  Node node;
  node.name = "opt";
  node.op_type = op;
  node.domain = "ai.onnx.preview.training";
  node.attributes = std::move(attrs);
  for (const auto& [name, t] : inputs) {
    g.inputs.push_back(testing_util::InputInfo(name, t));
    node.inputs.push_back(name);
  }
  node.outputs = testing_util::NumberedNames("out", num_outputs);
  for (const std::string& name : node.outputs) {
    ValueInfo out;
    out.name = name;
    g.outputs.push_back(out);
  }
  g.nodes.push_back(std::move(node));
  auto session = Session::Create(std::move(g), DefaultRegistry());
  if (!session.ok()) return session.status();
  return (*session)->Run(inputs);
}

Tensor D(std::vector<double> v) {
  return Tensor::FromVector<double>({static_cast<int64_t>(v.size())}, v).value();
}
Tensor T64(int64_t t) { return Tensor::FromVector<int64_t>({}, std::vector<int64_t>{t}).value(); }

// Adam in double with norm_coefficient_post, for T = 0 (no bias correction) and T = 3.
TEST(OptimOpsTest, AdamDoubleWithPostDecay) {
  const std::vector<double> x = {1.0, -2.0, 0.5}, g = {0.3, 0.1, -0.7}, v = {0.1, 0.0, -0.2},
                            h = {0.04, 0.01, 0.5};
  const double r = 0.05, alpha = 0.8, beta = 0.95, eps = 1e-3, wd = 0.1, post = 0.02;
  for (int64_t t : {0, 3}) {
    ASSERT_OK_AND_ASSIGN(
        std::vector<Tensor> out,
        RunTrainingOp("Adam",
                      {FloatAttr("alpha", alpha), FloatAttr("beta", beta),
                       FloatAttr("epsilon", eps), FloatAttr("norm_coefficient", wd),
                       FloatAttr("norm_coefficient_post", post)},
                      {{"R", D({r})}, {"T", T64(t)}, {"X", D(x)}, {"G", D(g)}, {"V", D(v)},
                       {"H", D(h)}},
                      3));
    // Attributes are float32 in ONNX: use the rounded values like the kernel must.
    const double fa = float(alpha), fb = float(beta), fe = float(eps), fw = float(wd),
                 fp = float(post);
    for (int i = 0; i < 3; ++i) {
      const double gr = fw * x[i] + g[i];
      const double v_new = fa * v[i] + (1 - fa) * gr;
      const double h_new = fb * h[i] + (1 - fb) * gr * gr;
      const double r_adj = t > 0 ? r * std::sqrt(1 - std::pow(fb, t)) / (1 - std::pow(fa, t)) : r;
      const double x_new = (1 - fp) * (x[i] - r_adj * v_new / (std::sqrt(h_new) + fe));
      EXPECT_NEAR(out[0].data<double>()[i], x_new, 1e-12) << "T=" << t << " i=" << i;
      EXPECT_NEAR(out[1].data<double>()[i], v_new, 1e-12);
      EXPECT_NEAR(out[2].data<double>()[i], h_new, 1e-12);
    }
  }
}

// Momentum in double: T = 0 uses coefficient 1 for the gradient, T > 0 uses beta.
TEST(OptimOpsTest, MomentumDoubleBothModes) {
  const std::vector<double> x = {1.0, -2.0}, g = {0.5, -0.25}, v = {0.2, 0.4};
  const double r = 0.1, alpha = 0.9, beta = 0.7, wd = 0.01;
  for (const char* mode : {"standard", "nesterov"}) {
    for (int64_t t : {0, 5}) {
      Attribute m;
      m.name = "mode";
      m.type = AttrType::kString;
      m.s = mode;
      ASSERT_OK_AND_ASSIGN(
          std::vector<Tensor> out,
          RunTrainingOp("Momentum",
                        {FloatAttr("alpha", alpha), FloatAttr("beta", beta),
                         FloatAttr("norm_coefficient", wd), m},
                        {{"R", D({r})}, {"T", T64(t)}, {"X", D(x)}, {"G", D(g)}, {"V", D(v)}},
                        2));
      const double fa = float(alpha), fb = float(beta), fw = float(wd);
      for (int i = 0; i < 2; ++i) {
        const double gr = fw * x[i] + g[i];
        const double v_new = fa * v[i] + (t > 0 ? fb : 1.0) * gr;
        const double x_new = std::string(mode) == "nesterov" ? x[i] - r * (gr + fa * v_new)
                                                             : x[i] - r * v_new;
        EXPECT_NEAR(out[0].data<double>()[i], x_new, 1e-12) << mode << " T=" << t;
        EXPECT_NEAR(out[1].data<double>()[i], v_new, 1e-12) << mode << " T=" << t;
      }
    }
  }
}

TEST(OptimOpsTest, RejectsBadNodes) {
  const NamedTensors inputs = {{"R", D({0.1})}, {"T", T64(0)}, {"X", D({1.0})},
                               {"G", D({1.0})}, {"V", D({0.0})}};
  // Momentum's attributes are required.
  auto missing = RunTrainingOp("Momentum", {FloatAttr("alpha", 0.9f)}, inputs, 2);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("beta"), std::string::npos)
      << missing.status();
  // Adagrad takes X, G, H blocks: 4 tensors after R and T do not split into 3 groups.
  NamedTensors four = inputs;
  four.push_back({"H", D({0.0})});
  auto uneven = RunTrainingOp("Adagrad", {}, four, 2);
  EXPECT_FALSE(uneven.ok());
  // G with another shape than X.
  const NamedTensors mismatched = {{"R", D({0.1})}, {"T", T64(0)}, {"X", D({1.0, 2.0})},
                                   {"G", D({1.0})}, {"H", D({0.0, 0.0})}};
  auto shape = RunTrainingOp("Adagrad", {}, mismatched, 2);
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().code(), absl::StatusCode::kFailedPrecondition) << shape.status();
}

}  // namespace
}  // namespace onyx
