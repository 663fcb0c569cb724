// shared-file.cc — N-API glue for SharedFileHandle. Every method starts with
// guard checks that throw a typed error (an Error with a `code` property);
// C++ exceptions are disabled (NAPI_DISABLE_CPP_EXCEPTIONS), so every failing
// path returns right after scheduling the JS exception.
#include "shared-file.h"

#include <time.h>

#include <cmath>
#include <string>

#include "addon-data.h"
#include "participants.h"
#include "ring.h"
#include "seqlock.h"

namespace commy {
namespace {

Napi::Value Throw(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}
Napi::Value Throw(Napi::Env env, const Status& st) { return Throw(env, st.code, st.message); }

bool IsUint(const Napi::Value& v, double max) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  return d >= 0 && d <= max && std::floor(d) == d;
}

int64_t TimeoutNs(const Napi::Value& v) {
  if (!v.IsNumber()) return -1;
  double ms = v.As<Napi::Number>().DoubleValue();
  if (!(ms >= 0) || std::isinf(ms)) return -1;
  return static_cast<int64_t>(ms * 1e6);
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

struct NapiWaitJob : WaitJob {
  std::shared_ptr<FileState> state;
  Napi::Promise::Deferred deferred;
  AddonData* addon;
  NapiWaitJob(Napi::Env env, std::shared_ptr<FileState> s, AddonData* a)
      : state(std::move(s)), deferred(Napi::Promise::Deferred::New(env)), addon(a) {}
};

}  // namespace

// A wait served by the io_uring backend (futex-ring.h). Lives on the JS
// thread only: created by wait(), finished by the ring's poll callback.
struct RingWaitJob {
  std::shared_ptr<FileState> state;
  Napi::Promise::Deferred deferred;
  const uint8_t* word = nullptr;
  uint8_t* waiters = nullptr;  // null on a read-only mapping
  uint32_t expected = 0;
  int64_t deadline_ns = -1;
  RingWaitJob(Napi::Env env, std::shared_ptr<FileState> s) : state(std::move(s)), deferred(Napi::Promise::Deferred::New(env)) {}
};

namespace {

// Relative timeout of the next FUTEX_WAIT: none, the time left, and on a
// read-only mapping (which cannot announce itself in the waiter count, so
// writers do not FUTEX_WAKE it) 1 ms polling slices.
int64_t RingSlice(const RingWaitJob* j) {
  int64_t slice = j->waiters ? -1 : 1000000;
  if (j->deadline_ns >= 0) {
    int64_t left = j->deadline_ns - MonotonicNs();
    if (left < 0) left = 0;
    if (slice < 0 || left < slice) slice = left;
  }
  return slice;
}

void FinishRingJob(Napi::Env env, AddonData* a, RingWaitJob* j, int result) {
  a->ring_jobs.erase(j);
  if (j->waiters) AtomicAdd32(j->waiters, static_cast<uint32_t>(-1));
  j->state->active_jobs--;
  if (j->state->closed) result = WaitJob::kCancelled;
  j->deferred.Resolve(Napi::Number::New(env, result));
  SharedFileHandle::ReleaseFileState(j->state);
  delete j;
  if (a->ring_jobs.empty() && a->ring_poll) uv_unref(reinterpret_cast<uv_handle_t*>(a->ring_poll));
}

// The ring fd is readable: some waits completed. Runs on the JS thread from
// the event loop; the callback scope runs the promise reactions afterwards.
void OnRingReadable(uv_poll_t* h, int status, int events) {
  auto* a = static_cast<AddonData*>(h->data);
  Napi::Env env(a->env);
  Napi::HandleScope scope(env);
  Napi::CallbackScope cb(env, *a->async_ctx);
  bool resubmit = false;
  a->ring.Drain([&](uint64_t ud, int res) {
    if (ud == FutexRing::kIgnore) return;
    auto* j = reinterpret_cast<RingWaitJob*>(ud);
    if (a->ring_jobs.count(j) == 0) return;
    int result;
    if (j->state->closed) {
      result = WaitJob::kCancelled;
    } else if (AtomicLoad32(j->word) != j->expected) {
      result = WaitJob::kChanged;
    } else if (j->deadline_ns >= 0 && MonotonicNs() >= j->deadline_ns) {
      result = WaitJob::kTimeout;
    } else if (a->ring.QueueWait(j->word, j->expected, RingSlice(j), ud)) {
      resubmit = true;  // woken for nothing, or a read-only slice ended
      return;
    } else {
      result = WaitJob::kChanged;  // cannot re-arm: let the caller re-check
    }
    FinishRingJob(env, a, j, result);
  });
  if (resubmit) a->ring.Submit();
}

bool EnsureRing(Napi::Env env, AddonData* a) {
  if (a->ring_tried) return a->ring.ok();
  a->ring_tried = true;
  const char* why = "";
  uv_loop_t* loop = nullptr;
  if (!a->ring.Init(&why) || napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) {
    a->ring.Close();
    a->wait_backend = "threads";
    a->ring_unavailable = why;
    return false;
  }
  auto* poll = new uv_poll_t;
  if (uv_poll_init(loop, poll, a->ring.fd()) != 0) {
    delete poll;
    a->ring.Close();
    a->wait_backend = "threads";
    a->ring_unavailable = "uv_poll_init failed on the io_uring fd";
    return false;
  }
  poll->data = a;
  uv_poll_start(poll, UV_READABLE, OnRingReadable);
  uv_unref(reinterpret_cast<uv_handle_t*>(poll));  // ref'd only while waits are pending
  a->ring_poll = poll;
  a->env = env;
  a->async_ctx = new Napi::AsyncContext(env, "commy-wait");
  a->wait_backend = "io_uring";
  return true;
}

}  // namespace

// Env teardown: abandon pending io_uring waits (no JS can run any more),
// give back their waiter counts, stop polling and close the ring.
void ShutdownRingWaits(AddonData* a) {
  for (RingWaitJob* j : a->ring_jobs) {
    // Still mapped: a pending wait keeps the mapping (active_jobs > 0).
    if (j->waiters && j->state->file && j->state->file->base()) AtomicAdd32(j->waiters, static_cast<uint32_t>(-1));
    j->state->active_jobs--;
    delete j;
  }
  a->ring_jobs.clear();
  if (a->ring_poll) {
    uv_poll_stop(a->ring_poll);
    uv_close(reinterpret_cast<uv_handle_t*>(a->ring_poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    a->ring_poll = nullptr;
  }
  a->ring.Close();
}

const char* WaitBackend(Napi::Env env, AddonData* a) {
  EnsureRing(env, a);
  return a->wait_backend;
}

Napi::Function SharedFileHandle::Init(Napi::Env env) {
  return DefineClass(
      env, "SharedFileHandle",
      {
          StaticMethod<&SharedFileHandle::Create>("create"),
          StaticMethod<&SharedFileHandle::Open>("open"),
          StaticMethod<&SharedFileHandle::OpenFd>("openFd"),
          InstanceAccessor<&SharedFileHandle::GetBuffer>("buffer"),
          InstanceAccessor<&SharedFileHandle::GetFd>("fd"),
          InstanceAccessor<&SharedFileHandle::GetReadOnly>("readOnly"),
          InstanceAccessor<&SharedFileHandle::GetLockWord>("lockWord"),
          InstanceMethod<&SharedFileHandle::Layout>("layout"),
          InstanceMethod<&SharedFileHandle::Close>("close"),
          InstanceMethod<&SharedFileHandle::AcquireSlotLock>("acquireSlotLock"),
          InstanceMethod<&SharedFileHandle::AcquireStreamLock>("acquireStreamLock"),
          InstanceMethod<&SharedFileHandle::Wake>("wake"),
          InstanceMethod<&SharedFileHandle::Wait>("wait"),
          InstanceMethod<&SharedFileHandle::MinCursor>("minCursor"),
          InstanceMethod<&SharedFileHandle::RegisterConsumer>("registerConsumer"),
          InstanceMethod<&SharedFileHandle::UnregisterConsumer>("unregisterConsumer"),
          InstanceMethod<&SharedFileHandle::AppendPacked>("appendPacked"),
          InstanceMethod<&SharedFileHandle::ReadBatch>("readBatch"),
          InstanceMethod<&SharedFileHandle::WriteVar>("writeVar"),
          InstanceMethod<&SharedFileHandle::ReadVar>("readVar"),
          InstanceMethod<&SharedFileHandle::OwnerAlive>("ownerAlive"),
      });
}

// Constructed only through Wrap(), which passes the state as an External.
SharedFileHandle::SharedFileHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SharedFileHandle>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsExternal()) {
    Throw(env, code::kInvalidArgument, "use SharedFileHandle.create/open/openFd");
    return;
  }
  auto* file = info[0].As<Napi::External<MappedFile>>().Data();
  state_ = std::make_shared<FileState>();
  state_->file.reset(file);
  addon_ = env.GetInstanceData<AddonData>();
  addon_->handles.insert(this);

  // Writable handles register in the participant table: their lock word names
  // them to other processes (see participants.h).
  if (!file->read_only()) {
    state_->lock_word = Participants::Register(file->base());
    if (state_->lock_word == 0) {
      Throw(env, code::kTableFull, "participant table full (128 writable handles on this file)");
      return;
    }
  }

  // Expose the whole mapping as an external ArrayBuffer. Its finalizer holds
  // a reference to the state, so the memory stays mapped as long as any view
  // can reach it; close() detaches it first, which makes every view empty,
  // before unmapping.
  auto* hint = new std::shared_ptr<FileState>(state_);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, file->base(), file->size(),
      [](Napi::Env, void*, std::shared_ptr<FileState>* h) {
        ReleaseFileState(*h);
        delete h;
      },
      hint);
  buffer_ = Napi::Persistent(ab);
  state_->external_bytes = static_cast<int64_t>(file->size());
  Napi::MemoryManagement::AdjustExternalMemory(env, state_->external_bytes);
}

