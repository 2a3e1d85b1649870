// Waiter threads: where calls that exist only as blocking calls (msgrcv, semop, sem_wait, futex wait)
// wait, so that neither the event loop nor libuv's threadpool (4 threads shared with
// fs and dns) is ever held by an IPC wait.
//
// - Threads are process-wide and reused: a job goes to an idle thread or gets a new one at once, so a
//   wait never queues behind another wait. A thread idle for 5 s exits.
// - An idle thread is woken for its job when the loop is about to sleep (a uv_prepare handle), not in the
//   JS call that submitted it: woken at once, on the same CPU, it would preempt the loop thread in the
//   middle of its callback (two context switches before the callback can, say, wake the peer it is
//   waiting for). Nothing can complete the job before the loop polls again anyway.
// - A finished job is handed to the loop with uv_async_send outside the environment's lock: the loop
//   thread it wakes preempts the waiter, and would otherwise block on that lock at once.
// - Each environment (main thread, each worker) has its own completion queue and uv_async_t. The async
//   handle is referenced only while jobs of that environment are pending, so an idle waiter never keeps
//   the process alive, and a pending wait does, like any Node handle.
// - Cancellation sets the job's flag and interrupts its thread with SIGRTMAX, whose handler does nothing
//   and is installed without SA_RESTART, so the blocking call fails with EINTR and the body returns
//   -ECANCELED. A signal can land between the body's check of the flag and its entry into the call and
//   be lost; a 1 ms "kicker" timer therefore re-sends it until every cancelled job has returned.
// - Waiter threads block every signal but SIGRTMAX, so process-directed signals (SIGCHLD, SIGINT, the
//   realtime signals of signals.watch) go to threads that expect them.
#include "addon.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

