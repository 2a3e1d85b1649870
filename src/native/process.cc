// Process management: the state changes of another process (waitid(2) on a pidfd, never reaping), and
// a tracer (ptrace(2) with PTRACE_SEIZE) that stops a process at each signal on its way in, so that the
// caller decides to deliver, suppress or replace it.
//
// ptrace belongs to the thread that attached (ptrace(2): "the tracer" is a thread), so each traced
// process gets one dedicated thread that makes every ptrace call for it, from PTRACE_SEIZE to
// PTRACE_DETACH, and waits for it in waitpid(-1, __WALL | __WNOTHREAD): __WNOTHREAD keeps that wait off
// the children of every other thread, so it can never reap a process child_process owns. The thread
// posts each stop to its environment's queue, drained on the event loop through a uv_async_t (the
// pattern of waiter.cc); the JS side answers with tracerResume/tracerDetach, which the thread picks up
// either at once (it waits for an answer on a condition variable while the tracee is held in a stop) or
// by being interrupted out of waitpid with SIGRTMAX, the waiter threads' no-op, non-SA_RESTART signal.
// A signal sent just before the thread enters waitpid is lost; the JS side therefore re-kicks
// (tracerKick) every few milliseconds until its request is taken, as waiter.cc's kicker timer does.
//
// Why a thread per tracee: the thread is the tracer, and the thread of a process that is still being
// waited for must stay alive. A spawned tracee is also a child of its thread (fork(2) on that thread),
// so the thread reaps it, even after detach(); no zombie is left to a thread that does not know the pid.
#include "addon.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

namespace ipckit {

namespace {

// ---- watch: waitid(P_PIDFD) and the pidfd's exit information -----------------------------------

// waitidPidfd(fd, options) -> 0 (no state to report) | [si_code, si_status] | -errno. The caller passes
// WNOHANG | WNOWAIT and the states it wants: the state stays waitable, so child_process still reaps it.
Napi::Value WaitidPidfd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int options = info[1].As<Napi::Number>().Int32Value();
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc = IPCKIT_RETRY(waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &si, options));
  if (rc == -1) return ErrnoResult(env);
  if (si.si_pid == 0) return Result(env, 0);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, si.si_code));
  out.Set(1u, Napi::Number::New(env, si.si_status));
  return out;
}

// struct pidfd_info as of Linux 6.15 (include/uapi/linux/pidfd.h, PIDFD_INFO_SIZE_VER0): the size is
// part of the ioctl number, and the kernel accepts any size >= VER0, so this first version is enough.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
constexpr uint64_t kPidfdInfoExit = 1ULL << 3;

// pidfdExitStatus(fd) -> the wait status of a process that has exited (PIDFD_GET_INFO with
// PIDFD_INFO_EXIT, Linux 6.15), for any process, child or not; -ENODATA when the kernel has no exit
// information for it (yet), -ENOTTY/-EINVAL before 6.15.
Napi::Value PidfdExitStatus(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  PidfdInfo pi;
  memset(&pi, 0, sizeof pi);
  pi.mask = kPidfdInfoExit;
  if (IPCKIT_RETRY(ioctl(fd, kPidfdGetInfo, &pi)) == -1) return ErrnoResult(info.Env());
  if ((pi.mask & kPidfdInfoExit) == 0) return Result(info.Env(), -ENODATA);
  return Result(info.Env(), static_cast<uint32_t>(pi.exit_code));
}

// ---- the tracer ------------------------------------------------------------------------------------

enum Kind : int {
  kAttached = 0,  // a = 0 | -errno (and the pid of a spawned tracee)
  kSignal = 1,    // a signal-delivery stop, held until tracerResume: siginfo attached
  kStopped = 2,   // group-stop: a = the stopping signal (the tracer has put it in PTRACE_LISTEN)
  kContinued = 3, // the group stop ended (SIGCONT)
  kExit = 4,      // PTRACE_EVENT_EXIT: a = wait status; held until tracerResume (the process still exists)
  kExec = 5,      // PTRACE_EVENT_EXEC: a = former tid
  kDetached = 6,  // a = 0 | -errno
  kEnded = 7,     // the tracee is gone: a = wait status (b = 1) or -errno (b = 0); the last event
};

