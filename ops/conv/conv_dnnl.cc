// oneDNN helpers of the conv family: weight layouts, the weight cache and the
// forward plan's execution.
#include "ops/conv/conv_dnnl.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <unordered_map>

#include "absl/strings/str_format.h"
#include "runtime/dnnl_context.h"

namespace onyx::conv {
namespace {

using dnnl::memory;

// At most this many weights are compared to validate a cached reorder. Every
// conv pays this on every run, one cache miss per sample once the activations
// have evicted the weights: 4096 samples cost about 0.8 ms per MobileNetV2
// run (52 convs), ~10% of its batch-1 latency. 256 spread samples still catch
// an optimizer step, which changes essentially every weight.
constexpr int64_t kMaxWeightSamples = 256;

memory::dims Strides(const memory::dims& dims) {
  memory::dims s(dims.size(), 1);
  for (int i = static_cast<int>(dims.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

int64_t KernelVolume(const ConvGeometry& g) {
  int64_t v = 1;
  for (int64_t k : g.kernel) v *= k;
  return v;
}

}  // namespace

memory::dims ToDnnlDims(const std::vector<int64_t>& v) { return memory::dims(v.begin(), v.end()); }

memory::desc ConvWeightsDesc(const ConvGeometry& g, bool any) {
  memory::dims dims;
  if (g.group > 1) dims.push_back(g.group);
  dims.push_back(g.out_channels / g.group);
  dims.push_back(g.in_channels / g.group);
  dims.insert(dims.end(), g.kernel.begin(), g.kernel.end());
  if (any) return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
  return memory::desc(dims, memory::data_type::f32, Strides(dims));
}

memory::desc DeconvWeightsDesc(const ConvGeometry& g, bool any) {
  const int64_t k = KernelVolume(g);
  const int64_t og = g.out_channels / g.group, ig = g.in_channels / g.group;
  memory::dims dims, strides;
  if (g.group > 1) {
    dims.push_back(g.group);
    strides.push_back(ig * og * k);
  }
  // ONNX stores [C, M/G, k...]: within a group the input channel is the outer
  // dim, so oneDNN's (out, in) pair is read transposed through strides.
  dims.push_back(og);
  strides.push_back(k);
  dims.push_back(ig);
  strides.push_back(og * k);
  memory::dims kdims = ToDnnlDims(g.kernel);
  memory::dims kstrides = Strides(kdims);
  dims.insert(dims.end(), kdims.begin(), kdims.end());
  strides.insert(strides.end(), kstrides.begin(), kstrides.end());
  if (any) return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
  return memory::desc(dims, memory::data_type::f32, strides);
}

memory::desc ActivationDesc(const Shape& shape, bool any) {
  if (any) return memory::desc(ToDnnlDims(shape), memory::data_type::f32, memory::format_tag::any);
  return PlainDesc(shape);
}

dnnl::primitive_attr UserScratchpadAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

memory SharedScratchpad(size_t bytes) {
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  thread_local std::unique_ptr<void, FreeDeleter> buffer;
  thread_local size_t capacity = 0;
  if (bytes > capacity) {
    buffer.reset();
    void* p = nullptr;
    if (posix_memalign(&p, 4096, bytes) != 0) throw std::bad_alloc();
    buffer.reset(p);
    capacity = bytes;
  }
  const memory::desc desc({static_cast<memory::dim>(capacity)}, memory::data_type::u8,
                          memory::format_tag::a);
  return memory(desc, CpuEngine(), buffer.get());
}

void Reorder(const memory& from, const memory& to) {
  dnnl::reorder(from, to).execute(CpuStream(), const_cast<memory&>(from), const_cast<memory&>(to));
}

int64_t WeightCache::SampleStride(int64_t n) {
  return std::max<int64_t>(1, (n + kMaxWeightSamples - 1) / kMaxWeightSamples);
}

bool WeightCache::Matches(const Tensor& w) const {
  if (ptr_ != w.raw_data() || shape_ != w.shape()) return false;
  const int64_t n = w.num_elements(), stride = SampleStride(n);
  const float* p = w.data<float>();
  size_t j = 0;
  for (int64_t i = 0; i < n; i += stride, ++j) {
    // Bitwise, so that NaN weights compare equal to themselves.
    if (std::memcmp(&p[i], &samples_[j], sizeof(float)) != 0) return false;
  }
  return true;
}

void WeightCache::Remember(const Tensor& w) {
  ptr_ = w.raw_data();
  shape_ = w.shape();
  const int64_t n = w.num_elements(), stride = SampleStride(n);
  samples_.clear();
  for (int64_t i = 0; i < n; i += stride) samples_.push_back(w.data<float>()[i]);
}

absl::StatusOr<memory> WeightCache::Get(const Tensor& w, const memory::desc& plain,
                                        const memory::desc& target) {
  if (target == plain) return AsDnnlMemory(plain, w);
  if (reordered_ && target_ == target && Matches(w)) return reordered_;
  try {
    memory out(target, CpuEngine());
    Reorder(AsDnnlMemory(plain, w), out);
    CpuStream().wait();
    reordered_ = out;
  } catch (const dnnl::error& e) {
    reordered_ = memory();
    return DnnlError("conv weight reorder", e);
  }
  target_ = target;
  Remember(w);
  return reordered_;
}

absl::Status ForwardPlan::Run(WeightCache& cache, const Tensor& x, const Tensor& w, const Tensor* b,
                              const Tensor* z, bool z_in_y, Tensor& y,
                              const std::unordered_map<int, memory>* extra) const {
  absl::StatusOr<memory> wmem = cache.Get(w, weights_plain, weights);
  if (!wmem.ok()) return wmem.status();
  try {
    dnnl::stream& stream = CpuStream();
    const dnnl::engine& engine = CpuEngine();
    // Source: used as is when already in src's layout, else reordered.
    memory src_mem;
    if (x.is_plain()) {
      src_mem = AsDnnlMemory(src_plain, x);
      if (src != src_plain) {
        if (!src_buf) src_buf = memory(src, engine);
        src_in.execute(stream, src_mem, const_cast<memory&>(src_buf));
        src_mem = src_buf;
      }
    } else {
      memory x_mem(x.layout()->desc, engine, const_cast<void*>(x.raw_data()));
      if (x.layout()->desc == src) {
        src_mem = x_mem;
      } else {
        if (!src_scratch) src_scratch = memory(src, engine);
        Reorder(x_mem, src_scratch);
        src_mem = src_scratch;
      }
    }
    // Destination: y itself when it is plain and dst is plain, or when y was
    // allocated in dst's blocked layout; else dst_buf, reordered into y after.
    const bool y_direct = !y.is_plain() || dst == dst_plain;
    if (!y_direct && !dst_buf) dst_buf = memory(dst, engine);
    memory dst_mem = !y.is_plain() ? memory(dst, engine, y.raw_data())
                     : y_direct     ? AsDnnlMemory(dst_plain, y)
                                    : dst_buf;
    if (has_sum && !z_in_y) {
      const memory::desc z_desc = PhysicalDesc(*z);
      memory z_mem(z_desc, engine, const_cast<void*>(z->raw_data()));
      if (z_desc == dst_mem.get_desc()) {
        std::memcpy(dst_mem.get_data_handle(), z->raw_data(), z_desc.get_size());
      } else if (z->is_plain() && !y_direct) {
        z_in.execute(stream, z_mem, dst_mem);
      } else {
        Reorder(z_mem, dst_mem);
      }
    }
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, *wmem}, {DNNL_ARG_DST, dst_mem}};
    if (has_bias) args.emplace(DNNL_ARG_BIAS, AsDnnlMemory(bias, *b));
    if (extra != nullptr) args.insert(extra->begin(), extra->end());
    if (scratchpad_bytes > 0) args.emplace(DNNL_ARG_SCRATCHPAD, SharedScratchpad(scratchpad_bytes));
    prim.execute(stream, args);
    if (!y_direct) {
      memory y_mem = AsDnnlMemory(dst_plain, y);
      dst_out.execute(stream, dst_mem, y_mem);
    }
    stream.wait();
  } catch (const dnnl::error& e) {
    return DnnlError("conv forward", e);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "conv forward: cannot allocate %d bytes of oneDNN scratchpad", scratchpad_bytes));
  }
  return absl::OkStatus();
}

absl::Status CheckFloat(const Node& node, const char* what, const Tensor* t) {
  if (t == nullptr || t->dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(
      absl::StrFormat("%s: input %s is %s; the CPU kernel supports float32 only", node.Describe(),
                      what, DataTypeName(t->dtype())));
}

}  // namespace onyx::conv