SharedFileHandle::~SharedFileHandle() {
  if (addon_) addon_->handles.erase(this);
  if (state_ && !state_->closed && state_->file) {
    if (state_->lock_word && state_->file->base()) Participants::Unregister(state_->file->base(), state_->lock_word);
    state_->closed = true;
    state_->cancel = true;
  }
}

// Last reference gone (finalizer or wait completion): unmap if nobody uses it.
void SharedFileHandle::ReleaseFileState(const std::shared_ptr<FileState>& state) {
  if (state->closed && state->active_jobs == 0 && state->file) {
    state->file->Unmap();
    state->file->CloseFd();
  }
}

Napi::Value SharedFileHandle::Wrap(Napi::Env env, std::unique_ptr<MappedFile> file) {
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Value ext = Napi::External<MappedFile>::New(env, file.release());
  Napi::Object obj = data->constructor.New({ext});
  if (env.IsExceptionPending()) return env.Undefined();
  return obj;
}

Napi::Value SharedFileHandle::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsString() || !info[1].IsObject() || !IsUint(info[2], 0777) ||
      !info[3].IsBoolean())
    return Throw(env, code::kInvalidArgument, "create(path, spec, mode, overwrite)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Object o = info[1].As<Napi::Object>();
  CreateSpec spec;
  Napi::Value kind = o.Get("kind");
  if (!IsUint(kind, 2)) return Throw(env, code::kInvalidArgument, "spec.kind must be 1 or 2");
  spec.kind = kind.As<Napi::Number>().Uint32Value();
  if (spec.kind == kKindVariables) {
    Napi::Value slots = o.Get("slots");
    if (!slots.IsArray()) return Throw(env, code::kInvalidArgument, "spec.slots must be an array");
    Napi::Array arr = slots.As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) {
      Napi::Value e = arr.Get(i);
      if (!e.IsObject()) return Throw(env, code::kInvalidArgument, "slot must be {name, maxSize}");
      Napi::Value name = e.As<Napi::Object>().Get("name");
      Napi::Value max = e.As<Napi::Object>().Get("maxSize");
      if (!name.IsString() || !IsUint(max, var::kMaxValueSize))
        return Throw(env, code::kInvalidArgument, "slot must be {name: string, maxSize: number}");
      spec.slots.emplace_back(name.As<Napi::String>().Utf8Value(), max.As<Napi::Number>().Uint32Value());
    }
  } else {
    Napi::Value cap = o.Get("capacity"), mm = o.Get("messageMaxSize"), mc = o.Get("maxConsumers");
    if (!IsUint(cap, strm::kMaxCapacity) || !IsUint(mm, strm::kMaxMessageSize) || !IsUint(mc, strm::kMaxConsumers))
      return Throw(env, code::kInvalidArgument, "spec needs capacity, messageMaxSize, maxConsumers");
    spec.capacity = cap.As<Napi::Number>().Uint32Value();
    spec.msg_max = mm.As<Napi::Number>().Uint32Value();
    spec.max_consumers = mc.As<Napi::Number>().Uint32Value();
    spec.refuse = o.Get("refuse").ToBoolean().Value();
  }
  spec.creator_pid = static_cast<uint32_t>(getpid());
  spec.created_ns = NowNs();
  std::unique_ptr<MappedFile> file;
  Status st = MappedFile::Create(path, std::move(spec), info[2].As<Napi::Number>().Uint32Value(),
                                 info[3].As<Napi::Boolean>().Value(), &file);
  if (!st.ok()) return Throw(env, st);
  return Wrap(env, std::move(file));
}