struct Event {
  uint32_t session = 0;
  int kind = 0;
  int tid = 0;
  int64_t a = 0, b = 0;
  bool has_si = false;
  siginfo_t si{};
};

struct Hub;

struct Session {
  uint32_t id = 0;
  std::shared_ptr<Hub> hub;
  // What to do (read by the thread before it starts, never changed after).
  bool spawn = false;
  pid_t pid = 0;
  long options = 0;
  std::string file, cwd;
  std::vector<std::string> argv, envp;
  int stdio[3] = {-1, -1, -1};
  // Requests from the loop thread, answered by the tracer thread (guarded by mu).
  std::mutex mu;
  std::condition_variable cv;
  bool held = false;        // the tracee is in a stop the JS side must answer
  bool answered = false;
  int answer_sig = 0;
  bool detach = false;      // detach requested
  bool detach_taken = false;
  std::atomic<bool> in_wait{false};
  pthread_t thread{};
  bool started = false;
};

// One per environment: the queue the tracer threads post to, drained on the loop by a uv_async_t.
struct Hub {
  std::mutex mu;
  bool alive = true;
  uv_async_t* async = nullptr;
  std::deque<Event> events;
  napi_env env = nullptr;
  std::unique_ptr<Napi::AsyncContext> context;
  // Loop thread only.
  std::unordered_map<uint32_t, std::shared_ptr<Session>> sessions;
  std::unordered_map<uint32_t, Napi::FunctionReference> callbacks;
  std::unordered_map<uint32_t, bool> refed;
  size_t refs = 0;
  uint32_t next_id = 1;
  std::shared_ptr<Hub> self;
};

std::atomic<int64_t> g_threads{0};

void Post(Session& s, Event ev) {
  ev.session = s.id;
  std::lock_guard<std::mutex> lk(s.hub->mu);
  if (!s.hub->alive) return;
  s.hub->events.push_back(ev);
  uv_async_send(s.hub->async);
}

int Ptrace(enum __ptrace_request req, pid_t tid, void* addr, void* data) {
  long rc = ptrace(req, tid, addr, data);
  return rc == -1 ? -errno : 0;
}

bool StopSignal(int sig) { return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

// Waits (on the condition variable, the tracee held in its stop) until the JS side answers or asks to
// detach. Returns the signal to resume with.
int AwaitAnswer(Session& s, bool* detach) {
  std::unique_lock<std::mutex> lk(s.mu);
  s.cv.wait(lk, [&] { return s.answered || s.detach; });
  s.held = false;
  bool a = s.answered;
  s.answered = false;
  *detach = !a && s.detach;
  return s.answer_sig;
}

void Hold(Session& s) {
  std::lock_guard<std::mutex> lk(s.mu);
  s.held = true;
  s.answered = false;
  s.answer_sig = 0;
}

bool DetachRequested(Session& s) {
  std::lock_guard<std::mutex> lk(s.mu);
  return s.detach;
}

// The child side of spawn: between fork(2) and execve(2) only async-signal-safe calls (signal-safety(7)),
// everything allocated before the fork. It waits for the tracer's byte on `go` (so that PTRACE_SEIZE
// comes before the first instruction of the new program), then resets what a new program must not
// inherit from Node: signal dispositions set to SIG_IGN (SIGPIPE) and the tracer thread's signal mask.
[[noreturn]] void ChildAfterFork(Session& s, char* const* argv, char* const* envp, int go, int err) {
  char c;
  if (IPCKIT_RETRY(read(go, &c, 1)) != 1) _exit(127);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // stdio: move every given fd above 2 first, so that dup2 of one cannot close another's source.
  int moved[3];
  for (int i = 0; i < 3; i++) {
    moved[i] = s.stdio[i] < 0 ? -1 : fcntl(s.stdio[i], F_DUPFD_CLOEXEC, 3);
  }
  for (int i = 0; i < 3; i++) {
    if (moved[i] >= 0 && dup2(moved[i], i) == -1) goto fail;
  }
  // Nothing of Node's but stdio reaches the program (Node opens its fds close-on-exec, but a library
  // may not have).
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  if (!s.cwd.empty() && chdir(s.cwd.c_str()) == -1) goto fail;
  execve(s.file.c_str(), argv, envp);
fail:
  int e = errno;
  (void)!write(err, &e, sizeof e);
  _exit(127);
}

// fork + PTRACE_SEIZE on this (the tracer) thread. Returns the pid, or -errno; *errfd receives the read
// end of the exec-error pipe (close-on-exec in the child: EOF once execve succeeded).
pid_t SpawnTraced(Session& s, int* errfd) {
  std::vector<char*> argv, envp;
  for (auto& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : s.envp) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int go[2], err[2];
  if (pipe2(go, O_CLOEXEC) == -1) return -errno;
  if (pipe2(err, O_CLOEXEC) == -1) {
    int e = errno;
    close(go[0]);
    close(go[1]);
    return -e;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    close(err[0]);
    ChildAfterFork(s, argv.data(), envp.data(), go[0], err[1]);
  }
  int e = errno;
  close(go[0]);
  close(err[1]);
  if (pid == -1) {
    close(go[1]);
    close(err[0]);
    return -e;
  }
  int rc = Ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(s.options));
  if (rc < 0) {
    close(go[1]);  // the child reads EOF and exits 127
    close(err[0]);
    int st;
    IPCKIT_RETRY(waitpid(pid, &st, __WALL));
    return rc;
  }
  (void)!IPCKIT_RETRY(write(go[1], "g", 1));
  close(go[1]);
  *errfd = err[0];
  return pid;
}

