// Test-only references for the conv family: naive double-precision Conv and
// ConvTranspose written straight from the ONNX definitions (no shared code
// with ops/conv), and the shared one-node runner under the names these tests use.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "tests/unit/common/run_node.h"

namespace onyx::conv_test {

// Explicit geometry of one reference convolution (pads already resolved).
struct RefParams {
  std::vector<int64_t> strides, dilations, pads_begin, pads_end;
  int64_t group = 1;
};

// Shapes padded to 3 spatial dims with 1s so one loop nest serves 1-D..3-D.
inline std::vector<int64_t> Spatial3(const Shape& s) {
  std::vector<int64_t> d(s.begin() + 2, s.end());
  while (d.size() < 3) d.push_back(1);
  return d;
}
inline std::vector<int64_t> Pad3(std::vector<int64_t> v, int64_t fill) {
  while (v.size() < 3) v.push_back(fill);
  return v;
}

// Y[n, m, o] = B[m] + sum_{c in group(m), k} X[n, c, o * s - pb + k * d] * W[m, c', k],
// taps outside X reading 0. Returns Y and sets *y_shape.
inline std::vector<double> RefConv(const Shape& xs, const std::vector<double>& x, const Shape& ws,
                                   const std::vector<double>& w, const std::vector<double>* b,
                                   const RefParams& p, Shape* y_shape) {
  const int64_t n_batch = xs[0], c_in = xs[1], m_out = ws[0], cg = ws[1];
  const int64_t mg = m_out / p.group;
  const auto in = Spatial3(xs), k = Spatial3(ws);
  const auto s = Pad3(p.strides, 1), d = Pad3(p.dilations, 1), pb = Pad3(p.pads_begin, 0),
             pe = Pad3(p.pads_end, 0);
  std::vector<int64_t> out(3);
  for (int i = 0; i < 3; ++i) out[i] = (in[i] + pb[i] + pe[i] - ((k[i] - 1) * d[i] + 1)) / s[i] + 1;
  *y_shape = {n_batch, m_out};
  for (size_t i = 0; i + 2 < xs.size(); ++i) y_shape->push_back(out[i]);
  std::vector<double> y(n_batch * m_out * out[0] * out[1] * out[2], 0.0);
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t m = 0; m < m_out; ++m)
      for (int64_t o0 = 0; o0 < out[0]; ++o0)
        for (int64_t o1 = 0; o1 < out[1]; ++o1)
          for (int64_t o2 = 0; o2 < out[2]; ++o2) {
            double acc = b ? (*b)[m] : 0.0;
            for (int64_t cc = 0; cc < cg; ++cc) {
              const int64_t c = (m / mg) * cg + cc;
              for (int64_t k0 = 0; k0 < k[0]; ++k0)
                for (int64_t k1 = 0; k1 < k[1]; ++k1)
                  for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                    const int64_t i0 = o0 * s[0] - pb[0] + k0 * d[0];
                    const int64_t i1 = o1 * s[1] - pb[1] + k1 * d[1];
                    const int64_t i2 = o2 * s[2] - pb[2] + k2 * d[2];
                    if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2])
                      continue;
                    acc += x[(((n * c_in + c) * in[0] + i0) * in[1] + i1) * in[2] + i2] *
                           w[(((m * cg + cc) * k[0] + k0) * k[1] + k1) * k[2] + k2];
                  }
            }
            y[(((n * m_out + m) * out[0] + o0) * out[1] + o1) * out[2] + o2] = acc;
          }
  return y;
}

