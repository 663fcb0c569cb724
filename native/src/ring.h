// ring.h — the stream: a multi-producer ring of fixed-size slots with
// broadcast readers that each keep their own cursor.
//
// Control block (format.h strm::): head (u64, next sequence to be written;
// its low half doubles as the futex word readers sleep on), the producer
// lock word, the waiter count, counters, and the consumer table (registered
// cursors, used by the "refuse" overflow policy).
//
// Each slot: tag u32, len u32, seq u64, data. The tag is the slot's commit
// word: writing(s) = low32(2s+1), published(s) = low32(2s+2).
//
// Producers serialize on one robust lock (robust-lock.h). Holding it, a
// producer writes position p = head (+i for a batch): tag = writing(p),
// len/seq/data, tag = published(p); then stores head = p+1 (+n) and
// releases. A reader accepts a message at position s only when the tag reads
// published(s) before and after copying and the slot's seq field equals s.
//
// Why one lock instead of a lock-free claim (fetch_add on head): with a
// claim, a producer SIGKILLed between the claim and its first store leaves a
// hole that no one can attribute to a dead process, and every reader waits
// at the hole forever. With the lock, the dead producer is identified by the
// lock word, and the recoverer repairs the ring deterministically
// (CommitForward): positions the dead producer fully published are committed
// (readers may already have seen them, so they must not change); a
// half-written slot was never visible (its tag said writing) and is simply
// overwritten. The lock is held only for a memcpy, and a batch amortizes it.
//
// Loss: the slot of position s is reused by s + capacity. A reader whose tag
// check fails learns from head exactly what happened: s >= head: nothing new
// yet; head - s >= capacity: overwritten, resume at head - capacity + 1 and
// count the skipped positions as lost; otherwise s was committed and its tag
// now names a later lap (a batch in progress, head not yet advanced): s is
// lost, count one and move to s + 1.
#pragma once

#include <cstring>

#include "futex.h"
#include "header.h"
#include "participants.h"
#include "robust-lock.h"

namespace commy {

class Ring {
 public:
  enum ReadStatus { kMessage, kEmpty, kTooSmall, kCorrupt };

  static uint32_t WritingTag(uint64_t s) { return static_cast<uint32_t>(2 * s + 1); }
  static uint32_t PublishedTag(uint64_t s) { return static_cast<uint32_t>(2 * s + 2); }

  static uint8_t* Control(uint8_t* base, const Layout& l) { return base + l.region_offset; }
  static const uint8_t* Control(const uint8_t* base, const Layout& l) { return base + l.region_offset; }
  static uint8_t* Slot(uint8_t* base, const Layout& l, uint64_t pos) {
    return base + l.ring_offset + (pos & (l.capacity - 1)) * l.slot_stride;
  }
  static const uint8_t* Slot(const uint8_t* base, const Layout& l, uint64_t pos) {
    return base + l.ring_offset + (pos & (l.capacity - 1)) * l.slot_stride;
  }

  static uint64_t LoadHead(const uint8_t* base, const Layout& l) {
    return __atomic_load_n(reinterpret_cast<const uint64_t*>(Control(base, l) + strm::kHeadLo), __ATOMIC_SEQ_CST);
  }
  static void StoreHead(uint8_t* base, const Layout& l, uint64_t v) {
    __atomic_store_n(reinterpret_cast<uint64_t*>(Control(base, l) + strm::kHeadLo), v, __ATOMIC_SEQ_CST);
  }

  /** Takes the producer lock; after breaking a dead producer's lock, commits
   * what it had fully published. */
  static Status Lock(uint8_t* base, const Layout& l, int32_t me, int64_t timeout_ns, bool* recovered) {
    uint8_t* ctl = Control(base, l);
    Status st = RobustLock::Acquire(base, ctl + strm::kLock, me, ctl + strm::kRecoveries, timeout_ns, recovered);
    if (st.ok() && *recovered) CommitForward(base, l);
    return st;
  }

  static void Unlock(uint8_t* base, const Layout& l) {
    uint8_t* ctl = Control(base, l);
    RobustLock::Release(ctl + strm::kLock);
    if (static_cast<int32_t>(AtomicLoad32(ctl + strm::kWaiters)) > 0) Futex::WakeAll(ctl + strm::kHeadLo);
  }

