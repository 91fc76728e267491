// The CUDA runtime: device query without a GPU, the caching allocator, host
// <-> device copies, and a session mixing CUDA and CPU-fallback nodes.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "runtime/cuda/cublas_api.h"
#include "runtime/cuda/cudnn_api.h"
#include "runtime/cuda/shared_library.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

// Runs in every build: no GPU must read as FailedPrecondition, not a crash.
TEST(CudaDeviceQuery, NoDeviceIsAPreconditionNotACrash) {
  if (cuda::DeviceCount() > 0) GTEST_SKIP() << "a GPU is present";
  auto backend = cuda::CudaBackend::Create();
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(cuda::NoDeviceReason().empty());
  // A session asked for CUDA without a backend says so.
  SessionOptions options;
  options.device = Device::kCuda;
  Tensor x = RandomFloats({2}, -1.f, 1.f, 1);
  auto session = Session::Create(testing_util::OneNodeGraph("Relu", {}, {x}, 14),
                                 DefaultRegistry(), options);
  EXPECT_EQ(session.status().code(), absl::StatusCode::kFailedPrecondition);
}

// Runs in every build: the loader behind the cuBLAS/cuDNN/NCCL tables names the
// library, what needs it and the loader's reason, or the missing entry points.
TEST(SharedLibrary, NamesWhatIsMissing) {
  auto absent = cuda::SharedLibrary::Open("libonyx_absent.so.7", "/nonexistent", "a test");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(absent.status().message(),
              ::testing::AllOf(::testing::HasSubstr("libonyx_absent.so.7"),
                               ::testing::HasSubstr("needed for a test"),
                               ::testing::HasSubstr("/nonexistent/libonyx_absent.so.7")));

  ASSERT_OK_AND_ASSIGN(cuda::SharedLibrary libm,
                       cuda::SharedLibrary::Open("libm.so.6", nullptr, "a test"));
  double (*cosine)(double) = nullptr;
  libm.Resolve("cos", &cosine);
  ASSERT_NE(cosine, nullptr);
  EXPECT_EQ(cosine(0.0), 1.0);
  ASSERT_OK(libm.Check());
  void (*absent_fn)() = nullptr;
  libm.Resolve("onyx_no_such_symbol", &absent_fn);
  EXPECT_EQ(absent_fn, nullptr);
  EXPECT_THAT(libm.Check().message(), ::testing::HasSubstr("libm.so.6 lacks the entry points: "
                                                           "onyx_no_such_symbol"));
  EXPECT_TRUE(cuda::LibraryMapped("libm.so"));
  EXPECT_FALSE(cuda::LibraryMapped("libonyx_absent"));
}

// Read before main: whether loading the process maps either library.
const bool kCublasMappedAtStart = cuda::CublasMapped();
const bool kCudnnMappedAtStart = cuda::CudnnMapped();

// Runs in every build (ctest gives each test its own process): a CPU session
// with MatMul, Conv and MaxPool maps neither libcublas (its load alone costs
// ~150 MiB of RSS) nor libcudnn; the lazy loaders then open them and resolve
// every entry point (no GPU needed).
TEST(GpuLibraryLoading, OnlyWhenFirstUsed) {
  ASSERT_FALSE(kCublasMappedAtStart) << "libcublas mapped when the process started";
  ASSERT_FALSE(kCudnnMappedAtStart) << "libcudnn mapped when the process started";
  if (cuda::CublasMapped() || cuda::CudnnMapped()) {
    // gpu_test run as one process (tools/gpu_check.sh): earlier tests used them.
    GTEST_SKIP() << "skipped: earlier tests in this process loaded the libraries; ctest runs "
                    "this test in a process of its own";
  }
  Tensor a = RandomFloats({4, 3}, -1.f, 1.f, 1);
  Tensor b = RandomFloats({3, 2}, -1.f, 1.f, 2);
  ASSERT_OK(RunNode("MatMul", {}, {a, b}, 13, Device::kCpu).status());
  Tensor x = RandomFloats({1, 2, 5, 5}, -1.f, 1.f, 3);
  Tensor w = RandomFloats({3, 2, 3, 3}, -1.f, 1.f, 4);
  ASSERT_OK(RunNode("Conv", {}, {x, w}, 13, Device::kCpu).status());
  ASSERT_OK(RunNode("MaxPool", {testing_util::IntsAttr("kernel_shape", {2, 2})}, {x}, 13,
                    Device::kCpu)
                .status());
  EXPECT_FALSE(cuda::CublasMapped()) << "a CPU session loaded libcublas";
  EXPECT_FALSE(cuda::CudnnMapped()) << "a CPU session loaded libcudnn";

  ASSERT_OK_AND_ASSIGN(const cuda::CublasApi* api, cuda::LoadCublas());
  EXPECT_NE(api->create, nullptr);
  EXPECT_NE(api->sgemm_strided_batched, nullptr);
  EXPECT_TRUE(cuda::CublasMapped());
  EXPECT_EQ(cuda::CublasStatus(CUBLAS_STATUS_SUCCESS, "x").code(), absl::StatusCode::kOk);
  EXPECT_THAT(cuda::CublasStatus(CUBLAS_STATUS_NOT_INITIALIZED, "cublasCreate").message(),
              ::testing::HasSubstr("cublasCreate"));

  ASSERT_OK_AND_ASSIGN(const cuda::CudnnApi* dnn, cuda::LoadCudnn());
  EXPECT_NE(dnn->convolution_forward, nullptr);
  EXPECT_NE(dnn->pooling_forward, nullptr);
  EXPECT_TRUE(cuda::CudnnMapped());
  EXPECT_EQ(cuda::CudnnStatus(CUDNN_STATUS_SUCCESS, "x").code(), absl::StatusCode::kOk);
  const absl::Status bad = cuda::CudnnStatus(CUDNN_STATUS_BAD_PARAM, "cudnnPoolingForward");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(bad.message(), ::testing::HasSubstr("cudnnPoolingForward"));
  // Not supported means "run the CPU kernel instead".
  EXPECT_EQ(cuda::CudnnStatus(CUDNN_STATUS_NOT_SUPPORTED_SHAPE, "x").code(),
            absl::StatusCode::kUnimplemented);
}

