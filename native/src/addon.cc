// addon.cc — module entry: registers SharedFileHandle, the env cleanup hook
// and a few process-level helpers.
#include <napi.h>

#include "addon-data.h"
#include "participants.h"
#include "shared-file.h"

namespace commy {
namespace {

Napi::Value Tid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Participants::CurrentTid());
}

// waitBackend() -> { backend: "io_uring" | "threads", reason }
Napi::Value GetWaitBackend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Object o = Napi::Object::New(env);
  o.Set("backend", WaitBackend(env, data));
  o.Set("reason", data->ring_unavailable);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  Napi::Function ctor = SharedFileHandle::Init(env);
  data->constructor = Napi::Persistent(ctor);
  exports.Set("SharedFileHandle", ctor);
  exports.Set("tid", Napi::Function::New(env, Tid, "tid"));
  exports.Set("waitBackend", Napi::Function::New(env, GetWaitBackend, "waitBackend"));
  exports.Set("formatVersion", Napi::Number::New(env, kFormatVersion));
  // Cleanup runs before the env (and its instance data) is destroyed: close
  // every file (cancels waits, unmaps), stop and join the waiter threads, and
  // only then release the thread-safe function they would call.
  env.AddCleanupHook([data]() {
    std::vector<SharedFileHandle*> live(data->handles.begin(), data->handles.end());
    for (auto* h : live) h->CloseForTeardown();
    ShutdownRingWaits(data);
    data->pool.Stop();
    if (data->tsfn_created) {
      data->tsfn.Release();
      data->tsfn_created = false;
    }
  });
  return exports;
}

}  // namespace
}  // namespace commy

static Napi::Object InitCommy(Napi::Env env, Napi::Object exports) { return commy::Init(env, exports); }
NODE_API_MODULE(commy_native, InitCommy)
