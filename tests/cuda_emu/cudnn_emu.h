// The emulated cuDNN's descriptors and the helpers its three sources share
// (cudnn_emu_descriptors.cc, cudnn_emu_conv.cc, cudnn_emu_pool.cc). Only float
// tensors exist here; CUDNN_DIM_MAX bounds every rank, as in cuDNN.
#pragma once

#include <cudnn.h>

#include <cstddef>
#include <cstdint>

struct cudnnContext {
  cudaStream_t stream = nullptr;
};

struct cudnnTensorStruct {
  bool set = false;
  int rank = 0;
  int dims[CUDNN_DIM_MAX] = {};
  int strides[CUDNN_DIM_MAX] = {};
};

// Always packed row-major NCHW / NCDHW: [out channels, in channels / groups, K...].
struct cudnnFilterStruct {
  bool set = false;
  int rank = 0;
  int dims[CUDNN_DIM_MAX] = {};
};

struct cudnnConvolutionStruct {
  bool set = false;
  int spatial = 0;  // the descriptor's arrayLength
  int pads[CUDNN_DIM_MAX] = {};
  int strides[CUDNN_DIM_MAX] = {};
  int dilations[CUDNN_DIM_MAX] = {};
  cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  int groups = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;  // accepted, never changes the arithmetic
};

struct cudnnPoolingStruct {
  bool set = false;
  cudnnPoolingMode_t mode = CUDNN_POOLING_MAX;
  cudnnNanPropagation_t nan = CUDNN_NOT_PROPAGATE_NAN;
  int spatial = 0;
  int window[CUDNN_DIM_MAX] = {};
  int pads[CUDNN_DIM_MAX] = {};
  int strides[CUDNN_DIM_MAX] = {};
};

namespace onyx_emu {

// Whether a descriptor was created and set.
inline bool Ready(const cudnnTensorStruct* t) { return t != nullptr && t->set; }
inline bool Ready(const cudnnFilterStruct* f) { return f != nullptr && f->set; }
inline bool Ready(const cudnnConvolutionStruct* c) { return c != nullptr && c->set; }
inline bool Ready(const cudnnPoolingStruct* p) { return p != nullptr && p->set; }

// Floats from a tensor's first element to one past its last (its strides allowed).
int64_t SpanElements(const cudnnTensorStruct& t);
int64_t Elements(const cudnnFilterStruct& f);
int64_t Elements(const cudnnTensorStruct& t);

// Aborts with "onyx CUDA emulator: <call>: <what> ... is not inside one device
// allocation" unless `elements` floats from `data` lie in one live allocation,
// as a GPU would fault on a host pointer.
void RequireDevice(const char* call, const char* what, const void* data, int64_t elements);

// The offset of element `index` (one coordinate per dimension) of `t`.
inline int64_t Offset(const cudnnTensorStruct& t, const int* index) {
  int64_t offset = 0;
  for (int d = 0; d < t.rank; ++d) offset += static_cast<int64_t>(index[d]) * t.strides[d];
  return offset;
}

// Steps `index` to the next coordinate of a row-major box of `extent` over
// `rank` dimensions; false after the last one (index is then all zeros).
inline bool NextIndex(int* index, const int* extent, int rank) {
  for (int d = rank - 1; d >= 0; --d) {
    if (++index[d] < extent[d]) return true;
    index[d] = 0;
  }
  return false;
}

// cuDNN's output blending: alpha * result + beta * old, where beta == 0 never
// reads the old value (it may be uninitialized, NaN included).
inline float Blend(double result, float alpha, float beta, float old) {
  const double scaled = static_cast<double>(alpha) * result;
  return static_cast<float>(beta == 0.f ? scaled : scaled + static_cast<double>(beta) * old);
}

}  // namespace onyx_emu
