// header.h — building and validating the immutable layout of a shared file.
//
// HeaderValidator::Validate is the single gate between untrusted bytes and
// every other piece of code: it must never read outside [p, p + size), never
// crash, and never accept a layout whose regions fall outside the file. It is
// fuzzed by native/core-tests/fuzz.cc. Everything the rest of the code uses
// (slot offsets, capacity, strides) comes from the Layout it returns, never
// from re-reading the (shared, mutable) header afterwards.
#pragma once

#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "crc32.h"
#include "format.h"
#include "status.h"

namespace commy {

struct VarSlotInfo {
  std::string name;
  uint32_t max_size = 0;
  uint64_t offset = 0;  // absolute offset of the slot control line
  uint32_t stride = 0;  // directory stride: align64(max_size), the room reserved per buffer
  uint32_t buf = 0;     // buffer 0, relative to offset (VarBufOffset)
  uint32_t step = 0;    // bytes from buffer 0 to buffer 1 (VarBufStep)
};

struct Layout {
  uint32_t kind = 0;
  uint32_t flags = 0;
  uint64_t total_size = 0;
  uint64_t generation = 0;
  uint32_t creator_pid = 0;
  uint64_t created_ns = 0;
  uint64_t region_offset = 0;
  uint64_t region_size = 0;
  // variables
  std::vector<VarSlotInfo> slots;
  // stream
  uint32_t capacity = 0;
  uint32_t msg_max = 0;
  uint32_t slot_stride = 0;
  uint32_t max_consumers = 0;
  uint64_t ring_offset = 0;  // absolute
};

/** What the caller asks for at create time (already validated by the TS wrapper,
 * validated again here because the C++ core must be safe on its own). */
struct CreateSpec {
  uint32_t kind = 0;
  std::vector<std::pair<std::string, uint32_t>> slots;  // name, max size
  uint32_t capacity = 0;
  uint32_t msg_max = 0;
  uint32_t max_consumers = 0;
  bool refuse = false;
  uint64_t generation = 0;
  uint32_t creator_pid = 0;
  uint64_t created_ns = 0;
};

class HeaderValidator {
 public:
  /** Computes the layout for spec; fills header+directory bytes into `image`
   * (the first `image.size()` bytes of the file; the rest is zero). */
  static Status Build(const CreateSpec& spec, Layout* out, std::vector<uint8_t>* image) {
    Layout l;
    l.kind = spec.kind;
    l.flags = spec.refuse ? uint32_t{kFlagOverflowRefuse} : 0u;
    l.generation = spec.generation;
    l.creator_pid = spec.creator_pid;
    l.created_ns = spec.created_ns;
    l.region_offset = kHeaderSize;
    uint64_t region_end = 0;
    if (spec.kind == kKindVariables) {
      if (spec.slots.empty() || spec.slots.size() > var::kMaxSlots)
        return Status::Error(code::kInvalidArgument, "variables file needs 1..65536 slots");
      std::unordered_set<std::string> seen;
      uint64_t cursor = AlignUp(l.region_offset + spec.slots.size() * var::kDirEntrySize, kCacheLine);
      for (const auto& [name, max] : spec.slots) {
        if (name.empty() || name.size() > var::kMaxNameLen)
          return Status::Error(code::kInvalidArgument, "slot name must be 1..40 bytes");
        if (!seen.insert(name).second)
          return Status::Error(code::kInvalidArgument, "duplicate slot name: " + name);
        if (max == 0 || max > var::kMaxValueSize)
          return Status::Error(code::kInvalidArgument, "slot maxSize must be 1..16 MiB");
        VarSlotInfo s{name, max, cursor, VarBufStride(max), VarBufOffset(max), VarBufStep(max)};
        cursor += VarSlotSize(max);
        l.slots.push_back(std::move(s));
      }
      region_end = cursor;
    } else if (spec.kind == kKindStream) {
      if (spec.capacity < strm::kMinCapacity || spec.capacity > strm::kMaxCapacity ||
          (spec.capacity & (spec.capacity - 1)) != 0)
        return Status::Error(code::kInvalidArgument, "capacity must be a power of two in 2..2^24");
      if (spec.msg_max == 0 || spec.msg_max > strm::kMaxMessageSize)
        return Status::Error(code::kInvalidArgument, "messageMaxSize must be 1..1 MiB");
      if (spec.max_consumers > strm::kMaxConsumers)
        return Status::Error(code::kInvalidArgument, "maxConsumers must be 0..256");
      l.capacity = spec.capacity;
      l.msg_max = spec.msg_max;
      l.slot_stride = StreamSlotStride(spec.msg_max);
      l.max_consumers = spec.max_consumers;
      l.ring_offset = l.region_offset + StreamRingOffset(spec.max_consumers);
      region_end = l.ring_offset + uint64_t{l.capacity} * l.slot_stride;
    } else {
      return Status::Error(code::kInvalidArgument, "unknown kind");
    }
    l.total_size = AlignUp(region_end, 4096);
    if (l.total_size > kMaxFileSize) return Status::Error(code::kTooLarge, "file would exceed 1 TiB");
    l.region_size = l.total_size - l.region_offset;

    size_t image_size = kHeaderSize + (l.kind == kKindVariables ? l.slots.size() * var::kDirEntrySize : 0);
    image->assign(image_size, 0);
    uint8_t* p = image->data();
    std::memcpy(p + hdr::kMagic, kMagic, 8);
    StoreU32(p + hdr::kVersion, kFormatVersion);
    StoreU32(p + hdr::kKind, l.kind);
    StoreU32(p + hdr::kHeaderSize, kHeaderSize);
    StoreU32(p + hdr::kFlags, l.flags);
    StoreU64(p + hdr::kTotalSize, l.total_size);
    StoreU64(p + hdr::kGeneration, l.generation);
    StoreU32(p + hdr::kCreatorPid, l.creator_pid);
    StoreU64(p + hdr::kCreatedNs, l.created_ns);
    StoreU64(p + hdr::kRegionOffset, l.region_offset);
    StoreU64(p + hdr::kRegionSize, l.region_size);
    if (l.kind == kKindVariables) {
      StoreU32(p + hdr::kParam0, static_cast<uint32_t>(l.slots.size()));
      for (size_t i = 0; i < l.slots.size(); i++) {
        uint8_t* e = p + kHeaderSize + i * var::kDirEntrySize;
        const auto& s = l.slots[i];
        StoreU32(e + var::kDirNameLen, static_cast<uint32_t>(s.name.size()));
        StoreU32(e + var::kDirMaxSize, s.max_size);
        StoreU64(e + var::kDirSlotOffset, s.offset);
        StoreU32(e + var::kDirBufStride, s.stride);
        std::memcpy(e + var::kDirName, s.name.data(), s.name.size());
      }
    } else {
      StoreU32(p + hdr::kParam0, l.capacity);
      StoreU32(p + hdr::kParam1, l.msg_max);
      StoreU32(p + hdr::kParam2, l.slot_stride);
      StoreU32(p + hdr::kParam3, l.max_consumers);
    }
    StoreU32(p + hdr::kLayoutCrc, ComputeCrc(p, image_size, l.kind, l.slots.size()));
    *out = std::move(l);
    return Status::Ok();
  }

