// The robust process-shared mutex: a futex word of ipckit's own, on the kernel's robust-futex ABI
// (set_robust_list(2), Documentation/locking/robust-futex-ABI.rst), with no pthread_mutex_t involved.
//
// Why not glibc's robust mutex: glibc keeps the robust list inside the mutex (the prev/next pointers of
// pthread_mutex_t.__data.__list), and its unlock follows those pointers. In shared memory a peer can
// rewrite them, and our unlock then writes wherever the peer chose. Here nothing read from shared memory
// is ever followed: the list's order lives in private memory (Node below), and the shared `next` fields
// are written from that private knowledge, never read by us. Only the kernel reads them, when the
// owning thread dies, and its walk is bounded (ROBUST_LIST_LIMIT) and fault-safe.
//
// The shared layout (16 bytes, 8-aligned; docs/semaphores.md documents it for C and Python peers):
//   0  u32 word   0 free | owner TID (FUTEX_TID_MASK) | FUTEX_WAITERS (bit 31) | FUTEX_OWNER_DIED (bit 30)
//   4  u32 tag    kTag: "an ipckit mutex, layout 1" (checked by attach, nothing else)
//   8  u64 next   the owner's struct robust_list entry: an address in the *owner's* address space
// The kernel finds the word of an entry at entry + futex_offset (-8).
//
// Who owns a lock: a robust futex is released by the kernel when the thread whose TID is in the word
// exits. glibc owns the robust list of every thread it made (one set_robust_list head per thread), and
// JavaScript threads come and go (workers), so one process-wide "lock thread" of our own registers our
// list head and then sleeps for the life of the process: its TID is the owner of every lock this process
// holds. It does nothing else. The fast path (CAS of the word, list insert or removal) runs on the
// calling JavaScript thread under a process-local mutex, with list_op_pending set around each operation
// as the ABI asks; only a blocking wait goes to a waiter thread (mutexWaitFree).
//
// Deaths the kernel cannot see, because the lock thread lives on: a worker that ends holding a lock, or
// a handle dropped while held. An environment cleanup hook (and the handle's destructor) release such a
// lock the way the kernel would: FUTEX_OWNER_DIED, and a wake if FUTEX_WAITERS is set.
#include "addon.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>