  static void CommitForward(uint8_t* base, const Layout& l) {
    uint64_t head = LoadHead(base, l);
    uint64_t h = head;
    for (uint32_t i = 0; i < l.capacity; i++) {
      const uint8_t* slot = Slot(base, l, h);
      if (AtomicLoad32(slot + strm::kSlotTag) != PublishedTag(h) || LoadU64(slot + strm::kSlotSeqLo) != h) break;
      h++;
    }
    if (h != head) StoreHead(base, l, h);
  }

  /** Lowest cursor among registered consumers (head if none). When
   * `reclaim`, consumers whose owner is provably dead are unregistered
   * first, so a crashed consumer cannot block producers forever. */
  static uint64_t MinCursor(uint8_t* base, const Layout& l, uint64_t head, bool reclaim) {
    uint8_t* ctl = Control(base, l);
    uint64_t min = head;
    for (uint32_t i = 0; i < l.max_consumers; i++) {
      uint8_t* c = ctl + strm::kConsumers + size_t{i} * strm::kConsumerSize;
      int32_t owner = static_cast<int32_t>(AtomicLoad32(c + strm::kConsOwner));
      if (owner == 0) continue;
      if (reclaim && !Participants::OwnerAlive(base, owner)) {
        AtomicCas32(c + strm::kConsOwner, static_cast<uint32_t>(owner), 0);
        continue;
      }
      uint64_t cur = __atomic_load_n(reinterpret_cast<const uint64_t*>(c + strm::kConsCursorLo), __ATOMIC_SEQ_CST);
      if (cur < min) min = cur;
    }
    return min;
  }

  /** Registers a consumer cursor at `start`; returns its index or -1 if full. */
  static int32_t RegisterConsumer(uint8_t* base, const Layout& l, int32_t owner, uint64_t start) {
    uint8_t* ctl = Control(base, l);
    for (int pass = 0; pass < 2; pass++) {
      for (uint32_t i = 0; i < l.max_consumers; i++) {
        uint8_t* c = ctl + strm::kConsumers + size_t{i} * strm::kConsumerSize;
        // Store the cursor before claiming so producers never see a stale one.
        if (AtomicLoad32(c + strm::kConsOwner) != 0) continue;
        __atomic_store_n(reinterpret_cast<uint64_t*>(c + strm::kConsCursorLo), start, __ATOMIC_SEQ_CST);
        if (AtomicCas32(c + strm::kConsOwner, 0, static_cast<uint32_t>(owner))) {
          __atomic_store_n(reinterpret_cast<uint64_t*>(c + strm::kConsCursorLo), start, __ATOMIC_SEQ_CST);
          return static_cast<int32_t>(i);
        }
      }
      MinCursor(base, l, LoadHead(base, l), true);  // reclaim dead consumers, retry
    }
    return -1;
  }

  static void UnregisterConsumer(uint8_t* base, const Layout& l, uint32_t index, int32_t owner) {
    if (index >= l.max_consumers) return;
    uint8_t* c = Control(base, l) + strm::kConsumers + size_t{index} * strm::kConsumerSize;
    AtomicCas32(c + strm::kConsOwner, static_cast<uint32_t>(owner), 0);
  }

  /** Appends n messages packed back to back in `data` (lengths in lens).
   * Caller holds the lock. All-or-nothing under the refuse policy. */
  static Status AppendLocked(uint8_t* base, const Layout& l, const uint8_t* data, const uint32_t* lens, uint32_t n,
                             uint64_t* first_seq) {
    uint32_t appended = 0;
    return AppendLocked(base, l, data, lens, n, false, first_seq, &appended);
  }