Napi::Value SharedFileHandle::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsBoolean())
    return Throw(env, code::kInvalidArgument, "open(path, readOnly)");
  std::unique_ptr<MappedFile> file;
  Status st = MappedFile::Open(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Boolean>().Value(), &file);
  if (!st.ok()) return Throw(env, st);
  return Wrap(env, std::move(file));
}

Napi::Value SharedFileHandle::OpenFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !IsUint(info[0], 1 << 30) || !info[1].IsBoolean())
    return Throw(env, code::kInvalidArgument, "openFd(fd, readOnly)");
  std::unique_ptr<MappedFile> file;
  Status st =
      MappedFile::OpenFd(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Boolean>().Value(), &file);
  if (!st.ok()) return Throw(env, st);
  return Wrap(env, std::move(file));
}

// ---- guards ------------------------------------------------------------------

bool SharedFileHandle::CheckOpen(Napi::Env env) {
  if (!state_ || state_->closed || !state_->file || !state_->file->base()) {
    Throw(env, code::kClosed, "shared file is closed");
    return false;
  }
  return true;
}

bool SharedFileHandle::CheckWritable(Napi::Env env) {
  if (!CheckOpen(env)) return false;
  if (state_->file->read_only()) {
    Throw(env, code::kReadOnly, "shared file was opened read-only");
    return false;
  }
  return true;
}

