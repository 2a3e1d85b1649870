// Signals: kill(2), sigqueue(3), a siginfo-recording handler that feeds a self-pipe, and pidfd_open(2).
//
// Node (libuv) owns the dispositions of the signals it exposes through process.on. The handler here is
// installed only on signals TypeScript allowed (the realtime range SIGRTMIN..SIGRTMAX-1, or a standard
// signal the user asked siginfo for explicitly); SIGRTMAX is the waiter threads' (waiter.cc).
//
// The handler is async-signal-safe (signal-safety(7)): it copies five siginfo fields into a fixed-size
// record and write(2)s it to a non-blocking pipe that the event loop watches. A write of PIPE_BUF bytes
// or fewer is atomic (pipe(7)), so records never interleave; if the pipe is full the record is counted
// as dropped, never blocked on. The pipe and the handler are process-wide (a disposition is a property
// of the process), so TypeScript lets only the main thread watch.
#include "addon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <cstring>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // the same number on every architecture (asm-generic)
#endif

namespace ipckit {

namespace {

// One delivery, as the event loop reads it (little-endian host order; docs/signals.md).
struct Record {
  int32_t signo;
  int32_t code;   // si_code
  int32_t pid;    // si_pid
  uint32_t uid;   // si_uid
  int32_t value;  // si_value.sival_int
  int32_t err;    // si_errno
  int32_t reserved[2];
};
static_assert(sizeof(Record) == 32, "a record is 32 bytes");
static_assert(sizeof(Record) <= PIPE_BUF, "a record must be written atomically");

constexpr int kMaxSig = 65;

// si_code of the "steering" signal that sigSteer sends to each thread of this process (no kernel code
// uses it; rt_tgsigqueueinfo(2) accepts any negative code other than SI_TKILL).
constexpr int kSteerCode = -100;  // _NSIG on Linux: signals 1..64

// What makes a steering signal ours: si_code and si_pid alone can be forged by any process allowed to
// signal this one (rt_sigqueueinfo(2) takes any negative si_code but SI_TKILL, and si_pid as given),
// and the handler would swallow that delivery. sigSteer also carries this per-process random value in
// si_value, which no other process can know. Written once in InitSignal, before any handler is set.
std::atomic<uintptr_t> g_steer_cookie{0};
static_assert(std::atomic<uintptr_t>::is_always_lock_free, "read in a signal handler");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "counted in a signal handler");

// This process's pid, read once at init: the handler tells the main thread (tid == pid) without a
// getpid(2) per delivery. A fork of this process that never execs does not run Node's event loop, and
// libuv's children block every signal until they exec (uv_spawn), so the cached value is never stale
// where the handler runs.
std::atomic<pid_t> g_pid{0};
static_assert(std::atomic<pid_t>::is_always_lock_free, "read in a signal handler");

std::atomic<int> g_pipe_write{-1};
int g_pipe_read = -1;
std::atomic<uint32_t> g_dropped[kMaxSig];
// Dispositions in force before ours, restored by sigUnwatch. Touched only by the main thread's JS calls.
struct sigaction g_saved[kMaxSig];
bool g_installed[kMaxSig];

void OnSignal(int sig, siginfo_t* si, void* uctx) {
  int saved_errno = errno;
  pid_t pid = g_pid.load(std::memory_order_relaxed);
  bool main_thread = syscall(SYS_gettid) == pid;
  if (si->si_code == kSteerCode && si->si_pid == pid &&
      reinterpret_cast<uintptr_t>(si->si_value.sival_ptr) == g_steer_cookie.load(std::memory_order_relaxed)) {
    // Not a delivery: sigSteer asks this thread to block the signal from now on (see below).
    if (!main_thread) sigaddset(&static_cast<ucontext_t*>(uctx)->uc_sigmask, sig);
    errno = saved_errno;
    return;
  }
  Record r{};
  r.signo = sig;
  r.code = si->si_code;
  r.pid = si->si_pid;
  r.uid = si->si_uid;
  r.value = si->si_value.sival_int;
  r.err = si->si_errno;
  int fd = g_pipe_write.load(std::memory_order_relaxed);
  if (fd < 0 || write(fd, &r, sizeof r) != static_cast<ssize_t>(sizeof r)) {
    if (sig > 0 && sig < kMaxSig) g_dropped[sig].fetch_add(1, std::memory_order_relaxed);
  }
  // A process-directed signal goes to any thread that does not block it (signal(7)). When two threads
  // run this handler at once for two queued instances of one realtime signal, their records can reach
  // the pipe in the wrong order. So a thread other than the main one that receives a watched signal
  // blocks it for itself from now on: the kernel restores the mask from uc_sigmask on return
  // (sigreturn(2)), and later instances go to the main thread, one at a time (sa_mask blocks the
  // signal while this handler runs). sigSteer does this ahead of time for the threads that exist.
  if (!main_thread) sigaddset(&static_cast<ucontext_t*>(uctx)->uc_sigmask, sig);
  errno = saved_errno;
}

bool IsOurs(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction == OnSignal;
}

// kill(pid, sig) -> 0 | -errno
Napi::Value Kill(const Napi::CallbackInfo& info) {
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  return Result(info.Env(), kill(pid, sig) == -1 ? -errno : 0);
}

// sigqueue(pid, sig, value) -> 0 | -errno; value travels as sival_int.
Napi::Value Sigqueue(const Napi::CallbackInfo& info) {
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  union sigval v;
  std::memset(&v, 0, sizeof v);
  v.sival_int = info[2].As<Napi::Number>().Int32Value();
  int rc = IPCKIT_RETRY(sigqueue(pid, sig, v));
  return Result(info.Env(), rc == -1 ? -errno : 0);
}

// sigPipe() -> the read end of the process-wide self-pipe (created on first call) | -errno.
// Both ends are non-blocking and close-on-exec. The capacity is raised to 1 MiB where allowed (32768
// records) so that a burst of queued realtime signals fits while the loop is busy; 64 KiB otherwise.
Napi::Value SigPipe(const Napi::CallbackInfo& info) {
  if (g_pipe_read >= 0) return Result(info.Env(), g_pipe_read);
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) return ErrnoResult(info.Env());
  fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // best effort: EPERM above pipe-max-size for non-root
  g_pipe_read = fds[0];
  g_pipe_write.store(fds[1], std::memory_order_release);
  return Result(info.Env(), g_pipe_read);
}

