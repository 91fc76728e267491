// Host-side pieces of the CUDA class-index losses, checked in every build: the
// row grouping and grid-stride walk of class_loss_plan.h (against a brute-force
// walk of the [N, C, d1, d2] index space), and the attribute parsing and input
// checks the CPU and CUDA kernels share (class_loss_common.h).
#include "ops/loss/class_loss_plan.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/loss/class_loss_common.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

using ::testing::HasSubstr;
using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::StringAttr;

TEST(ClassLossPlan, RowGrouping) {
  using loss_plan::ChooseRowGrouping;
  EXPECT_EQ(ChooseRowGrouping(3, 1).threads_per_row, 1);  // few classes
  EXPECT_EQ(ChooseRowGrouping(31, 1).threads_per_row, 1);
  EXPECT_EQ(ChooseRowGrouping(32, 1).threads_per_row, 32);  // a warp per row
  EXPECT_EQ(ChooseRowGrouping(4095, 1).threads_per_row, 32);
  EXPECT_EQ(ChooseRowGrouping(4096, 1).threads_per_row, 256);  // a block per row
  EXPECT_EQ(ChooseRowGrouping(50000, 1).threads_per_row, 256);
  EXPECT_EQ(ChooseRowGrouping(1000, 31).threads_per_row, 32);  // strided, short D
  EXPECT_EQ(ChooseRowGrouping(1000, 32).threads_per_row, 1);   // D >= 32: coalesce over d
  EXPECT_EQ(ChooseRowGrouping(100000, 64).threads_per_row, 1);
  EXPECT_EQ(ChooseRowGrouping(0, 1).threads_per_row, 1);
}

TEST(ClassLossPlan, RowBlocks) {
  using loss_plan::RowBlocks;
  using loss_plan::RowGrouping;
  const RowGrouping thread{1}, warp{32}, block{256};
  EXPECT_EQ(thread.rows_per_block(), 256);
  EXPECT_EQ(warp.rows_per_block(), 8);
  EXPECT_EQ(block.rows_per_block(), 1);
  EXPECT_EQ(RowBlocks(0, thread, 100), 1);  // at least one block (the final sum reads it)
  EXPECT_EQ(RowBlocks(256, thread, 100), 1);
  EXPECT_EQ(RowBlocks(257, thread, 100), 2);
  EXPECT_EQ(RowBlocks(17, warp, 100), 3);
  EXPECT_EQ(RowBlocks(17, block, 100), 17);
  EXPECT_EQ(RowBlocks(int64_t{1} << 40, block, 2112), 2112);  // capped, no overflow
}

// Every (n, k, d1, d2) of [N, C, D1, D2] is reached exactly once, at its
// row-major offset, by walking rows as the kernels do (each row's classes
// split over its threads), for each grouping and for capped grids.
TEST(ClassLossPlan, WalkCoversEveryElementOnce) {
  const int64_t n = 3, c = 5, d1 = 4, d2 = 3, d = d1 * d2;
  for (int tpr : {1, 32, 256}) {
    for (int max_blocks : {1, 2, 1000}) {
      const int64_t rows = n * d;
      const int blocks = loss_plan::RowBlocks(rows, loss_plan::RowGrouping{tpr}, max_blocks);
      std::vector<int> seen(n * c * d, 0);
      std::vector<int> label_seen(rows, 0);
      for (int64_t b = 0; b < blocks; ++b) {
        for (int t = 0; t < loss_plan::kBlockThreads; ++t) {
          const int lane = t % tpr;
          for (int64_t r = loss_plan::FirstRow(b, t, tpr); r < rows;
               r += loss_plan::RowStep(blocks, tpr)) {
            if (lane == 0) ++label_seen[r];
            const loss_plan::RowView v = loss_plan::RowOf(r, c, d);
            for (int64_t k = lane; k < c; k += tpr) ++seen[v.base + k * v.stride];
            // The row's (n, i1, i2) and the offset of class k by strides.
            const int64_t nn = r / d, i1 = (r % d) / d2, i2 = r % d2;
            for (int64_t k = 0; k < c; ++k) {
              ASSERT_EQ(v.base + k * v.stride, ((nn * c + k) * d1 + i1) * d2 + i2)
                  << "row " << r << " class " << k;
            }
          }
        }
      }
      for (size_t i = 0; i < seen.size(); ++i) {
        ASSERT_EQ(seen[i], 1) << "element " << i << " tpr " << tpr << " blocks " << blocks;
      }
      for (size_t r = 0; r < label_seen.size(); ++r) ASSERT_EQ(label_seen[r], 1) << "row " << r;
    }
  }
}