bool SharedFileHandle::CheckKind(Napi::Env env, uint32_t kind) {
  if (state_->file->layout().kind != kind) {
    Throw(env, code::kInvalidArgument, kind == kKindStream ? "not a stream file" : "not a variables file");
    return false;
  }
  return true;
}

// A 4-byte-aligned offset of a u32 word inside the mapping.
bool SharedFileHandle::CheckWord(Napi::Env env, const Napi::Value& v, uint64_t* offset) {
  if (!IsUint(v, 9007199254740991.0)) {
    Throw(env, code::kInvalidArgument, "offset must be a non-negative integer");
    return false;
  }
  uint64_t o = static_cast<uint64_t>(v.As<Napi::Number>().DoubleValue());
  if (o % 4 != 0 || o + 4 > state_->file->size()) {
    Throw(env, code::kInvalidArgument, "offset out of range");
    return false;
  }
  *offset = o;
  return true;
}

// ---- accessors -----------------------------------------------------------------

Napi::Value SharedFileHandle::GetBuffer(const Napi::CallbackInfo& info) {
  if (!CheckOpen(info.Env())) return info.Env().Undefined();
  return buffer_.Value();
}
Napi::Value SharedFileHandle::GetFd(const Napi::CallbackInfo& info) {
  if (!CheckOpen(info.Env())) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), state_->file->fd());
}
Napi::Value SharedFileHandle::GetReadOnly(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), state_ && state_->file && state_->file->read_only());
}
Napi::Value SharedFileHandle::GetLockWord(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), state_ ? state_->lock_word : 0);
}

Napi::Value SharedFileHandle::Layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  const commy::Layout& l = state_->file->layout();
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", l.kind);
  o.Set("flags", l.flags);
  o.Set("totalSize", static_cast<double>(l.total_size));
  // The generation is a random u64: expose it as a hex string to keep all bits.
  char gen[17];
  std::snprintf(gen, sizeof gen, "%016llx", static_cast<unsigned long long>(l.generation));
  o.Set("generation", gen);
  o.Set("creatorPid", l.creator_pid);
  o.Set("createdNs", static_cast<double>(l.created_ns));
  o.Set("regionOffset", static_cast<double>(l.region_offset));
  if (l.kind == kKindVariables) {
    Napi::Array slots = Napi::Array::New(env, l.slots.size());
    for (size_t i = 0; i < l.slots.size(); i++) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("name", l.slots[i].name);
      s.Set("maxSize", l.slots[i].max_size);
      s.Set("offset", static_cast<double>(l.slots[i].offset));
      s.Set("stride", l.slots[i].stride);
      s.Set("bufferOffset", l.slots[i].buf);
      s.Set("bufferStep", l.slots[i].step);
      slots.Set(static_cast<uint32_t>(i), s);
    }
    o.Set("slots", slots);
  } else {
    o.Set("capacity", l.capacity);
    o.Set("messageMaxSize", l.msg_max);
    o.Set("slotStride", l.slot_stride);
    o.Set("maxConsumers", l.max_consumers);
    o.Set("ringOffset", static_cast<double>(l.ring_offset));
  }
  return o;
}