// The exec-error pipe once the child has exec'd or exited: 0 (exec succeeded) or -errno.
int ExecResult(int fd) {
  int e = 0;
  ssize_t n = IPCKIT_RETRY(read(fd, &e, sizeof e));
  close(fd);
  return n == static_cast<ssize_t>(sizeof e) ? -e : 0;
}

void Fill(Event& ev, pid_t tid) {
  if (ptrace(PTRACE_GETSIGINFO, tid, nullptr, &ev.si) == 0) ev.has_si = true;
}

// PTRACE_INTERRUPT, then wait for the tracee's next stop and detach from it. A signal caught in a
// signal-delivery stop on the way is delivered with the detach, so nothing is lost; a group stop is
// left as it is (the stop is not the tracer's: the tracee stays stopped, as it would untraced).
int DetachRunning(Session& s, pid_t tid, int* final_status, bool* gone) {
  int rc = Ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  if (rc < 0) return rc == -ESRCH ? 0 : rc;
  for (;;) {
    int st;
    pid_t w = IPCKIT_RETRY(waitpid(tid, &st, __WALL));
    if (w == -1) return -errno;
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      *final_status = st;
      *gone = true;
      return 0;
    }
    if (!WIFSTOPPED(st)) continue;
    int sig = WSTOPSIG(st);
    int event = st >> 16;
    long deliver = 0;
    if (event == 0) deliver = sig;  // a signal-delivery stop: let the signal through
    rc = Ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(deliver));
    return rc == -ESRCH ? 0 : rc;
  }
}

