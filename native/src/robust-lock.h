// robust-lock.h — a spin lock in shared memory whose holder can die.
//
// The fast path (one CAS 0 -> me) is also done directly by the TS wrapper on
// an Int32Array over the mapping; only when that CAS fails does it call
// Acquire() here. Acquire spins, then yields, and every so often checks
// whether the holder is provably dead (participants.h); if so it takes the
// lock over with a CAS from the dead owner's word (so two recoverers cannot
// both win) and counts a recovery. What a recovered lock protects is left in
// a state the new owner can continue from; see seqlock.h and ring.h.
#pragma once

#include <sched.h>
#include <time.h>

#include "futex.h"
#include "participants.h"
#include "status.h"

namespace commy {

class RobustLock {
 public:
  /** Acquires *lock for `me`. Sets *recovered when a dead owner's lock was broken. */
  static Status Acquire(uint8_t* base, uint8_t* lock, int32_t me, uint8_t* recoveries, int64_t timeout_ns,
                        bool* recovered) {
    *recovered = false;
    const int64_t start = MonotonicNs();
    uint32_t spins = 0;
    int32_t watched = 0;
    int64_t watched_since = 0;
    for (;;) {
      if (AtomicCas32(lock, 0, static_cast<uint32_t>(me))) return Status::Ok();
      int32_t owner = static_cast<int32_t>(AtomicLoad32(lock));
      if (owner == 0) continue;
      if (owner == me) return Status::Error(code::kInvalidArgument, "lock already held by this handle");
      spins++;
      if (spins < 64) {
        CpuRelax();
        continue;
      }
      // Past a short spin the holder is probably descheduled: give up the CPU
      // (first by yielding, then by sleeping) so it can run and release.
      if (spins < 2048) {
        sched_yield();
      } else {
        timespec nap{0, 50000};
        nanosleep(&nap, nullptr);
      }
      const int64_t now = MonotonicNs();
      if (owner != watched) {
        watched = owner;
        watched_since = now;
      }
      // Check liveness once the same owner has held the lock for a while
      // (a healthy writer holds it for a memcpy) and then periodically: the
      // check costs a kill() and a /proc read.
      if (now - watched_since > 200000 && (spins & 63) == 0 && !Participants::OwnerAlive(base, owner)) {
        if (AtomicCas32(lock, static_cast<uint32_t>(owner), static_cast<uint32_t>(me))) {
          AtomicAdd32(recoveries, 1);
          *recovered = true;
          return Status::Ok();
        }
      }
      if (timeout_ns >= 0 && now - start > timeout_ns)
        return Status::Error(code::kLockTimeout, "lock held by a live process for too long");
    }
  }

  static void Release(uint8_t* lock) { AtomicStore32(lock, 0); }
};

}  // namespace commy
