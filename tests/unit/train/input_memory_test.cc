// Kernel::input_memory on the stand-in device of fake_device.h: a device
// kernel gets kHost inputs on the host, kShapeOnly inputs where they are and
// kWhereItIs inputs on the device when they are floats (otherwise where they
// are), and the session copies nothing it does not have to.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/session.h"
#include "tests/unit/train/fake_device.h"

namespace onyx::train_test {
namespace {

// com.test Probe(x, scale, like) -> y on the fake device:
//   y[i] = x[i] * scale[0] + like.shape[0],
// with x in device memory, scale read on the host and `like` read for its shape only.
class ProbeKernel final : public Kernel {
 public:
  InputMemory input_memory(int i) const override {
    static constexpr InputMemory kMemory[] = {InputMemory::kDevice, InputMemory::kHost,
                                              InputMemory::kShapeOnly};
    return kMemory[i];
  }
  absl::Status Compute(KernelContext& ctx) override {
    const Tensor& x = *ctx.input(0);
    const Tensor& scale = *ctx.input(1);
    const Tensor& like = *ctx.input(2);
    if (!x.on_device()) return absl::InternalError("x is not on the device");
    if (scale.on_device()) return absl::InternalError("scale is not on the host");
    like_seen_on_device.push_back(like.on_device());
    std::vector<float> values(x.num_elements());
    CopyScrambled(values.data(), x.raw_data(), x.byte_size());
    for (float& v : values) {
      v = v * scale.data<float>()[0] + static_cast<float>(like.shape()[0]);
    }
    auto y = ctx.AllocateOutput(0, DataType::kFloat32, x.shape());
    if (!y.ok()) return y.status();
    if (!(*y)->on_device()) return absl::InternalError("y is not on the device");
    CopyScrambled((*y)->raw_data(), values.data(), (*y)->byte_size());
    return absl::OkStatus();
  }
  static inline std::vector<bool> like_seen_on_device;
};

// com.test View(x) -> x itself, wherever it is (a view takes kWhereItIs).
class ViewKernel final : public Kernel {
 public:
  InputMemory input_memory(int) const override { return InputMemory::kWhereItIs; }
  absl::Status Compute(KernelContext& ctx) override {
    seen_on_device.push_back(ctx.input(0)->on_device());
    ctx.SetOutput(0, *ctx.input(0));
    return absl::OkStatus();
  }
  static inline std::vector<bool> seen_on_device;
};

const OpRegistry& ProbeRegistry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    r->Register("com.test", "Probe", 1, Device::kCuda,
                [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                  return std::make_unique<ProbeKernel>();
                });
    r->Register("com.test", "View", 1, Device::kCuda,
                [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                  return std::make_unique<ViewKernel>();
                });
    return r;
  }();
  return *registry;
}

ValueInfo Float32(const char* name, int64_t n) {
  ValueInfo v;
  v.name = name;
  v.dtype = DataType::kFloat32;
  v.has_shape = true;
  v.dims = {Dim{n, ""}};
  return v;
}

// y = Probe(x, scale, like); `scale` is an initializer unless it is fed.
Graph ProbeGraph(bool scale_is_fed) {
  Graph g;
  g.opset_imports[""] = 17;
  g.opset_imports["com.test"] = 1;
  g.inputs = {Float32("x", 4), Float32("like", 7)};
  if (scale_is_fed) {
    g.inputs.push_back(Float32("scale", 1));
  } else {
    g.initializers["scale"] = *Tensor::FromVector<float>({1}, {3.f});
  }
  g.outputs = {Float32("y", 4)};
  Node probe;
  probe.name = "probe";
  probe.domain = "com.test";
  probe.op_type = "Probe";
  probe.inputs = {"x", "scale", "like"};
  probe.outputs = {"y"};
  g.nodes = {probe};
  return g;
}

SessionOptions OnDevice(std::shared_ptr<FakeDevice> device) {
  SessionOptions options;
  options.device = Device::kCuda;
  options.backend = std::move(device);
  return options;
}

void ExpectY(const Tensor& y) {
  ASSERT_FALSE(y.on_device());
  const float xs[] = {1.f, -2.f, 0.5f, 4.f};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y.data<float>()[i], xs[i] * 3.f + 7.f) << i;
}

TEST(InputMemoryTest, HostConstantIsNeverUploadedAndShapeOnlyInputIsNeverCopied) {
  auto device = std::make_shared<FakeDevice>();
  auto session =
      Session::Create(ProbeGraph(/*scale_is_fed=*/false), ProbeRegistry(), OnDevice(device));
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(device->to_device, 0) << "the host-read initializer was uploaded";
  const Tensor x = *Tensor::FromVector<float>({4}, {1.f, -2.f, 0.5f, 4.f});
  const Tensor like = *Tensor::Zeros(DataType::kFloat32, {7});
  const Tensor like_on_device = *device->ToDevice(like);
  ProbeKernel::like_seen_on_device.clear();
  for (const Tensor* fed_like : {&like, &like_on_device}) {
    device->to_device = device->to_host = 0;
    auto outs = (*session)->Run({{"x", x}, {"like", *fed_like}});
    ASSERT_TRUE(outs.ok()) << outs.status();
    ExpectY((*outs)[0]);
    // x goes up and y comes back; `like` and `scale` are not moved.
    EXPECT_EQ(device->to_device, 1);
    EXPECT_EQ(device->to_host, 1);
  }
  EXPECT_EQ(ProbeKernel::like_seen_on_device, (std::vector<bool>{false, true}));
}

