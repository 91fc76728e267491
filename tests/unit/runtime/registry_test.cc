// OpRegistry: the version in force for a model's opset.
#include "runtime/op_registry.h"

#include "gtest/gtest.h"
#include "tests/status_matchers.h"

namespace onyx {
namespace {

class TaggedKernel : public Kernel {
 public:
  explicit TaggedKernel(int tag) : tag(tag) {}
  absl::Status Compute(KernelContext&) override { return absl::OkStatus(); }
  int tag;
};

KernelFactory Tagged(int tag) {
  return [tag](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::make_unique<TaggedKernel>(tag);
  };
}

TEST(OpRegistryTest, PicksHighestSinceVersionNotAboveOpset) {
  OpRegistry registry;
  registry.Register("", "Softmax", 13, Device::kCpu, Tagged(13));
  registry.Register("", "Softmax", 1, Device::kCpu, Tagged(1));
  Node node;
  node.op_type = "Softmax";
  for (auto [opset, tag] : std::vector<std::pair<int, int>>{{1, 1}, {12, 1}, {13, 13}, {22, 13}}) {
    ASSERT_OK_AND_ASSIGN(auto kernel, registry.CreateKernel(node, opset, Device::kCpu));
    EXPECT_EQ(static_cast<TaggedKernel*>(kernel.get())->tag, tag) << "opset " << opset;
  }
}

TEST(OpRegistryTest, NamesOpOpsetAndDeviceWhenMissing) {
  OpRegistry registry;
  registry.Register("", "Gelu", 20, Device::kCpu, Tagged(20));
  Node node;
  node.op_type = "Gelu";
  auto too_old = registry.CreateKernel(node, 19, Device::kCpu);
  ASSERT_FALSE(too_old.ok());
  EXPECT_EQ(too_old.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(too_old.status().message().find("opset 19"), std::string::npos) << too_old.status();
  auto cuda = registry.CreateKernel(node, 20, Device::kCuda);
  ASSERT_FALSE(cuda.ok());
  EXPECT_NE(cuda.status().message().find("cuda"), std::string::npos) << cuda.status();
  node.op_type = "Nope";
  EXPECT_FALSE(registry.CreateKernel(node, 20, Device::kCpu).ok());
  EXPECT_TRUE(registry.Knows("", "Gelu"));
  EXPECT_FALSE(registry.Knows("com.other", "Gelu"));
}

}  // namespace
}  // namespace onyx
