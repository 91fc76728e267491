// The emulated cuDNN (cudnn_emu_*.cc) against hand-computed values, through
// Onyx's dlopen'ed table: what Onyx's kernels never ask for (true convolution,
// alpha and beta other than 1 and 0, padded strides, NaN handling, mismatched
// descriptors) and the device-pointer checks. Emulator builds only.
#include <cuda_runtime.h>

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/cuda/cudnn_api.h"

namespace onyx {
namespace {

class CudnnEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = cuda::LoadCudnn();
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    api_ = *loaded;
    ASSERT_EQ(api_->create(&handle_), CUDNN_STATUS_SUCCESS);
  }
  void TearDown() override {
    for (void* p : buffers_) cudaFree(p);
    for (auto t : tensors_) api_->destroy_tensor(t);
    if (handle_ != nullptr) api_->destroy(handle_);
  }

  float* Device(const std::vector<float>& host) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, host.size() * sizeof(float)), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(p, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice),
              cudaSuccess);
    buffers_.push_back(p);
    return static_cast<float*>(p);
  }
  // A fresh device buffer, never written: every float NaN (the emulator's 0xff fill).
  float* Fresh(size_t n) {
    void* p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, n * sizeof(float)), cudaSuccess);
    buffers_.push_back(p);
    return static_cast<float*>(p);
  }
  std::vector<float> Host(const float* device, size_t n) {
    std::vector<float> host(n);
    EXPECT_EQ(cudaMemcpy(host.data(), device, n * sizeof(float), cudaMemcpyDeviceToHost),
              cudaSuccess);
    return host;
  }
  cudnnTensorDescriptor_t Tensor(std::vector<int> dims, std::vector<int> strides = {}) {
    if (strides.empty()) {
      strides.assign(dims.size(), 1);
      for (int d = static_cast<int>(dims.size()) - 2; d >= 0; --d) {
        strides[d] = strides[d + 1] * dims[d + 1];
      }
    }
    cudnnTensorDescriptor_t t = nullptr;
    EXPECT_EQ(api_->create_tensor(&t), CUDNN_STATUS_SUCCESS);
    tensors_.push_back(t);
    EXPECT_EQ(api_->set_tensor_nd(t, CUDNN_DATA_FLOAT, static_cast<int>(dims.size()), dims.data(),
                                  strides.data()),
              CUDNN_STATUS_SUCCESS);
    return t;
  }

  const cuda::CudnnApi* api_ = nullptr;
  cudnnHandle_t handle_ = nullptr;
  std::vector<void*> buffers_;
  std::vector<cudnnTensorDescriptor_t> tensors_;
};

// A 1x1x3x3 input, a 1x1x2x2 filter, no padding: y[i][j] = sum x[i+a][j+b] * w'[a][b],
// w' = w for cross-correlation, w rotated by 180 degrees for convolution.
TEST_F(CudnnEmulatorTest, ConvolutionFlipsTheFilterAndScalesByAlphaAndBeta) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> w = {1, 10, 100, 1000};
  cudnnFilterDescriptor_t w_desc = nullptr;
  ASSERT_EQ(api_->create_filter(&w_desc), CUDNN_STATUS_SUCCESS);
  const int w_dims[] = {1, 1, 2, 2};
  ASSERT_EQ(api_->set_filter_nd(w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 4, w_dims),
            CUDNN_STATUS_SUCCESS);
  const cudnnTensorDescriptor_t x_desc = Tensor({1, 1, 3, 3});
  const cudnnTensorDescriptor_t y_desc = Tensor({1, 1, 2, 2});
  const float* xd = Device(x);
  const float* wd = Device(w);
  for (cudnnConvolutionMode_t mode : {CUDNN_CROSS_CORRELATION, CUDNN_CONVOLUTION}) {
    cudnnConvolutionDescriptor_t conv = nullptr;
    ASSERT_EQ(api_->create_conv(&conv), CUDNN_STATUS_SUCCESS);
    const int pads[] = {0, 0}, strides[] = {1, 1}, dilations[] = {1, 1};
    ASSERT_EQ(api_->set_conv_nd(conv, 2, pads, strides, dilations, mode, CUDNN_DATA_FLOAT),
              CUDNN_STATUS_SUCCESS);
    float* yd = Device({1, 2, 3, 4});
    const float alpha = 2.f, beta = 0.5f;
    ASSERT_EQ(api_->convolution_forward(handle_, &alpha, x_desc, xd, w_desc, wd, conv,
                                        CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0,
                                        &beta, y_desc, yd),
              CUDNN_STATUS_SUCCESS);
    const std::vector<float> y = Host(yd, 4);
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        double sum = 0;
        for (int a = 0; a < 2; ++a) {
          for (int b = 0; b < 2; ++b) {
            const int tap = mode == CUDNN_CONVOLUTION ? (1 - a) * 2 + (1 - b) : a * 2 + b;
            sum += x[(i + a) * 3 + j + b] * w[tap];
          }
        }
        EXPECT_DOUBLE_EQ(y[i * 2 + j], 2 * sum + 0.5 * (i * 2 + j + 1)) << mode << " " << i << j;
      }
    }
    api_->destroy_conv(conv);
  }
  api_->destroy_filter(w_desc);
}

