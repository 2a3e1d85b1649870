// Module initialisation: one call per mechanism file. Per-environment state (waiters, watchers) is
// created by each Init and torn down by the cleanup hooks they register, so the addon also works in
// worker threads and never calls into an environment that is gone.
#include "addon.h"

#include <dlfcn.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <string>

namespace ipckit {

uv_loop_t* Loop(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  return loop;
}

EnvData& Data(Napi::Env env) { return *env.GetInstanceData<EnvData>(); }

// errnoDescribe(errno) -> [name | undefined, description]: glibc's own names and texts, for the errnos
// Node's system error map (libuv's list) lacks: EIDRM, ENOMSG, EOWNERDEAD, ENOTRECOVERABLE, EUCLEAN...
static Napi::Value ErrnoDescribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int e = info[0].As<Napi::Number>().Int32Value();
  Napi::Array out = Napi::Array::New(env, 2);
  const char* name = strerrorname_np(e);
  out.Set(0u, name ? Napi::Value(Napi::String::New(env, name)) : env.Undefined());
  char buf[256];
  std::string text = strerror_r(e, buf, sizeof buf);  // the GNU strerror_r returns the text
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  out.Set(1u, Napi::String::New(env, text));
  return out;
}

// Node dlclose(3)s an addon when the last environment that loaded it ends (a worker that was the only
// user). This one must stay: process-wide threads run its code (waiter threads, the mutex lock thread,
// whose robust list head the kernel reads at exit), and the close callbacks of handles closed at
// teardown run after the environment's cleanup. RTLD_NODELETE on a reopen pins it for the process.
static void PinSelf() {
  static std::atomic<bool> pinned{false};
  if (pinned.load()) return;
  Dl_info self;
  if (dladdr(reinterpret_cast<void*>(&PinSelf), &self) == 0 || self.dli_fname == nullptr) return;
  if (dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) != nullptr) pinned.store(true);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  PinSelf();
  env.SetInstanceData<EnvData>(new EnvData());
  exports.Set("errnoDescribe", Napi::Function::New(env, ErrnoDescribe));
  InitWaiter(env, exports);
  InitFdWatch(env, exports);
  InitPipe(env, exports);
  InitSignal(env, exports);
  InitMessageQueue(env, exports);
  InitSharedMemory(env, exports);
  InitSemaphore(env, exports);
  InitMutex(env, exports);
  InitSocket(env, exports);
  InitMemfd(env, exports);
  InitProcess(env, exports);
  return exports;
}

}  // namespace ipckit

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return ipckit::Init(env, exports); }

NODE_API_MODULE(ipckit, InitAll)
