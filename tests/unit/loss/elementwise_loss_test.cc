// MseLoss, BceLoss, BceWithLogitsLoss: forward against double-precision closed forms,
// backward ops against central finite differences of the float64 forward kernel.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/loss/loss_test_util.h"

namespace onyx::loss_test {
namespace {

// Closed forms in double, written independently of ops/loss/loss_math.h.
double RefElement(const std::string& op, double x, double t) {
  if (op == "MseLoss") return (x - t) * (x - t);
  if (op == "BceLoss") {
    const double log_x = x > 0 ? std::max(std::log(x), -100.0) : -100.0;
    const double log_1mx = x < 1 ? std::max(std::log(1 - x), -100.0) : -100.0;
    return -t * log_x - (1 - t) * log_1mx;
  }
  // -(t·log σ(x) + (1-t)·log(1-σ(x))) with log σ(x) = -log(1+e^-x), log(1-σ) = -x - log(1+e^-x)
  const double softplus_neg = x > 0 ? std::log1p(std::exp(-x)) : -x + std::log1p(std::exp(x));
  return t * softplus_neg + (1 - t) * (x + softplus_neg);
}

struct Inputs2 {
  std::vector<double> x, t;
};

Inputs2 MakeInputs(const std::string& op, int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-3, 3), p(0.05, 0.95), t01(0, 1);
  Inputs2 in;
  for (int64_t i = 0; i < count; ++i) {
    if (op == "BceLoss") {
      in.x.push_back(p(rng));
      in.t.push_back(t01(rng));
    } else {
      in.x.push_back(u(rng));
      in.t.push_back(op == "MseLoss" ? u(rng) : t01(rng));
    }
  }
  return in;
}

const char* const kOps[] = {"MseLoss", "BceLoss", "BceWithLogitsLoss"};

TEST(ElementwiseLossTest, ForwardMatchesReference) {
  uint32_t seed = 1;
  for (const char* op : kOps) {
    for (const char* red : {"none", "sum", "mean"}) {
      for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
        SCOPED_TRACE(absl::StrFormat("%s %s %s", op, red, DataTypeName(dtype)));
        const Shape shape = {3, 2, 4};
        const Inputs2 in = MakeInputs(op, NumElements(shape), seed++);
        ASSERT_OK_AND_ASSIGN(
            Tensor loss, RunOne(kOnyxDomain, op,
                                {FloatTensor(dtype, shape, in.x), FloatTensor(dtype, shape, in.t)},
                                {StringAttr("reduction", red)}));
        EXPECT_EQ(loss.dtype(), dtype);
        std::vector<double> want;
        double total = 0;
        for (size_t i = 0; i < in.x.size(); ++i) {
          const double l = RefElement(op, in.x[i], in.t[i]);
          want.push_back(l);
          total += l;
        }
        if (std::string(red) != "none") {
          EXPECT_EQ(loss.shape(), Shape{});
          want = {std::string(red) == "sum" ? total : total / in.x.size()};
        } else {
          EXPECT_EQ(loss.shape(), shape);
        }
        const std::vector<double> got = ToDoubles(loss);
        ASSERT_EQ(got.size(), want.size());
        const double tol = dtype == DataType::kFloat64 ? 1e-12 : 3e-6;
        for (size_t i = 0; i < want.size(); ++i) {
          EXPECT_NEAR(got[i], want[i], tol * (1 + std::abs(want[i]))) << i;
        }
      }
    }
  }
}

TEST(ElementwiseLossTest, ExtremeInputs) {
  // BCE at p = 0 / 1 is clamped to 100; BCE-with-logits has no overflow at |x| = 1e4.
  ASSERT_OK_AND_ASSIGN(Tensor bce,
                       RunOne(kOnyxDomain, "BceLoss",
                              {Make<float>({4}, {0, 1, 0, 1}), Make<float>({4}, {1, 0, 0, 1})},
                              {StringAttr("reduction", "none")}));
  EXPECT_EQ(ToDoubles(bce), (std::vector<double>{100, 100, 0, 0}));
  ASSERT_OK_AND_ASSIGN(Tensor bcel, RunOne(kOnyxDomain, "BceWithLogitsLoss",
                                           {Make<float>({4}, {1e4f, -1e4f, 1e4f, -1e4f}),
                                            Make<float>({4}, {0, 1, 1, 0})},
                                           {StringAttr("reduction", "none")}));
  EXPECT_EQ(ToDoubles(bcel), (std::vector<double>{1e4, 1e4, 0, 0}));
}

TEST(ElementwiseLossTest, BadInputsAreInvalidArgument) {
  const Tensor a = Make<float>({2, 2}, {0.1f, 0.2f, 0.3f, 0.4f});
  for (const char* op : kOps) {
    SCOPED_TRACE(op);
    auto s = RunOne(kOnyxDomain, op, {a, Make<float>({4}, {0, 0, 0, 0})});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(s.status().message()).find("[2,2]"), std::string::npos) << s.status();
    s = RunOne(kOnyxDomain, op, {a, Make<double>({2, 2}, {0, 0, 0, 0})});
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    s = RunOne(kOnyxDomain, std::string(op) + "Grad",
               {Make<float>({}, {1}), a, Make<float>({2}, {0, 0})});
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  }
  auto s =
      RunOne(kOnyxDomain, "BceLoss", {Make<float>({2}, {0.5f, 1.5f}), Make<float>({2}, {0, 1})});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  s = RunOne(kOnyxDomain, "MseLoss", {a, a}, {StringAttr("reduction", "avg")});
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ElementwiseLossTest, BackwardMatchesFiniteDifferences) {
  uint32_t seed = 50;
  for (const char* op : kOps) {
    for (const char* red : {"none", "sum", "mean"}) {
      SCOPED_TRACE(absl::StrFormat("%s %s", op, red));
      const Shape shape = {2, 5};
      const Inputs2 in = MakeInputs(op, NumElements(shape), seed++);
      const bool none = std::string(red) == "none";
      std::mt19937 rng(seed);
      std::uniform_real_distribution<double> u(0.5, 1.5);
      std::vector<double> r(none ? in.x.size() : 1);
      for (double& v : r) v = u(rng);
      const Tensor target = Make<double>(shape, in.t);
      const std::vector<Attribute> attrs = {StringAttr("reduction", red)};
      auto weighted = [&](const std::vector<double>& x) {
        auto out = RunOne(kOnyxDomain, op, {Make<double>(shape, x), target}, attrs);
        EXPECT_TRUE(out.ok()) << out.status();
        const std::vector<double> l = ToDoubles(*out);
        double s = 0;
        for (size_t i = 0; i < l.size(); ++i) s += r[i] * l[i];
        return s;
      };
      const Tensor dloss = none ? Make<double>(shape, r) : Make<double>({}, r);
      ASSERT_OK_AND_ASSIGN(Tensor dx, RunOne(kOnyxDomain, std::string(op) + "Grad",
                                             {dloss, Make<double>(shape, in.x), target}, attrs));
      ASSERT_EQ(dx.shape(), shape);
      const std::vector<double> got = ToDoubles(dx);
      const double h = 1e-6;
      for (size_t k = 0; k < in.x.size(); ++k) {
        std::vector<double> xp = in.x, xm = in.x;
        xp[k] += h;
        xm[k] -= h;
        const double fd = (weighted(xp) - weighted(xm)) / (2 * h);
        EXPECT_NEAR(got[k], fd, 1e-7 + 1e-6 * std::abs(fd)) << k;
      }
    }
  }
}

}  // namespace
}  // namespace onyx::loss_test
