// shared-file.h — the N-API class wrapping one mapped shared file.
//
// Deliberately thin: it maps, validates, exposes the mapping as an external
// ArrayBuffer (the TS wrapper does the hot-path reads and writes on it with
// Atomics), and offers the few operations that need the kernel or the
// robust-lock recovery: futex wait/wake, dead-owner lock takeover, consumer
// registration and batched copies.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>

#include "mapped-file.h"

namespace commy {

class AddonData;

/** Env teardown of the io_uring wait backend (shared-file.cc). */
void ShutdownRingWaits(AddonData* a);
/** "io_uring" or "threads" (decides on first call). */
const char* WaitBackend(Napi::Env env, AddonData* a);

/** Mapping state shared by the JS handle, the ArrayBuffer finalizer and
 * pending waits; the mapping is unmapped once close() was called and no wait
 * still sleeps on it (or when the last owner is garbage-collected). */
struct FileState {
  std::unique_ptr<MappedFile> file;
  std::atomic<bool> cancel{false};
  int active_jobs = 0;  // main thread only
  bool closed = false;  // main thread only
  int32_t lock_word = 0;
  int64_t external_bytes = 0;
};

class SharedFileHandle : public Napi::ObjectWrap<SharedFileHandle> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit SharedFileHandle(const Napi::CallbackInfo& info);
  ~SharedFileHandle() override;

  /** Closes from the env cleanup hook. */
  void CloseForTeardown();
  static void ReleaseFileState(const std::shared_ptr<FileState>& state);

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static Napi::Value Open(const Napi::CallbackInfo& info);
  static Napi::Value OpenFd(const Napi::CallbackInfo& info);
  static Napi::Value Wrap(Napi::Env env, std::unique_ptr<MappedFile> file);

  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetFd(const Napi::CallbackInfo& info);
  Napi::Value GetReadOnly(const Napi::CallbackInfo& info);
  Napi::Value GetLockWord(const Napi::CallbackInfo& info);
  Napi::Value Layout(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value AcquireSlotLock(const Napi::CallbackInfo& info);
  Napi::Value AcquireStreamLock(const Napi::CallbackInfo& info);
  Napi::Value Wake(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  Napi::Value MinCursor(const Napi::CallbackInfo& info);
  Napi::Value RegisterConsumer(const Napi::CallbackInfo& info);
  Napi::Value UnregisterConsumer(const Napi::CallbackInfo& info);
  Napi::Value AppendPacked(const Napi::CallbackInfo& info);
  Napi::Value ReadBatch(const Napi::CallbackInfo& info);
  Napi::Value WriteVar(const Napi::CallbackInfo& info);
  Napi::Value ReadVar(const Napi::CallbackInfo& info);
  Napi::Value OwnerAlive(const Napi::CallbackInfo& info);

  bool CheckOpen(Napi::Env env);
  bool CheckWritable(Napi::Env env);
  bool CheckKind(Napi::Env env, uint32_t kind);
  bool CheckWord(Napi::Env env, const Napi::Value& v, uint64_t* offset);
  void DoClose(Napi::Env env);

  std::shared_ptr<FileState> state_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  AddonData* addon_ = nullptr;
};

}  // namespace commy
