// status.h — error codes shared by the C++ core and the N-API layer. The
// string codes are part of the public API (the TS wrapper re-exports them).
#pragma once

#include <string>
#include <utility>

namespace commy {

namespace code {
inline constexpr const char* kInvalidArgument = "COMMY_E_INVALID_ARGUMENT";
inline constexpr const char* kIo = "COMMY_E_IO";
inline constexpr const char* kExists = "COMMY_E_EXISTS";
inline constexpr const char* kNotFound = "COMMY_E_NOT_FOUND";
inline constexpr const char* kBadMagic = "COMMY_E_BAD_MAGIC";
inline constexpr const char* kVersion = "COMMY_E_VERSION";
inline constexpr const char* kTruncated = "COMMY_E_TRUNCATED";
inline constexpr const char* kCorrupt = "COMMY_E_CORRUPT";
inline constexpr const char* kReadOnly = "COMMY_E_READ_ONLY";
inline constexpr const char* kClosed = "COMMY_E_CLOSED";
inline constexpr const char* kTooLarge = "COMMY_E_TOO_LARGE";
inline constexpr const char* kStreamFull = "COMMY_E_STREAM_FULL";
inline constexpr const char* kLockTimeout = "COMMY_E_LOCK_TIMEOUT";
inline constexpr const char* kTableFull = "COMMY_E_TABLE_FULL";
}  // namespace code

/** A result: ok, or a stable code plus a human-readable message. */
struct Status {
  const char* code = nullptr;
  std::string message;

  static Status Ok() { return {}; }
  static Status Error(const char* c, std::string m) { return Status{c, std::move(m)}; }
  bool ok() const { return code == nullptr; }
};

}  // namespace commy