namespace ipckit {

namespace {

struct EnvWaiters;

}  // namespace

// Live WaitJob::State objects, process-wide (waiterStats().jobs): every submitted wait must release its
// state exactly once, whichever way it ends (callback, failed start, environment gone).
std::atomic<int64_t> g_live_states{0};

struct WaitJob::State {
  State() { g_live_states.fetch_add(1, std::memory_order_relaxed); }
  ~State() { g_live_states.fetch_sub(1, std::memory_order_relaxed); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  uint32_t id = 0;
  std::atomic<bool> cancelled{false};
  bool running = false;  // guarded by EnvWaiters::mu
  pthread_t thread{};    // valid while running
  int64_t result = 0;
  Napi::FunctionReference callback;  // created and destroyed on the loop thread only
  std::shared_ptr<EnvWaiters> owner;
};

bool WaitJob::Cancelled() const { return state->cancelled.load(std::memory_order_acquire); }

namespace {

int InterruptSignal() { return SIGRTMAX; }

// The disposition of SIGRTMAX before ours, restored when the last environment using the waiters goes
// (and no job is left), and called for deliveries that are not our interrupts: a library or program
// that had a handler there keeps receiving what others send it.
std::mutex g_sig_mu;
int g_envs = 0;            // environments whose InitWaiter ran and whose Teardown has not
bool g_installed = false;  // our handler is in place
struct sigaction g_prev {};

void OnInterrupt(int sig, siginfo_t* si, void* ctx) {
  // Ours: pthread_kill(3) from this process (tgkill: SI_TKILL, our pid). Nothing to do, the point was
  // the EINTR. Anything else goes to the previous handler, if there was one.
  if (si != nullptr && si->si_code == SI_TKILL && si->si_pid == getpid()) return;
  if (g_prev.sa_flags & SA_SIGINFO) {
    if (g_prev.sa_sigaction != nullptr) g_prev.sa_sigaction(sig, si, ctx);
  } else if (g_prev.sa_handler != SIG_DFL && g_prev.sa_handler != SIG_IGN && g_prev.sa_handler != nullptr) {
    g_prev.sa_handler(sig);
  }
}

void InstallInterrupt() {
  std::lock_guard<std::mutex> lk(g_sig_mu);
  g_envs++;
  if (g_installed) return;
  struct sigaction sa {};
  sa.sa_sigaction = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_SIGINFO;  // no SA_RESTART: the interrupted call must fail with EINTR
  if (sigaction(InterruptSignal(), &sa, &g_prev) == 0) g_installed = true;
}

// The last environment is gone: give SIGRTMAX back, unless a job (an orphan of a worker, still being
// kicked out of its call) may need the interrupt yet. A previous SIG_DFL is not put back: an interrupt
// sent just before the last job ended can still be pending on its thread, and under SIG_DFL it would
// terminate the process. Our handler ignores it (and has nothing to forward to).
void UninstallInterrupt() {
  std::lock_guard<std::mutex> lk(g_sig_mu);
  if (--g_envs > 0 || !g_installed || g_live_states.load() != 0) return;
  if (!(g_prev.sa_flags & SA_SIGINFO) && g_prev.sa_handler == SIG_DFL) return;
  if (sigaction(InterruptSignal(), &g_prev, nullptr) == 0) g_installed = false;
}

struct EnvWaiters {
  std::mutex mu;
  bool alive = true;
  uv_async_t* async = nullptr;
  uv_timer_t* kicker = nullptr;
  bool kicking = false;
  uv_prepare_t* prepare = nullptr;
  uint32_t deferred = 0;  // jobs queued for idle threads not woken yet (loop thread only)
  std::atomic<int> sending{0};  // waiter threads between leaving `mu` and returning from uv_async_send
  std::deque<std::unique_ptr<WaitJob>> completed;
  std::unordered_map<uint32_t, WaitJob*> pending;
  uint32_t next_id = 1;
  napi_env env = nullptr;
  std::unique_ptr<Napi::AsyncContext> context;
  std::shared_ptr<EnvWaiters> self;  // cleared at teardown
};

struct Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::unique_ptr<WaitJob>> queue;
  size_t available = 0;  // idle threads not yet claimed by a queued job
  size_t threads = 0;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: detached threads may outlive static destructors
  return *p;
}

void RunJob(std::unique_ptr<WaitJob> job) {
  WaitJob::State* st = job->state;
  std::shared_ptr<EnvWaiters> owner = st->owner;
  {
    std::lock_guard<std::mutex> lk(owner->mu);
    st->thread = pthread_self();
    st->running = true;
  }
  st->result = st->cancelled.load() ? -ECANCELED : job->body(*job);
  std::unique_lock<std::mutex> lk(owner->mu);
  st->running = false;
  if (!owner->alive) {
    // The environment is gone (Teardown already Reset the callback on its loop thread): no OnComplete
    // will release this job, so release it here. Leaving `pending` tells the orphan kicker it is done.
    // The job itself (and its keep_alive) goes when `job` is destroyed, after the lock is released.
    owner->pending.erase(st->id);
    delete st;
    job->state = nullptr;
    return;
  }
  owner->completed.push_back(std::move(job));
  // Counted under the lock, which Teardown takes to set alive = false: it then waits for the count to
  // drain before it closes the handle, so the handle outlives every send.
  owner->sending.fetch_add(1, std::memory_order_relaxed);
  lk.unlock();
  uv_async_send(owner->async);
  owner->sending.fetch_sub(1, std::memory_order_release);
}

void* ThreadMain(void* arg) {
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, InterruptSignal());
  pthread_sigmask(SIG_UNBLOCK, &only, nullptr);

