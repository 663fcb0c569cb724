// futex-ring.h — futex waits that complete on the event loop, with no thread.
//
// Linux >= 6.7 can sleep on a futex inside io_uring (IORING_OP_FUTEX_WAIT).
// The ring's file descriptor becomes readable when a completion is posted,
// so the JS thread's event loop (libuv, epoll) polls the ring fd directly:
//
//   writer process: store word; FUTEX_WAKE        (same as before)
//   kernel:         completes our FUTEX_WAIT request, ring fd readable
//   event loop:     epoll returns, we drain the completions, resolve promises
//
// One wake-up per direction, exactly like a raw futex ping-pong; the thread
// based fallback (waiter-pool.h) needs two (waiter thread, then uv_async).
//
// Futex keys: the wait is a futex2 wait without FUTEX2_PRIVATE, so the
// kernel keys it on the shared page (inode, offset), like FUTEX_WAIT on a
// MAP_SHARED word: the classic FUTEX_WAKE of a writer in another process
// wakes it.
//
// Plain C++ (no N-API, no libuv, no liburing): raw io_uring_setup/enter and
// the ring mmaps. Single-threaded: only the owning (JS) thread touches it.
// Init() probes the opcode; when the kernel lacks it (or io_uring is
// disabled, or COMMY_WAIT_BACKEND=threads) Init fails and the caller falls
// back to waiter threads.
#pragma once

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace commy {

class FutexRing {
 public:
  static constexpr uint8_t kOpFutexWait = 51;   // IORING_OP_FUTEX_WAIT (Linux 6.7)
  static constexpr uint32_t kFutex2SizeU32 = 0x02;
  static constexpr uint64_t kIgnore = 0;        // user_data of timeouts/cancels

  FutexRing() = default;
  FutexRing(const FutexRing&) = delete;
  FutexRing& operator=(const FutexRing&) = delete;
  ~FutexRing() { Close(); }

  /** Sets up the ring and checks that FUTEX_WAIT works. On failure returns
   * false and sets *why (a static string). */
  bool Init(const char** why, unsigned entries = 256) {
    const char* env = std::getenv("COMMY_WAIT_BACKEND");
    if (env && std::strcmp(env, "threads") == 0) return Fail(why, "COMMY_WAIT_BACKEND=threads");
    io_uring_params p;
    std::memset(&p, 0, sizeof p);
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = entries * 4;
    fd_ = static_cast<int>(syscall(__NR_io_uring_setup, entries, &p));
    if (fd_ < 0) {
      fd_ = -1;
      return Fail(why, "io_uring_setup failed (io_uring unavailable or disabled)");
    }
    sq_len_ = p.sq_off.array + p.sq_entries * sizeof(uint32_t);
    cq_len_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    single_mmap_ = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single_mmap_) sq_len_ = cq_len_ = sq_len_ > cq_len_ ? sq_len_ : cq_len_;
    sq_ptr_ = mmap(nullptr, sq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
    if (sq_ptr_ == MAP_FAILED) {
      sq_ptr_ = nullptr;
      Close();
      return Fail(why, "io_uring ring mmap failed");
    }
    if (single_mmap_) {
      cq_ptr_ = sq_ptr_;
    } else {
      cq_ptr_ = mmap(nullptr, cq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_CQ_RING);
      if (cq_ptr_ == MAP_FAILED) {
        cq_ptr_ = nullptr;
        Close();
        return Fail(why, "io_uring ring mmap failed");
      }
    }
    sqes_len_ = p.sq_entries * sizeof(io_uring_sqe);
    void* s = mmap(nullptr, sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
    if (s == MAP_FAILED) {
      Close();
      return Fail(why, "io_uring sqe mmap failed");
    }
    sqes_ = static_cast<io_uring_sqe*>(s);
    auto* sq = static_cast<uint8_t*>(sq_ptr_);
    auto* cq = static_cast<uint8_t*>(cq_ptr_);
    sq_tail_ = reinterpret_cast<uint32_t*>(sq + p.sq_off.tail);
    sq_head_ = reinterpret_cast<uint32_t*>(sq + p.sq_off.head);
    sq_mask_ = *reinterpret_cast<uint32_t*>(sq + p.sq_off.ring_mask);
    sq_entries_ = p.sq_entries;
    sq_flags_ = reinterpret_cast<uint32_t*>(sq + p.sq_off.flags);
    sq_array_ = reinterpret_cast<uint32_t*>(sq + p.sq_off.array);
    cq_head_ = reinterpret_cast<uint32_t*>(cq + p.cq_off.head);
    cq_tail_ = reinterpret_cast<uint32_t*>(cq + p.cq_off.tail);
    cq_mask_ = *reinterpret_cast<uint32_t*>(cq + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<io_uring_cqe*>(cq + p.cq_off.cqes);

    // Probe: a wait whose expected value differs from the word must fail at
    // once with -EAGAIN; an old kernel answers -EINVAL (unknown opcode).
    uint32_t word = 0;
    if (!QueueWait(&word, 1, -1, 7)) {
      Close();
      return Fail(why, "io_uring probe could not queue");
    }
    long r = syscall(__NR_io_uring_enter, fd_, pending_, 1, IORING_ENTER_GETEVENTS, nullptr, 0);
    pending_ = 0;
    int res = 1;
    bool got = false;
    if (r >= 0) Drain([&](uint64_t ud, int rr) {
        if (ud == 7) {
          res = rr;
          got = true;
        }
      });
    if (!got || res != -EAGAIN) {
      Close();
      return Fail(why, "kernel lacks IORING_OP_FUTEX_WAIT (Linux >= 6.7 needed)");
    }
    return true;
  }

  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

  /** Queues a shared-futex wait on `word` while it equals `expected`, with
   * an optional relative timeout (linked; timeout_ns < 0: none). Completion:
   * user_data with res 0 (woken), -EAGAIN (value differed), -ECANCELED
   * (timeout or cancel). Call Submit() to hand it to the kernel. */
  bool QueueWait(const void* word, uint32_t expected, int64_t timeout_ns, uint64_t user_data) {
    if (SqSpace() < 2 || ts_next_ >= 8) Submit();
    if (SqSpace() < 2) return false;
    io_uring_sqe* w = NextSqe();
    w->opcode = kOpFutexWait;
    w->fd = static_cast<int32_t>(kFutex2SizeU32);
    w->addr = reinterpret_cast<uint64_t>(word);
    w->off = expected;                       // addr2: the value
    w->addr3 = 0xffffffffull;                // FUTEX_BITSET_MATCH_ANY
    w->user_data = user_data;
    if (timeout_ns >= 0) {
      w->flags |= IOSQE_IO_LINK;
      io_uring_sqe* t = NextSqe();
      // The timespec is copied when the kernel prepares the request, which
      // happens inside the io_uring_enter that submits it: keep it until then.
      ts_[ts_next_ & 7].tv_sec = timeout_ns / 1000000000;
      ts_[ts_next_ & 7].tv_nsec = timeout_ns % 1000000000;
      t->opcode = IORING_OP_LINK_TIMEOUT;
      t->fd = -1;
      t->addr = reinterpret_cast<uint64_t>(&ts_[ts_next_ & 7]);
      t->len = 1;
      t->user_data = kIgnore;
      ts_next_++;
    }
    return true;
  }

  /** Queues a cancellation of the request with `user_data`. */
  bool QueueCancel(uint64_t user_data) {
    if (SqSpace() < 1) Submit();
    if (SqSpace() < 1) return false;
    io_uring_sqe* c = NextSqe();
    c->opcode = IORING_OP_ASYNC_CANCEL;
    c->fd = -1;
    c->addr = user_data;
    c->user_data = kIgnore;
    return true;
  }

  /** Submits everything queued. Returns false on a submission error. */
  bool Submit() {
    while (pending_ > 0) {
      long r = syscall(__NR_io_uring_enter, fd_, pending_, 0, 0, nullptr, 0);
      if (r < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EBUSY) continue;
        return false;
      }
      pending_ -= static_cast<uint32_t>(r);
      ts_next_ = 0;
    }
    ts_next_ = 0;
    return true;
  }

  /** Calls f(user_data, res) for every completion (kIgnore ones included). */
  template <class F>
  void Drain(F&& f) {
    for (int round = 0; round < 2; round++) {
      uint32_t head = *cq_head_;
      const uint32_t tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
      while (head != tail) {
        const io_uring_cqe& c = cqes_[head & cq_mask_];
        uint64_t ud = c.user_data;
        int res = c.res;
        head++;
        __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
        f(ud, res);
      }
      // Completions the kernel had to hold back while the CQ was full are
      // flushed by an enter with GETEVENTS.
      if (!(__atomic_load_n(sq_flags_, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW)) break;
      syscall(__NR_io_uring_enter, fd_, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
    }
  }

  void Close() {
    if (sqes_) munmap(sqes_, sqes_len_);
    if (cq_ptr_ && !single_mmap_) munmap(cq_ptr_, cq_len_);
    if (sq_ptr_) munmap(sq_ptr_, sq_len_);
    sqes_ = nullptr;
    sq_ptr_ = cq_ptr_ = nullptr;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  static bool Fail(const char** why, const char* w) {
    if (why) *why = w;
    return false;
  }
  uint32_t SqSpace() const {
    uint32_t used = local_tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE);
    return sq_entries_ - used;
  }
  io_uring_sqe* NextSqe() {
    uint32_t idx = local_tail_ & sq_mask_;
    io_uring_sqe* s = &sqes_[idx];
    std::memset(s, 0, sizeof *s);
    sq_array_[idx] = idx;
    local_tail_++;
    __atomic_store_n(sq_tail_, local_tail_, __ATOMIC_RELEASE);
    pending_++;
    return s;
  }

  int fd_ = -1;
  void* sq_ptr_ = nullptr;
  void* cq_ptr_ = nullptr;
  size_t sq_len_ = 0, cq_len_ = 0, sqes_len_ = 0;
  bool single_mmap_ = false;
  io_uring_sqe* sqes_ = nullptr;
  uint32_t *sq_tail_ = nullptr, *sq_head_ = nullptr, *sq_flags_ = nullptr, *sq_array_ = nullptr;
  uint32_t sq_mask_ = 0, sq_entries_ = 0, local_tail_ = 0, pending_ = 0;
  uint32_t *cq_head_ = nullptr, *cq_tail_ = nullptr;
  uint32_t cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  __kernel_timespec ts_[8] = {};
  uint32_t ts_next_ = 0;
};

}  // namespace commy
