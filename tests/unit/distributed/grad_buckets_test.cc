// The gradient bucket planner against hand-computed plans, and the reducer on a
// small network: which buckets it starts, when, and what they hold, with a
// stand-in communicator whose one peer holds the same gradients (so every
// allreduce doubles its values).
#include "runtime/training/grad_buckets.h"

#include <cmath>
#include <cstdlib>
#include <deque>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/training/autograd.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {

std::vector<std::vector<int>> Params(const std::vector<GradBucket>& buckets) {
  std::vector<std::vector<int>> out;
  for (const GradBucket& b : buckets) out.push_back(b.params);
  return out;
}

TEST(PlanGradBucketsTest, ClosesABucketWhenTheNextGradientWouldNotFit) {
  // Elements 10, 300, 50, 1000, 5 (x4 bytes), ready last to first, cap 1600 B:
  // [p4: 20 B] + p3 (4000 B) > 1600 -> close; [p3] alone (over the cap);
  // [p2: 200 B] + p1 (1200 B) = 1400 <= 1600; + p0 (40 B) = 1440 <= 1600.
  const std::vector<int64_t> elements = {10, 300, 50, 1000, 5};
  const std::vector<GradBucket> plan = PlanGradBuckets({4, 3, 2, 1, 0}, elements, 1600);
  ASSERT_EQ(Params(plan), (std::vector<std::vector<int>>{{4}, {3}, {2, 1, 0}}));
  EXPECT_EQ(plan[0].offsets, (std::vector<int64_t>{0}));
  EXPECT_EQ(plan[1].offsets, (std::vector<int64_t>{0}));
  EXPECT_EQ(plan[2].offsets, (std::vector<int64_t>{0, 50, 350}));
  EXPECT_EQ(plan[0].elements, 5);
  EXPECT_EQ(plan[1].elements, 1000);
  EXPECT_EQ(plan[2].elements, 360);
}

TEST(PlanGradBucketsTest, AnExactFitStaysInTheBucket) {
  // 100 + 100 floats = 800 B = the cap; the third starts a new bucket.
  const std::vector<GradBucket> plan = PlanGradBuckets({0, 1, 2}, {100, 100, 100}, 800);
  ASSERT_EQ(Params(plan), (std::vector<std::vector<int>>{{0, 1}, {2}}));
  EXPECT_EQ(plan[0].offsets, (std::vector<int64_t>{0, 100}));
  EXPECT_EQ(plan[0].elements, 200);
}

TEST(PlanGradBucketsTest, NoCapMakesOneBucketInReadyOrder) {
  const std::vector<GradBucket> plan = PlanGradBuckets({2, 0, 1}, {7, 3, 11}, 0);
  ASSERT_EQ(Params(plan), (std::vector<std::vector<int>>{{2, 0, 1}}));
  EXPECT_EQ(plan[0].offsets, (std::vector<int64_t>{0, 11, 18}));
  EXPECT_EQ(plan[0].elements, 21);
}

TEST(PlanGradBucketsTest, ACapBelowEveryGradientGivesOneBucketEach) {
  const std::vector<GradBucket> plan = PlanGradBuckets({1, 0, 2}, {3, 1, 2}, 4);
  EXPECT_EQ(Params(plan), (std::vector<std::vector<int>>{{1}, {0}, {2}}));
}

// A stand-in for MPI with one peer that holds the same values: every reduction
// doubles them. It records the reductions started and how often each is polled.
class MirrorCommunicator final : public Communicator {
 public:
  struct Started {
    size_t elements;
    int polls = 0;
  };
  int rank() const override { return 0; }
  int size() const override { return 2; }
  absl::Status AllReduceSum(absl::Span<float> values) override {
    ++blocking;
    for (float& v : values) v *= 2;
    return absl::OkStatus();
  }
  absl::Status AllReduceSum(absl::Span<double> values) override {
    for (double& v : values) v *= 2;
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<PendingReduction>> StartAllReduceSum(
      absl::Span<float> values) override {
    for (float& v : values) v *= 2;
    started.push_back({values.size()});
    return std::make_unique<Pending>(&started.back().polls);
  }
  absl::Status BroadcastFromRoot(std::string& bytes) override { return absl::OkStatus(); }
  [[noreturn]] void Abort(int exit_code) override { std::abort(); }

  std::deque<Started> started;
  int blocking = 0;  // blocking float reductions

 private:
  class Pending final : public PendingReduction {
   public:
    explicit Pending(int* polls) : polls_(polls) {}
    absl::StatusOr<bool> Test() override {
      ++*polls_;
      return true;
    }
    absl::Status Wait() override { return absl::OkStatus(); }

   private:
    int* polls_;
  };
};

ValueInfo Input(const std::string& name, std::vector<int64_t> dims) {
  ValueInfo v;
  v.name = name;
  v.dtype = DataType::kFloat32;
  v.has_shape = true;
  for (int64_t d : dims) v.dims.push_back(Dim{.value = d, .param = ""});
  return v;
}

Node MakeNode(std::string op, std::vector<std::string> in, std::string out) {
  Node n;
  n.op_type = std::move(op);
  n.name = out + "_node";
  n.inputs = std::move(in);
  n.outputs = {std::move(out)};
  return n;
}

Tensor Values(const Shape& shape, float start, float step) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + step * static_cast<float>((i * 7) % 11 - 5);
  return Tensor::FromVector<float>(shape, v).value();
}