  std::unique_ptr<WaitJob> job(static_cast<WaitJob*>(arg));
  Pool& p = pool();
  for (;;) {
    RunJob(std::move(job));
    std::unique_lock<std::mutex> lk(p.mu);
    p.available++;
    while (p.queue.empty()) {
      if (p.cv.wait_for(lk, std::chrono::seconds(5)) == std::cv_status::timeout && p.queue.empty()) {
        p.available--;
        p.threads--;
        return nullptr;
      }
    }
    job = std::move(p.queue.front());
    p.queue.pop_front();
    // Jobs are woken for by count, per environment (OnPrepare), but taken in queue order: the job left
    // may be another environment's, whose loop already woke a thread for it (this one, for all it knows).
    if (!p.queue.empty()) p.cv.notify_one();
  }
}

bool StartThread(WaitJob* job) { return StartDetached(ThreadMain, job); }

// Wakes one idle thread for each job this environment queued since the loop last polled.
void WakeDeferred(EnvWaiters* w) {
  uint32_t n = w->deferred;
  w->deferred = 0;
  Pool& p = pool();
  if (n == 1) p.cv.notify_one();
  else if (n > 1) p.cv.notify_all();
}

// The loop is about to poll (and maybe sleep): wake the threads of the jobs submitted meanwhile.
void OnPrepare(uv_prepare_t* handle) {
  auto* w = static_cast<EnvWaiters*>(handle->data);
  uv_prepare_stop(handle);
  WakeDeferred(w);
}

// The kicker of an environment that is gone. Teardown interrupts each running job once, but that signal
// can land between the body's check of the flag and its entry into the blocking call and be lost (the
// race the 1 ms kicker timer closes while the loop lives). With the loop gone, this thread takes over:
// it re-sends the interrupt every millisecond until every orphaned job has left `pending` (RunJob
// erases them there), so no waiter thread stays blocked, for ever in an untimed msgrcv or semop, on
// behalf of a worker that has exited.
void* OrphanKicker(void* arg) {
  std::unique_ptr<std::shared_ptr<EnvWaiters>> holder(static_cast<std::shared_ptr<EnvWaiters>*>(arg));
  EnvWaiters* w = holder->get();
  for (;;) {
    {
      std::lock_guard<std::mutex> lk(w->mu);
      if (w->pending.empty()) return nullptr;
      for (auto& [id, job] : w->pending) {
        if (job->state->running) pthread_kill(job->state->thread, InterruptSignal());
      }
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, nullptr);
  }
}

void Kick(EnvWaiters* w) {
  // Called with w->mu held.
  bool any = false;
  for (auto& [id, job] : w->pending) {
    if (job->state->cancelled.load() && job->state->running) {
      pthread_kill(job->state->thread, InterruptSignal());
      any = true;
    }
  }
  if (any && !w->kicking) {
    w->kicking = true;
    uv_timer_start(w->kicker, [](uv_timer_t* t) {
      auto* ww = static_cast<EnvWaiters*>(t->data);
      std::lock_guard<std::mutex> lk(ww->mu);
      ww->kicking = false;
      uv_timer_stop(t);
      Kick(ww);
    }, 1, 0);
  }
}

void OnComplete(uv_async_t* handle) {
  auto* w = static_cast<EnvWaiters*>(handle->data);
  std::deque<std::unique_ptr<WaitJob>> done;
  {
    std::lock_guard<std::mutex> lk(w->mu);
    done.swap(w->completed);
    for (auto& job : done) w->pending.erase(job->state->id);
    if (w->pending.empty()) uv_unref(reinterpret_cast<uv_handle_t*>(w->async));
  }
  Napi::Env env(w->env);
  for (auto& job : done) {
    Napi::HandleScope scope(env);
    napi_value args[3] = {Napi::Number::New(env, static_cast<double>(job->state->result)), env.Undefined(),
                          Napi::Number::New(env, job->aux)};
    if (job->has_payload) args[1] = Napi::Buffer<uint8_t>::Copy(env, job->payload.data(), job->payload.size());
    // The C call, as in fd_watch.cc: in a worker that ends inside a callback (process.exit() in the code
    // a completion resumed), the next call fails without a JS exception, and node-addon-api's Error for
    // that cannot be made either (a fatal "Error::Error napi_define_properties").
    napi_value result;
    napi_status st = napi_make_callback(env, static_cast<napi_async_context>(*w->context), env.Global(),
                                        job->state->callback.Value(), 3, args, &result);
    if (st != napi_ok) {
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
        napi_value err;
        if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
      }
      // Else nothing can run here any more (a terminating worker): the result goes with it.
    }
    job->state->callback.Reset();
    delete job->state;
    job->state = nullptr;
  }
}