// ---- close / teardown ------------------------------------------------------------

void SharedFileHandle::DoClose(Napi::Env env) {
  if (!state_ || state_->closed) return;
  MappedFile* f = state_->file.get();
  if (state_->lock_word && f && f->base()) Participants::Unregister(f->base(), state_->lock_word);
  state_->closed = true;
  state_->cancel = true;
  addon_->pool.WakeAll();
  if (addon_->ring.ok()) {
    bool any = false;
    for (RingWaitJob* j : addon_->ring_jobs)
      if (j->state == state_) any = addon_->ring.QueueCancel(reinterpret_cast<uint64_t>(j)) || any;
    if (any) addon_->ring.Submit();
  }
  // Detach: every TypedArray over the mapping becomes zero-length, so no JS
  // code can touch the memory after we unmap it.
  if (!buffer_.IsEmpty()) {
    Napi::ArrayBuffer ab = buffer_.Value();
    if (!ab.IsDetached()) ab.Detach();
    buffer_.Reset();
  }
  if (state_->external_bytes) {
    Napi::MemoryManagement::AdjustExternalMemory(env, -state_->external_bytes);
    state_->external_bytes = 0;
  }
  ReleaseFileState(state_);
}

// Env teardown: no JS may run and no handles may be created any more, so only
// release what we own; the ArrayBuffer's finalizer runs with the env's other
// finalizers and drops the last reference.
void SharedFileHandle::CloseForTeardown() {
  if (!state_ || state_->closed) return;
  MappedFile* f = state_->file.get();
  if (state_->lock_word && f && f->base()) Participants::Unregister(f->base(), state_->lock_word);
  state_->closed = true;
  state_->cancel = true;
}

Napi::Value SharedFileHandle::Close(const Napi::CallbackInfo& info) {
  DoClose(info.Env());  // idempotent
  return info.Env().Undefined();
}

// ---- locks -------------------------------------------------------------------------

// acquireSlotLock(slotIndex, timeoutMs) -> recovered: the slow path after the
// TS fast-path CAS failed.
Napi::Value SharedFileHandle::AcquireSlotLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env) || !CheckKind(env, kKindVariables)) return env.Undefined();
  const auto& slots = state_->file->layout().slots;
  if (info.Length() < 1 || !IsUint(info[0], static_cast<double>(slots.size()) - 1))
    return Throw(env, code::kInvalidArgument, "slot index out of range");
  const VarSlotInfo& s = slots[info[0].As<Napi::Number>().Uint32Value()];
  uint8_t* base = state_->file->base();
  bool recovered = false;
  Status st = RobustLock::Acquire(base, base + s.offset + var::kLock, state_->lock_word,
                                  base + s.offset + var::kRecoveries, TimeoutNs(info[1]), &recovered);
  if (!st.ok()) return Throw(env, st);
  return Napi::Boolean::New(env, recovered);
}

// acquireStreamLock(timeoutMs) -> recovered (the ring was repaired if so).
Napi::Value SharedFileHandle::AcquireStreamLock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env) || !CheckKind(env, kKindStream)) return env.Undefined();
  bool recovered = false;
  Status st = Ring::Lock(state_->file->base(), state_->file->layout(), state_->lock_word, TimeoutNs(info[0]),
                         &recovered);
  if (!st.ok()) return Throw(env, st);
  return Napi::Boolean::New(env, recovered);
}

Napi::Value SharedFileHandle::OwnerAlive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env)) return env.Undefined();
  if (info.Length() < 1 || !info[0].IsNumber()) return Throw(env, code::kInvalidArgument, "ownerAlive(lockWord)");
  return Napi::Boolean::New(env, Participants::OwnerAlive(state_->file->base(), info[0].As<Napi::Number>().Int32Value()));
}

// ---- futex ---------------------------------------------------------------------------

Napi::Value SharedFileHandle::Wake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t off;
  if (!CheckOpen(env) || info.Length() < 1 || !CheckWord(env, info[0], &off)) return env.Undefined();
  Futex::WakeAll(state_->file->base() + off);
  return env.Undefined();
}

