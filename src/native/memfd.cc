// Anonymous shared memory that cannot change size under us, and its doorbells: memfd_create(2) with file
// seals (fcntl(2) F_ADD_SEALS / F_GET_SEALS), ftruncate(2), and eventfd(2). Mapping a memfd is
// shared_memory.cc's mmapShared (one owner of mappings); this file only makes and checks the descriptors.
//
// Why seals: a peer holding a POSIX shm object or an unsealed memfd can ftruncate it while we have it
// mapped, and our next touch of a lost page is SIGBUS (the whole process dies). Once F_SEAL_SHRINK |
// F_SEAL_GROW | F_SEAL_SEAL are set nobody can change the size again, whoever holds the descriptor
// (memfd_create(2), "File sealing").
#include "addon.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>

namespace ipckit {

namespace {

// memfdCreate(name, flags) -> fd | -errno. The name is only a label (/proc/PID/fd shows "memfd:NAME").
Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  unsigned flags = info[1].As<Napi::Number>().Uint32Value();
  int fd = memfd_create(name.c_str(), flags);
  return Result(info.Env(), fd == -1 ? -errno : fd);
}

// ftruncate(fd, size) -> 0 | -errno
Napi::Value Ftruncate(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  off_t size = static_cast<off_t>(info[1].As<Napi::Number>().DoubleValue());
  return Result(info.Env(), IPCKIT_RETRY(ftruncate(fd, size)) == -1 ? -errno : 0);
}

// addSeals(fd, seals) -> 0 | -errno
Napi::Value AddSeals(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int seals = info[1].As<Napi::Number>().Int32Value();
  return Result(info.Env(), fcntl(fd, F_ADD_SEALS, seals) == -1 ? -errno : 0);
}

// getSeals(fd) -> seals | -errno (-EINVAL: the file does not support sealing, e.g. not a memfd)
Napi::Value GetSeals(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int seals = fcntl(fd, F_GET_SEALS);
  return Result(info.Env(), seals == -1 ? -errno : seals);
}

// eventfd(initval, flags) -> fd | -errno
Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  unsigned initval = info[0].As<Napi::Number>().Uint32Value();
  int flags = info[1].As<Napi::Number>().Int32Value();
  int fd = eventfd(initval, flags);
  return Result(info.Env(), fd == -1 ? -errno : fd);
}

// eventfdSignal(fd) -> 0 | -errno: adds 1 to the counter (the peer's doorbell). -EAGAIN means the counter
// is at its maximum, i.e. the bell is rung already; the caller treats that as success.
Napi::Value EventfdSignal(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  uint64_t one = 1;
  ssize_t n = IPCKIT_RETRY(write(fd, &one, sizeof one));
  return Result(info.Env(), n == -1 ? -errno : 0);
}

// setCloexec(fd, on) -> 0 | -errno: FD_CLOEXEC on an inherited descriptor (an inherited channel socket
// must not leak into the next exec, or the parent would never see it close).
Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool on = info[1].ToBoolean();
  int fl = fcntl(fd, F_GETFD);
  if (fl == -1) return ErrnoResult(info.Env());
  fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
  return Result(info.Env(), fcntl(fd, F_SETFD, fl) == -1 ? -errno : 0);
}

}  // namespace

void InitMemfd(Napi::Env env, Napi::Object exports) {
  exports.Set("memfdCreate", Napi::Function::New(env, MemfdCreate));
  exports.Set("ftruncate", Napi::Function::New(env, Ftruncate));
  exports.Set("addSeals", Napi::Function::New(env, AddSeals));
  exports.Set("getSeals", Napi::Function::New(env, GetSeals));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd));
  exports.Set("eventfdSignal", Napi::Function::New(env, EventfdSignal));
  exports.Set("setCloexec", Napi::Function::New(env, SetCloexec));
  Napi::Object k = Napi::Object::New(env);
  k.Set("MFD_CLOEXEC", Napi::Number::New(env, MFD_CLOEXEC));
  k.Set("MFD_ALLOW_SEALING", Napi::Number::New(env, MFD_ALLOW_SEALING));
  k.Set("F_SEAL_SEAL", Napi::Number::New(env, F_SEAL_SEAL));
  k.Set("F_SEAL_SHRINK", Napi::Number::New(env, F_SEAL_SHRINK));
  k.Set("F_SEAL_GROW", Napi::Number::New(env, F_SEAL_GROW));
  k.Set("F_SEAL_WRITE", Napi::Number::New(env, F_SEAL_WRITE));
  k.Set("EFD_CLOEXEC", Napi::Number::New(env, EFD_CLOEXEC));
  k.Set("EFD_NONBLOCK", Napi::Number::New(env, EFD_NONBLOCK));
  exports.Set("memfdConstants", k);
}

}  // namespace ipckit