// Deletes through the handle's own type: the handles were allocated as uv_async_t / uv_timer_t, and
// deleting them as a uv_handle_t is undefined behaviour (AddressSanitizer: new-delete-type-mismatch).
template <typename T>
void CloseHandle(T* h) {
  uv_close(reinterpret_cast<uv_handle_t*>(h), [](uv_handle_t* hh) { delete reinterpret_cast<T*>(hh); });
}

void Teardown(void* arg) {
  auto* w = static_cast<EnvWaiters*>(arg);
  std::shared_ptr<EnvWaiters> keep = w->self;
  WakeDeferred(w);  // queued jobs must run (and see their cancellation) for `pending` to empty
  std::lock_guard<std::mutex> lk(w->mu);
  w->alive = false;
  for (auto& [id, job] : w->pending) {
    job->state->cancelled.store(true);
    job->state->callback.Reset();
    if (job->state->running) pthread_kill(job->state->thread, InterruptSignal());
  }
  // Completed jobs whose OnComplete will never run: release them here, on the loop thread.
  for (auto& job : w->completed) {
    w->pending.erase(job->state->id);
    delete job->state;
    job->state = nullptr;
  }
  w->completed.clear();
  w->context.reset();
  // No thread can start a send now (alive is false); let those already past the lock finish theirs.
  while (w->sending.load(std::memory_order_acquire) != 0) sched_yield();
  CloseHandle(w->async);
  CloseHandle(w->kicker);
  CloseHandle(w->prepare);
  // What is left in `pending` is queued or running; RunJob releases each. The kicker timer is closed,
  // so a thread takes over its job (see OrphanKicker).
  if (!w->pending.empty()) {
    auto* holder = new std::shared_ptr<EnvWaiters>(keep);
    if (!StartDetached(OrphanKicker, holder)) delete holder;  // then at least the signal sent above remains
  }
  w->self.reset();  // jobs still running (and the orphan kicker) hold the last references
  UninstallInterrupt();
}

EnvWaiters* Waiters(Napi::Env env) { return static_cast<EnvWaiters*>(Data(env).waiters); }

Napi::Value WaiterCancel(const Napi::CallbackInfo& info) {
  EnvWaiters* w = Waiters(info.Env());
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  std::lock_guard<std::mutex> lk(w->mu);
  auto it = w->pending.find(id);
  if (it == w->pending.end()) return Napi::Boolean::New(info.Env(), false);
  it->second->state->cancelled.store(true, std::memory_order_release);
  Kick(w);
  return Napi::Boolean::New(info.Env(), true);
}

// waiterSleep(ms, cb): a blocking nanosleep on a waiter thread. It exists so that the waiter machinery
// itself (cancellation, threadpool independence, exit behaviour) can be tested without any IPC object.
Napi::Value WaiterSleep(const Napi::CallbackInfo& info) {
  double ms = info[0].As<Napi::Number>().DoubleValue();
  auto job = std::make_unique<WaitJob>();
  job->body = [ms](WaitJob& self) -> int64_t {
    struct timespec ts;
    ts.tv_sec = static_cast<time_t>(ms / 1000);
    ts.tv_nsec = static_cast<long>((ms - ts.tv_sec * 1000.0) * 1e6);
    while (nanosleep(&ts, &ts) == -1) {
      if (errno != EINTR) return -errno;
      if (self.Cancelled()) return -ECANCELED;
    }
    return 0;
  };
  return Napi::Number::New(info.Env(), static_cast<double>(SubmitWait(info.Env(), std::move(job), info[1].As<Napi::Function>())));
}

Napi::Value WaiterStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  {
    Pool& p = pool();
    std::lock_guard<std::mutex> lk(p.mu);
    o.Set("threads", Napi::Number::New(env, static_cast<double>(p.threads)));
    o.Set("idle", Napi::Number::New(env, static_cast<double>(p.available)));
  }
  o.Set("jobs", Napi::Number::New(env, static_cast<double>(g_live_states.load())));
  EnvWaiters* w = Waiters(env);
  std::lock_guard<std::mutex> lk(w->mu);
  o.Set("pending", Napi::Number::New(env, static_cast<double>(w->pending.size())));
  return o;
}

}  // namespace

