// addon-data.h — per-environment state (one per Node env: main thread or a
// worker_thread): the handle constructor, the waiter pool and the
// thread-safe function that completes waits, and the set of live handles so
// the env cleanup hook can close them before the env goes away.
#pragma once

#include <napi.h>

#include <uv.h>

#include <memory>
#include <unordered_set>

#include "futex-ring.h"
#include "waiter-pool.h"

namespace commy {

class SharedFileHandle;
struct RingWaitJob;

class AddonData {
 public:
  Napi::FunctionReference constructor;
  WaiterPool pool;
  Napi::ThreadSafeFunction tsfn;
  bool tsfn_created = false;
  int pending_waits = 0;  // main thread only; the TSFN is ref'd while > 0
  std::unordered_set<SharedFileHandle*> handles;

  // io_uring wait backend (futex-ring.h), polled by this env's event loop.
  // Tried once, on the first wait; `wait_backend` says which one is in use.
  napi_env env = nullptr;
  bool ring_tried = false;
  FutexRing ring;
  uv_poll_t* ring_poll = nullptr;        // freed by its uv_close callback
  Napi::AsyncContext* async_ctx = nullptr;
  std::unordered_set<RingWaitJob*> ring_jobs;
  const char* wait_backend = "undecided";
  const char* ring_unavailable = "";
};

}  // namespace commy
