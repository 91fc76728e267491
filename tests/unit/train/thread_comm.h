// An in-process stand-in for MPI: `size` Communicators, one per thread, whose
// collectives meet at a barrier. Sums run in rank order, so a run repeats bit
// for bit.
#pragma once

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/distributed/communicator.h"

namespace onyx::train_test {

class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : deposits_(size) {
    for (int r = 0; r < size; ++r) comms_.push_back(std::make_unique<Comm>(*this, r));
  }
  Communicator& comm(int rank) { return *comms_[rank]; }
  int size() const { return static_cast<int>(comms_.size()); }

 private:
  // Every rank deposits its bytes; all get every rank's, once all have arrived.
  std::vector<std::string> Exchange(int rank, std::string mine) {
    std::unique_lock<std::mutex> lock(mu_);
    deposits_[rank] = std::move(mine);
    const int64_t generation = generation_;
    if (++arrived_ == size()) {
      result_ = deposits_;
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
    return result_;
  }

  template <typename T>
  absl::Status Sum(int rank, absl::Span<T> values) {
    std::string mine(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
    const std::vector<std::string> all = Exchange(rank, std::move(mine));
    for (size_t i = 0; i < values.size(); ++i) {
      T sum = 0;
      for (const std::string& d : all) {
        if (d.size() != values.size() * sizeof(T)) return absl::InternalError("size mismatch");
        T v;
        std::memcpy(&v, d.data() + i * sizeof(T), sizeof(T));
        sum += v;
      }
      values[i] = sum;
    }
    return absl::OkStatus();
  }

  class Comm final : public Communicator {
   public:
    Comm(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return group_.size(); }
    absl::Status AllReduceSum(absl::Span<float> values) override {
      return group_.Sum(rank_, values);
    }
    absl::Status AllReduceSum(absl::Span<double> values) override {
      return group_.Sum(rank_, values);
    }
    absl::Status BroadcastFromRoot(std::string& bytes) override {
      bytes = group_.Exchange(rank_, bytes)[0];
      return absl::OkStatus();
    }
    [[noreturn]] void Abort(int exit_code) override { std::abort(); }

   private:
    ThreadGroup& group_;
    int rank_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> deposits_, result_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  std::vector<std::unique_ptr<Comm>> comms_;
};

}  // namespace onyx::train_test
