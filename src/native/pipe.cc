// Pipes and FIFOs: pipe2(2), mkfifo(3), open(2) of a FIFO without blocking, and an inotify doorbell that
// tells a would-be writer when someone opens the FIFO (so waiting for a reader costs no thread: a
// blocking open(O_WRONLY) would hold one of libuv's four pool threads, node#23220).
#include "addon.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace ipckit {

namespace {

// pipe2(cloexec) -> [readFd, writeFd] | -errno
Napi::Value Pipe2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int flags = info[0].ToBoolean() ? O_CLOEXEC : 0;
  int fds[2];
  if (pipe2(fds, flags) == -1) return ErrnoResult(env);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

// mkfifo(path, mode) -> 0 | -errno. The umask applies, as it does for mkfifo(1).
Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  return Result(info.Env(), mkfifo(path.c_str(), mode) == -1 ? -errno : 0);
}

// open(path, flags, mode) -> fd | -errno. The caller passes O_NONBLOCK for FIFOs: a blocking open would
// block this (the loop) thread until the other end appears.
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  mode_t mode = info[2].As<Napi::Number>().Uint32Value();
  int fd = IPCKIT_RETRY(open(path.c_str(), flags, mode));
  return Result(info.Env(), fd == -1 ? -errno : fd);
}

// close(fd) -> 0 | -errno. EINTR is not retried: on Linux the fd is released even when close fails
// with EINTR, and a retry could close a descriptor another thread has just been given.
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int rc = close(fd);
  return Result(info.Env(), rc == -1 && errno != EINTR ? -errno : 0);
}

// setBlocking(fd, blocking) -> 0 | -errno
Napi::Value SetBlocking(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool blocking = info[1].ToBoolean();
  int fl = fcntl(fd, F_GETFL);
  if (fl == -1) return ErrnoResult(info.Env());
  fl = blocking ? (fl & ~O_NONBLOCK) : (fl | O_NONBLOCK);
  return Result(info.Env(), fcntl(fd, F_SETFL, fl) == -1 ? -errno : 0);
}

// pipeSize(fd, size?) -> capacity in bytes | -errno (F_GETPIPE_SZ / F_SETPIPE_SZ, fcntl(2)).
Napi::Value PipeSize(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int rc;
  if (info.Length() > 1 && info[1].IsNumber()) {
    rc = fcntl(fd, F_SETPIPE_SZ, info[1].As<Napi::Number>().Int32Value());
  } else {
    rc = fcntl(fd, F_GETPIPE_SZ);
  }
  return Result(info.Env(), rc == -1 ? -errno : rc);
}

// inotifyInit() -> fd | -errno (non-blocking, close-on-exec)
Napi::Value InotifyInit(const Napi::CallbackInfo& info) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  return Result(info.Env(), fd == -1 ? -errno : fd);
}

// inotifyAddWatch(fd, path, mask) -> wd | -errno
Napi::Value InotifyAddWatch(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  std::string path = info[1].As<Napi::String>();
  uint32_t mask = info[2].As<Napi::Number>().Uint32Value();
  int wd = inotify_add_watch(fd, path.c_str(), mask);
  return Result(info.Env(), wd == -1 ? -errno : wd);
}

// drain(fd) -> bytes discarded | -errno: empties a non-blocking doorbell (inotify, eventfd, self-pipe).
Napi::Value Drain(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  char buf[4096];
  double total = 0;
  for (;;) {
    ssize_t n = IPCKIT_RETRY(read(fd, buf, sizeof buf));
    if (n > 0) {
      total += n;
      continue;
    }
    if (n == 0 || errno == EAGAIN) break;
    return ErrnoResult(info.Env());
  }
  return Result(info.Env(), total);
}

// pollNow(fd, events) -> revents | -errno: poll(2) with a zero timeout, a non-blocking look at an fd's
// state (e.g. POLLERR on a FIFO write end means it has no reader, pipe(7)).
Napi::Value PollNow(const Napi::CallbackInfo& info) {
  struct pollfd p {};
  p.fd = info[0].As<Napi::Number>().Int32Value();
  p.events = static_cast<short>(info[1].As<Napi::Number>().Int32Value());
  int rc = IPCKIT_RETRY(poll(&p, 1, 0));
  return Result(info.Env(), rc == -1 ? -errno : p.revents);
}

}  // namespace

void InitPipe(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe2", Napi::Function::New(env, Pipe2));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("setBlocking", Napi::Function::New(env, SetBlocking));
  exports.Set("pipeSize", Napi::Function::New(env, PipeSize));
  exports.Set("inotifyInit", Napi::Function::New(env, InotifyInit));
  exports.Set("inotifyAddWatch", Napi::Function::New(env, InotifyAddWatch));
  exports.Set("drain", Napi::Function::New(env, Drain));
  exports.Set("pollNow", Napi::Function::New(env, PollNow));
}

}  // namespace ipckit