// sigWatch(sig) -> 0 | -errno: installs the recording handler, saving the disposition it replaces.
Napi::Value SigWatch(const Napi::CallbackInfo& info) {
  int sig = info[0].As<Napi::Number>().Int32Value();
  if (sig <= 0 || sig >= kMaxSig || g_pipe_write.load() < 0) return Result(info.Env(), -EINVAL);
  if (g_installed[sig]) return Result(info.Env(), 0);
  struct sigaction sa {};
  sa.sa_sigaction = OnSignal;
  // SA_RESTART: other threads' blocking calls are not disturbed (libuv's loop handles EINTR anyway).
  // Every signal is blocked while the handler runs, so handlers never nest on one thread.
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  struct sigaction old {};
  if (sigaction(sig, &sa, &old) == -1) return ErrnoResult(info.Env());
  g_dropped[sig].store(0);
  g_saved[sig] = old;
  g_installed[sig] = true;
  return Result(info.Env(), 0);
}

// sigUnwatch(sig) -> 1 restored | 0 left alone (somebody replaced our handler since) | -errno.
Napi::Value SigUnwatch(const Napi::CallbackInfo& info) {
  int sig = info[0].As<Napi::Number>().Int32Value();
  if (sig <= 0 || sig >= kMaxSig) return Result(info.Env(), -EINVAL);
  if (!g_installed[sig]) return Result(info.Env(), 0);
  g_installed[sig] = false;
  struct sigaction cur {};
  if (sigaction(sig, nullptr, &cur) == -1) return ErrnoResult(info.Env());
  if (!IsOurs(cur)) return Result(info.Env(), 0);
  if (sigaction(sig, &g_saved[sig], nullptr) == -1) return ErrnoResult(info.Env());
  return Result(info.Env(), 1);
}