// loss = mean((Relu(x W1) W2 + b - t)^2), parameters W1 [3,5] (15), W2 [5,2] (10), b [2].
class GradBucketReducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Graph g;
    g.opset_imports[""] = 17;
    g.opset_imports[kOnyxDomain] = 1;
    g.inputs = {Input("x", {4, 3}), Input("t", {4, 2}), Input("W1", {3, 5}),
                Input("W2", {5, 2}), Input("b", {2})};
    g.nodes = {MakeNode("MatMul", {"x", "W1"}, "h"), MakeNode("Relu", {"h"}, "r"),
               MakeNode("MatMul", {"r", "W2"}, "o"), MakeNode("Add", {"o", "b"}, "z"),
               MakeNode("MseLoss", {"z", "t"}, "loss")};
    g.nodes.back().domain = kOnyxDomain;
    ASSERT_OK_AND_ASSIGN(GradientGraph grad,
                         BuildGradientGraph(g, "loss", {"W1", "W2", "b"}, DefaultRegistry()));
    grad_names_ = grad.grad_names;
    SessionOptions options;
    options.opt_level = 0;
    ASSERT_OK_AND_ASSIGN(session_, Session::Create(grad.graph, DefaultRegistry(), options));
  }

  NamedTensors Feeds(float shift) {
    return {{"x", Values({4, 3}, 0.3f + shift, 0.2f)}, {"t", Values({4, 2}, -0.1f, 0.15f)},
            {"W1", Values({3, 5}, 0.05f, 0.1f)},       {"W2", Values({5, 2}, -0.02f, 0.12f)},
            {"b", Values({2}, 0.01f, 0.03f)}};
  }

  // The gradients of one plain run (no observer), cloned.
  std::vector<Tensor> PlainGradients(const NamedTensors& feeds) {
    auto outs = session_->Run(feeds);
    EXPECT_TRUE(outs.ok()) << outs.status();
    std::vector<Tensor> grads;
    for (size_t p = 1; p < outs->size(); ++p) grads.push_back((*outs)[p].Clone().value());
    return grads;
  }

  std::unique_ptr<Session> session_;
  std::vector<std::string> grad_names_;
  const std::vector<int64_t> elements_ = {15, 10, 2};
};

TEST_F(GradBucketReducerTest, W1sGradientIsReadyLast) {
  // W1's gradient needs every other backward node first.
  const std::vector<int> order = GradReadyOrder(*session_, grad_names_);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[2], 0);
}