// wait(wordOffset, expected, waitersOffset | -1, timeoutMs | -1, spinMicros)
//   -> Promise<0 changed | 1 timeout | 2 closed>
Napi::Value SharedFileHandle::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint64_t word_off, waiters_off = 0;
  if (!CheckOpen(env)) return env.Undefined();
  if (info.Length() < 5 || !CheckWord(env, info[0], &word_off) || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[4].IsNumber())
    return env.IsExceptionPending() ? env.Undefined()
                                    : Throw(env, code::kInvalidArgument, "wait(offset, expected, waiters, timeout, spin)");
  bool has_waiters = info[2].As<Napi::Number>().DoubleValue() >= 0 && !state_->file->read_only();
  if (has_waiters && !CheckWord(env, info[2], &waiters_off)) return env.Undefined();
  if (addon_->pool.stopping()) return Throw(env, code::kClosed, "environment is shutting down");

  if (EnsureRing(env, addon_)) {
    uint8_t* base = state_->file->base();
    auto* j = new RingWaitJob(env, state_);
    Napi::Promise promise = j->deferred.Promise();
    j->word = base + word_off;
    j->waiters = has_waiters ? base + waiters_off : nullptr;
    j->expected = info[1].As<Napi::Number>().Uint32Value();
    int64_t timeout = TimeoutNs(info[3]);
    j->deadline_ns = timeout >= 0 ? MonotonicNs() + timeout : -1;
    // Announce ourselves, then re-check (Dekker pairing with the writer's
    // store-then-load-waiters; see waiter-pool.h).
    if (j->waiters) AtomicAdd32(j->waiters, 1);
    bool changed = AtomicLoad32(j->word) != j->expected;
    bool queued = !changed && addon_->ring.QueueWait(j->word, j->expected, RingSlice(j), reinterpret_cast<uint64_t>(j)) &&
                  addon_->ring.Submit();
    if (!queued) {
      if (j->waiters) AtomicAdd32(j->waiters, static_cast<uint32_t>(-1));
      delete j;
      if (!changed) return Throw(env, code::kIo, "io_uring: could not submit the futex wait");
      Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
      d.Resolve(Napi::Number::New(env, WaitJob::kChanged));
      return d.Promise();
    }
    if (addon_->ring_jobs.empty()) uv_ref(reinterpret_cast<uv_handle_t*>(addon_->ring_poll));
    addon_->ring_jobs.insert(j);
    state_->active_jobs++;
    return promise;
  }

  auto* job = new NapiWaitJob(env, state_, addon_);
  uint8_t* base = state_->file->base();
  job->word = base + word_off;
  job->waiters = has_waiters ? base + waiters_off : nullptr;
  job->expected = info[1].As<Napi::Number>().Uint32Value();
  int64_t timeout = TimeoutNs(info[3]);
  job->deadline_ns = timeout >= 0 ? MonotonicNs() + timeout : -1;
  double spin_us = info[4].As<Napi::Number>().DoubleValue();
  job->spin_ns = spin_us > 0 ? static_cast<int64_t>(std::fmin(spin_us, 1e6) * 1000) : 0;
  job->cancel = &state_->cancel;
  Napi::Promise promise = job->deferred.Promise();

  AddonData* addon = addon_;
  if (!addon->tsfn_created) {
    addon->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                                "commy-wait", 0, 1);
    addon->tsfn.Unref(env);
    addon->tsfn_created = true;
  }
  if (addon->pending_waits++ == 0) addon->tsfn.Ref(env);
  state_->active_jobs++;
  job->done = [addon](WaitJob* j) {
    addon->tsfn.NonBlockingCall(static_cast<NapiWaitJob*>(j), [](Napi::Env env, Napi::Function, NapiWaitJob* job) {
      AddonData* a = job->addon;
      job->state->active_jobs--;
      // A wait that ends after close() reports "closed" even if the word changed.
      int result = job->state->closed ? WaitJob::kCancelled : job->result;
      job->deferred.Resolve(Napi::Number::New(env, result));
      SharedFileHandle::ReleaseFileState(job->state);
      delete job;
      if (--a->pending_waits == 0 && a->tsfn_created) a->tsfn.Unref(env);
    });
  };
  addon->pool.Submit(job);
  return promise;
}

// ---- stream helpers -------------------------------------------------------------------

