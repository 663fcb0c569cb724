// participants.h — the writer-liveness table in the header, and the lock
// words built on it.
//
// Why: every lock in a shared file (a variable slot's writer lock, the
// stream's producer lock) may be held by a process that is then SIGKILLed.
// A lock word therefore names its owner in a way any other process can check:
//
//   lock word (i32) = (entry_index + 1) | (entry_gen << 8)     (0 = unlocked)
//
// where entry_index points into the participant table (128 entries of
// {tid i32, gen u32, starttime u64}) that every writable opener registers in.
// An owner is DEAD when any of these holds:
//   - the entry's gen no longer equals the lock word's gen (the registration
//     was released or reclaimed, so its owner detached or died), or
//   - kill(tid, 0) fails with ESRCH (the thread is gone), or
//   - /proc/<tid>/stat's starttime differs from the recorded one (the tid
//     was reused by an unrelated thread).
// Only a provably dead owner's lock is ever broken: stealing from a live but
// descheduled (or SIGSTOPped) writer could let it resume and scribble over a
// published buffer, which would be a torn read. A live, stuck owner instead
// makes others time out with COMMY_E_LOCK_TIMEOUT.
//
// All processes sharing a file must be in the same PID namespace (the worker
// daemon guarantees this; document for any other deployment).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "format.h"

namespace commy {

class Participants {
 public:
  static int32_t CurrentTid() { return static_cast<int32_t>(syscall(SYS_gettid)); }

  /** starttime (field 22 of /proc/<tid>/stat, clock ticks since boot); 0 if unknown. */
  static uint64_t StartTime(int32_t tid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[1024];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    // The command name (field 2) may contain spaces and ')'; fields after the
    // LAST ')' are well-formed. starttime is the 20th field after it.
    char* s = std::strrchr(buf, ')');
    if (!s) return 0;
    s++;
    for (int field = 3; field < 22 && *s; field++) {
      while (*s == ' ') s++;
      while (*s && *s != ' ') s++;
    }
    return std::strtoull(s, nullptr, 10);
  }

  static uint8_t* Entry(uint8_t* base, uint32_t index) {
    return base + hdr::kParticipants + size_t{index} * hdr::kParticipantSize;
  }

  /** Registers the calling thread; returns its lock word, or 0 if the table is
   * full even after reclaiming dead entries. */
  static int32_t Register(uint8_t* base) {
    const int32_t tid = CurrentTid();
    const uint64_t start = StartTime(tid);
    for (int pass = 0; pass < 2; pass++) {
      for (uint32_t i = 0; i < hdr::kMaxParticipants; i++) {
        uint8_t* e = Entry(base, i);
        // Claim with a -1 marker first so that gen and starttime are written
        // before the tid makes the entry look alive to a liveness check.
        if (!AtomicCas32(e + hdr::kPartTid, 0, static_cast<uint32_t>(-1))) continue;
        uint32_t gen = (AtomicLoad32(e + hdr::kPartGen) + 1) & 0x7FFFFF;
        if (gen == 0) gen = 1;
        AtomicStore32(e + hdr::kPartGen, gen);
        __atomic_store_n(reinterpret_cast<uint64_t*>(e + hdr::kPartStart), start, __ATOMIC_SEQ_CST);
        AtomicStore32(e + hdr::kPartTid, static_cast<uint32_t>(tid));
        return static_cast<int32_t>((i + 1) | (gen << 8));
      }
      ReclaimDead(base);
    }
    return 0;
  }

  /** Releases a registration made by Register (no-op if it was reclaimed). */
  static void Unregister(uint8_t* base, int32_t lock_word) {
    uint32_t index = (static_cast<uint32_t>(lock_word) & 0xFF) - 1;
    if (index >= hdr::kMaxParticipants) return;
    uint8_t* e = Entry(base, index);
    if ((AtomicLoad32(e + hdr::kPartGen) & 0x7FFFFF) != (static_cast<uint32_t>(lock_word) >> 8)) return;
    uint32_t tid = AtomicLoad32(e + hdr::kPartTid);
    if (tid == 0 || tid == static_cast<uint32_t>(-1)) return;
    AtomicCas32(e + hdr::kPartTid, tid, 0);
  }

  /** True when the owner named by lock_word may still be running. */
  static bool OwnerAlive(const uint8_t* base, int32_t lock_word) {
    if (lock_word <= 0) return false;
    uint32_t index = (static_cast<uint32_t>(lock_word) & 0xFF) - 1;
    if (index >= hdr::kMaxParticipants) return false;  // garbage lock word
    const uint8_t* e = Entry(const_cast<uint8_t*>(base), index);
    if ((AtomicLoad32(e + hdr::kPartGen) & 0x7FFFFF) != (static_cast<uint32_t>(lock_word) >> 8)) return false;
    int32_t tid = static_cast<int32_t>(AtomicLoad32(e + hdr::kPartTid));
    if (tid == -1) return true;  // being (re)claimed right now: not provably dead
    if (tid <= 0) return false;
    return TidAlive(tid, __atomic_load_n(reinterpret_cast<const uint64_t*>(e + hdr::kPartStart), __ATOMIC_SEQ_CST));
  }

  static bool TidAlive(int32_t tid, uint64_t recorded_start) {
    if (kill(tid, 0) != 0 && errno == ESRCH) return false;
    uint64_t now_start = StartTime(tid);
    // Unknown start times (no /proc) cannot prove death: treat as alive.
    if (now_start != 0 && recorded_start != 0 && now_start != recorded_start) return false;
    return true;
  }

  /** Frees entries whose thread is gone (called when the table is full). */
  static void ReclaimDead(uint8_t* base) {
    for (uint32_t i = 0; i < hdr::kMaxParticipants; i++) {
      uint8_t* e = Entry(base, i);
      int32_t tid = static_cast<int32_t>(AtomicLoad32(e + hdr::kPartTid));
      if (tid <= 0) continue;
      uint64_t start = __atomic_load_n(reinterpret_cast<const uint64_t*>(e + hdr::kPartStart), __ATOMIC_SEQ_CST);
      if (!TidAlive(tid, start)) AtomicCas32(e + hdr::kPartTid, static_cast<uint32_t>(tid), 0);
    }
  }
};

}  // namespace commy