// The new thread inherits this mask: it starts with every signal blocked, so no process-directed signal
// can be delivered to it (a waiter thread then narrows its mask to SIGRTMAX alone; the orphan kicker and
// the mutex lock thread keep everything blocked).
bool StartDetached(void* (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t tid;
  int rc = pthread_create(&tid, &attr, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  return rc == 0;
}


namespace {

constexpr int64_t kNs = 1000000000;

int64_t Ns(const struct timespec& t) { return static_cast<int64_t>(t.tv_sec) * kNs + t.tv_nsec; }

struct timespec Ts(int64_t ns) {
  struct timespec t {};
  t.tv_sec = static_cast<time_t>(ns / kNs);
  t.tv_nsec = static_cast<long>(ns % kNs);
  return t;
}

int64_t Now(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return Ns(t);
}

}  // namespace

Deadline Deadline::After(double timeoutMs) {
  Deadline d;
  if (!(timeoutMs >= 0)) return d;
  d.timed = true;
  d.at = Ts(Now(CLOCK_MONOTONIC) + static_cast<int64_t>(timeoutMs * 1e6));
  return d;
}

struct timespec Deadline::Left() const { return Ts(std::max<int64_t>(0, Ns(at) - Now(CLOCK_MONOTONIC))); }

struct timespec Deadline::Realtime() const { return Ts(Now(CLOCK_REALTIME) + (Ns(at) - Now(CLOCK_MONOTONIC))); }

int64_t SubmitWait(Napi::Env env, std::unique_ptr<WaitJob> job, Napi::Function callback) {
  EnvWaiters* w = Waiters(env);
  auto* st = new WaitJob::State();
  st->callback = Napi::Persistent(callback);
  st->owner = w->self;
  job->state = st;
  {
    std::lock_guard<std::mutex> lk(w->mu);
    st->id = w->next_id++;
    if (st->id == 0) st->id = w->next_id++;
    w->pending.emplace(st->id, job.get());
    uv_ref(reinterpret_cast<uv_handle_t*>(w->async));
  }
  uint32_t id = st->id;
  Pool& p = pool();
  std::unique_lock<std::mutex> lk(p.mu);
  if (p.available > 0) {
    p.available--;
    p.queue.push_back(std::move(job));
    lk.unlock();
    // The thread is woken when this loop is about to poll (OnPrepare), not now (see the top of the file).
    if (w->deferred++ == 0) uv_prepare_start(w->prepare, OnPrepare);
    return id;
  }
  p.threads++;
  WaitJob* raw = job.release();
  if (!StartThread(raw)) {
    p.threads--;
    lk.unlock();
    std::lock_guard<std::mutex> wl(w->mu);
    w->pending.erase(id);
    if (w->pending.empty()) uv_unref(reinterpret_cast<uv_handle_t*>(w->async));
    st->callback.Reset();
    delete st;
    delete raw;
    return -EAGAIN;  // pthread_create(3) fails with EAGAIN when threads or memory run out
  }
  return id;
}

void InitWaiter(Napi::Env env, Napi::Object exports) {
  InstallInterrupt();

  auto w = std::make_shared<EnvWaiters>();
  w->self = w;
  w->env = env;
  w->context = std::make_unique<Napi::AsyncContext>(env, "ipckit:wait");
  w->async = new uv_async_t;
  uv_async_init(Loop(env), w->async, OnComplete);
  w->async->data = w.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(w->async));
  w->kicker = new uv_timer_t;
  uv_timer_init(Loop(env), w->kicker);
  w->kicker->data = w.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(w->kicker));
  w->prepare = new uv_prepare_t;
  uv_prepare_init(Loop(env), w->prepare);
  w->prepare->data = w.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(w->prepare));
  Data(env).waiters = w.get();
  napi_add_env_cleanup_hook(env, Teardown, w.get());

  exports.Set("waiterCancel", Napi::Function::New(env, WaiterCancel));
  exports.Set("waiterSleep", Napi::Function::New(env, WaiterSleep));
  exports.Set("waiterStats", Napi::Function::New(env, WaiterStats));
  exports.Set("waiterSignal", Napi::Number::New(env, InterruptSignal()));
}

}  // namespace ipckit
