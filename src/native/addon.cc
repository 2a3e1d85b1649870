// Module initialisation: one call per mechanism file. Per-environment state (waiters, watchers) is
// created by each Init and torn down by the cleanup hooks they register, so the addon also works in
// worker threads and never calls into an environment that is gone.
#include "addon.h"

namespace ipckit {

uv_loop_t* Loop(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

EnvData& Data(Napi::Env env) { return *env.GetInstanceData<EnvData>(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<EnvData>(new EnvData());
  InitWaiter(env, exports);
  InitFdWatch(env, exports);
  InitPipe(env, exports);
  InitSignal(env, exports);
  InitMessageQueue(env, exports);
  InitSharedMemory(env, exports);
  InitSemaphore(env, exports);
  InitSocket(env, exports);
  return exports;
}

}  // namespace ipckit

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return ipckit::Init(env, exports); }

NODE_API_MODULE(ipckit, InitAll)