void* TracerMain(void* arg) {
  std::unique_ptr<std::shared_ptr<Session>> holder(static_cast<std::shared_ptr<Session>*>(arg));
  std::shared_ptr<Session> sp = *holder;
  Session& s = *sp;
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, SIGRTMAX);
  pthread_sigmask(SIG_UNBLOCK, &only, nullptr);

  int errfd = -1;
  pid_t pid;
  if (s.spawn) {
    pid = SpawnTraced(s, &errfd);
  } else {
    pid = s.pid;
    int rc = Ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(s.options));
    if (rc < 0) pid = rc;
  }
  if (pid < 0) {
    Event ev;
    ev.kind = kAttached;
    ev.a = pid;
    Post(s, ev);
    Event end;
    end.kind = kEnded;
    end.a = pid;
    Post(s, end);
    g_threads.fetch_sub(1);
    return nullptr;
  }
  // An attached process is reported at once; a spawned one once execve succeeded (or failed).
  bool reported = !s.spawn;
  if (reported) {
    Event ev;
    ev.kind = kAttached;
    ev.a = 0;
    ev.b = pid;
    Post(s, ev);
  }
  bool listening = false;
  bool detached = false;
  int final_status = 0;
  bool gone = false;
  int final_errno = 0;

  while (!gone) {
    if (!detached && reported && DetachRequested(s)) {
      int rc = DetachRunning(s, pid, &final_status, &gone);
      detached = true;
      Event ev;
      ev.kind = kDetached;
      ev.a = rc;
      Post(s, ev);
      {
        std::lock_guard<std::mutex> lk(s.mu);
        s.detach_taken = true;
      }
      if (gone) break;
      if (!s.spawn) break;  // not our child: nothing more to wait for
      // Our child: stay its reaper, or it would become a zombie of a thread that does not know it.
      int st;
      pid_t w = IPCKIT_RETRY(waitpid(pid, &st, 0));
      if (w == -1) final_errno = -errno;
      else final_status = st;
      gone = true;
      break;
    }
    int st;
    s.in_wait.store(true);
    bool asked = reported && !detached && DetachRequested(s);
    pid_t w = asked ? 0 : waitpid(-1, &st, __WALL | __WNOTHREAD);
    s.in_wait.store(false);
    if (asked) continue;
    if (w == -1) {
      if (errno == EINTR) continue;
      final_errno = -errno;
      break;
    }
    if (w != pid) continue;  // no other task is traced by this thread
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      final_status = st;
      gone = true;
      break;
    }
    if (!WIFSTOPPED(st)) continue;
    int sig = WSTOPSIG(st);
    int event = st >> 16;
    if (!reported) {
      // Before execve: the new program has not started; let anything through.
      if (event == PTRACE_EVENT_EXEC) {
        reported = true;
        int rc = ExecResult(errfd);
        errfd = -1;
        Event ev;
        ev.kind = kAttached;
        ev.a = rc;
        ev.b = pid;
        Post(s, ev);
      }
      long deliver = (event == 0) ? sig : 0;
      Ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(deliver));
      continue;
    }
    if (event == PTRACE_EVENT_STOP) {
      if (StopSignal(sig)) {
        if (!listening) {
          Event ev;
          ev.kind = kStopped;
          ev.tid = pid;
          ev.a = sig;
          Post(s, ev);
        }
        listening = true;
        Ptrace(PTRACE_LISTEN, pid, nullptr, nullptr);
      } else {
        if (listening) {
          Event ev;
          ev.kind = kContinued;
          ev.tid = pid;
          Post(s, ev);
        }
        listening = false;
        Ptrace(PTRACE_CONT, pid, nullptr, nullptr);
      }
      continue;
    }
    if (event == PTRACE_EVENT_EXEC) {
      Event ev;
      ev.kind = kExec;
      ev.tid = pid;
      unsigned long former = 0;
      ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &former);
      ev.a = static_cast<int64_t>(former);
      Post(s, ev);
      Ptrace(PTRACE_CONT, pid, nullptr, nullptr);
      continue;
    }
    if (event == PTRACE_EVENT_EXIT || event == 0) {
      Event ev;
      ev.tid = pid;
      if (event == PTRACE_EVENT_EXIT) {
        unsigned long status = 0;
        ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &status);
        ev.kind = kExit;
        ev.a = static_cast<int64_t>(status);
      } else {
        ev.kind = kSignal;
        ev.a = sig;
        Fill(ev, pid);
      }
      Hold(s);
      Post(s, ev);
      bool detach = false;
      int answer = AwaitAnswer(s, &detach);
      long resume = event == 0 ? (detach ? sig : answer) : 0;
      if (detach) {
        int rc = Ptrace(PTRACE_DETACH, pid, nullptr, reinterpret_cast<void*>(resume));
        detached = true;
        Event d;
        d.kind = kDetached;
        d.a = rc == -ESRCH ? 0 : rc;
        Post(s, d);
        {
          std::lock_guard<std::mutex> lk(s.mu);
          s.detach_taken = true;
        }
        if (!s.spawn) break;
        int st2;
        pid_t w2 = IPCKIT_RETRY(waitpid(pid, &st2, 0));
        if (w2 == -1) final_errno = -errno;
        else final_status = st2;
        gone = true;
        break;
      }
      Ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(resume));
      continue;
    }
    // Any other event (fork, clone, vfork are not requested): resume.
    Ptrace(PTRACE_CONT, pid, nullptr, nullptr);
  }
  if (errfd >= 0) {
    // The child exited before execve: report why.
    int rc = ExecResult(errfd);
    if (!reported) {
      Event ev;
      ev.kind = kAttached;
      ev.a = rc < 0 ? rc : -ECHILD;
      ev.b = pid;
      Post(s, ev);
    }
  }
  Event end;
  end.kind = kEnded;
  end.tid = pid;
  if (gone) {
    end.a = final_status;
    end.b = 1;
  } else {
    end.a = final_errno;  // detached from a process that is not ours, or waitpid failed
    end.b = 0;
  }
  Post(s, end);
  g_threads.fetch_sub(1);
  return nullptr;
}