// sigSteer(tid, sig) -> 0 | -errno: rt_tgsigqueueinfo(2) of a steering signal to one thread of this
// process, whose handler then blocks `sig` in that thread. A thread-directed signal is dequeued before
// the process-directed ones (signal(7)), so once sent, that thread can no longer take a delivery ahead
// of the main thread.
Napi::Value SigSteer(const Napi::CallbackInfo& info) {
  pid_t tid = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  siginfo_t si;
  std::memset(&si, 0, sizeof si);
  si.si_signo = sig;
  si.si_code = kSteerCode;
  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_ptr = reinterpret_cast<void*>(g_steer_cookie.load(std::memory_order_relaxed));
  long rc = syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, sig, &si);
  return Result(info.Env(), rc == -1 ? -errno : 0);
}

// sigRead(fd, buf) -> bytes read | -errno (-EAGAIN when empty). One read(2).
Napi::Value SigRead(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto buf = info[1].As<Napi::Uint8Array>();
  ssize_t n = IPCKIT_RETRY(read(fd, buf.Data(), buf.ByteLength()));
  return Result(info.Env(), n == -1 ? -errno : static_cast<double>(n));
}

// sigDropped(sig) -> records lost to a full pipe since the last call (and resets the count).
Napi::Value SigDropped(const Napi::CallbackInfo& info) {
  int sig = info[0].As<Napi::Number>().Int32Value();
  if (sig <= 0 || sig >= kMaxSig) return Result(info.Env(), 0);
  return Result(info.Env(), g_dropped[sig].exchange(0));
}

// pidfdOpen(pid) -> fd | -errno (pidfd_open(2), Linux 5.3; the fd is close-on-exec). -ENOSYS where the
// kernel lacks it.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  long fd = syscall(SYS_pidfd_open, pid, 0);
  return Result(info.Env(), fd == -1 ? -errno : static_cast<double>(fd));
}

}  // namespace

void InitSignal(Napi::Env env, Napi::Object exports) {
  static std::once_flag once;
  std::call_once(once, [] {
    uintptr_t cookie = 0;
    if (getrandom(&cookie, sizeof cookie, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof cookie)) {
      // No entropy yet (early boot): still unpredictable enough for a peer that cannot read our memory.
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      cookie = (static_cast<uintptr_t>(ts.tv_nsec) << 32) ^ static_cast<uintptr_t>(ts.tv_sec) ^
               reinterpret_cast<uintptr_t>(&cookie) ^ static_cast<uintptr_t>(getpid());
    }
    g_steer_cookie.store(cookie | 1, std::memory_order_relaxed);  // never 0, an ordinary sival
    g_pid.store(getpid(), std::memory_order_relaxed);
  });
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("sigqueue", Napi::Function::New(env, Sigqueue));
  exports.Set("sigPipe", Napi::Function::New(env, SigPipe));
  exports.Set("sigWatch", Napi::Function::New(env, SigWatch));
  exports.Set("sigUnwatch", Napi::Function::New(env, SigUnwatch));
  exports.Set("sigSteer", Napi::Function::New(env, SigSteer));
  exports.Set("sigRead", Napi::Function::New(env, SigRead));
  exports.Set("sigDropped", Napi::Function::New(env, SigDropped));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("SIGRTMIN", Napi::Number::New(env, SIGRTMIN));
  exports.Set("SIGRTMAX", Napi::Number::New(env, SIGRTMAX));
}

}  // namespace ipckit
