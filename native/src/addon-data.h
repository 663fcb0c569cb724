// addon-data.h — per-environment state (one per Node env: main thread or a
// worker_thread): the handle constructor, the waiter pool and the
// thread-safe function that completes waits, and the set of live handles so
// the env cleanup hook can close them before the env goes away.
#pragma once

#include <napi.h>

#include <unordered_set>

#include "waiter-pool.h"

namespace commy {

class SharedFileHandle;

class AddonData {
 public:
  Napi::FunctionReference constructor;
  WaiterPool pool;
  Napi::ThreadSafeFunction tsfn;
  bool tsfn_created = false;
  int pending_waits = 0;  // main thread only; the TSFN is ref'd while > 0
  std::unordered_set<SharedFileHandle*> handles;
};

}  // namespace commy
