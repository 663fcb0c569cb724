// seqlock.h — one variable slot: a double-buffered seqlock with a robust
// writer lock.
//
// Layout (see format.h var::): a writers' control line {lock, waiters,
// recoveries}, a readers' line {version, len}, and two data buffers (after
// the control lines, or for values of at most 28 bytes inside the readers'
// line itself). The published value is always buffer[version & 1], len bytes.
//
// Writer (holding the lock): write the new value into buffer[(v+1) & 1],
// then store {version = v+1, len} with ONE atomic 64-bit store (this
// publishes it), release the lock, and FUTEX_WAKE the version word only if
// waiters > 0.
// Reader (never takes a lock, works on a PROT_READ mapping): v1 = version;
// n = len; copy buffer[v1 & 1]; v2 = version; accept iff v1 == v2. Because
// len only ever changes together with version, a len that does not belong
// to v1 implies v2 != v1.
//
// Why double buffering rather than the classic odd/even seqlock: with an
// odd/even counter a writer killed mid-write leaves the counter odd and every
// reader spins forever until someone repairs the slot. Here the writer never
// touches the published buffer, so a writer killed at any instruction leaves
// the last consistent value published and readable; the next writer breaks
// the dead owner's lock (robust-lock.h) and simply overwrites the half-written
// inactive buffer. Readers are never blocked and never see a torn value:
// writing v+2 into the buffer a reader is copying from (v) only starts after
// v+1 was published, so the reader's second load sees v1 != v2 and retries.
// The version is a u32; a reader would have to stall across exactly 2^32
// writes for the check to be fooled.
#pragma once

#include <cstring>

#include "futex.h"
#include "header.h"
#include "robust-lock.h"

namespace commy {

class Seqlock {
 public:
  enum ReadResult { kOk, kTooSmall, kCorrupt };

  /** Acquires the slot lock (breaking a dead owner's), publishes data. */
  static Status Write(uint8_t* base, const VarSlotInfo& s, const uint8_t* data, uint32_t len, int32_t me,
                      int64_t timeout_ns, uint32_t* new_version) {
    if (len > s.max_size) return Status::Error(code::kTooLarge, "value larger than the slot's maxSize");
    uint8_t* ctl = base + s.offset;
    bool recovered = false;
    Status st = RobustLock::Acquire(base, ctl + var::kLock, me, ctl + var::kRecoveries, timeout_ns, &recovered);
    if (!st.ok()) return st;
    uint32_t v = AtomicLoad32(ctl + var::kVersion);
    uint8_t* buf = ctl + s.buf + size_t{(v + 1) & 1} * s.step;
    std::memcpy(buf, data, len);
    // publish {version, len} at once (seq_cst: also orders the waiters load)
    __atomic_store_n(reinterpret_cast<uint64_t*>(ctl + var::kVersion), (uint64_t{len} << 32) | (v + 1), __ATOMIC_SEQ_CST);
    RobustLock::Release(ctl + var::kLock);
    if (static_cast<int32_t>(AtomicLoad32(ctl + var::kWaiters)) > 0) Futex::WakeAll(ctl + var::kVersion);
    *new_version = v + 1;
    return Status::Ok();
  }

  /** Copies the published value into out (capacity cap). Never blocks. */
  static ReadResult Read(const uint8_t* base, const VarSlotInfo& s, uint8_t* out, uint32_t cap, uint32_t* len,
                         uint32_t* version) {
    const uint8_t* ctl = base + s.offset;
    for (;;) {
      uint32_t v1 = AtomicLoad32(ctl + var::kVersion);
      const uint8_t* buf = ctl + s.buf + size_t{v1 & 1} * s.step;
      uint32_t n = __atomic_load_n(reinterpret_cast<const uint32_t*>(ctl + var::kLen), __ATOMIC_ACQUIRE);
      bool fits = n <= s.max_size && n <= cap;
      if (fits) CopyRacy(out, buf, n);
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      uint32_t v2 = AtomicLoad32(ctl + var::kVersion);
      if (v1 != v2) continue;
      *version = v1;
      *len = n;
      if (n > s.max_size) return kCorrupt;
      if (n > cap) return kTooSmall;
      return kOk;
    }
  }

  // Copy bytes that another process may be writing concurrently. The result
  // is only used when the version check passes; relaxed byte loads keep the
  // race well-defined for the sanitizers.
  static void CopyRacy(uint8_t* out, const uint8_t* src, uint32_t n) {
#if defined(__SANITIZE_ADDRESS__) || defined(COMMY_STRICT_RACY_COPY)
    for (uint32_t i = 0; i < n; i++) out[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
#else
    std::memcpy(out, src, n);
#endif
  }
};

}  // namespace commy