TEST(CachingAllocatorSizes, RoundUp) {
  EXPECT_EQ(cuda::CachingAllocator::RoundUp(0), 512u);
  EXPECT_EQ(cuda::CachingAllocator::RoundUp(513), 1024u);
  EXPECT_EQ(cuda::CachingAllocator::RoundUp(size_t{1} << 20), size_t{1} << 20);
  EXPECT_EQ(cuda::CachingAllocator::RoundUp((size_t{1} << 20) + 1), size_t{2} << 20);
  EXPECT_EQ(cuda::CachingAllocator::RoundUp((size_t{5} << 20) + 7), size_t{6} << 20);
}

TEST_F(GpuTest, AllocatorReusesFreedBlocks) {
  ASSERT_OK_AND_ASSIGN(auto backend, cuda::CudaBackend::Create());
  const void* first = nullptr;
  {
    ASSERT_OK_AND_ASSIGN(Tensor t, backend->Allocate(DataType::kFloat32, {1000, 1000},
                                                     kDefaultMaxTensorBytes));
    EXPECT_TRUE(t.on_device());
    first = t.raw_data();
    EXPECT_GE(backend->allocator().bytes_in_use(), 4000000u);
  }
  EXPECT_EQ(backend->allocator().bytes_in_use(), 0u);
  EXPECT_GE(backend->allocator().bytes_cached(), 4000000u);
  ASSERT_OK_AND_ASSIGN(Tensor again, backend->Allocate(DataType::kFloat32, {4000000 / 4},
                                                       kDefaultMaxTensorBytes));
  EXPECT_EQ(again.raw_data(), first);
  EXPECT_FALSE(backend->Allocate(DataType::kFloat32, {int64_t{1} << 40}, kDefaultMaxTensorBytes)
                   .ok());
}

TEST_F(GpuTest, CopiesRoundTrip) {
  ASSERT_OK_AND_ASSIGN(auto backend, cuda::CudaBackend::Create());
  Tensor x = RandomFloats({3, 1001}, -5.f, 5.f, 2);
  ASSERT_OK_AND_ASSIGN(Tensor d, backend->ToDevice(x));
  EXPECT_TRUE(d.on_device());
  EXPECT_FALSE(d.Clone().ok());  // the host must not read device memory
  ASSERT_OK_AND_ASSIGN(Tensor back, backend->ToHost(d));
  EXPECT_FALSE(back.on_device());
  EXPECT_TRUE(AllClose<float>(back, x, 0, 0));
}

// x -> Relu -> Transpose (no CUDA kernel: CPU with copies) -> MatMul(W) -> Softmax.
TEST_F(GpuTest, MixedGraphMatchesCpu) {
  Graph g;
  g.name = "mixed";
  g.opset_imports[""] = 13;
  ValueInfo x;
  x.name = "x";
  x.dtype = DataType::kFloat32;
  x.has_shape = true;
  x.dims = {Dim{4, ""}, Dim{6, ""}};
  g.inputs.push_back(x);
  g.initializers["w"] = RandomFloats({4, 5}, -1.f, 1.f, 3);
  auto node = [](std::string op, std::vector<std::string> in, std::string out) {
    Node n;
    n.name = out + "_node";
    n.op_type = std::move(op);
    n.inputs = std::move(in);
    n.outputs = {std::move(out)};
    return n;
  };
  g.nodes.push_back(node("Relu", {"x"}, "r"));
  g.nodes.push_back(node("Transpose", {"r"}, "t"));
  g.nodes.push_back(node("MatMul", {"t", "w"}, "m"));
  g.nodes.push_back(node("Softmax", {"m"}, "y"));
  ValueInfo y;
  y.name = "y";
  g.outputs.push_back(y);
  const NamedTensors feeds = {{"x", RandomFloats({4, 6}, -2.f, 2.f, 4)}};
  ASSERT_OK_AND_ASSIGN(auto cpu, RunGraph(g, feeds, Device::kCpu));
  ASSERT_OK_AND_ASSIGN(auto gpu, RunGraph(g, feeds, Device::kCuda));
  EXPECT_TRUE(AllClose<float>(gpu[0], cpu[0], 1e-5, 1e-6));
}

}  // namespace
}  // namespace onyx::gpu_test
