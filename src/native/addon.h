// Shared declarations of the ipckit addon. Every mechanism file (pipe.cc, signal.cc, ...) exports one
// Init function that adds its syscall-shaped functions to the module object; addon.cc calls them all.
#pragma once

#include <napi.h>
#include <uv.h>

#include <time.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace ipckit {

// Retry a syscall expression while it fails with EINTR (the caller never sees EINTR).
#define IPCKIT_RETRY(expr)                      \
  ({                                            \
    decltype(expr) _rc;                         \
    do _rc = (expr);                            \
    while (_rc == -1 && errno == EINTR);        \
    _rc;                                        \
  })

// The result convention of every native function: >= 0 on success, -errno on failure.
inline Napi::Number Result(Napi::Env env, double rc) { return Napi::Number::New(env, rc); }
inline Napi::Number ErrnoResult(Napi::Env env) { return Napi::Number::New(env, -errno); }

// The libuv loop of the calling environment (main thread or worker).
uv_loop_t* Loop(Napi::Env env);

// Per-environment state of the mechanisms that need some (one slot each), owned by addon.cc.
struct EnvData {
  void* waiters = nullptr;
  void* signals = nullptr;
  void* fd_watchers = nullptr;  // fd_watch.cc
  void* spare[6] = {};  // spare[0]: the tracer hub (process.cc)
};
EnvData& Data(Napi::Env env);

// ---- Waiter threads (waiter.cc) -------------------------------------------------------------------
// A blocking call that exists only as a blocking call (msgrcv, semop, sem_wait, futex, ...) runs on a
// dedicated waiter thread, never on libuv's threadpool. The job's body runs on that thread and must:
//   - retry EINTR only while !job.Cancelled(), and return -ECANCELED once it is cancelled;
//   - return >= 0 on success or -errno; it may fill job.payload and job.aux for the JS callback.
// The JS callback is called on the loop thread as cb(rc, payload?: Uint8Array, aux?: number).
// Cancellation interrupts the thread with the reserved signal (SIGRTMAX, see waiter.cc).
struct WaitJob {
  std::function<int64_t(WaitJob&)> body;
  std::vector<uint8_t> payload;
  bool has_payload = false;
  double aux = 0;
  // Held only to keep memory alive while the thread touches it (e.g. a SharedArrayBuffer's store).
  std::shared_ptr<void> keep_alive;
  bool Cancelled() const;

  // Internal to waiter.cc.
  struct State;
  State* state = nullptr;
};

// Queues a job and returns its id (for waiterCancel, always > 0), or -errno (EAGAIN: no thread could
// be started) after releasing the job. A wait starter returns this value to JavaScript as it is.
int64_t SubmitWait(Napi::Env env, std::unique_ptr<WaitJob> job, Napi::Function callback);

// Deadlines of waits that hand their timeout to the kernel. A starter takes `timeoutMs` (< 0: none) and
// turns it into an absolute CLOCK_MONOTONIC deadline once, when the wait starts, so that retrying after
// EINTR never stretches the wait; the body then returns -ETIMEDOUT when the kernel reports it.
struct Deadline {
  bool timed = false;
  struct timespec at {};  // CLOCK_MONOTONIC
  static Deadline After(double timeoutMs);
  // What is left of it (zero once passed), for calls that take a relative timeout (semtimedop).
  struct timespec Left() const;
  // The same instant on CLOCK_REALTIME, for calls that know no other clock (sem_timedwait).
  struct timespec Realtime() const;
};

// A detached thread running fn(arg), started with every signal blocked (it may unblock what it
// expects). Returns false if pthread_create failed.
bool StartDetached(void* (*fn)(void*), void* arg);

// ---- SharedArrayBuffer through Node-API (sab.cc) -------------------------------------------------
// Whether this Node has node_api_create_external_sharedarraybuffer, and a SharedArrayBuffer over
// [data, data + len) made with it: `release(data, hint)` runs (on any thread) when its backing store
// goes. False, with nothing created, where the Node lacks it (Node 20): use the V8 API then.
bool HaveNodeApiSab();
bool NodeApiExternalSab(napi_env env, void* data, size_t len, void (*release)(void*, void*), void* hint, napi_value* result);

// ---- Shared regions (shared_memory.cc) -----------------------------------------------------------
// The bytes [offset, offset + len) of a SharedArrayBuffer, and a reference that keeps them mapped while
// another thread uses them. False if `sab` is not a SharedArrayBuffer or the range is not inside it.
bool SharedRegion(napi_value sab, double offset, size_t len, uint8_t** ptr, std::shared_ptr<void>* keep);

// ---- Handles -------------------------------------------------------------------------------------
// A native object JS holds as an External of a shared_ptr (semaphore.cc, mutex.cc): JS keeps one
// reference, and a waiter thread that uses the object holds another, so close() and GC never free it
// under a wait. Unwrap gives null for anything that is not such a handle.
template <typename T>
Napi::Value WrapHandle(Napi::Env env, std::shared_ptr<T> ref) {
  using H = std::shared_ptr<T>;
  return Napi::External<H>::New(env, new H(std::move(ref)), [](Napi::Env, H* h) { delete h; });
}

template <typename T>
std::shared_ptr<T> UnwrapHandle(const Napi::Value& v) {
  if (!v.IsExternal()) return nullptr;
  return *v.As<Napi::External<std::shared_ptr<T>>>().Data();
}

// Per-mechanism initialisers.
void InitWaiter(Napi::Env env, Napi::Object exports);
void InitFdWatch(Napi::Env env, Napi::Object exports);
void InitPipe(Napi::Env env, Napi::Object exports);
void InitSignal(Napi::Env env, Napi::Object exports);
void InitMessageQueue(Napi::Env env, Napi::Object exports);
void InitSharedMemory(Napi::Env env, Napi::Object exports);
void InitSemaphore(Napi::Env env, Napi::Object exports);
void InitMutex(Napi::Env env, Napi::Object exports);
void InitSocket(Napi::Env env, Napi::Object exports);
void InitMemfd(Napi::Env env, Napi::Object exports);
void InitProcess(Napi::Env env, Napi::Object exports);

}  // namespace ipckit