Node LossNode(const std::string& op, std::vector<Attribute> attrs) {
  Node node;
  node.name = "loss0";
  node.op_type = op;
  node.inputs = {"x", "y"};
  node.outputs = {"l"};
  node.attributes = std::move(attrs);
  return node;
}

TEST(ClassLossConfig, CrossEntropyDefaultsAndSmoothing) {
  ASSERT_OK_AND_ASSIGN(ClassLossConfig cfg,
                       ReadClassLossConfig(LossNode("CrossEntropyLoss", {}), "CrossEntropyLoss"));
  EXPECT_TRUE(cfg.softmax);
  EXPECT_EQ(cfg.reduction, Reduction::kMean);
  EXPECT_TRUE(cfg.has_ignore);
  EXPECT_EQ(cfg.ignore_index, -100);
  EXPECT_EQ(cfg.label_smoothing, 0);
  ASSERT_OK_AND_ASSIGN(cfg, ReadClassLossConfig(LossNode("CrossEntropyLossGrad",
                                                         {FloatAttr("label_smoothing", 0.25f),
                                                          IntAttr("ignore_index", 3),
                                                          StringAttr("reduction", "sum")}),
                                                "CrossEntropyLoss"));
  EXPECT_EQ(cfg.label_smoothing, 0.25);
  EXPECT_EQ(cfg.ignore_index, 3);
  EXPECT_EQ(cfg.reduction, Reduction::kSum);
  auto bad = ReadClassLossConfig(LossNode("CrossEntropyLoss", {FloatAttr("label_smoothing", 1.5f)}),
                                 "CrossEntropyLoss");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("label_smoothing"));
  EXPECT_THAT(bad.status().message(), HasSubstr("loss0"));
}

