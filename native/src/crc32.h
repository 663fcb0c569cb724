// crc32.h — CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and
// final xor 0xFFFFFFFF; the same function as zlib's crc32()). Used for the
// header's layout_crc so that a reader in any language can verify it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace commy {

class Crc32 {
 public:
  static uint32_t Update(uint32_t crc, const uint8_t* data, size_t len) {
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
      crc = Table()[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
    }
    return ~crc;
  }

 private:
  static const uint32_t* Table() {
    static const auto* table = [] {
      static uint32_t t[256];
      for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
      }
      return t;
    }();
    return table;
  }
};

}  // namespace commy