TEST_F(GradBucketReducerTest, SumsTheStepLocallyAndReducesBucketsDuringBackward) {
  MirrorCommunicator comm;
  // 48 B = 12 floats: W2 and b (10 + 2) fill the first bucket, W1 (15) the second.
  GradBucketReducer reducer(*session_, grad_names_, elements_, 48, comm);
  ASSERT_EQ(reducer.buckets().size(), 2u);
  EXPECT_TRUE(reducer.overlapped());
  EXPECT_EQ(reducer.buckets()[0].elements, 12);
  EXPECT_EQ(reducer.buckets()[1].params, std::vector<int>{0});
  EXPECT_EQ(reducer.bytes_per_step(), 27 * 4);

  const NamedTensors a = Feeds(0), b = Feeds(0.5f);
  const std::vector<Tensor> ga = PlainGradients(a), gb = PlainGradients(b);

  reducer.BeginMicroBatch(0.25f, /*first=*/true, /*last=*/false);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outs_a, session_->Run(a, &reducer));
  ASSERT_OK(reducer.EndMicroBatch(absl::MakeConstSpan(outs_a).subspan(1)));
  EXPECT_TRUE(comm.started.empty()) << "a micro-batch before the step's last reduced";

  reducer.BeginMicroBatch(0.75f, /*first=*/false, /*last=*/true);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outs_b, session_->Run(b, &reducer));
  // The first bucket was started, and polled, while W1's backward still ran.
  ASSERT_EQ(comm.started.size(), 2u);
  EXPECT_EQ(comm.started[0].elements, 12u);
  EXPECT_EQ(comm.started[1].elements, 15u);
  EXPECT_GE(comm.started[0].polls, 1);
  ASSERT_OK(reducer.EndMicroBatch(absl::MakeConstSpan(outs_b).subspan(1)));

  for (int p = 0; p < 3; ++p) {
    ASSERT_OK_AND_ASSIGN(Tensor got, Tensor::Uninitialized(DataType::kFloat32, ga[p].shape()));
    reducer.CopyGradient(p, got);
    for (int64_t i = 0; i < got.num_elements(); ++i) {
      const double want =
          2.0 * (0.25 * ga[p].data<float>()[i] + 0.75 * gb[p].data<float>()[i]);
      EXPECT_NEAR(got.data<float>()[i], want, 1e-6 * (1 + std::abs(want)))
          << grad_names_[p] << "[" << i << "]";
    }
  }
}

class OneBucketTest : public GradBucketReducerTest,
                      public ::testing::WithParamInterface<int64_t> {};

// No cap, or one that all 27 gradients (108 B) fit in.
INSTANTIATE_TEST_SUITE_P(Caps, OneBucketTest, ::testing::Values(0, 108, 1 << 20));

TEST_P(OneBucketTest, OneBlockingReductionFollowsBackward) {
  MirrorCommunicator comm;
  GradBucketReducer reducer(*session_, grad_names_, elements_, GetParam(), comm);
  ASSERT_EQ(reducer.buckets().size(), 1u);
  EXPECT_FALSE(reducer.overlapped());
  EXPECT_EQ(reducer.buckets()[0].elements, 27);
  const NamedTensors a = Feeds(0);
  const std::vector<Tensor> ga = PlainGradients(a);
  reducer.BeginMicroBatch(0.5f, true, true);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outs, session_->Run(a, &reducer));
  EXPECT_EQ(comm.blocking, 0) << "reduced before backward ended";
  ASSERT_OK(reducer.EndMicroBatch(absl::MakeConstSpan(outs).subspan(1)));
  EXPECT_EQ(comm.blocking, 1);
  EXPECT_TRUE(comm.started.empty());
  for (int p = 0; p < 3; ++p) {
    ASSERT_OK_AND_ASSIGN(Tensor got, Tensor::Uninitialized(DataType::kFloat32, ga[p].shape()));
    reducer.CopyGradient(p, got);
    for (int64_t i = 0; i < got.num_elements(); ++i) {
      // 2 * 0.5 * g: exact in float.
      EXPECT_EQ(got.data<float>()[i], ga[p].data<float>()[i]) << grad_names_[p] << "[" << i << "]";
    }
  }
}

TEST_F(GradBucketReducerTest, AProcessWithoutRowsStillJoinsEveryReductionWithZeros) {
  MirrorCommunicator comm;
  GradBucketReducer reducer(*session_, grad_names_, elements_, 48, comm);
  // A step that left stale sums behind must not leak into the next one.
  reducer.BeginMicroBatch(1.f, true, true);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outs, session_->Run(Feeds(0), &reducer));
  ASSERT_OK(reducer.EndMicroBatch(absl::MakeConstSpan(outs).subspan(1)));

  comm.started.clear();
  reducer.BeginMicroBatch(0.f, true, true);
  ASSERT_OK(reducer.EndMicroBatch({}));
  ASSERT_EQ(comm.started.size(), 2u);
  for (int p = 0; p < 3; ++p) {
    ASSERT_OK_AND_ASSIGN(Tensor got, Tensor::Zeros(DataType::kFloat32, {elements_[p]}));
    got.data<float>()[0] = 1.f;
    reducer.CopyGradient(p, got);
    for (int64_t i = 0; i < got.num_elements(); ++i) EXPECT_EQ(got.data<float>()[i], 0.f);
  }
}

}  // namespace
}  // namespace onyx