  /** Same; with `partial`, the refuse policy appends the longest prefix that
   * fits instead (possibly none: Ok with *appended = 0, counted in refused
   * when it is shorter than n). */
  static Status AppendLocked(uint8_t* base, const Layout& l, const uint8_t* data, const uint32_t* lens, uint32_t n,
                             bool partial, uint64_t* first_seq, uint32_t* appended) {
    *appended = 0;
    for (uint32_t i = 0; i < n; i++)
      if (lens[i] > l.msg_max) return Status::Error(code::kTooLarge, "message larger than messageMaxSize");
    uint64_t head = LoadHead(base, l);
    *first_seq = head;
    if (l.flags & kFlagOverflowRefuse) {
      if (n > l.capacity && !partial) return Status::Error(code::kStreamFull, "batch larger than the stream capacity");
      uint64_t min = MinCursor(base, l, head, false);
      if (head + n - min > l.capacity) min = MinCursor(base, l, head, true);
      if (head + n - min > l.capacity) {
        uint64_t room = l.capacity - (head - min);  // head - min <= capacity always holds
        if (!partial || room == 0 || head - min > l.capacity) {
          AtomicAdd32(Control(base, l) + strm::kRefused, 1);
          if (partial) return Status::Ok();
          return Status::Error(code::kStreamFull, "stream full: the slowest consumer is " +
                                                      std::to_string(head - min) + " messages behind");
        }
        AtomicAdd32(Control(base, l) + strm::kRefused, 1);
        n = static_cast<uint32_t>(room);
      }
    }
    size_t off = 0;
    for (uint32_t i = 0; i < n; i++) {
      uint64_t pos = head + i;
      uint8_t* slot = Slot(base, l, pos);
      AtomicStore32(slot + strm::kSlotTag, WritingTag(pos));
      __atomic_thread_fence(__ATOMIC_RELEASE);  // readers of the old lap must see "writing" first
      StoreU32(slot + strm::kSlotLen, lens[i]);
      StoreU64(slot + strm::kSlotSeqLo, pos);
      std::memcpy(slot + strm::kSlotData, data + off, lens[i]);
      off += lens[i];
      AtomicStore32(slot + strm::kSlotTag, PublishedTag(pos));
    }
    StoreHead(base, l, head + n);
    *appended = n;
    return Status::Ok();
  }

  /** Reads the message at *pos into out. On kMessage advances *pos. When the
   * reader fell behind, moves *pos forward and adds the skipped count to *lost. */
  static ReadStatus ReadOne(const uint8_t* base, const Layout& l, uint64_t* pos, uint64_t* lost, uint8_t* out,
                            uint32_t cap, uint32_t* len) {
    for (uint32_t attempt = 0;; attempt++) {
      const uint64_t s = *pos;
      const uint8_t* slot = Slot(base, l, s);
      const uint32_t t1 = AtomicLoad32(slot + strm::kSlotTag);
      if (t1 == PublishedTag(s)) {
        uint32_t n = __atomic_load_n(reinterpret_cast<const uint32_t*>(slot + strm::kSlotLen), __ATOMIC_RELAXED);
        uint64_t seq = __atomic_load_n(reinterpret_cast<const uint64_t*>(slot + strm::kSlotSeqLo), __ATOMIC_RELAXED);
        bool fits = seq == s && n <= l.msg_max && n <= cap;
        if (fits) Seqlock_CopyRacy(out, slot + strm::kSlotData, n);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (AtomicLoad32(slot + strm::kSlotTag) == t1 && seq == s) {
          if (n > l.msg_max) return kCorrupt;
          if (n > cap) return kTooSmall;
          *len = n;
          *pos = s + 1;
          return kMessage;
        }
      }
      const uint64_t head = LoadHead(base, l);
      if (s >= head) return kEmpty;
      if (head - s >= l.capacity) {
        uint64_t resume = head - l.capacity + 1;
        *lost += resume - s;
        *pos = resume;
        continue;
      }
      // s is committed and within the last `capacity` commits. Either our
      // tag load raced the commit (the tag reads published(s) now), or a
      // batch still in progress (head not yet advanced) already reuses the
      // slot: then s is gone and counts as lost.
      const uint32_t t2 = AtomicLoad32(slot + strm::kSlotTag);
      if (t2 == PublishedTag(s)) {
        if (attempt > 1000) return kCorrupt;  // published, yet its seq field disagrees
        continue;
      }
      *lost += 1;
      *pos = s + 1;
    }
  }

 private:
  static void Seqlock_CopyRacy(uint8_t* out, const uint8_t* src, uint32_t n) {
#if defined(__SANITIZE_ADDRESS__) || defined(COMMY_STRICT_RACY_COPY)
    for (uint32_t i = 0; i < n; i++) out[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
#else
    std::memcpy(out, src, n);
#endif
  }
};

}  // namespace commy
