// core-tests.cc — tests of the plain C++ core (no N-API), built by run.sh
// with AddressSanitizer and UndefinedBehaviorSanitizer.
//
//  - layout build/validate round trips and every truncation length
//  - a seeded fuzz loop over the header validator and the stream reader
//    (mutated images in exactly-sized heap buffers, so any out-of-bounds
//    read is an ASan report, i.e. a failure)
//  - concurrency: seqlock and ring with threads, checksums verified
//  - robustness: forked writers SIGKILLed at random moments, thousands of
//    rounds; the reader never sees a torn value and the lock is recovered
//
// Prints one line per failed check and ends with "N passed, N failed".
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "../src/header.h"
#include "../src/participants.h"
#include "../src/ring.h"
#include "../src/seqlock.h"
#include "../src/futex-ring.h"

#include <poll.h>

using namespace commy;

static int g_passed = 0, g_failed = 0;
#define CHECK(cond)                                                        \
  do {                                                                     \
    if (cond) {                                                            \
      g_passed++;                                                          \
    } else {                                                               \
      g_failed++;                                                          \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
    }                                                                      \
  } while (0)

static const char* CodeOf(const Status& s) { return s.ok() ? "OK" : s.code; }
static bool Is(const Status& s, const char* c) { return std::strcmp(CodeOf(s), c) == 0; }

// A file image in shared anonymous memory (usable across fork()).
struct Image {
  uint8_t* p = nullptr;
  size_t n = 0;
  Layout layout;
  ~Image() {
    if (p) munmap(p, n);
  }
};