TEST_F(CudnnEmulatorTest, BetaZeroIgnoresNaNOutputsAndStridesAreHonoured) {
  // x is [1, 2, 1, 2] with channel stride 3 (a padded layout): element (c, j) at 3c + j.
  float* xd = Device({1, 2, -1, 10, 20, -1});
  const cudnnTensorDescriptor_t x_desc = Tensor({1, 2, 1, 2}, {6, 3, 2, 1});
  const cudnnTensorDescriptor_t b_desc = Tensor({1, 2, 1, 1});
  float* db = Fresh(2);  // NaN: beta == 0 must not read it
  const float one = 1.f, zero = 0.f;
  ASSERT_EQ(api_->convolution_backward_bias(handle_, &one, x_desc, xd, &zero, b_desc, db),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(Host(db, 2), (std::vector<float>{3, 30}));
  // AddTensor broadcasts the [1, 2, 1, 1] bias over the strided x: x = 2 * b + x.
  const float two = 2.f;
  ASSERT_EQ(api_->add_tensor(handle_, &two, b_desc, db, &one, x_desc, xd),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(Host(xd, 6), (std::vector<float>{7, 8, -1, 70, 80, -1}));  // the gap stays
}

TEST_F(CudnnEmulatorTest, AveragePoolingCountsOrSkipsThePaddingAndMaxPropagatesNaNOnRequest) {
  const cudnnTensorDescriptor_t x_desc = Tensor({1, 1, 2, 2});
  const float* xd = Device({1, 2, 3, NAN});
  const int window[] = {2, 2}, strides[] = {2, 2};
  // A 2x2 window at stride 2 with `pad` on every side; the output is [1, 1, out, out].
  auto pool = [&](cudnnPoolingMode_t mode, cudnnNanPropagation_t nan, int pad, int out) {
    cudnnPoolingDescriptor_t desc = nullptr;
    EXPECT_EQ(api_->create_pooling(&desc), CUDNN_STATUS_SUCCESS);
    const int pads[] = {pad, pad};
    EXPECT_EQ(api_->set_pooling_nd(desc, mode, nan, 2, window, pads, strides),
              CUDNN_STATUS_SUCCESS);
    int dims[4] = {};
    EXPECT_EQ(api_->pooling_output_dim(desc, x_desc, 4, dims), CUDNN_STATUS_SUCCESS);
    EXPECT_EQ(std::vector<int>(dims, dims + 4), (std::vector<int>{1, 1, out, out}));
    float* yd = Fresh(out * out);
    const float one = 1.f, zero = 0.f;
    EXPECT_EQ(api_->pooling_forward(handle_, desc, &one, x_desc, xd, &zero,
                                    Tensor({1, 1, out, out}), yd),
              CUDNN_STATUS_SUCCESS);
    api_->destroy_pooling(desc);
    return Host(yd, out * out);
  };
  // Pad 1: each window holds one element of x, the padding the other three.
  const std::vector<float> include =
      pool(CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, CUDNN_PROPAGATE_NAN, 1, 2);
  EXPECT_FLOAT_EQ(include[0], 0.25f);
  EXPECT_FLOAT_EQ(include[2], 0.75f);
  const std::vector<float> exclude =
      pool(CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING, CUDNN_PROPAGATE_NAN, 1, 2);
  EXPECT_FLOAT_EQ(exclude[1], 2.f);
  EXPECT_TRUE(std::isnan(exclude[3]));
  const std::vector<float> max = pool(CUDNN_POOLING_MAX, CUDNN_PROPAGATE_NAN, 1, 2);
  EXPECT_FLOAT_EQ(max[0], 1.f);  // the padding never wins a max
  EXPECT_FLOAT_EQ(max[2], 3.f);
  EXPECT_TRUE(std::isnan(max[3]));
  // Pad 0: one window over all of x; the NaN wins only when it propagates.
  EXPECT_TRUE(std::isnan(pool(CUDNN_POOLING_MAX, CUDNN_PROPAGATE_NAN, 0, 1)[0]));
  EXPECT_FLOAT_EQ(pool(CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_NOT_PROPAGATE_NAN, 0, 1)[0], 3.f);
}

TEST_F(CudnnEmulatorTest, DescriptorsThatDisagreeAreBadParams) {
  cudnnFilterDescriptor_t w_desc = nullptr;
  ASSERT_EQ(api_->create_filter(&w_desc), CUDNN_STATUS_SUCCESS);
  const int w_dims[] = {4, 3, 3, 3};
  ASSERT_EQ(api_->set_filter_nd(w_desc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 4, w_dims),
            CUDNN_STATUS_SUCCESS);
  cudnnConvolutionDescriptor_t conv = nullptr;
  ASSERT_EQ(api_->create_conv(&conv), CUDNN_STATUS_SUCCESS);
  const int pads[] = {1, 1}, strides[] = {2, 2}, dilations[] = {1, 1}, bad[] = {0, 1};
  EXPECT_EQ(api_->set_conv_nd(conv, 2, pads, bad, dilations, CUDNN_CROSS_CORRELATION,
                              CUDNN_DATA_FLOAT),
            CUDNN_STATUS_BAD_PARAM);
  ASSERT_EQ(api_->set_conv_nd(conv, 2, pads, strides, dilations, CUDNN_CROSS_CORRELATION,
                              CUDNN_DATA_FLOAT),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(api_->set_conv_groups(conv, 0), CUDNN_STATUS_BAD_PARAM);
  int out[4] = {};
  ASSERT_EQ(api_->conv_output_dim(conv, Tensor({2, 3, 7, 8}), w_desc, 4, out),
            CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(std::vector<int>(out, out + 4), (std::vector<int>{2, 4, 4, 4}));
  // Six input channels against a filter of three per group and one group.
  EXPECT_EQ(api_->conv_output_dim(conv, Tensor({2, 6, 7, 8}), w_desc, 4, out),
            CUDNN_STATUS_BAD_PARAM);
  // An output descriptor whose dims are not the convolution's.
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int returned = 0;
  EXPECT_EQ(api_->get_forward_algorithm(handle_, Tensor({2, 3, 7, 8}), w_desc, conv,
                                        Tensor({2, 4, 4, 5}), CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                        &returned, perf),
            CUDNN_STATUS_BAD_PARAM);
  ASSERT_EQ(api_->get_forward_algorithm(handle_, Tensor({2, 3, 7, 8}), w_desc, conv,
                                        Tensor({2, 4, 4, 4}), CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                        &returned, perf),
            CUDNN_STATUS_SUCCESS);
  ASSERT_EQ(returned, 1);
  EXPECT_EQ(perf[0].status, CUDNN_STATUS_SUCCESS);
  EXPECT_EQ(perf[0].memory, 0u);
  const int zero_dims[] = {1, 0, 2, 2};
  EXPECT_EQ(api_->set_tensor_nd(Tensor({1, 1, 1, 1}), CUDNN_DATA_FLOAT, 4, zero_dims, zero_dims),
            CUDNN_STATUS_BAD_PARAM);
  api_->destroy_conv(conv);
  api_->destroy_filter(w_desc);
}

TEST_F(CudnnEmulatorTest, HostPointersAbortNamingTheCallAndTheArgument) {
  // gpu_test runs other threads (OpenMP) by now: re-execute rather than fork.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const cudnnTensorDescriptor_t t = Tensor({1, 2, 1, 1});
  std::vector<float> host(2, 1.f);
  float* device = Fresh(2);
  const float one = 1.f;
  EXPECT_DEATH(api_->add_tensor(handle_, &one, t, host.data(), &one, t, device),
               "onyx CUDA emulator: cudnnAddTensor: A .* is not inside one device allocation");
  // One float short of the descriptor's extent.
  EXPECT_DEATH(api_->add_tensor(handle_, &one, t, device + 1, &one, t, device),
               "cudnnAddTensor: A");
}

}  // namespace
}  // namespace onyx