// ConvTranspose: every X[n, c, i] scatters X * W[c, m', k] to output position
// i * s - pb + k * d of channel group(c) * M/G + m'; `out` is the output's
// spatial size (the caller settles it from the ONNX formulas).
inline std::vector<double> RefConvTranspose(const Shape& xs, const std::vector<double>& x,
                                            const Shape& ws, const std::vector<double>& w,
                                            const std::vector<double>* b, const RefParams& p,
                                            const std::vector<int64_t>& out_spatial,
                                            Shape* y_shape) {
  const int64_t n_batch = xs[0], c_in = xs[1], mg = ws[1], m_out = mg * p.group;
  const int64_t cg = c_in / p.group;
  const auto in = Spatial3(xs), k = Spatial3(ws);
  const auto s = Pad3(p.strides, 1), d = Pad3(p.dilations, 1), pb = Pad3(p.pads_begin, 0);
  const auto out = Pad3(out_spatial, 1);
  *y_shape = {n_batch, m_out};
  y_shape->insert(y_shape->end(), out_spatial.begin(), out_spatial.end());
  const int64_t plane = out[0] * out[1] * out[2];
  std::vector<double> y(n_batch * m_out * plane, 0.0);
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t m = 0; m < m_out; ++m)
      for (int64_t i = 0; i < plane; ++i) y[(n * m_out + m) * plane + i] = b ? (*b)[m] : 0.0;
  for (int64_t n = 0; n < n_batch; ++n)
    for (int64_t c = 0; c < c_in; ++c)
      for (int64_t i0 = 0; i0 < in[0]; ++i0)
        for (int64_t i1 = 0; i1 < in[1]; ++i1)
          for (int64_t i2 = 0; i2 < in[2]; ++i2) {
            const double xv = x[(((n * c_in + c) * in[0] + i0) * in[1] + i1) * in[2] + i2];
            for (int64_t mm = 0; mm < mg; ++mm) {
              const int64_t m = (c / cg) * mg + mm;
              for (int64_t k0 = 0; k0 < k[0]; ++k0)
                for (int64_t k1 = 0; k1 < k[1]; ++k1)
                  for (int64_t k2 = 0; k2 < k[2]; ++k2) {
                    const int64_t o0 = i0 * s[0] - pb[0] + k0 * d[0];
                    const int64_t o1 = i1 * s[1] - pb[1] + k1 * d[1];
                    const int64_t o2 = i2 * s[2] - pb[2] + k2 * d[2];
                    if (o0 < 0 || o0 >= out[0] || o1 < 0 || o1 >= out[1] || o2 < 0 || o2 >= out[2])
                      continue;
                    y[(((n * m_out + m) * out[0] + o0) * out[1] + o1) * out[2] + o2] +=
                        xv * w[(((c * mg + mm) * k[0] + k0) * k[1] + k1) * k[2] + k2];
                  }
            }
          }
  return y;
}

inline std::vector<double> Random(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<double> v(n);
  for (double& e : v) e = static_cast<float>(dist(gen));  // exactly representable
  return v;
}

inline Tensor ToTensor(const Shape& shape, const std::vector<double>& v) {
  return Tensor::FromVector<float>(shape, std::vector<float>(v.begin(), v.end())).value();
}

inline constexpr auto& Ints = testing_util::IntsAttr;
inline constexpr auto& Int = testing_util::IntAttr;
inline constexpr auto& Float = testing_util::FloatAttr;
inline constexpr auto& String = testing_util::StringAttr;

// One node `op` (domain ONNX opset 13, or com.onyx) named "conv0" over inputs
// x0, x1, ... (an empty Tensor is an omitted input) with output "y".
inline testing_util::NodeSpec ConvNodeSpec(const std::string& op, const std::string& domain,
                                           std::vector<Attribute> attrs) {
  return {.op_type = op,
          .domain = domain,
          .attrs = std::move(attrs),
          .opset = 13,
          .node_name = "conv0",
          .imports = {"com.onyx"}};
}
inline Graph OneNode(const std::string& op, const std::string& domain, std::vector<Attribute> attrs,
                     const std::vector<Tensor>& inputs) {
  return testing_util::OneNodeGraph(ConvNodeSpec(op, domain, std::move(attrs)), inputs);
}

inline absl::StatusOr<Tensor> RunNode(const std::string& op, const std::string& domain,
                                      std::vector<Attribute> attrs,
                                      const std::vector<Tensor>& inputs) {
  return testing_util::RunNodeSpecFirst(ConvNodeSpec(op, domain, std::move(attrs)), inputs);
}

}  // namespace onyx::conv_test