Napi::Value SharedFileHandle::MinCursor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env) || !CheckKind(env, kKindStream)) return env.Undefined();
  bool reclaim = info.Length() > 0 && info[0].ToBoolean().Value() && !state_->file->read_only();
  const auto& l = state_->file->layout();
  uint8_t* base = state_->file->base();
  return Napi::Number::New(env, static_cast<double>(Ring::MinCursor(base, l, Ring::LoadHead(base, l), reclaim)));
}

Napi::Value SharedFileHandle::RegisterConsumer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env) || !CheckKind(env, kKindStream)) return env.Undefined();
  if (info.Length() < 1 || !IsUint(info[0], 9007199254740991.0))
    return Throw(env, code::kInvalidArgument, "registerConsumer(startSeq)");
  int32_t idx = Ring::RegisterConsumer(state_->file->base(), state_->file->layout(), state_->lock_word,
                                       static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
  if (idx < 0) return Throw(env, code::kTableFull, "consumer table full (maxConsumers registered readers)");
  return Napi::Number::New(env, idx);
}

Napi::Value SharedFileHandle::UnregisterConsumer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!state_ || state_->closed) return env.Undefined();  // closing released everything anyway
  if (!CheckWritable(env) || !CheckKind(env, kKindStream)) return env.Undefined();
  if (info.Length() < 1 || !IsUint(info[0], strm::kMaxConsumers))
    return Throw(env, code::kInvalidArgument, "unregisterConsumer(index)");
  Ring::UnregisterConsumer(state_->file->base(), state_->file->layout(), info[0].As<Napi::Number>().Uint32Value(),
                           state_->lock_word);
  return env.Undefined();
}

// appendPacked(data: Uint8Array, lengths: Uint32Array, count, timeoutMs, partial) -> first seq, or (partial) count appended
Napi::Value SharedFileHandle::AppendPacked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env) || !CheckKind(env, kKindStream)) return env.Undefined();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsNumber())
    return Throw(env, code::kInvalidArgument, "appendPacked(data, lengths, count, timeoutMs)");
  auto data = info[0].As<Napi::TypedArray>();
  auto lens = info[1].As<Napi::TypedArray>();
  if (data.TypedArrayType() != napi_uint8_array || lens.TypedArrayType() != napi_uint32_array)
    return Throw(env, code::kInvalidArgument, "data must be a Uint8Array and lengths a Uint32Array");
  auto d = data.As<Napi::Uint8Array>();
  auto ls = lens.As<Napi::Uint32Array>();
  if (!IsUint(info[2], static_cast<double>(ls.ElementLength())))
    return Throw(env, code::kInvalidArgument, "count exceeds lengths");
  uint32_t n = info[2].As<Napi::Number>().Uint32Value();
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) total += ls[i];
  if (total > d.ByteLength()) return Throw(env, code::kInvalidArgument, "lengths exceed data");
  const auto& l = state_->file->layout();
  uint8_t* base = state_->file->base();
  bool recovered;
  int32_t me = state_->lock_word;
  uint8_t* lock = Ring::Control(base, l) + strm::kLock;
  // Same fast path as the TS producer, then the robust slow path.
  if (!AtomicCas32(lock, 0, static_cast<uint32_t>(me))) {
    Status st = Ring::Lock(base, l, me, TimeoutNs(info[3]), &recovered);
    if (!st.ok()) return Throw(env, st);
  }
  // partial (tryAppendPacked): append what fits, return how many.
  bool partial = info.Length() > 4 && info[4].ToBoolean().Value();
  uint64_t first = 0;
  uint32_t appended = 0;
  Status st = Ring::AppendLocked(base, l, d.Data(), ls.Data(), n, partial, &first, &appended);
  Ring::Unlock(base, l);
  if (!st.ok()) return Throw(env, st);
  return Napi::Number::New(env, partial ? static_cast<double>(appended) : static_cast<double>(first));
}