Hub* GetHub(Napi::Env env) { return static_cast<Hub*>(Data(env).spare[0]); }

Napi::Value SiginfoObject(Napi::Env env, const siginfo_t& si) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("signo", Napi::Number::New(env, si.si_signo));
  o.Set("code", Napi::Number::New(env, si.si_code));
  o.Set("errno", Napi::Number::New(env, si.si_errno));
  o.Set("pid", Napi::Number::New(env, si.si_pid));
  o.Set("uid", Napi::Number::New(env, si.si_uid));
  o.Set("status", Napi::Number::New(env, si.si_status));
  o.Set("value", Napi::Number::New(env, si.si_value.sival_int));
  o.Set("addr", Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(si.si_addr))));
  return o;
}

void UpdateRef(Hub* h) {
  if (h->refs > 0) uv_ref(reinterpret_cast<uv_handle_t*>(h->async));
  else uv_unref(reinterpret_cast<uv_handle_t*>(h->async));
}

void Forget(Hub* h, uint32_t id) {
  auto r = h->refed.find(id);
  if (r != h->refed.end()) {
    if (r->second) h->refs--;
    h->refed.erase(r);
  }
  h->callbacks.erase(id);
  h->sessions.erase(id);
  UpdateRef(h);
}

void OnEvents(uv_async_t* handle) {
  auto* h = static_cast<Hub*>(handle->data);
  std::deque<Event> batch;
  {
    std::lock_guard<std::mutex> lk(h->mu);
    batch.swap(h->events);
  }
  Napi::Env env(h->env);
  for (auto& ev : batch) {
    auto it = h->callbacks.find(ev.session);
    if (it == h->callbacks.end()) continue;
    Napi::HandleScope scope(env);
    std::vector<napi_value> args{Napi::Number::New(env, ev.kind), Napi::Number::New(env, ev.tid),
                                 Napi::Number::New(env, static_cast<double>(ev.a)),
                                 Napi::Number::New(env, static_cast<double>(ev.b))};
    args.push_back(ev.has_si ? SiginfoObject(env, ev.si) : env.Undefined());
    Napi::Function fn = it->second.Value();  // a handle of this scope: valid after Forget
    if (ev.kind == kEnded) Forget(h, ev.session);
    try {
      fn.MakeCallback(env.Global(), args, *h->context);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(h->env, e.Value());
    }
  }
}

bool Kick(Session& s) {
  // Called with s.mu held.
  if (s.detach && !s.detach_taken && !s.held && s.started && s.in_wait.load()) {
    pthread_kill(s.thread, SIGRTMAX);
  }
  return s.detach && !s.detach_taken;
}

