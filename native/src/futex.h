// futex.h — thin wrappers over the Linux futex syscall on words inside a
// MAP_SHARED mapping. We deliberately use the non-PRIVATE operations: the
// waiter and the waker are in different processes, so the kernel must key
// the futex on the (inode, offset) of the shared page, not on the address.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>

namespace commy {

class Futex {
 public:
  /** Sleeps while *word == expected, up to timeout_ns (< 0: no timeout).
   * Returns 0 on wake or value mismatch, ETIMEDOUT, or EINTR. */
  static int Wait(const void* word, uint32_t expected, int64_t timeout_ns) {
    timespec ts{};
    timespec* tsp = nullptr;
    if (timeout_ns >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout_ns / 1000000000);
      ts.tv_nsec = static_cast<long>(timeout_ns % 1000000000);
      tsp = &ts;
    }
    long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, nullptr, 0);
    if (r == 0) return 0;
    if (errno == EAGAIN) return 0;  // value already changed
    return errno;
  }

  /** Wakes every thread (in any process) sleeping on word. */
  static void WakeAll(const void* word) {
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  }
};

inline int64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

}  // namespace commy