  /** Validates the first `size` bytes of a file (size = the file's length, or
   * less if only part of it is mapped). Reads nothing outside [p, p+size). */
  static Status Validate(const uint8_t* p, uint64_t size, Layout* out) {
    if (size < 8) {
      if (size == 0 || std::memcmp(p, kMagic, size) == 0)
        return Status::Error(code::kTruncated, "file is shorter than the magic number");
      return Status::Error(code::kBadMagic, "not a Commy shared file (bad magic)");
    }
    if (std::memcmp(p + hdr::kMagic, kMagic, 8) != 0)
      return Status::Error(code::kBadMagic, "not a Commy shared file (bad magic)");
    if (size < hdr::kVersion + 4) return Status::Error(code::kTruncated, "file ends inside the header");
    uint32_t version = LoadU32(p + hdr::kVersion);
    if (version > kFormatVersion)
      return Status::Error(code::kVersion, "format version " + std::to_string(version) +
                                               " is newer than the supported version " +
                                               std::to_string(kFormatVersion));
    if (version >= kOldestRefusedVersion && version < kFormatVersion)
      return Status::Error(code::kVersion, "format version " + std::to_string(version) +
                                               " is older than the supported version " +
                                               std::to_string(kFormatVersion) + ": re-create the file");
    if (version != kFormatVersion) return Status::Error(code::kCorrupt, "format version 0 is invalid");
    if (size < kHeaderSize) return Status::Error(code::kTruncated, "file ends inside the header");

    Layout l;
    l.kind = LoadU32(p + hdr::kKind);
    l.flags = LoadU32(p + hdr::kFlags);
    l.total_size = LoadU64(p + hdr::kTotalSize);
    l.generation = LoadU64(p + hdr::kGeneration);
    l.creator_pid = LoadU32(p + hdr::kCreatorPid);
    l.created_ns = LoadU64(p + hdr::kCreatedNs);
    l.region_offset = LoadU64(p + hdr::kRegionOffset);
    l.region_size = LoadU64(p + hdr::kRegionSize);

    if (LoadU32(p + hdr::kHeaderSize) != kHeaderSize) return Corrupt("header_size is not 4096");
    if (l.total_size < kHeaderSize || l.total_size > kMaxFileSize || l.total_size % 4096 != 0)
      return Corrupt("total_size out of range");
    // A file shorter than it says it is was truncated after creation.
    if (size < l.total_size)
      return Status::Error(code::kTruncated, "file is " + std::to_string(size) + " bytes, header says " +
                                                 std::to_string(l.total_size));
    if (l.kind != kKindVariables && l.kind != kKindStream) return Corrupt("unknown kind");
    if ((l.flags & ~kKnownFlags) != 0) return Corrupt("unknown flag bits");
    if (l.kind == kKindVariables && l.flags != 0) return Corrupt("flags set on a variables file");
    if (LoadU32(p + hdr::kReserved44) != 0) return Corrupt("reserved field is not zero");
    for (size_t o = 88; o < hdr::kLayoutCrc; o++)
      if (p[o] != 0) return Corrupt("reserved bytes are not zero");
    if (l.generation == 0) return Corrupt("generation is zero");
    if (l.region_offset != kHeaderSize) return Corrupt("region_offset is not 4096");
    if (l.region_size != l.total_size - l.region_offset) return Corrupt("region_size mismatch");

    const uint64_t region_end = l.region_offset + l.region_size;
    size_t crc_len = kHeaderSize;
    if (l.kind == kKindVariables) {
      uint32_t count = LoadU32(p + hdr::kParam0);
      if (count == 0 || count > var::kMaxSlots) return Corrupt("slot count out of range");
      if (LoadU32(p + hdr::kParam1) | LoadU32(p + hdr::kParam2) | LoadU32(p + hdr::kParam3))
        return Corrupt("unused parameters are not zero");
      uint64_t dir_end = l.region_offset + uint64_t{count} * var::kDirEntrySize;
      if (dir_end > region_end) return Corrupt("slot directory exceeds the file");
      crc_len = static_cast<size_t>(dir_end);
      uint64_t min_offset = AlignUp(dir_end, kCacheLine);
      std::unordered_set<std::string> seen;
      l.slots.reserve(count);
      for (uint32_t i = 0; i < count; i++) {
        const uint8_t* e = p + l.region_offset + uint64_t{i} * var::kDirEntrySize;
        VarSlotInfo s;
        uint32_t name_len = LoadU32(e + var::kDirNameLen);
        s.max_size = LoadU32(e + var::kDirMaxSize);
        s.offset = LoadU64(e + var::kDirSlotOffset);
        s.stride = LoadU32(e + var::kDirBufStride);
        if (name_len == 0 || name_len > var::kMaxNameLen) return Corrupt("slot name length out of range");
        if (s.max_size == 0 || s.max_size > var::kMaxValueSize) return Corrupt("slot max size out of range");
        if (s.stride != VarBufStride(s.max_size)) return Corrupt("slot stride mismatch");
        s.buf = VarBufOffset(s.max_size);
        s.step = VarBufStep(s.max_size);
        if (LoadU32(e + var::kDirReserved) != 0) return Corrupt("slot reserved field not zero");
        for (uint32_t k = name_len; k < var::kMaxNameLen; k++)
          if (e[var::kDirName + k] != 0) return Corrupt("slot name padding not zero");
        s.name.assign(reinterpret_cast<const char*>(e + var::kDirName), name_len);
        if (s.name.find('\0') != std::string::npos) return Corrupt("slot name contains NUL");
        if (!seen.insert(s.name).second) return Corrupt("duplicate slot name");
        // Slots are laid out in directory order, non-overlapping, 64-aligned.
        if (s.offset % kCacheLine != 0 || s.offset < min_offset) return Corrupt("slot offset invalid");
        if (s.offset > region_end || VarSlotSize(s.max_size) > region_end - s.offset)
          return Corrupt("slot exceeds the file");
        min_offset = s.offset + VarSlotSize(s.max_size);
        l.slots.push_back(std::move(s));
      }
    } else {
      l.capacity = LoadU32(p + hdr::kParam0);
      l.msg_max = LoadU32(p + hdr::kParam1);
      l.slot_stride = LoadU32(p + hdr::kParam2);
      l.max_consumers = LoadU32(p + hdr::kParam3);
      if (l.capacity < strm::kMinCapacity || l.capacity > strm::kMaxCapacity ||
          (l.capacity & (l.capacity - 1)) != 0)
        return Corrupt("stream capacity invalid");
      if (l.msg_max == 0 || l.msg_max > strm::kMaxMessageSize) return Corrupt("message max size invalid");
      if (l.slot_stride != StreamSlotStride(l.msg_max)) return Corrupt("stream slot stride mismatch");
      if (l.max_consumers > strm::kMaxConsumers) return Corrupt("max consumers invalid");
      l.ring_offset = l.region_offset + StreamRingOffset(l.max_consumers);
      uint64_t ring_bytes = uint64_t{l.capacity} * l.slot_stride;
      if (l.ring_offset > region_end || ring_bytes > region_end - l.ring_offset)
        return Corrupt("ring exceeds the file");
    }
    if (LoadU32(p + hdr::kLayoutCrc) != ComputeCrc(p, crc_len, l.kind, l.slots.size()))
      return Corrupt("layout checksum mismatch");
    *out = std::move(l);
    return Status::Ok();
  }

 private:
  static Status Corrupt(const char* why) { return Status::Error(code::kCorrupt, std::string("corrupt header: ") + why); }

  // CRC over header bytes [0,124) followed by the variables directory (if any).
  static uint32_t ComputeCrc(const uint8_t* p, size_t len, uint32_t kind, size_t slot_count) {
    uint32_t crc = Crc32::Update(0, p, hdr::kCrcCoveredEnd);
    if (kind == kKindVariables && len >= kHeaderSize + slot_count * var::kDirEntrySize)
      crc = Crc32::Update(crc, p + kHeaderSize, slot_count * var::kDirEntrySize);
    return crc;
  }
};

}  // namespace commy
