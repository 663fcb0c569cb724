// format.h — the shared-file binary layout (format version 3).
//
// Plain C++17, no N-API. Every offset here is normative and mirrored in
// docs/spec/shared-file-format.md and native/lib/layout.ts; change all three
// together. All integers are little-endian; all offsets are absolute byte
// offsets from the start of the file unless said otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "Commy shared files are little-endian; big-endian hosts are not supported"
#endif

namespace commy {

// ---- file-wide constants -------------------------------------------------
inline constexpr uint8_t kMagic[8] = {'C', 'O', 'M', 'M', 'Y', 'S', 'F', 0};
inline constexpr uint32_t kFormatVersion = 3;
// Version 1 put a variable's version word in the same cache line as its
// writer lock and waiter count (and each buffer's length next to its data);
// version 2 gave the version its own line; version 3 keeps the two buffers
// of a small slot (max_size <= var::kInlineMax) inside that line, so a write
// of a small value moves one cache line instead of two. Older files are
// refused with COMMY_E_VERSION (re-create them); there is no in-place upgrade.
inline constexpr uint32_t kOldestRefusedVersion = 1;
inline constexpr uint32_t kHeaderSize = 4096;
inline constexpr uint32_t kCacheLine = 64;
inline constexpr uint64_t kMaxFileSize = 1ull << 40;  // 1 TiB: sanity bound

enum Kind : uint32_t { kKindVariables = 1, kKindStream = 2 };
enum Flags : uint32_t { kFlagOverflowRefuse = 1u << 0 };
inline constexpr uint32_t kKnownFlags = kFlagOverflowRefuse;

// ---- header (offset 0, kHeaderSize bytes) ---------------------------------
namespace hdr {
inline constexpr size_t kMagic = 0;          // 8 bytes
inline constexpr size_t kVersion = 8;        // u32
inline constexpr size_t kKind = 12;          // u32
inline constexpr size_t kHeaderSize = 16;    // u32, == 4096
inline constexpr size_t kFlags = 20;         // u32
inline constexpr size_t kTotalSize = 24;     // u64
inline constexpr size_t kGeneration = 32;    // u64, random, non-zero
inline constexpr size_t kCreatorPid = 40;    // u32
inline constexpr size_t kReserved44 = 44;    // u32, zero
inline constexpr size_t kCreatedNs = 48;     // u64, unix epoch nanoseconds
inline constexpr size_t kRegionOffset = 56;  // u64, == 4096
inline constexpr size_t kRegionSize = 64;    // u64
inline constexpr size_t kParam0 = 72;        // u32 variables: slot count; stream: capacity
inline constexpr size_t kParam1 = 76;        // u32 stream: message max size
inline constexpr size_t kParam2 = 80;        // u32 stream: slot stride
inline constexpr size_t kParam3 = 84;        // u32 stream: max consumers
inline constexpr size_t kLayoutCrc = 124;    // u32, CRC-32 (see crc32.h)
inline constexpr size_t kCrcCoveredEnd = 124;
// Dynamic part of the header (mutated at run time, not covered by the CRC).
inline constexpr size_t kParticipants = 256;  // participant table
inline constexpr uint32_t kMaxParticipants = 128;
inline constexpr size_t kParticipantSize = 16;
// Participant entry: tid i32 (0 = free), gen u32, starttime u64.
inline constexpr size_t kPartTid = 0;
inline constexpr size_t kPartGen = 4;
inline constexpr size_t kPartStart = 8;
}  // namespace hdr
static_assert(hdr::kParticipants + hdr::kMaxParticipants * hdr::kParticipantSize <= kHeaderSize,
              "participant table must fit in the header page");

// ---- variables region ------------------------------------------------------
namespace var {
inline constexpr size_t kDirEntrySize = 64;  // one per slot, at region start
inline constexpr size_t kDirNameLen = 0;     // u32 (1..40)
inline constexpr size_t kDirMaxSize = 4;     // u32 (1..kMaxValueSize)
inline constexpr size_t kDirSlotOffset = 8;  // u64, absolute, 64-aligned
inline constexpr size_t kDirBufStride = 16;  // u32 == align64(max_size)
inline constexpr size_t kDirReserved = 20;   // u32 zero
inline constexpr size_t kDirName = 24;       // 40 bytes UTF-8, zero padded
inline constexpr uint32_t kMaxNameLen = 40;
inline constexpr uint32_t kMaxValueSize = 16u << 20;  // 16 MiB
inline constexpr uint32_t kMaxSlots = 65536;
// Slot (at slot_offset): two 64-byte control lines, then the two buffers.
// Line 0 is touched by writers (and by waiters registering); line 1 is what
// readers poll, written only by the publishing store(s) of a write, so a
// busy-polling reader's line changes hands once per write, not once per
// lock operation.
inline constexpr size_t kLock = 0;        // i32: 0 free, else lock word (see participants.h)
inline constexpr size_t kWaiters = 8;     // i32: threads futex-waiting on kVersion
inline constexpr size_t kRecoveries = 12; // u32: locks broken after a dead owner
inline constexpr size_t kVersion = 64;    // u32: published version; buffer = version & 1
inline constexpr size_t kLen = 68;        // u32: length of the published value
// {version, len} change together: one aligned 64-bit store at kVersion
// (version in the low half) publishes a write, so the readers' line takes
// exactly one store per write.
inline constexpr size_t kControlSize = 128;
// Each of the two buffers: data[max_size], padded to stride (64-aligned),
// after the control lines...
inline constexpr size_t kBuffers = kControlSize;
// ...except in an inline slot (max_size <= kInlineMax): its two buffers are
// the rest of the readers' line, 28 bytes each, at kInlineBuf0 and
// kInlineBuf0 + kInlineMax, so a reader gets version, length and value with
// one cache-line transfer. The space after the control lines (2 x stride) is
// still reserved, so a slot's size does not depend on where its value lives.
inline constexpr uint32_t kInlineMax = 28;
inline constexpr size_t kInlineBuf0 = kLen + 4;  // 72
static_assert(kInlineBuf0 + 2 * kInlineMax == kControlSize, "inline buffers fill the readers' line");
}  // namespace var

// ---- stream region ---------------------------------------------------------
namespace strm {
// Control block at region start (relative offsets). Line 0 is what readers
// poll (head) and where they announce sleeps; line 1 is the producers' (lock
// and counters), so a producer's lock traffic does not steal the line a
// busy-polling reader watches.
inline constexpr size_t kHeadLo = 0;      // u32 futex word: low half of head
inline constexpr size_t kHeadHi = 4;      // u32 high half of head
inline constexpr size_t kWaiters = 12;    // i32 readers futex-waiting on kHeadLo
inline constexpr size_t kLock = 64;       // i32 producer lock word
inline constexpr size_t kRecoveries = 68; // u32
inline constexpr size_t kRefused = 72;    // u32 appends refused (refuse policy)
inline constexpr size_t kSpaceSeq = 76;   // u32 futex word: bumped when a registered consumer advances and producers wait
inline constexpr size_t kSpaceWaiters = 80; // i32 producers futex-waiting on kSpaceSeq
inline constexpr size_t kConsumers = 128; // consumer table
inline constexpr size_t kConsumerSize = 64;
inline constexpr size_t kConsOwner = 0;     // i32 lock-word-format owner ref, 0 = free
inline constexpr size_t kConsCursorLo = 8;  // u32 next seq this consumer will read
inline constexpr size_t kConsCursorHi = 12; // u32
inline constexpr uint32_t kMaxConsumers = 256;
// Ring slot header (relative to slot start).
inline constexpr size_t kSlotTag = 0;     // u32 commit word (see ring.h)
inline constexpr size_t kSlotLen = 4;     // u32
inline constexpr size_t kSlotSeqLo = 8;   // u32
inline constexpr size_t kSlotSeqHi = 12;  // u32
inline constexpr size_t kSlotData = 16;
inline constexpr uint32_t kMinCapacity = 2;
inline constexpr uint32_t kMaxCapacity = 1u << 24;
inline constexpr uint32_t kMaxMessageSize = 1u << 20;
}  // namespace strm

// ---- helpers -----------------------------------------------------------------
inline constexpr uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
inline constexpr uint32_t VarBufStride(uint32_t max_size) {
  return static_cast<uint32_t>(AlignUp(uint64_t{max_size}, kCacheLine));
}
inline constexpr uint64_t VarSlotSize(uint32_t max_size) {
  return var::kControlSize + 2ull * VarBufStride(max_size);
}
inline constexpr bool VarInline(uint32_t max_size) { return max_size <= var::kInlineMax; }
/** Where buffer 0 of a slot starts, relative to the slot. */
inline constexpr uint32_t VarBufOffset(uint32_t max_size) {
  return static_cast<uint32_t>(VarInline(max_size) ? var::kInlineBuf0 : var::kBuffers);
}
/** Distance from buffer 0 to buffer 1. */
inline constexpr uint32_t VarBufStep(uint32_t max_size) {
  return VarInline(max_size) ? var::kInlineMax : VarBufStride(max_size);
}
inline constexpr uint32_t StreamSlotStride(uint32_t msg_max) {
  return static_cast<uint32_t>(AlignUp(strm::kSlotData + msg_max, 8));
}
inline constexpr uint64_t StreamRingOffset(uint32_t max_consumers) {
  return AlignUp(strm::kConsumers + uint64_t{max_consumers} * strm::kConsumerSize, kCacheLine);
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Unaligned-safe little-endian accessors for validation code that must not
// assume anything about the bytes it reads.
inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8);
  return v;
}
inline void StoreU32(uint8_t* p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
inline void StoreU64(uint8_t* p, uint64_t v) { __builtin_memcpy(p, &v, 8); }

// Atomic access to aligned 32-bit words of the mapping. All control words are
// 4-byte aligned by construction (validated at open).
inline uint32_t AtomicLoad32(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const uint32_t*>(p), __ATOMIC_SEQ_CST);
}
inline void AtomicStore32(uint8_t* p, uint32_t v) {
  __atomic_store_n(reinterpret_cast<uint32_t*>(p), v, __ATOMIC_SEQ_CST);
}
inline bool AtomicCas32(uint8_t* p, uint32_t expected, uint32_t desired) {
  return __atomic_compare_exchange_n(reinterpret_cast<uint32_t*>(p), &expected, desired, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
inline uint32_t AtomicAdd32(uint8_t* p, uint32_t v) {
  return __atomic_fetch_add(reinterpret_cast<uint32_t*>(p), v, __ATOMIC_SEQ_CST);
}

}  // namespace commy