void Teardown(void* arg) {
  auto* h = static_cast<Hub*>(arg);
  std::shared_ptr<Hub> keep = h->self;
  {
    std::lock_guard<std::mutex> lk(h->mu);
    h->alive = false;
    h->events.clear();
  }
  // The environment goes: every tracee is detached (left running), by its own thread.
  for (auto& [id, s] : h->sessions) {
    std::lock_guard<std::mutex> lk(s->mu);
    s->detach = true;
    s->cv.notify_all();
    Kick(*s);
  }
  h->callbacks.clear();
  h->sessions.clear();
  h->context.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(h->async), [](uv_handle_t* hh) { delete reinterpret_cast<uv_async_t*>(hh); });
  h->self.reset();
}

std::shared_ptr<Session> Find(const Napi::CallbackInfo& info) {
  Hub* h = GetHub(info.Env());
  auto it = h->sessions.find(info[0].As<Napi::Number>().Uint32Value());
  return it == h->sessions.end() ? nullptr : it->second;
}

std::vector<std::string> Strings(Napi::Value v) {
  std::vector<std::string> out;
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).As<Napi::String>().Utf8Value());
  return out;
}

// tracerStart(spec, cb) -> session id | -errno. spec: { pid, options } to attach, or { file, argv, envp,
// cwd, stdio: [fd|-1 x3], options } to spawn. cb(kind, tid, a, b, siginfo?) on the loop thread.
Napi::Value TracerStart(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Hub* h = GetHub(env);
  Napi::Object spec = info[0].As<Napi::Object>();
  auto s = std::make_shared<Session>();
  s->hub = h->self;
  s->options = static_cast<long>(spec.Get("options").As<Napi::Number>().Int64Value());
  if (spec.Has("file")) {
    s->spawn = true;
    s->file = spec.Get("file").As<Napi::String>().Utf8Value();
    s->argv = Strings(spec.Get("argv"));
    s->envp = Strings(spec.Get("envp"));
    if (spec.Get("cwd").IsString()) s->cwd = spec.Get("cwd").As<Napi::String>().Utf8Value();
    Napi::Array stdio = spec.Get("stdio").As<Napi::Array>();
    for (uint32_t i = 0; i < 3 && i < stdio.Length(); i++) s->stdio[i] = stdio.Get(i).As<Napi::Number>().Int32Value();
  } else {
    s->pid = spec.Get("pid").As<Napi::Number>().Int32Value();
  }
  s->id = h->next_id++;
  if (s->id == 0) s->id = h->next_id++;
  h->sessions[s->id] = s;
  h->callbacks[s->id] = Napi::Persistent(info[1].As<Napi::Function>());
  h->refed[s->id] = true;
  h->refs++;
  UpdateRef(h);

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the thread starts with every signal blocked
  auto* holder = new std::shared_ptr<Session>(s);
  std::lock_guard<std::mutex> lk(s->mu);
  g_threads.fetch_add(1);
  int rc = pthread_create(&s->thread, &attr, TracerMain, holder);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    g_threads.fetch_sub(1);
    delete holder;
    Forget(h, s->id);
    return Result(env, -rc);
  }
  s->started = true;
  return Result(env, s->id);
}

// tracerResume(id, sig) -> 0 | -EINVAL (nothing held). Answers the stop the tracee is held in:
// sig 0 suppresses a signal, sig N delivers N (the caught one, or another in its place).
Napi::Value TracerResume(const Napi::CallbackInfo& info) {
  auto s = Find(info);
  if (!s) return Result(info.Env(), -ESRCH);
  int sig = info[1].As<Napi::Number>().Int32Value();
  std::lock_guard<std::mutex> lk(s->mu);
  if (!s->held || s->answered) return Result(info.Env(), -EINVAL);
  s->answered = true;
  s->answer_sig = sig;
  s->cv.notify_all();
  return Result(info.Env(), 0);
}

// tracerDetach(id) -> 0 | -ESRCH. The thread detaches at its next chance (a held stop is answered by
// delivering its signal); the kDetached event says it happened. Kick until then.
Napi::Value TracerDetach(const Napi::CallbackInfo& info) {
  auto s = Find(info);
  if (!s) return Result(info.Env(), -ESRCH);
  std::lock_guard<std::mutex> lk(s->mu);
  s->detach = true;
  s->cv.notify_all();
  Kick(*s);
  return Result(info.Env(), 0);
}