// readBatch(state: Float64Array [pos, lost], out: Uint8Array, lengths: Uint32Array, max) -> count
// Messages are packed back to back into out; stops early when out is full.
Napi::Value SharedFileHandle::ReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env) || !CheckKind(env, kKindStream)) return env.Undefined();
  if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
      !info[3].IsNumber())
    return Throw(env, code::kInvalidArgument, "readBatch(state, out, lengths, max)");
  auto st = info[0].As<Napi::TypedArray>();
  auto out = info[1].As<Napi::TypedArray>();
  auto lens = info[2].As<Napi::TypedArray>();
  if (st.TypedArrayType() != napi_float64_array || st.ElementLength() < 2 ||
      out.TypedArrayType() != napi_uint8_array || lens.TypedArrayType() != napi_uint32_array)
    return Throw(env, code::kInvalidArgument, "readBatch: wrong array types");
  auto s = st.As<Napi::Float64Array>();
  auto o = out.As<Napi::Uint8Array>();
  auto ls = lens.As<Napi::Uint32Array>();
  double maxd = info[3].As<Napi::Number>().DoubleValue();
  size_t max = maxd > 0 ? static_cast<size_t>(std::fmin(maxd, static_cast<double>(ls.ElementLength()))) : 0;
  if (!(s[0] >= 0 && s[0] <= 9007199254740991.0) || !(s[1] >= 0))
    return Throw(env, code::kInvalidArgument, "readBatch: bad cursor state");
  uint64_t pos = static_cast<uint64_t>(s[0]);
  uint64_t lost = static_cast<uint64_t>(s[1]);
  const auto& l = state_->file->layout();
  size_t off = 0, count = 0;
  while (count < max) {
    uint32_t len = 0;
    size_t room = o.ByteLength() - off;
    auto r = Ring::ReadOne(state_->file->base(), l, &pos, &lost, o.Data() + off,
                           static_cast<uint32_t>(std::min<size_t>(room, UINT32_MAX)), &len);
    if (r == Ring::kMessage) {
      ls[count++] = len;
      off += len;
      continue;
    }
    if (r == Ring::kCorrupt) {
      s[0] = static_cast<double>(pos);
      s[1] = static_cast<double>(lost);
      return Throw(env, code::kCorrupt, "stream slot is corrupt");
    }
    if (r == Ring::kTooSmall && count == 0)
      return Throw(env, code::kInvalidArgument, "output buffer smaller than the next message");
    break;  // empty, or out is full
  }
  s[0] = static_cast<double>(pos);
  s[1] = static_cast<double>(lost);
  return Napi::Number::New(env, static_cast<double>(count));
}

// ---- variable helpers (native path for non-x86 hosts and tests) -------------------------

Napi::Value SharedFileHandle::WriteVar(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckWritable(env) || !CheckKind(env, kKindVariables)) return env.Undefined();
  const auto& slots = state_->file->layout().slots;
  if (info.Length() < 2 || !IsUint(info[0], static_cast<double>(slots.size()) - 1) || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    return Throw(env, code::kInvalidArgument, "writeVar(slotIndex, data: Uint8Array, timeoutMs)");
  auto d = info[1].As<Napi::Uint8Array>();
  uint32_t version = 0;
  if (d.ByteLength() > UINT32_MAX) return Throw(env, code::kTooLarge, "value too large");
  Status st = Seqlock::Write(state_->file->base(), slots[info[0].As<Napi::Number>().Uint32Value()], d.Data(),
                             static_cast<uint32_t>(d.ByteLength()), state_->lock_word, TimeoutNs(info[2]), &version);
  if (!st.ok()) return Throw(env, st);
  return Napi::Number::New(env, version);
}

// readVar(slotIndex, out: Uint8Array, meta: Uint32Array [len, version]) -> len
Napi::Value SharedFileHandle::ReadVar(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!CheckOpen(env) || !CheckKind(env, kKindVariables)) return env.Undefined();
  const auto& slots = state_->file->layout().slots;
  if (info.Length() < 3 || !IsUint(info[0], static_cast<double>(slots.size()) - 1) || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
      info[2].As<Napi::TypedArray>().ElementLength() < 2)
    return Throw(env, code::kInvalidArgument, "readVar(slotIndex, out: Uint8Array, meta: Uint32Array(2))");
  auto out = info[1].As<Napi::Uint8Array>();
  auto meta = info[2].As<Napi::Uint32Array>();
  uint32_t len = 0, version = 0;
  auto r = Seqlock::Read(state_->file->base(), slots[info[0].As<Napi::Number>().Uint32Value()], out.Data(),
                         static_cast<uint32_t>(std::min<size_t>(out.ByteLength(), UINT32_MAX)), &len, &version);
  if (r == Seqlock::kCorrupt) return Throw(env, code::kCorrupt, "variable slot length exceeds its maxSize");
  if (r == Seqlock::kTooSmall) return Throw(env, code::kInvalidArgument, "output buffer smaller than the value");
  meta[0] = len;
  meta[1] = version;
  return Napi::Number::New(env, len);
}

}  // namespace commy