TEST(InputMemoryTest, DeviceValueOfAHostInputComesToTheHost) {
  auto device = std::make_shared<FakeDevice>();
  auto session =
      Session::Create(ProbeGraph(/*scale_is_fed=*/true), ProbeRegistry(), OnDevice(device));
  ASSERT_TRUE(session.ok()) << session.status();
  const Tensor x = *device->ToDevice(*Tensor::FromVector<float>({4}, {1.f, -2.f, 0.5f, 4.f}));
  const Tensor scale = *device->ToDevice(*Tensor::FromVector<float>({1}, {3.f}));
  device->to_device = device->to_host = 0;
  auto outs = (*session)->Run(
      {{"x", x}, {"like", *Tensor::Zeros(DataType::kFloat32, {7})}, {"scale", scale}});
  ASSERT_TRUE(outs.ok()) << outs.status();
  ExpectY((*outs)[0]);
  EXPECT_EQ(device->to_device, 0);
  EXPECT_EQ(device->to_host, 2);  // scale for the kernel, y for the caller
}

// Adds NAME_out = View(NAME) to `g` for each name, every output a graph output.
void AddViews(Graph& g, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    Node view;
    view.name = std::string("view_") + name;
    view.domain = "com.test";
    view.op_type = "View";
    view.inputs = {name};
    view.outputs = {std::string(name) + "_out"};
    g.nodes.push_back(view);
    ValueInfo out;
    out.name = view.outputs[0];
    g.outputs.push_back(out);
  }
}

// kWhereItIs readers: a float initializer (weights, tables) is uploaded once at
// Create; an integer one (shape arithmetic) stays on the host.
TEST(InputMemoryTest, WhereItIsUploadsFloatInitializersOnly) {
  Graph g;
  g.opset_imports[""] = 17;
  g.opset_imports["com.test"] = 1;
  g.initializers["w"] = *Tensor::FromVector<float>({3}, {1.f, 2.f, 3.f});
  g.initializers["dims"] = *Tensor::FromVector<int64_t>({2}, {4, 5});
  AddViews(g, {"w", "dims"});
  auto device = std::make_shared<FakeDevice>();
  auto session = Session::Create(g, ProbeRegistry(), OnDevice(device));
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(device->to_device, 1) << "only the float initializer goes up";
  device->to_device = device->to_host = 0;
  auto outs = (*session)->Run({});
  ASSERT_TRUE(outs.ok()) << outs.status();
  EXPECT_EQ(device->to_host, 1);  // w_out comes back; dims_out never left
  EXPECT_EQ(device->to_device, 0);
  EXPECT_EQ((*outs)[0].data<float>()[2], 3.f);
  EXPECT_EQ((*outs)[1].data<int64_t>()[1], 5);
}

// kWhereItIs readers of values computed or fed at run time: a float on the
// host goes to the device, an integer stays where it is, and a value already on
// the device is not moved.
TEST(InputMemoryTest, WhereItIsMovesHostFloatsToTheDeviceOnly) {
  Graph g;
  g.opset_imports[""] = 17;
  g.opset_imports["com.test"] = 1;
  for (const char* name : {"f", "i"}) {
    ValueInfo in;
    in.name = name;
    g.inputs.push_back(in);
  }
  AddViews(g, {"f", "i"});
  auto device = std::make_shared<FakeDevice>();
  auto session = Session::Create(g, ProbeRegistry(), OnDevice(device));
  ASSERT_TRUE(session.ok()) << session.status();
  const Tensor f = *Tensor::FromVector<float>({2}, {1.5f, -2.f});
  const Tensor i = *Tensor::FromVector<int64_t>({2}, {4, 5});
  ViewKernel::seen_on_device.clear();
  auto outs = (*session)->Run({{"f", f}, {"i", i}});
  ASSERT_TRUE(outs.ok()) << outs.status();
  EXPECT_EQ(ViewKernel::seen_on_device, (std::vector<bool>{true, false}));
  EXPECT_EQ(device->to_device, 1);  // f went up; i stayed
  EXPECT_EQ(device->to_host, 1);    // f_out came back
  EXPECT_EQ((*outs)[0].data<float>()[0], 1.5f);
  EXPECT_EQ((*outs)[1].data<int64_t>()[1], 5);

  const Tensor f_on_device = *device->ToDevice(f);
  const Tensor i_on_device = *device->ToDevice(i);
  ViewKernel::seen_on_device.clear();
  device->to_device = device->to_host = 0;
  outs = (*session)->Run({{"f", f_on_device}, {"i", i_on_device}});
  ASSERT_TRUE(outs.ok()) << outs.status();
  EXPECT_EQ(ViewKernel::seen_on_device, (std::vector<bool>{true, true}));
  EXPECT_EQ(device->to_device, 0);
  EXPECT_EQ(device->to_host, 2);  // both outputs come back to the caller
}

}  // namespace
}  // namespace onyx::train_test