TEST(ClassLossConfig, OnnxOpsIgnoreIndexOnlyWhenGiven) {
  ASSERT_OK_AND_ASSIGN(
      ClassLossConfig nll,
      ReadClassLossConfig(LossNode("NegativeLogLikelihoodLoss", {StringAttr("reduction", "none")}),
                          "NegativeLogLikelihoodLoss"));
  EXPECT_FALSE(nll.softmax);
  EXPECT_FALSE(nll.has_ignore);
  EXPECT_EQ(nll.reduction, Reduction::kNone);
  ASSERT_OK_AND_ASSIGN(
      ClassLossConfig sce,
      ReadClassLossConfig(LossNode("SoftmaxCrossEntropyLoss", {IntAttr("ignore_index", -1)}),
                          "SoftmaxCrossEntropyLoss"));
  EXPECT_TRUE(sce.softmax);
  EXPECT_TRUE(sce.has_ignore);
  EXPECT_EQ(sce.ignore_index, -1);
  EXPECT_EQ(sce.label_smoothing, 0);
  auto bad =
      ReadClassLossConfig(LossNode("SoftmaxCrossEntropyLoss", {StringAttr("reduction", "avg")}),
                          "SoftmaxCrossEntropyLoss");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClassLossConfig, ForwardOpAndInputKind) {
  EXPECT_EQ(ForwardOpOf("CrossEntropyLossGrad"), "CrossEntropyLoss");
  EXPECT_EQ(ForwardOpOf("NegativeLogLikelihoodLoss"), "NegativeLogLikelihoodLoss");
  EXPECT_EQ(ForwardOpOf("Grad"), "");
  ASSERT_OK_AND_ASSIGN(bool scores, ReadScoresInput(LossNode("X", {})));
  EXPECT_FALSE(scores);
  ASSERT_OK_AND_ASSIGN(scores,
                       ReadScoresInput(LossNode("X", {StringAttr("input_kind", "scores")})));
  EXPECT_TRUE(scores);
  EXPECT_EQ(ReadScoresInput(LossNode("X", {StringAttr("input_kind", "probs")})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClassLossInputs, GeometryAndErrors) {
  const Node node = LossNode("SoftmaxCrossEntropyLoss", {});
  ASSERT_OK_AND_ASSIGN(Tensor x, Tensor::Zeros(DataType::kFloat32, {2, 5, 3, 4}));
  ASSERT_OK_AND_ASSIGN(Tensor labels, Tensor::Zeros(DataType::kInt64, {2, 3, 4}));
  ASSERT_OK_AND_ASSIGN(Tensor w, Tensor::Zeros(DataType::kFloat32, {5}));
  ASSERT_OK_AND_ASSIGN(ClassLossGeometry g, CheckClassLossInputs(node, x, labels, &w));
  EXPECT_EQ(g.n, 2);
  EXPECT_EQ(g.c, 5);
  EXPECT_EQ(g.d, 12);
  EXPECT_EQ(g.rows(), 24);

  ASSERT_OK_AND_ASSIGN(Tensor half, Tensor::Zeros(DataType::kFloat16, {2, 5}));
  ASSERT_OK_AND_ASSIGN(Tensor labels2, Tensor::Zeros(DataType::kInt32, {2}));
  EXPECT_EQ(CheckClassLossInputs(node, half, labels2, nullptr).status().code(),
            absl::StatusCode::kUnimplemented);  // the session may fall back
  ASSERT_OK_AND_ASSIGN(Tensor x2, Tensor::Zeros(DataType::kFloat32, {2, 5}));
  ASSERT_OK_AND_ASSIGN(g, CheckClassLossInputs(node, x2, labels2, nullptr));
  EXPECT_EQ(g.d, 1);
  ASSERT_OK_AND_ASSIGN(Tensor vec, Tensor::Zeros(DataType::kFloat32, {5}));
  EXPECT_EQ(CheckClassLossInputs(node, vec, labels2, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);  // rank < 2
  ASSERT_OK_AND_ASSIGN(Tensor float_labels, Tensor::Zeros(DataType::kFloat32, {2}));
  EXPECT_EQ(CheckClassLossInputs(node, x2, float_labels, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto shape = CheckClassLossInputs(node, x, labels2, nullptr);
  EXPECT_EQ(shape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(shape.status().message(), HasSubstr("labels must have shape [2,3,4]"));
  ASSERT_OK_AND_ASSIGN(Tensor w4, Tensor::Zeros(DataType::kFloat32, {4}));
  EXPECT_EQ(CheckClassLossInputs(node, x, labels, &w4).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClassLossInputs, BadLabelMessage) {
  ClassLossGeometry g;
  g.n = 4;
  g.c = 3;
  ClassLossConfig cfg;
  const Node node = LossNode("NegativeLogLikelihoodLoss", {});
  absl::Status s = BadLabelError(node, cfg, g, 7, 2);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("loss0"));
  EXPECT_THAT(s.message(), HasSubstr("label 7 at position 2 is outside [0, C) with C = 3"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("ignore_index")));
  cfg.has_ignore = true;
  cfg.ignore_index = -100;
  EXPECT_THAT(BadLabelError(node, cfg, g, -1, 0).message(),
              HasSubstr("label -1 at position 0 is outside [0, C) with C = 3 and is not "
                        "ignore_index -100"));
}

}  // namespace
}  // namespace onyx
