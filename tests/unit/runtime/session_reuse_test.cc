// The executor's buffer reuse: recycled buffers across and within runs, in-place
// writes only into dying values, results the caller holds never overwritten,
// opt_level 0 turning all of it off, and the RunObserver profiling hook.
#include <vector>

#include "gtest/gtest.h"
#include "runtime/session.h"
#include "runtime/tensor_pool.h"
#include "tests/status_matchers.h"
#include "tests/unit/runtime/test_kernels.h"

namespace onyx {
namespace {

using testing::FloatValue;
using testing::MakeNode;
using testing::MakeTestRegistry;

// x -> Inc -> a -> Inc -> b -> Inc -> y, all float32[4].
std::unique_ptr<Session> ChainSession(int opt_level) {
  Graph g;
  g.opset_imports[""] = 13;
  g.inputs.push_back(FloatValue("x", {Dim{.value = 4, .param = ""}}));
  g.nodes.push_back(MakeNode("Inc", {"x"}, {"a"}));
  g.nodes.push_back(MakeNode("Inc", {"a"}, {"b"}));
  g.nodes.push_back(MakeNode("Inc", {"b"}, {"y"}));
  g.outputs.push_back(FloatValue("y", {Dim{.value = 4, .param = ""}}));
  SessionOptions options;
  options.reuse_buffers = opt_level >= 1;
  auto session = Session::Create(std::move(g), MakeTestRegistry(), options);
  EXPECT_TRUE(session.ok()) << session.status();
  return std::move(session).value();
}

Tensor Floats(std::vector<float> v) {
  return Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, v).value();
}

// Records each node's input and output data pointers.
struct PointerObserver final : RunObserver {
  struct Event {
    std::string op;
    const void* in;
    const void* out;
    bool ordered;
  };
  void OnNode(const Node& node, absl::Span<const Tensor* const> inputs,
              absl::Span<const Tensor> outputs, std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end) override {
    events.push_back({node.op_type, inputs[0]->raw_data(), outputs[0].raw_data(), start <= end});
  }
  std::vector<Event> events;
};

TEST(SessionReuseTest, SteadyRunsReuseTheirBuffersAndComputeTheSame) {
  auto session = ChainSession(/*opt_level=*/1);
  const Tensor x = Floats({1, 2, 3, 4});
  const void* first_buffer = nullptr;
  {
    ASSERT_OK_AND_ASSIGN(auto out, session->Run({{"x", x}}));
    EXPECT_EQ(out[0].span<float>(), absl::Span<const float>(std::vector<float>{4, 5, 6, 7}));
    first_buffer = out[0].raw_data();
    // Node 1 writes a new buffer; nodes 2 and 3 write in place into their dying input.
    EXPECT_EQ(session->memory_stats().fresh_allocations, 1);
  }
  for (int run = 0; run < 3; ++run) {
    ASSERT_OK_AND_ASSIGN(auto out, session->Run({{"x", Floats({0, 0, 0, float(run)})}}));
    EXPECT_EQ(out[0].span<float>(),
              absl::Span<const float>(std::vector<float>{3, 3, 3, 3.f + run}));
    EXPECT_EQ(out[0].raw_data(), first_buffer);  // the result buffer came back
    EXPECT_EQ(session->memory_stats().fresh_allocations, 0);
  }
  EXPECT_EQ(session->memory_stats().arena_bytes, 4 * 4);
  // The caller's feed was never written.
  EXPECT_EQ(x.span<float>(), absl::Span<const float>(std::vector<float>{1, 2, 3, 4}));
}

TEST(SessionReuseTest, ResultsTheCallerHoldsAreNeverOverwritten) {
  auto session = ChainSession(/*opt_level=*/1);
  ASSERT_OK_AND_ASSIGN(auto first, session->Run({{"x", Floats({1, 1, 1, 1})}}));
  ASSERT_OK_AND_ASSIGN(auto second, session->Run({{"x", Floats({10, 10, 10, 10})}}));
  EXPECT_NE(first[0].raw_data(), second[0].raw_data());
  EXPECT_EQ(first[0].span<float>(), absl::Span<const float>(std::vector<float>{4, 4, 4, 4}));
  EXPECT_EQ(second[0].span<float>(),
            absl::Span<const float>(std::vector<float>{13, 13, 13, 13}));
}

TEST(SessionReuseTest, ObserverSeesEveryNodeAndInPlaceOnlyIntoDyingValues) {
  auto session = ChainSession(/*opt_level=*/1);
  const Tensor x = Floats({1, 2, 3, 4});
  PointerObserver observer;
  ASSERT_OK_AND_ASSIGN(auto out, session->Run({{"x", x}}, &observer));
  ASSERT_EQ(observer.events.size(), 3u);
  for (const auto& e : observer.events) {
    EXPECT_EQ(e.op, "Inc");
    EXPECT_TRUE(e.ordered);
  }
  EXPECT_NE(observer.events[0].out, observer.events[0].in);  // x is the caller's
  EXPECT_EQ(observer.events[1].out, observer.events[1].in);  // a dies here
  EXPECT_EQ(observer.events[2].out, observer.events[2].in);  // b dies here
}

TEST(SessionReuseTest, OptLevelZeroAllocatesEveryOutputAndNeverWritesInPlace) {
  auto session = ChainSession(/*opt_level=*/0);
  PointerObserver observer;
  ASSERT_OK_AND_ASSIGN(auto out, session->Run({{"x", Floats({1, 2, 3, 4})}}, &observer));
  EXPECT_EQ(out[0].span<float>(), absl::Span<const float>(std::vector<float>{4, 5, 6, 7}));
  for (const auto& e : observer.events) EXPECT_NE(e.out, e.in);
  EXPECT_EQ(session->memory_stats().arena_bytes, 0);
}

TEST(TensorPoolTest, RecyclesOnlySoleOwnedBuffersOfTheSameDtypeAndCount) {
  TensorPool pool;
  ASSERT_OK_AND_ASSIGN(Tensor a, pool.Take(DataType::kFloat32, {2, 3}, 1 << 20));
  const void* buffer = a.raw_data();
  Tensor shared = a;
  pool.Give(a);  // `shared` still holds it: not recycled
  EXPECT_EQ(pool.free_bytes(), 0);
  pool.Give(shared);
  EXPECT_EQ(pool.free_bytes(), 24);
  ASSERT_OK_AND_ASSIGN(Tensor other_dtype, pool.Take(DataType::kInt32, {6}, 1 << 20));
  EXPECT_NE(other_dtype.raw_data(), buffer);
  ASSERT_OK_AND_ASSIGN(Tensor reshaped, pool.Take(DataType::kFloat32, {3, 2}, 1 << 20));
  EXPECT_EQ(reshaped.raw_data(), buffer);
  EXPECT_EQ(reshaped.shape(), (Shape{3, 2}));
  EXPECT_EQ(pool.fresh_allocations(), 2);
  // Over the byte cap: ResourceExhausted, not an allocation.
  EXPECT_EQ(pool.Take(DataType::kFloat32, {1 << 20}, 1 << 20).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(TensorPoolTest, TakesTheSmallestFreeBufferUpToTwiceTheBytes) {
  TensorPool pool;
  ASSERT_OK_AND_ASSIGN(Tensor big, pool.Take(DataType::kFloat32, {100}, 1 << 20));
  ASSERT_OK_AND_ASSIGN(Tensor mid, pool.Take(DataType::kFloat32, {60}, 1 << 20));
  ASSERT_OK_AND_ASSIGN(Tensor exact, pool.Take(DataType::kFloat32, {40}, 1 << 20));
  const void* big_buffer = big.raw_data();
  const void* mid_buffer = mid.raw_data();
  const void* exact_buffer = exact.raw_data();
  pool.Give(big);
  pool.Give(mid);
  pool.Give(exact);
  // 40 floats: the exact buffer, though the others would hold them too.
  ASSERT_OK_AND_ASSIGN(Tensor a, pool.Take(DataType::kFloat32, {40}, 1 << 20));
  EXPECT_EQ(a.raw_data(), exact_buffer);
  // 55 floats: 60 is the smallest that holds them.
  ASSERT_OK_AND_ASSIGN(Tensor b, pool.Take(DataType::kFloat32, {55}, 1 << 20));
  EXPECT_EQ(b.raw_data(), mid_buffer);
  EXPECT_EQ(b.num_elements(), 55);
  // 30 floats: 100 is more than twice as large, so a fresh buffer.
  ASSERT_OK_AND_ASSIGN(Tensor c, pool.Take(DataType::kFloat32, {30}, 1 << 20));
  EXPECT_NE(c.raw_data(), big_buffer);
  EXPECT_EQ(pool.fresh_allocations(), 4);
  EXPECT_EQ(pool.free_bytes(), 400);
}

TEST(TensorPoolTest, FreesBuffersLeftUnusedForAWholeRun) {
  TensorPool pool;
  ASSERT_OK_AND_ASSIGN(Tensor a, pool.Take(DataType::kFloat32, {8}, 1 << 20));
  pool.Give(a);
  pool.EndRun();  // free during this run: kept for the next
  EXPECT_EQ(pool.free_bytes(), 32);
  pool.EndRun();  // unused through a whole run: freed
  EXPECT_EQ(pool.free_bytes(), 0);
}

}  // namespace
}  // namespace onyx