// tracerKick(id) -> whether a detach request is still waiting for the thread (re-interrupting it).
Napi::Value TracerKick(const Napi::CallbackInfo& info) {
  auto s = Find(info);
  if (!s) return Napi::Boolean::New(info.Env(), false);
  std::lock_guard<std::mutex> lk(s->mu);
  return Napi::Boolean::New(info.Env(), Kick(*s));
}

// tracerRef(id, ref): whether this session keeps the event loop alive.
Napi::Value TracerRef(const Napi::CallbackInfo& info) {
  Hub* h = GetHub(info.Env());
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  bool want = info[1].As<Napi::Boolean>().Value();
  auto it = h->refed.find(id);
  if (it != h->refed.end() && it->second != want) {
    it->second = want;
    if (want) h->refs++;
    else h->refs--;
    UpdateRef(h);
  }
  return info.Env().Undefined();
}

Napi::Value TracerStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", Napi::Number::New(env, static_cast<double>(g_threads.load())));
  o.Set("sessions", Napi::Number::New(env, static_cast<double>(GetHub(env)->sessions.size())));
  return o;
}

}  // namespace

void InitProcess(Napi::Env env, Napi::Object exports) {
  auto h = std::make_shared<Hub>();
  h->self = h;
  h->env = env;
  h->context = std::make_unique<Napi::AsyncContext>(env, "ipckit:tracer");
  h->async = new uv_async_t;
  uv_async_init(Loop(env), h->async, OnEvents);
  h->async->data = h.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(h->async));
  Data(env).spare[0] = h.get();
  napi_add_env_cleanup_hook(env, Teardown, h.get());

  exports.Set("waitidPidfd", Napi::Function::New(env, WaitidPidfd));
  exports.Set("pidfdExitStatus", Napi::Function::New(env, PidfdExitStatus));
  exports.Set("tracerStart", Napi::Function::New(env, TracerStart));
  exports.Set("tracerResume", Napi::Function::New(env, TracerResume));
  exports.Set("tracerDetach", Napi::Function::New(env, TracerDetach));
  exports.Set("tracerKick", Napi::Function::New(env, TracerKick));
  exports.Set("tracerRef", Napi::Function::New(env, TracerRef));
  exports.Set("tracerStats", Napi::Function::New(env, TracerStats));
  Napi::Object c = Napi::Object::New(env);
  c.Set("WNOHANG", Napi::Number::New(env, static_cast<double>(WNOHANG)));
  c.Set("WNOWAIT", Napi::Number::New(env, static_cast<double>(WNOWAIT)));
  c.Set("WEXITED", Napi::Number::New(env, static_cast<double>(WEXITED)));
  c.Set("WSTOPPED", Napi::Number::New(env, static_cast<double>(WSTOPPED)));
  c.Set("WCONTINUED", Napi::Number::New(env, static_cast<double>(WCONTINUED)));
  c.Set("CLD_EXITED", Napi::Number::New(env, static_cast<double>(CLD_EXITED)));
  c.Set("CLD_KILLED", Napi::Number::New(env, static_cast<double>(CLD_KILLED)));
  c.Set("CLD_DUMPED", Napi::Number::New(env, static_cast<double>(CLD_DUMPED)));
  c.Set("CLD_STOPPED", Napi::Number::New(env, static_cast<double>(CLD_STOPPED)));
  c.Set("CLD_TRAPPED", Napi::Number::New(env, static_cast<double>(CLD_TRAPPED)));
  c.Set("CLD_CONTINUED", Napi::Number::New(env, static_cast<double>(CLD_CONTINUED)));
  c.Set("PTRACE_O_TRACEEXIT", Napi::Number::New(env, static_cast<double>(PTRACE_O_TRACEEXIT)));
  c.Set("PTRACE_O_TRACEEXEC", Napi::Number::New(env, static_cast<double>(PTRACE_O_TRACEEXEC)));
  c.Set("PTRACE_O_EXITKILL", Napi::Number::New(env, static_cast<double>(PTRACE_O_EXITKILL)));
  exports.Set("processConstants", c);
}

}  // namespace ipckit
