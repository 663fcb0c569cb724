// waiter-pool.h — threads that sleep in FUTEX_WAIT on behalf of the JS thread.
//
// Why our own threads and not Napi::AsyncWorker: AsyncWorker runs on the
// libuv threadpool (4 threads by default) that fs, dns and zlib share. A few
// long futex waits would starve them. Here each pending wait owns one of our
// threads (spawned on demand, kept idle for reuse), so waits never block the
// event loop nor its threadpool. Completion is reported through a callback
// the N-API layer turns into a ThreadSafeFunction call.
//
// Wake-ups cost a syscall only when someone sleeps: the waiter increments the
// word's waiter count before FUTEX_WAIT and decrements it after; writers call
// FUTEX_WAKE only if the count is > 0 (Dekker-style: writer stores the value
// then loads the count, waiter stores the count then loads the value, both
// seq_cst, so at least one of them sees the other). A read-only mapping
// cannot increment the count; its waits sleep in 1 ms slices instead.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "futex.h"
#include "format.h"

namespace commy {

struct WaitJob {
  enum Result { kChanged = 0, kTimeout = 1, kCancelled = 2 };
  const uint8_t* word = nullptr;
  uint8_t* waiters = nullptr;  // null on a read-only mapping
  uint32_t expected = 0;
  int64_t deadline_ns = -1;  // monotonic, -1: none
  int64_t spin_ns = 0;
  std::atomic<bool>* cancel = nullptr;  // set by close() of the owning file
  Result result = kChanged;
  std::function<void(WaitJob*)> done;  // called on the pool thread
};

class WaiterPool {
 public:
  ~WaiterPool() { Stop(); }

  void Submit(WaitJob* job) {
    std::unique_lock<std::mutex> lk(mu_);
    queue_.push_back(job);
    if (idle_ == 0) threads_.emplace_back([this] { Loop(); });
    cv_.notify_one();
  }

  /** Wakes every sleeping job so it notices its cancel flag. */
  void WakeAll() {
    std::unique_lock<std::mutex> lk(mu_);
    for (WaitJob* j : running_) Futex::WakeAll(j->word);
  }

  /** Cancels everything and joins the threads (env teardown). */
  void Stop() {
    {
      std::unique_lock<std::mutex> lk(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (WaitJob* j : running_) Futex::WakeAll(j->word);
      cv_.notify_all();
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  bool stopping() const { return stopping_.load(); }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      idle_++;
      cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
      idle_--;
      if (stopping_) return;
      WaitJob* job = queue_.front();
      queue_.pop_front();
      running_.push_back(job);
      lk.unlock();
      Run(job);
      lk.lock();
      for (size_t i = 0; i < running_.size(); i++)
        if (running_[i] == job) {
          running_[i] = running_.back();
          running_.pop_back();
          break;
        }
      if (stopping_) return;  // promises are abandoned with the env
      lk.unlock();
      job->done(job);
      lk.lock();
    }
  }

  void Run(WaitJob* job) {
    auto cancelled = [&] { return stopping_.load() || job->cancel->load(); };
    if (job->spin_ns > 0) {
      const int64_t until = MonotonicNs() + job->spin_ns;
      while (MonotonicNs() < until) {
        if (AtomicLoad32(job->word) != job->expected) return Finish(job, WaitJob::kChanged);
        for (int i = 0; i < 16; i++) CpuRelax();
      }
    }
    if (job->waiters) AtomicAdd32(job->waiters, 1);
    WaitJob::Result r = WaitJob::kChanged;
    for (;;) {
      if (AtomicLoad32(job->word) != job->expected) break;
      if (cancelled()) {
        r = WaitJob::kCancelled;
        break;
      }
      int64_t slice = job->waiters ? 100000000 : 1000000;  // 100 ms, or 1 ms when read-only
      if (job->deadline_ns >= 0) {
        int64_t left = job->deadline_ns - MonotonicNs();
        if (left <= 0) {
          r = WaitJob::kTimeout;
          break;
        }
        if (left < slice) slice = left;
      }
      Futex::Wait(job->word, job->expected, slice);
    }
    if (job->waiters) AtomicAdd32(job->waiters, static_cast<uint32_t>(-1));
    Finish(job, r);
  }

  static void Finish(WaitJob* job, WaitJob::Result r) { job->result = r; }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WaitJob*> queue_;
  std::vector<WaitJob*> running_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  std::atomic<bool> stopping_{false};
};

}  // namespace commy