static bool BuildImage(const CreateSpec& spec, Image* img) {
  std::vector<uint8_t> bytes;
  Status st = HeaderValidator::Build(spec, &img->layout, &bytes);
  if (!st.ok()) return false;
  img->n = img->layout.total_size;
  img->p = static_cast<uint8_t*>(mmap(nullptr, img->n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  std::memcpy(img->p, bytes.data(), bytes.size());
  return true;
}

static CreateSpec VarSpec() {
  CreateSpec s;
  s.kind = kKindVariables;
  s.slots = {{"temp", 64}, {"big", 5000}, {"tiny", 1}, {"small", 28}};  // tiny, small: inline
  s.generation = 0x1234;
  return s;
}
static CreateSpec StreamSpec(bool refuse = false) {
  CreateSpec s;
  s.kind = kKindStream;
  s.capacity = 64;
  s.msg_max = 100;
  s.max_consumers = 4;
  s.refuse = refuse;
  s.generation = 0x5678;
  return s;
}

// Checksummed value: bytes [0,4) = FNV-1a of the rest.
static uint32_t Fnv(const uint8_t* p, size_t n) {
  uint32_t h = 0x811c9dc5;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x01000193;
  return h;
}
static uint32_t MakeValue(uint8_t* out, uint32_t max, uint64_t seed) {
  uint32_t len = 8 + static_cast<uint32_t>(seed * 2654435761u % (max - 7));
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (uint32_t i = 4; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<uint8_t>(x);
  }
  uint32_t h = Fnv(out + 4, len - 4);
  std::memcpy(out, &h, 4);
  return len;
}
static bool ValueOk(const uint8_t* v, uint32_t len) {
  if (len < 8) return false;
  uint32_t h;
  std::memcpy(&h, v, 4);
  return h == Fnv(v + 4, len - 4);
}

// ---------------------------------------------------------------------------

static void TestRoundTrip() {
  for (const CreateSpec& spec : {VarSpec(), StreamSpec(), StreamSpec(true)}) {
    Image img;
    CHECK(BuildImage(spec, &img));
    Layout l;
    Status st = HeaderValidator::Validate(img.p, img.n, &l);
    CHECK(st.ok());
    CHECK(l.total_size == img.n && l.generation == spec.generation && l.kind == spec.kind);
    if (spec.kind == kKindVariables) {
      CHECK(l.slots.size() == 4 && l.slots[1].name == "big" && l.slots[1].max_size == 5000);
      // Out-of-line buffers after the control lines; inline ones in the readers' line.
      CHECK(l.slots[1].buf == var::kControlSize && l.slots[1].step == VarBufStride(5000));
      CHECK(l.slots[2].buf == var::kInlineBuf0 && l.slots[2].step == var::kInlineMax);
      CHECK(l.slots[3].buf == var::kInlineBuf0 && l.slots[3].buf + 2 * l.slots[3].step == var::kControlSize);
      CHECK(!VarInline(29) && VarInline(28) && VarBufOffset(29) == var::kControlSize);
    } else {
      CHECK(l.capacity == 64 && l.msg_max == 100 && ((l.flags & kFlagOverflowRefuse) != 0) == spec.refuse);
    }
  }
  // Build rejects bad specs.
  CreateSpec bad = VarSpec();
  bad.slots.push_back({"temp", 8});
  Layout l;
  std::vector<uint8_t> b;
  CHECK(Is(HeaderValidator::Build(bad, &l, &b), code::kInvalidArgument));
  CreateSpec s2 = StreamSpec();
  s2.capacity = 100;
  CHECK(Is(HeaderValidator::Build(s2, &l, &b), code::kInvalidArgument));
}

static void TestTruncations() {
  Image img;
  BuildImage(VarSpec(), &img);
  int ok_codes = 0;
  for (size_t n = 0; n < img.n; n++) {
    std::vector<uint8_t> copy(img.p, img.p + n);
    uint8_t* heap = static_cast<uint8_t*>(std::malloc(n ? n : 1));
    if (n) std::memcpy(heap, copy.data(), n);
    Layout l;
    Status st = HeaderValidator::Validate(heap, n, &l);
    if (Is(st, code::kTruncated)) ok_codes++;
    std::free(heap);
  }
  CHECK(ok_codes == static_cast<int>(img.n));  // every prefix: TRUNCATED
  std::vector<uint8_t> v(img.p, img.p + img.n);
  v[8] = 9;  // version 9
  Layout l;
  CHECK(Is(HeaderValidator::Validate(v.data(), v.size(), &l), code::kVersion));
  for (uint8_t older : {1, 2}) {  // the old layouts, refused with their own message
    v[8] = older;
    Status old = HeaderValidator::Validate(v.data(), v.size(), &l);
    CHECK(Is(old, code::kVersion) && old.message.find("older") != std::string::npos);
  }
  v[8] = 0;
  CHECK(Is(HeaderValidator::Validate(v.data(), v.size(), &l), code::kCorrupt));
  v[8] = kFormatVersion;
  v[1] = 'X';
  CHECK(Is(HeaderValidator::Validate(v.data(), v.size(), &l), code::kBadMagic));
}

// Exercise the readers on an image the validator accepted: they must stay in
// bounds and terminate whatever the dynamic bytes say.
static void ExerciseReaders(const uint8_t* p, const Layout& l, std::mt19937_64& rng) {
  std::vector<uint8_t> out(5000 + 100);
  if (l.kind == kKindVariables) {
    for (const auto& s : l.slots) {
      uint32_t len = 0, ver = 0;
      Seqlock::Read(p, s, out.data(), static_cast<uint32_t>(out.size()), &len, &ver);
    }
  } else {
    for (int i = 0; i < 4; i++) {
      uint64_t pos = (i == 0) ? 0 : rng() >> (rng() % 64);
      uint64_t lost = 0;
      uint32_t len = 0;
      for (int k = 0; k < 8; k++)
        if (Ring::ReadOne(p, l, &pos, &lost, out.data(), static_cast<uint32_t>(out.size()), &len) != Ring::kMessage)
          break;
    }
  }
}

static void FuzzValidator(int cases) {
  std::mt19937_64 rng(20240611);
  Image vars, strm;
  BuildImage(VarSpec(), &vars);
  BuildImage(StreamSpec(), &strm);
  // Put some real messages in the stream image so mutations hit live data.
  {
    Layout l = strm.layout;
    uint8_t msg[100];
    uint32_t lens[1];
    for (int i = 0; i < 100; i++) {
      lens[0] = MakeValue(msg, 100, i);
      uint64_t first;
      Ring::AppendLocked(strm.p, l, msg, lens, 1, &first);
    }
  }
  int accepted = 0, crashed_codes = 0;
  for (int c = 0; c < cases; c++) {
    const Image& base = (c & 1) ? strm : vars;
    std::vector<uint8_t> v(base.p, base.p + base.n);
    int kind = static_cast<int>(rng() % 6);
    int muts = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < muts; m++) {
      size_t off;
      if (v.size() <= 4096 + 256) break;  // already truncated: stop mutating
      switch (kind) {
        case 0:  // bit flip anywhere in the header page + directory
          off = rng() % std::min<size_t>(v.size(), 4096 + 256);
          v[off] ^= static_cast<uint8_t>(1u << (rng() % 8));
          break;
        case 1:  // random u32 at a field offset
          off = (rng() % 32) * 4;
          StoreU32(v.data() + off, static_cast<uint32_t>(rng()));
          break;
        case 2:  // interesting values at field offsets
        {
          static const uint64_t interesting[] = {0, 1, 2, 63, 64, 4095, 4096, 4097, 0x7FFFFFFF, 0xFFFFFFFF,
                                                 1ull << 32, 1ull << 40, ~0ull};
          off = (rng() % 16) * 8;
          StoreU64(v.data() + off, interesting[rng() % 13]);
          break;
        }
        case 3:  // directory entry fields
          off = 4096 + (rng() % 3) * 64 + (rng() % 6) * 4;
          if (off + 4 <= v.size()) StoreU32(v.data() + off, static_cast<uint32_t>(rng() >> (rng() % 32)));
          break;
        case 4:  // truncate
          v.resize(rng() % v.size());
          break;
        default:  // random bytes in the dynamic region (slots, ring)
          off = 4096 + rng() % (v.size() - 4096);
          v[off] = static_cast<uint8_t>(rng());
          break;
      }
    }
    // Re-sign the CRC half of the time so mutations reach the deeper checks.
    if ((rng() & 1) && v.size() >= 4096) {
      Layout tmp;
      uint32_t kind_field = LoadU32(v.data() + hdr::kKind);
      uint32_t count = LoadU32(v.data() + hdr::kParam0);
      uint32_t crc = Crc32::Update(0, v.data(), hdr::kCrcCoveredEnd);
      if (kind_field == kKindVariables && count <= 3 && v.size() >= 4096 + count * 64)
        crc = Crc32::Update(crc, v.data() + 4096, count * 64);
      StoreU32(v.data() + hdr::kLayoutCrc, crc);
      (void)tmp;
    }
    // Exactly-sized heap copy: one byte past the end is an ASan error.
    uint8_t* heap = static_cast<uint8_t*>(std::malloc(v.size() ? v.size() : 1));
    if (!v.empty()) std::memcpy(heap, v.data(), v.size());
    Layout l;
    Status st = HeaderValidator::Validate(heap, v.size(), &l);
    if (st.ok()) {
      accepted++;
      // An accepted layout must lie inside the buffer.
      bool inside = l.total_size <= v.size();
      for (const auto& s : l.slots) inside = inside && s.offset + VarSlotSize(s.max_size) <= v.size();
      if (l.kind == kKindStream) inside = inside && l.ring_offset + uint64_t{l.capacity} * l.slot_stride <= v.size();
      if (!inside) crashed_codes++;
      ExerciseReaders(heap, l, rng);
    } else if (!(Is(st, code::kCorrupt) || Is(st, code::kTruncated) || Is(st, code::kBadMagic) ||
                 Is(st, code::kVersion))) {
      crashed_codes++;
    }
    std::free(heap);
  }
  std::printf("fuzz: %d cases, %d accepted (mutations in dynamic data), %d bad\n", cases, accepted, crashed_codes);
  CHECK(crashed_codes == 0);
  CHECK(accepted > 0 && accepted < cases);
}

// Stream reader on garbage: random ring contents and random heads.
static void FuzzStreamReader(int cases) {
  std::mt19937_64 rng(777);
  Image img;
  BuildImage(StreamSpec(), &img);
  const Layout& l = img.layout;
  std::vector<uint8_t> out(100);
  int bad = 0;
  for (int c = 0; c < cases; c++) {
    uint8_t* ring = img.p + l.ring_offset;
    for (int k = 0; k < 8; k++) ring[rng() % (uint64_t{l.capacity} * l.slot_stride)] = static_cast<uint8_t>(rng());
    if (c % 3 == 0) {
      uint64_t pos = rng() % 200;
      uint32_t tag = Ring::PublishedTag(pos);
      uint8_t* slot = Ring::Slot(img.p, l, pos);
      StoreU32(slot + strm::kSlotTag, tag);
      StoreU64(slot + strm::kSlotSeqLo, pos);
      StoreU32(slot + strm::kSlotLen, static_cast<uint32_t>(rng() % 300));  // may exceed msg_max
    }
    Ring::StoreHead(img.p, l, rng() % 300);
    uint64_t pos = rng() % 300, lost = 0;
    uint32_t len = 0;
    auto r = Ring::ReadOne(img.p, l, &pos, &lost, out.data(), static_cast<uint32_t>(out.size()), &len);
    if (r == Ring::kMessage && len > out.size()) bad++;
  }
  CHECK(bad == 0);
}

// ---------------------------------------------------------------------------

// slot 1: 5000 bytes, out of line; slot 3: 28 bytes, inline (format v3).
static void TestSeqlockThreads(size_t slot) {
  Image img;
  BuildImage(VarSpec(), &img);
  const VarSlotInfo s = img.layout.slots[slot];
  const uint32_t max = s.max_size;
  std::atomic<bool> stop{false};
  std::atomic<long> torn{0}, reads{0}, writes{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < 2; w++)
    ts.emplace_back([&, w] {
      int32_t me = Participants::Register(img.p);
      std::vector<uint8_t> buf(5000);
      for (uint64_t i = 0; !stop; i++) {
        uint32_t len = MakeValue(buf.data(), max, i * 2 + w), ver;
        if (Seqlock::Write(img.p, s, buf.data(), len, me, -1, &ver).ok()) writes++;
      }
      Participants::Unregister(img.p, me);
    });
  for (int r = 0; r < 2; r++)
    ts.emplace_back([&] {
      std::vector<uint8_t> out(5000);
      while (!stop) {
        uint32_t len, ver;
        Seqlock::Read(img.p, s, out.data(), 5000, &len, &ver);
        if (ver != 0 && !ValueOk(out.data(), len)) torn++;
        reads++;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  stop = true;
  for (auto& t : ts) t.join();
  std::printf("seqlock threads (%u B slot): %ld writes, %ld reads, %ld torn\n", max, writes.load(), reads.load(),
              torn.load());
  CHECK(torn == 0);
  CHECK(writes > 100 && reads > 100);
}

static void TestRingThreads() {
  Image img;
  CreateSpec spec = StreamSpec(true);  // refuse: the consumer must see everything
  spec.capacity = 256;
  BuildImage(spec, &img);
  const Layout& l = img.layout;
  const int per = 50000;
  std::atomic<int> done{0};
  int32_t consumer_owner = Participants::Register(img.p);
  int32_t ci = Ring::RegisterConsumer(img.p, l, consumer_owner, 0);
  CHECK(ci >= 0);
  std::vector<std::thread> ts;
  for (int p = 0; p < 2; p++)
    ts.emplace_back([&, p] {
      int32_t me = Participants::Register(img.p);
      uint8_t msg[100];
      for (int i = 0; i < per;) {
        uint32_t len = MakeValue(msg, 100, uint64_t(p) << 32 | uint32_t(i));
        msg[len - 1] = 0;  // keep the checksum: rewrite it below with the id
        std::memcpy(msg + 4, &p, 1);
        std::memcpy(msg + 5, &i, 3);
        uint32_t h = Fnv(msg + 4, len - 4);
        std::memcpy(msg, &h, 4);
        bool rec;
        Ring::Lock(img.p, l, me, -1, &rec);
        uint64_t first;
        Status st = Ring::AppendLocked(img.p, l, msg, &len, 1, &first);
        Ring::Unlock(img.p, l);
        if (st.ok()) i++;
        else std::this_thread::yield();
      }
      done++;
    });
  uint64_t pos = 0, lost = 0;
  int received = 0, torn = 0, order = 0;
  int last[2] = {-1, -1};
  uint8_t out[100];
  uint8_t* cursor = Ring::Control(img.p, l) + strm::kConsumers + size_t(ci) * strm::kConsumerSize + strm::kConsCursorLo;
  while (received < 2 * per) {
    uint32_t len;
    auto r = Ring::ReadOne(img.p, l, &pos, &lost, out, 100, &len);
    if (r != Ring::kMessage) {
      std::this_thread::yield();
      continue;
    }
    __atomic_store_n(reinterpret_cast<uint64_t*>(cursor), pos, __ATOMIC_SEQ_CST);
    received++;
    if (!ValueOk(out, len)) {
      torn++;
      continue;
    }
    int p = out[4] & 1;
    int i = 0;
    std::memcpy(&i, out + 5, 3);
    if (i <= last[p]) order++;
    last[p] = i;
  }
  for (auto& t : ts) t.join();
  std::printf("ring threads: %d received, %d torn, %d out of order, %llu lost\n", received, torn, order,
              static_cast<unsigned long long>(lost));
  CHECK(torn == 0 && order == 0 && lost == 0 && last[0] == per - 1 && last[1] == per - 1);
}

// Forked writers SIGKILLed at random instants. The parent reads all along
// and, after each kill, must be able to write (the dead owner's lock is broken).
static void TestKilledWriters(int rounds, size_t slot) {
  Image img;
  BuildImage(VarSpec(), &img);
  const VarSlotInfo s = img.layout.slots[slot];
  const uint32_t max = s.max_size;
  std::vector<uint8_t> buf(5000), out(5000);
  uint32_t ver;
  Seqlock::Write(img.p, s, buf.data(), MakeValue(buf.data(), max, 1), Participants::Register(img.p), -1, &ver);
  int32_t me = Participants::Register(img.p);
  std::mt19937_64 rng(42);
  long torn = 0, reads = 0, stuck = 0;
  for (int round = 0; round < rounds; round++) {
    pid_t child = fork();
    const uint32_t version_before = AtomicLoad32(img.p + s.offset + var::kVersion);
    if (child == 0) {
      int32_t cme = Participants::Register(img.p);
      // Precomputed values: nearly all the child's time is spent inside
      // Write(), so a kill often lands with the lock held.
      std::vector<std::vector<uint8_t>> vals(4, std::vector<uint8_t>(5000));
      uint32_t lens[4];
      for (int k = 0; k < 4; k++) lens[k] = MakeValue(vals[k].data(), max, k + round * 1000003ull);
      for (uint64_t i = 0;; i++) {
        uint32_t v;
        Seqlock::Write(img.p, s, vals[i & 3].data(), lens[i & 3], cme, -1, &v);
      }
    }
    // Wait until the child is writing, read for a random while, then kill it.
    while (AtomicLoad32(img.p + s.offset + var::kVersion) == version_before) sched_yield();
    int64_t until = MonotonicNs() + static_cast<int64_t>(rng() % 400000);
    while (MonotonicNs() < until) {
      uint32_t len, v;
      Seqlock::Read(img.p, s, out.data(), 5000, &len, &v);
      if (!ValueOk(out.data(), len)) torn++;
      reads++;
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    uint32_t len, v;
    Seqlock::Read(img.p, s, out.data(), 5000, &len, &v);
    if (!ValueOk(out.data(), len)) torn++;
    // Must not time out: the lock of a dead child is recovered.
    uint32_t wl = MakeValue(buf.data(), max, 7 + round);
    if (!Seqlock::Write(img.p, s, buf.data(), wl, me, 2000000000, &ver).ok()) stuck++;
  }
  uint32_t recoveries = AtomicLoad32(img.p + s.offset + var::kRecoveries);
  std::printf("killed writers (%u B slot): %d rounds, %ld reads, %ld torn, %u lock recoveries, %ld stuck\n", max, rounds,
              reads, torn, recoveries, stuck);
  CHECK(torn == 0);
  CHECK(stuck == 0);
  CHECK(recoveries > 0);
}

// A producer killed while holding the stream lock: the next producer
// recovers, and fully published messages stay committed.
static void TestKilledProducers(int rounds) {
  Image img;
  BuildImage(StreamSpec(), &img);
  const Layout& l = img.layout;
  int32_t me = Participants::Register(img.p);
  std::mt19937_64 rng(9);
  long stuck = 0, torn = 0;
  uint64_t pos = 0, lost = 0, received = 0;
  uint8_t out[100];
  for (int round = 0; round < rounds; round++) {
    pid_t child = fork();
    if (child == 0) {
      int32_t cme = Participants::Register(img.p);
      uint8_t msg[100 * 8];
      uint32_t lens[8];
      for (uint64_t i = 0;; i++) {
        size_t off = 0;
        for (int k = 0; k < 8; k++) {
          lens[k] = MakeValue(msg + off, 100, i * 8 + k);
          off += lens[k];
        }
        bool rec;
        uint64_t first;
        Ring::Lock(img.p, l, cme, -1, &rec);
        Ring::AppendLocked(img.p, l, msg, lens, 8, &first);
        Ring::Unlock(img.p, l);
      }
    }
    int64_t until = MonotonicNs() + static_cast<int64_t>(rng() % 300000);
    while (MonotonicNs() < until) {
      uint32_t len;
      if (Ring::ReadOne(img.p, l, &pos, &lost, out, 100, &len) == Ring::kMessage) {
        received++;
        if (!ValueOk(out, len)) torn++;
      }
    }
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
    bool rec;
    if (!Ring::Lock(img.p, l, me, 2000000000, &rec).ok()) {
      stuck++;
      continue;
    }
    uint8_t msg[100];
    uint32_t len = MakeValue(msg, 100, round), first64;
    uint64_t first;
    Ring::AppendLocked(img.p, l, msg, &len, 1, &first);
    Ring::Unlock(img.p, l);
    (void)first64;
  }
  uint32_t recoveries = AtomicLoad32(Ring::Control(img.p, l) + strm::kRecoveries);
  std::printf("killed producers: %d rounds, %llu received, %llu lost, %ld torn, %u recoveries, %ld stuck\n", rounds,
              static_cast<unsigned long long>(received), static_cast<unsigned long long>(lost), torn, recoveries, stuck);
  CHECK(torn == 0);
  CHECK(stuck == 0);
  CHECK(received > 0);
}

static void TestParticipants() {
  Image img;
  BuildImage(VarSpec(), &img);
  int32_t me = Participants::Register(img.p);
  CHECK(me != 0 && Participants::OwnerAlive(img.p, me));
  pid_t child = fork();
  if (child == 0) {
    int32_t w = Participants::Register(img.p);
    ssize_t n = write(STDOUT_FILENO, "", 0);
    (void)n;
    AtomicStore32(img.p + 4000, static_cast<uint32_t>(w));  // hand the lock word to the parent
    pause();
    _exit(0);
  }
  while (AtomicLoad32(img.p + 4000) == 0) sched_yield();
  int32_t theirs = static_cast<int32_t>(AtomicLoad32(img.p + 4000));
  CHECK(Participants::OwnerAlive(img.p, theirs));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  CHECK(!Participants::OwnerAlive(img.p, theirs));
  Participants::Unregister(img.p, me);
  CHECK(!Participants::OwnerAlive(img.p, me));  // released registrations are dead
  CHECK(!Participants::OwnerAlive(img.p, 0x7FFFFFFF));
  // Fill the table, then a dead entry must be reclaimable.
  std::vector<int32_t> words;
  for (uint32_t i = 0; i < hdr::kMaxParticipants; i++) words.push_back(Participants::Register(img.p));
  CHECK(Participants::Register(img.p) == 0);  // full of live (this) thread entries
}

// tryAppendPacked's core: the longest prefix that fits, Ok with 0 when full.
static void TestPartialAppend() {
  Image img;
  CreateSpec spec = StreamSpec(true);
  spec.capacity = 8;
  BuildImage(spec, &img);
  const Layout& l = img.layout;
  int32_t me = Participants::Register(img.p);
  CHECK(Ring::RegisterConsumer(img.p, l, me, 0) >= 0);
  uint8_t data[5 * 16] = {};
  uint32_t lens[5] = {16, 16, 16, 16, 16};
  uint64_t first = 0;
  uint32_t n = 0;
  CHECK(Ring::AppendLocked(img.p, l, data, lens, 5, true, &first, &n).ok() && n == 5 && first == 0);
  CHECK(Ring::AppendLocked(img.p, l, data, lens, 5, true, &first, &n).ok() && n == 3 && first == 5);
  CHECK(Ring::AppendLocked(img.p, l, data, lens, 5, true, &first, &n).ok() && n == 0);
  CHECK(Is(Ring::AppendLocked(img.p, l, data, lens, 1, &first), code::kStreamFull));
  CHECK(Ring::LoadHead(img.p, l) == 8);
  CHECK(AtomicLoad32(Ring::Control(img.p, l) + strm::kRefused) == 3);
}

// io_uring FUTEX_WAIT on a MAP_SHARED word, woken by a classic FUTEX_WAKE
// from another process; timeouts and cancellation complete it too.
static int WaitReadable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms);
}
static void TestFutexRing() {
  FutexRing ring;
  const char* why = "";
  if (!ring.Init(&why)) {
    std::printf("futex ring: skipped (%s)\n", why);
    return;
  }
  auto* word = static_cast<uint32_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  *word = 5;
  CHECK(ring.QueueWait(word, 5, -1, 100) && ring.Submit());
  pid_t child = fork();
  if (child == 0) {
    usleep(20000);
    __atomic_store_n(word, 6, __ATOMIC_SEQ_CST);
    Futex::WakeAll(word);
    _exit(0);
  }
  int res = 1, got = 0;
  for (int i = 0; i < 50 && !got; i++) {
    WaitReadable(ring.fd(), 100);
    ring.Drain([&](uint64_t ud, int r) {
      if (ud == 100) res = r, got = 1;
    });
  }
  waitpid(child, nullptr, 0);
  CHECK(got == 1 && res == 0 && __atomic_load_n(word, __ATOMIC_SEQ_CST) == 6);
  // Value already different: -EAGAIN at once.
  got = 0;
  CHECK(ring.QueueWait(word, 5, -1, 101) && ring.Submit());
  for (int i = 0; i < 50 && !got; i++) {
    WaitReadable(ring.fd(), 100);
    ring.Drain([&](uint64_t ud, int r) {
      if (ud == 101) res = r, got = 1;
    });
  }
  CHECK(got == 1 && res == -EAGAIN);
  // Linked timeout: the wait completes cancelled.
  got = 0;
  CHECK(ring.QueueWait(word, 6, 5000000, 102) && ring.Submit());
  for (int i = 0; i < 50 && !got; i++) {
    WaitReadable(ring.fd(), 100);
    ring.Drain([&](uint64_t ud, int r) {
      if (ud == 102) res = r, got = 1;
    });
  }
  CHECK(got == 1 && res == -ECANCELED);
  // Explicit cancellation.
  got = 0;
  CHECK(ring.QueueWait(word, 6, -1, 103) && ring.Submit());
  CHECK(ring.QueueCancel(103) && ring.Submit());
  for (int i = 0; i < 50 && !got; i++) {
    WaitReadable(ring.fd(), 100);
    ring.Drain([&](uint64_t ud, int r) {
      if (ud == 103) res = r, got = 1;
    });
  }
  CHECK(got == 1 && res == -ECANCELED);
  munmap(word, 4096);
  std::printf("futex ring: wake, mismatch, timeout, cancel ok\n");
}

int main(int argc, char** argv) {
  int fuzz_cases = argc > 1 ? std::atoi(argv[1]) : 120000;
  TestRoundTrip();
  TestTruncations();
  TestParticipants();
  FuzzValidator(fuzz_cases);
  FuzzStreamReader(fuzz_cases / 2);
  TestSeqlockThreads(1);
  TestSeqlockThreads(3);
  TestRingThreads();
  TestPartialAppend();
  TestFutexRing();
  TestKilledWriters(200, 1);
  TestKilledWriters(200, 3);
  TestKilledProducers(150);
  std::printf("core-tests: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