namespace ipckit {

namespace {

struct SharedMutex {
  uint32_t word;
  uint32_t tag;
  uint64_t next;
};
static_assert(sizeof(SharedMutex) == 16, "the documented layout");
constexpr uint32_t kTag = 0x314d4b49;  // "IKM1" in memory
constexpr long kFutexOffset = -8;      // offsetof(word) - offsetof(next)
// A CAS that keeps failing means someone rewrites the word as fast as we read it: give up (busy).
constexpr int kCasTries = 64;

// One held lock of this process, in private memory. Linked in the private list while held.
struct Node {
  SharedMutex* m = nullptr;
  Node* prev = nullptr;
  Node* next = nullptr;
  napi_env env = nullptr;  // the environment that locked it (released by its cleanup hook)
  bool held = false;
};

// Process-wide state. Never destroyed: the kernel reads `head` when the lock thread exits, which is at
// process exit, after static destructors may have run.
struct Robust {
  std::mutex mu;
  std::condition_variable started;
  bool starting = false;
  uint32_t tid = 0;  // the lock thread's TID once it registered `head`
  int error = 0;     // or why it could not
  struct robust_list_head head;
  Node sentinel;     // the private list (circular), in the same order as the kernel's list
};

Robust& R() {
  static Robust* r = [] {
    auto* p = new Robust();
    p->head.list.next = &p->head.list;  // empty: points back at the head
    p->head.futex_offset = kFutexOffset;
    p->head.list_op_pending = nullptr;
    p->sentinel.prev = p->sentinel.next = &p->sentinel;
    return p;
  }();
  return *r;
}

void* LockThread(void*) {
  Robust& r = R();
  long rc = syscall(SYS_set_robust_list, &r.head, sizeof r.head);
  int err = rc == 0 ? 0 : errno;
  {
    std::lock_guard<std::mutex> lk(r.mu);
    r.error = err;
    r.tid = err == 0 ? static_cast<uint32_t>(syscall(SYS_gettid)) : 0;
    r.starting = false;
  }
  r.started.notify_all();
  if (err != 0) return nullptr;
  // Every signal is blocked (StartDetached), so this sleeps until the process ends.
  for (;;) pause();
}

// The lock thread's TID (starting it on first use), or -errno. Called with r.mu held.
int64_t OwnerTid(Robust& r, std::unique_lock<std::mutex>& lk) {
  if (r.tid != 0) return r.tid;
  if (r.error != 0) return -r.error;
  if (!r.starting) {
    r.starting = true;
    if (!StartDetached(LockThread, nullptr)) {
      r.starting = false;
      return -EAGAIN;
    }
  }
  r.started.wait(lk, [&] { return !r.starting; });
  return r.tid != 0 ? static_cast<int64_t>(r.tid) : -r.error;
}

uint64_t EntryOf(Robust& r, Node* n) {
  return n == &r.sentinel ? reinterpret_cast<uint64_t>(&r.head.list) : reinterpret_cast<uint64_t>(&n->m->next);
}

void SetPending(Robust& r, SharedMutex* m) {
  __atomic_store_n(&r.head.list_op_pending, m ? reinterpret_cast<struct robust_list*>(&m->next) : nullptr, __ATOMIC_SEQ_CST);
}

// Links n first, in both lists: its shared `next` is written before the head points at it, so the
// kernel's walk (which may run at any moment if the process is killed) always sees a whole list.
void Link(Robust& r, Node* n) {
  Node* first = r.sentinel.next;
  __atomic_store_n(&n->m->next, EntryOf(r, first), __ATOMIC_RELEASE);
  n->prev = &r.sentinel;
  n->next = first;
  first->prev = n;
  r.sentinel.next = n;
  __atomic_store_n(&r.head.list.next, reinterpret_cast<struct robust_list*>(&n->m->next), __ATOMIC_RELEASE);
}

// Unlinks n: its predecessor (the head, or the `next` field of a mutex we hold, whose address we know
// privately) is pointed at its successor. Nothing is read from shared memory.
void Unlink(Robust& r, Node* n) {
  uint64_t succ = EntryOf(r, n->next);
  if (n->prev == &r.sentinel) {
    __atomic_store_n(&r.head.list.next, reinterpret_cast<struct robust_list*>(succ), __ATOMIC_RELEASE);
  } else {
    __atomic_store_n(&n->prev->m->next, succ, __ATOMIC_RELEASE);
  }
  n->prev->next = n->next;
  n->next->prev = n->prev;
  n->prev = n->next = nullptr;
}

long FutexWake(uint32_t* word, int n) { return syscall(SYS_futex, word, FUTEX_WAKE, n, nullptr, nullptr, 0); }

// Releases a lock n holds: the word becomes `released(old)` if it still names us as the owner, with a
// wake if FUTEX_WAITERS was set. Returns 0, or -EUCLEAN if the word no longer held our TID (a peer
// overwrote it; it is left as it is). Called with r.mu held.
template <typename F>
int Release(Robust& r, Node* n, F released) {
  SharedMutex* m = n->m;
  SetPending(r, m);
  Unlink(r, n);
  n->held = false;
  int rc = -EUCLEAN;
  uint32_t v = __atomic_load_n(&m->word, __ATOMIC_RELAXED);
  for (int i = 0; i < kCasTries && (v & FUTEX_TID_MASK) == r.tid; i++) {
    if (__atomic_compare_exchange_n(&m->word, &v, released(v), false, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
      if (v & FUTEX_WAITERS) FutexWake(&m->word, 1);
      rc = 0;
      break;
    }
  }
  SetPending(r, nullptr);
  return rc;
}

// What the kernel does when an owner dies (handle_futex_death): keep FUTEX_WAITERS, set OWNER_DIED.
int ReleaseAsDead(Robust& r, Node* n) {
  return Release(r, n, [](uint32_t v) { return (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED; });
}

// A mutex in a region of a shared segment, and what keeps that region mapped.
struct Ref {
  Node node;
  std::shared_ptr<void> keep;
  ~Ref() {
    Robust& r = R();
    std::lock_guard<std::mutex> lk(r.mu);
    if (node.held) ReleaseAsDead(r, &node);
  }
};
using Handle = std::shared_ptr<Ref>;

Napi::Value Wrap(Napi::Env env, Handle ref) { return WrapHandle(env, std::move(ref)); }
// The Ref of a handle, or null if it is not one.
Handle Get(const Napi::Value& v) { return UnwrapHandle<Ref>(v); }

// The region [offset, offset + 16) of a SharedArrayBuffer, 8-aligned; null if not.
Handle Region(const Napi::CallbackInfo& info) {
  uint8_t* p;
  std::shared_ptr<void> keep;
  if (!SharedRegion(info[0], info[1].As<Napi::Number>().DoubleValue(), sizeof(SharedMutex), &p, &keep)) return nullptr;
  if (reinterpret_cast<uintptr_t>(p) % alignof(SharedMutex) != 0) return nullptr;
  auto ref = std::make_shared<Ref>();
  ref->node.m = reinterpret_cast<SharedMutex*>(p);
  ref->keep = std::move(keep);
  return ref;
}

// The lock thread must exist before anyone can lock: start it when a mutex is made or attached, so
// that its failure (set_robust_list refused, no threads) is reported there.
int64_t EnsureOwner() {
  Robust& r = R();
  std::unique_lock<std::mutex> lk(r.mu);
  return OwnerTid(r, lk);
}

// mutexInit(sab, offset) -> handle | -errno: a free mutex at that place (word 0, tag, next 0).
Napi::Value MutexInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle ref = Region(info);
  if (!ref) return Result(env, -EINVAL);
  int64_t tid = EnsureOwner();
  if (tid < 0) return Result(env, static_cast<double>(tid));
  SharedMutex* m = ref->node.m;
  __atomic_store_n(&m->next, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&m->tag, kTag, __ATOMIC_RELAXED);
  __atomic_store_n(&m->word, 0, __ATOMIC_RELEASE);
  return Wrap(env, std::move(ref));
}

// mutexAttach(sab, offset) -> handle | -EINVAL (not aligned, or no ipckit mutex tag there) | -errno.
Napi::Value MutexAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle ref = Region(info);
  if (!ref) return Result(env, -EINVAL);
  if (__atomic_load_n(&ref->node.m->tag, __ATOMIC_RELAXED) != kTag) return Result(env, -EINVAL);
  int64_t tid = EnsureOwner();
  if (tid < 0) return Result(env, static_cast<double>(tid));
  return Wrap(env, std::move(ref));
}

// mutexTrylock(h, markWaiters) -> 0 | 1 (the previous owner died; the lock is ours and consistent) |
// -EBUSY | -errno. With markWaiters (a lock taken after sleeping), FUTEX_WAITERS is set in the new
// value, as glibc's slow path does: other sleepers may depend on the wake that bit asks of the unlock.
Napi::Value MutexTrylock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle ref = Get(info[0]);
  if (!ref) return Result(env, -EBADF);
  uint32_t extra = info[1].ToBoolean() ? FUTEX_WAITERS : 0;
  Robust& r = R();
  std::unique_lock<std::mutex> lk(r.mu);
  int64_t tid = OwnerTid(r, lk);
  if (tid < 0) return Result(env, static_cast<double>(tid));
  Node* n = &ref->node;
  // Held through this handle already: a second lock() of the same Mutex object waits for the first's
  // unlock, like any other locker (an async mutex).
  if (n->held) return Result(env, -EBUSY);
  SharedMutex* m = n->m;
  // Pending before the word changes: if the process dies between the CAS and the link, the kernel
  // still finds this word through list_op_pending.
  SetPending(r, m);
  int rc = -EBUSY;
  uint32_t v = __atomic_load_n(&m->word, __ATOMIC_RELAXED);
  for (int i = 0; i < kCasTries; i++) {
    uint32_t want;
    if (v == 0) want = static_cast<uint32_t>(tid) | extra;
    else if ((v & FUTEX_TID_MASK) == 0 && (v & FUTEX_OWNER_DIED)) want = static_cast<uint32_t>(tid) | (v & FUTEX_WAITERS) | extra;
    else break;  // owned (or in no state a mutex can be in: mutexWaitFree reports that)
    if (__atomic_compare_exchange_n(&m->word, &v, want, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
      rc = v == 0 ? 0 : 1;
      break;
    }
  }
  if (rc >= 0) {
    n->env = env;
    n->held = true;
    Link(r, n);
  }
  SetPending(r, nullptr);
  return Result(env, rc);
}

// mutexUnlock(h) -> 0 | -EPERM (this handle does not hold it) | -EUCLEAN (it was released, but the word
// no longer named this process as the owner: overwritten by a peer).
Napi::Value MutexUnlock(const Napi::CallbackInfo& info) {
  Handle ref = Get(info[0]);
  if (!ref) return Result(info.Env(), -EBADF);
  Robust& r = R();
  std::lock_guard<std::mutex> lk(r.mu);
  if (!ref->node.held) return Result(info.Env(), -EPERM);
  return Result(info.Env(), Release(r, &ref->node, [](uint32_t) { return 0u; }));
}

// mutexWaitFree(h, timeoutMs (< 0: none), cb) -> wait id | -errno. On a waiter thread: returns (rc 0)
// once the word shows no owner (free, or its owner died), for the JS thread to try again; -EUCLEAN if
// the word is in no state a mutex can be in; -ETIMEDOUT at the deadline (FUTEX_WAIT_BITSET takes it
// as an absolute CLOCK_MONOTONIC time). It reads only the word, and only as a value.
Napi::Value MutexWaitFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle ref = Get(info[0]);
  if (!ref) return Result(env, -EBADF);
  uint32_t* word = &ref->node.m->word;
  Deadline deadline = Deadline::After(info[1].As<Napi::Number>().DoubleValue());
  auto job = std::make_unique<WaitJob>();
  job->keep_alive = std::move(ref);
  job->body = [word, deadline](WaitJob& self) -> int64_t {
    for (;;) {
      uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
      // No owner but flags without FUTEX_OWNER_DIED: a state neither we nor the kernel produce (a lock
      // would sleep on it forever). Report it instead of spinning through trylock.
      if ((v & FUTEX_TID_MASK) == 0 && v != 0 && !(v & FUTEX_OWNER_DIED)) return -EUCLEAN;
      if ((v & FUTEX_TID_MASK) == 0) return 0;
      if (!(v & FUTEX_WAITERS)) {
        if (!__atomic_compare_exchange_n(word, &v, v | FUTEX_WAITERS, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
        v |= FUTEX_WAITERS;
      }
      // Not FUTEX_PRIVATE_FLAG: the kernel wakes a dead owner's robust futex as a shared one.
      long rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, v, deadline.timed ? &deadline.at : nullptr, nullptr, FUTEX_BITSET_MATCH_ANY);
      if (rc == -1 && errno == EINTR && self.Cancelled()) return -ECANCELED;
      if (rc == -1 && errno != EINTR && errno != EAGAIN) return -errno;
    }
  };
  return Napi::Number::New(env, static_cast<double>(SubmitWait(env, std::move(job), info[2].As<Napi::Function>())));
}

// mutexWake(h) -> woken | -errno: passes one wake on (FUTEX_WAKE 1), for a locker that was woken but
// gave up.
Napi::Value MutexWake(const Napi::CallbackInfo& info) {
  Handle ref = Get(info[0]);
  if (!ref) return Result(info.Env(), -EBADF);
  long rc = FutexWake(&ref->node.m->word, 1);
  return Result(info.Env(), rc == -1 ? -errno : static_cast<double>(rc));
}

// mutexClose(h) -> 0: drops this handle's reference (a held lock is released as if its owner died once
// no wait holds the handle either; Mutex.close() unlocks before).
Napi::Value MutexClose(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) info[0].As<Napi::External<Handle>>().Data()->reset();
  return Result(info.Env(), 0);
}

// The environment is going away (a worker ends, or the process exits): the locks it still holds are
// released as the kernel releases a dead thread's, so the next locker learns the owner died.
void Teardown(void* arg) {
  auto env = static_cast<napi_env>(arg);
  Robust& r = R();
  std::lock_guard<std::mutex> lk(r.mu);
  for (Node* n = r.sentinel.next; n != &r.sentinel;) {
    Node* next = n->next;
    if (n->env == env) ReleaseAsDead(r, n);
    n = next;
  }
}

}  // namespace

void InitMutex(Napi::Env env, Napi::Object exports) {
  napi_add_env_cleanup_hook(env, Teardown, static_cast<napi_env>(env));
  exports.Set("mutexInit", Napi::Function::New(env, MutexInit));
  exports.Set("mutexAttach", Napi::Function::New(env, MutexAttach));
  exports.Set("mutexTrylock", Napi::Function::New(env, MutexTrylock));
  exports.Set("mutexUnlock", Napi::Function::New(env, MutexUnlock));
  exports.Set("mutexWaitFree", Napi::Function::New(env, MutexWaitFree));
  exports.Set("mutexWake", Napi::Function::New(env, MutexWake));
  exports.Set("mutexClose", Napi::Function::New(env, MutexClose));
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("size", Napi::Number::New(env, sizeof(SharedMutex)));
  layout.Set("align", Napi::Number::New(env, alignof(SharedMutex)));
  layout.Set("tag", Napi::Number::New(env, kTag));
  exports.Set("mutexLayout", layout);
}

}  // namespace ipckit
