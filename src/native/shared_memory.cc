// Shared memory: POSIX shm_open(3) + mmap(2), System V shmget(2)/shmat(2)/shmctl(2), and the
// cross-process futex(2) that blocking on a word of a shared mapping needs.
//
// A mapping is handed to JavaScript as a real SharedArrayBuffer (so that typed arrays and Atomics work
// on it across processes) plus a plain ArrayBuffer over the same bytes (V8 copies into a plain
// ArrayBuffer with libc memmove, into a SharedArrayBuffer with a slower relaxed byte loop). The
// SharedArrayBuffer is Node-API's where the Node has
// node_api_create_external_sharedarraybuffer (Node 22, 24, 26: sab.cc), else (Node 20) made with the
// V8 API directly, converting handles the way Node's own Node-API implementation does (a napi_value
// *is* a v8::Local's slot pointer, node/src/js_native_api_v8.h, JsValueFromV8LocalValue). Reading a
// SharedArrayBuffer's backing store (SharedRegion) has no Node-API equivalent that keeps the memory
// alive from another thread, so it stays on V8 everywhere.
//
// Lifetime: both views and a handle hold a reference to one Mapping. close() releases the pages now
// (zero pages over the range, see "mappings ipckit owns" below) once no native user holds them; the
// address range is unmapped when the last view is collected, so a stale view never faults.
#include "addon.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>
#include <string>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include <v8.h>
#pragma GCC diagnostic pop

namespace ipckit {

// ---- helpers shared with semaphore.cc and mutex.cc (declared in addon.h) ----------------------------

v8::Local<v8::Value> ToV8(napi_value v) {
  v8::Local<v8::Value> local;
  static_assert(sizeof local == sizeof v, "napi_value and v8::Local have the same representation");
  memcpy(static_cast<void*>(&local), &v, sizeof v);
  return local;
}

napi_value FromV8(v8::Local<v8::Value> local) {
  napi_value v;
  memcpy(&v, static_cast<void*>(&local), sizeof v);
  return v;
}

namespace {

// ---- mappings ipckit owns ------------------------------------------------------------------------
//
// Each mapping is registered in a fixed table that the SIGBUS handler reads without locks (atomics
// only, async-signal-safe). Two things use it:
//
// - Truncation: a process that can open a POSIX object can ftruncate(2) it, and every process touching
//   a page past the new end gets SIGBUS. For a fault inside a registered mapping, the handler maps
//   anonymous zero pages over the rest of the mapping (MAP_FIXED, from the faulting page on) and marks
//   it truncated: the access is retried and sees zeros, and the next call through ipckit reports
//   ERR_IPC_CORRUPT. Any other SIGBUS goes to the disposition that was there before ours.
// - close() releases now: the JS object closes its Mapping, and once no native user (a semaphore or a
//   mutex in it, a wait on one of its words) holds it, the whole range is replaced the same way. The
//   file's pages (or the System V attachment: a MAP_FIXED over it detaches it) are given back at once,
//   and a view used after close reads zeros instead of faulting. The address range itself is unmapped
//   when the last view is collected.

constexpr size_t kSlots = 4096;
struct Slot {
  std::atomic<uintptr_t> start{0};  // 0: free
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> truncated{false};
};
static_assert(std::atomic<uintptr_t>::is_always_lock_free, "read in a signal handler");
Slot g_slots[kSlots];
std::mutex g_slots_mu;  // registration only; the handler reads without it
size_t g_registered = 0;
struct sigaction g_prev_bus {};
bool g_bus_installed = false;
uintptr_t g_page = 4096;

bool ZeroPages(uintptr_t from, uintptr_t to) {
  void* p = mmap(reinterpret_cast<void*>(from), to - from, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  return p != MAP_FAILED;
}

void OnBus(int sig, siginfo_t* si, void* ctx) {
  int saved = errno;
  if (si->si_code == BUS_ADRERR) {
    auto a = reinterpret_cast<uintptr_t>(si->si_addr);
    for (Slot& s : g_slots) {
      uintptr_t start = s.start.load(std::memory_order_acquire);
      if (start == 0 || a < start || a >= s.end.load(std::memory_order_relaxed)) continue;
      uintptr_t end = (s.end.load(std::memory_order_relaxed) + g_page - 1) & ~(g_page - 1);
      if (ZeroPages(a & ~(g_page - 1), end)) {
        s.truncated.store(true, std::memory_order_release);
        errno = saved;
        return;  // the faulting access is retried, on zero pages now
      }
      break;
    }
  }
  errno = saved;
  // Not ours: what was there before. A default (or ignored: the kernel does not ignore a fault) SIGBUS
  // is restored and the access retried, so the process dies of it as it would have without us.
  if (g_prev_bus.sa_flags & SA_SIGINFO) {
    if (g_prev_bus.sa_sigaction != nullptr) return g_prev_bus.sa_sigaction(sig, si, ctx);
  } else if (g_prev_bus.sa_handler != SIG_DFL && g_prev_bus.sa_handler != SIG_IGN && g_prev_bus.sa_handler != nullptr) {
    return g_prev_bus.sa_handler(sig);
  }
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGBUS, &dfl, nullptr);
  if (si->si_code <= 0) raise(sig);  // sent by kill(2), not a fault: nothing would raise it again
}

bool IsOurBus(const struct sigaction& sa) { return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == OnBus; }

// Registers [addr, addr + len); returns the slot, or -1 if the table is full (that mapping is then not
// protected from truncation). The handler is installed with the first mapping, and the previous
// disposition put back with the last, unless someone installed theirs over ours meanwhile.
int Register(void* addr, size_t len) {
  std::lock_guard<std::mutex> lk(g_slots_mu);
  for (size_t i = 0; i < kSlots; i++) {
    if (g_slots[i].start.load(std::memory_order_relaxed) != 0) continue;
    g_slots[i].end.store(reinterpret_cast<uintptr_t>(addr) + len, std::memory_order_relaxed);
    g_slots[i].truncated.store(false, std::memory_order_relaxed);
    g_slots[i].start.store(reinterpret_cast<uintptr_t>(addr), std::memory_order_release);
    if (g_registered++ == 0 && !g_bus_installed) {
      g_page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
      struct sigaction sa {};
      sa.sa_sigaction = OnBus;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
      if (sigaction(SIGBUS, &sa, &g_prev_bus) == 0) g_bus_installed = true;
    }
    return static_cast<int>(i);
  }
  return -1;
}

void Unregister(int slot) {
  if (slot < 0) return;
  std::lock_guard<std::mutex> lk(g_slots_mu);
  g_slots[slot].start.store(0, std::memory_order_release);
  if (--g_registered == 0 && g_bus_installed) {
    struct sigaction cur {};
    if (sigaction(SIGBUS, nullptr, &cur) == 0 && IsOurBus(cur) && sigaction(SIGBUS, &g_prev_bus, nullptr) == 0) {
      g_bus_installed = false;
    }
  }
}

struct Mapping {
  void* addr;
  size_t len;
  bool sysv;
  int slot;
  std::mutex mu;
  int users = 0;          // native users: semaphores, mutexes, waits (SharedRegion)
  bool closed = false;    // the JS object closed it
  bool released = false;  // replaced by anonymous zero pages (file pages, attachment given back)
  Mapping(void* a, size_t l, bool sv) : addr(a), len(l), sysv(sv), slot(Register(a, l)) {}
  Mapping(const Mapping&) = delete;  // the destructor unmaps: exactly one owner of the region
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    Unregister(slot);
    if (sysv && !released) shmdt(addr);
    else munmap(addr, len);
  }
  bool Truncated() const { return slot >= 0 && g_slots[slot].truncated.load(std::memory_order_acquire); }
  // Called with mu held.
  void ReleaseLocked() {
    if (released) return;
    auto a = reinterpret_cast<uintptr_t>(addr);
    released = ZeroPages(a, (a + len + g_page - 1) & ~(g_page - 1));
  }
};

// A native user of a mapping: while one exists, close() does not release the pages (a waiter thread
// may be in a futex wait on them, or a semaphore in them may be in use); the last one to go does.
struct Use {
  std::shared_ptr<Mapping> m;
  explicit Use(std::shared_ptr<Mapping> mm) : m(std::move(mm)) {}
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  ~Use() {
    std::lock_guard<std::mutex> lk(m->mu);
    if (--m->users == 0 && m->closed) m->ReleaseLocked();
  }
};

// Live mappings, for SharedRegion to find the mapping of a SharedArrayBuffer (weak: a mapping goes with
// its last view).
std::mutex g_live_mu;
std::vector<std::weak_ptr<Mapping>> g_live;

void Track(const std::shared_ptr<Mapping>& m) {
  std::lock_guard<std::mutex> lk(g_live_mu);
  for (auto& w : g_live) {
    if (w.expired()) {
      w = m;
      return;
    }
  }
  g_live.push_back(m);
}

std::shared_ptr<Mapping> Find(const void* p) {
  std::lock_guard<std::mutex> lk(g_live_mu);
  for (auto& w : g_live) {
    auto m = w.lock();
    if (m && p >= m->addr && p < static_cast<uint8_t*>(m->addr) + m->len) return m;
  }
  return nullptr;
}

}  // namespace

// The bytes [offset, offset + len) of a SharedArrayBuffer, and a reference that keeps them mapped while
// another thread uses them. Returns false (caller answers -EINVAL) if `sab` is not a SharedArrayBuffer
// or the range is not inside it; TypeScript validated both already, this only keeps a bug from becoming
// a wild pointer. For a mapping of ipckit's the reference is a Use (close() waits for it to go), and a
// mapping already closed cannot be used by a new semaphore, mutex or wait.
bool SharedRegion(napi_value sab, double offset, size_t len, uint8_t** ptr, std::shared_ptr<void>* keep) {
  v8::Local<v8::Value> v = ToV8(sab);
  if (v.IsEmpty() || !v->IsSharedArrayBuffer()) return false;
  std::shared_ptr<v8::BackingStore> store = v.As<v8::SharedArrayBuffer>()->GetBackingStore();
  size_t size = store->ByteLength();
  if (!(offset >= 0) || offset > static_cast<double>(size) || len > size - static_cast<size_t>(offset)) return false;
  *ptr = static_cast<uint8_t*>(store->Data()) + static_cast<size_t>(offset);
  if (!keep) return true;  // used at once, on this thread (a wake): zero pages after close are harmless
  std::shared_ptr<Mapping> m = size > 0 ? Find(store->Data()) : nullptr;
  if (!m) {
    *keep = store;
    return true;
  }
  std::lock_guard<std::mutex> lk(m->mu);
  if (m->closed || m->released) return false;
  m->users++;
  *keep = std::make_shared<Use>(m);
  return true;
}

namespace {

// Backing-store deleter: may run on any thread (the last holder of a SharedArrayBuffer may be a
// worker); munmap/shmdt and the shared_ptr count are thread-safe.
void ReleaseView(void*, size_t, void* data) { delete static_cast<std::shared_ptr<Mapping>*>(data); }
void ReleaseSab(void*, void* hint) { delete static_cast<std::shared_ptr<Mapping>*>(hint); }

// A SharedArrayBuffer over the first `len` bytes of a mapping: Node-API where this Node has it, else
// the V8 API (Node 20).
napi_value SharedView(Napi::Env env, const std::shared_ptr<Mapping>& m, size_t len) {
  auto* hold = new std::shared_ptr<Mapping>(m);
  napi_value sab;
  if (NodeApiExternalSab(env, m->addr, len, ReleaseSab, hold, &sab)) return sab;
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  auto store = v8::SharedArrayBuffer::NewBackingStore(m->addr, len, ReleaseView, hold);
  return FromV8(v8::SharedArrayBuffer::New(isolate, std::move(store)));
}

// [SharedArrayBuffer, ArrayBuffer] over the first `len` bytes of a mapping. The plain ArrayBuffer stays
// on the V8 API: with napi_create_external_arraybuffer instead (which Node 20 implements as an external
// Buffer), test/shared-memory.posix.test's worker case crashed on Node 20 (SIGSEGV releasing a
// shared_ptr in the next Views call). Not understood yet, so not used.
using Handle = std::shared_ptr<Mapping>;

// [SharedArrayBuffer, ArrayBuffer, handle] over the first `len` bytes of a new mapping; the handle is
// for mappingClose and mappingTruncated.
Napi::Value Views(Napi::Env env, std::shared_ptr<Mapping> m, size_t len) {
  Track(m);
  napi_value sab = SharedView(env, m, len);
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  auto astore = v8::ArrayBuffer::NewBackingStore(m->addr, len, ReleaseView, new std::shared_ptr<Mapping>(m));
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(astore));
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Value(env, sab));
  out.Set(1u, Napi::Value(env, FromV8(ab)));
  out.Set(2u, Napi::External<Handle>::New(env, new Handle(m), [](Napi::Env, Handle* h) { delete h; }));
  return out;
}

Handle GetMapping(const Napi::Value& v) {
  if (!v.IsExternal()) return nullptr;
  return *v.As<Napi::External<Handle>>().Data();
}

// mappingClose(h) -> 0: the JS object is closed. The pages are replaced by zero pages now, or when the
// last native user goes; the handle drops its reference.
Napi::Value MappingClose(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) return Result(info.Env(), -EINVAL);
  Handle& h = *info[0].As<Napi::External<Handle>>().Data();
  if (h) {
    std::lock_guard<std::mutex> lk(h->mu);
    h->closed = true;
    if (h->users == 0) h->ReleaseLocked();
  }
  h.reset();
  return Result(info.Env(), 0);
}

// mappingTruncated(h) -> boolean: a SIGBUS past the object's end was turned into zero pages.
Napi::Value MappingTruncated(const Napi::CallbackInfo& info) {
  Handle h = GetMapping(info[0]);
  return Napi::Boolean::New(info.Env(), h && h->Truncated());
}



// sharedArrayBufferPath() -> 'node-api' | 'v8': how this Node's SharedArrayBuffers over mappings are made.
Napi::Value SharedArrayBufferPath(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), HaveNodeApiSab() ? "node-api" : "v8");
}

// shmOpen(name, oflag, mode) -> fd | -errno. The caller adds O_CLOEXEC semantics: shm_open(3) always
// sets FD_CLOEXEC on Linux.
Napi::Value ShmOpen(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  int oflag = info[1].As<Napi::Number>().Int32Value();
  mode_t mode = info[2].As<Napi::Number>().Uint32Value();
  int fd = IPCKIT_RETRY(shm_open(name.c_str(), oflag, mode));
  return Result(info.Env(), fd == -1 ? -errno : fd);
}

// shmUnlink(name) -> 0 | -errno
Napi::Value ShmUnlink(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  return Result(info.Env(), shm_unlink(name.c_str()) == -1 ? -errno : 0);
}

// fallocate(fd, size) -> 0 | -errno: reserves the object's pages in tmpfs now. Without it the pages are
// allocated on first touch, and a write into a page tmpfs has no room for is SIGBUS, not an error.
Napi::Value Fallocate(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  off_t size = static_cast<off_t>(info[1].As<Napi::Number>().DoubleValue());
  return Result(info.Env(), IPCKIT_RETRY(fallocate(fd, 0, 0, size)) == -1 ? -errno : 0);
}

// mmapShared(fd, size) -> [SharedArrayBuffer, ArrayBuffer] | -errno. Read-write and MAP_SHARED: a
// read-only mapping would turn a write through a typed array into SIGSEGV. The caller took `size` from
// fstat, so nothing past the object's end is mapped (touching that would be SIGBUS).
Napi::Value MmapShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  double size = info[1].As<Napi::Number>().DoubleValue();
  if (!(size > 0) || size > static_cast<double>(SIZE_MAX)) return Result(env, -EINVAL);
  size_t len = static_cast<size_t>(size);
  void* addr = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) return ErrnoResult(env);
  return Views(env, std::make_shared<Mapping>(addr, len, false), len);
}

// ---- System V -----------------------------------------------------------------------------------

// shmget(key, size, flags) -> id | -errno
Napi::Value Shmget(const Napi::CallbackInfo& info) {
  key_t key = static_cast<key_t>(info[0].As<Napi::Number>().Int64Value());
  size_t size = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
  int flags = info[2].As<Napi::Number>().Int32Value();
  int id = shmget(key, size, flags);
  return Result(info.Env(), id == -1 ? -errno : id);
}

// shmat(id, size) -> [SharedArrayBuffer, ArrayBuffer] | -errno. Always read-write (see MmapShared); the
// views cover the segment's own size (shm_segsz), not the page-rounded attachment.
// The caller took `size` from IPC_STAT, but a System V id can name another segment by now (ids are
// reused, and root can choose the next one, kernel.shm_next_id): views longer than the attachment would
// read and write whatever is mapped after it. So the size is checked against the segment actually
// attached (our attachment keeps it, and its size, alive) and a longer one is refused with EINVAL.
Napi::Value Shmat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  double size = info[1].As<Napi::Number>().DoubleValue();
  if (!(size > 0)) return Result(env, -EINVAL);
  void* addr = shmat(id, nullptr, 0);
  if (addr == reinterpret_cast<void*>(-1)) return ErrnoResult(env);
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) == -1) {
    int err = errno;  // e.g. EIDRM/EINVAL: removed since the attach
    shmdt(addr);
    return Result(env, -err);
  }
  if (size > static_cast<double>(ds.shm_segsz)) {
    shmdt(addr);
    return Result(env, -EINVAL);
  }
  size_t len = static_cast<size_t>(size);
  return Views(env, std::make_shared<Mapping>(addr, len, true), len);
}

// shmctlStat(id) -> { size, attaches, key, uid, gid, cuid, cgid, mode, cpid, lpid, atime, dtime, ctime } | -errno
Napi::Value ShmctlStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) == -1) return ErrnoResult(env);
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  num("size", static_cast<double>(ds.shm_segsz));
  num("attaches", static_cast<double>(ds.shm_nattch));
  num("key", static_cast<uint32_t>(ds.shm_perm.__key));  // unsigned, as ipcs prints it
  num("uid", ds.shm_perm.uid);
  num("gid", ds.shm_perm.gid);
  num("cuid", ds.shm_perm.cuid);
  num("cgid", ds.shm_perm.cgid);
  num("mode", ds.shm_perm.mode);
  num("cpid", ds.shm_cpid);
  num("lpid", ds.shm_lpid);
  num("atime", static_cast<double>(ds.shm_atime));
  num("dtime", static_cast<double>(ds.shm_dtime));
  num("ctime", static_cast<double>(ds.shm_ctime));
  return o;
}

// shmctlRemove(id) -> 0 | -errno (IPC_RMID: destroyed once the last process detaches).
Napi::Value ShmctlRemove(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  return Result(info.Env(), shmctl(id, IPC_RMID, nullptr) == -1 ? -errno : 0);
}

// ---- futex ----------------------------------------------------------------------------------------

long Futex(uint32_t* addr, int op, uint32_t val, const struct timespec* ts, uint32_t val3) {
  return syscall(SYS_futex, addr, op, val, ts, nullptr, val3);
}

// futexWait(sab, byteOffset, expected, timeoutMs (< 0: none), cb) -> wait id. On the waiter thread:
// FUTEX_WAIT_BITSET with an absolute CLOCK_MONOTONIC deadline, so that retrying after EINTR (SIGCHLD and
// other signals interrupt futex waits) does not stretch the timeout. Not FUTEX_PRIVATE_FLAG: the word
// may be shared with other processes, and private futexes are keyed by (mm, address) and would never
// meet the other process's wake. Callback rc: 0 woken, -EAGAIN value differed, -ETIMEDOUT,
// -ECANCELED, or another -errno.
Napi::Value FutexWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* p;
  std::shared_ptr<void> keep;
  if (!SharedRegion(info[0], info[1].As<Napi::Number>().DoubleValue(), 4, &p, &keep) ||
      reinterpret_cast<uintptr_t>(p) % 4 != 0) {
    return Result(env, -EINVAL);
  }
  uint32_t expected = info[2].As<Napi::Number>().Uint32Value();
  Deadline deadline = Deadline::After(info[3].As<Napi::Number>().DoubleValue());
  auto job = std::make_unique<WaitJob>();
  job->keep_alive = std::move(keep);
  auto* word = reinterpret_cast<uint32_t*>(p);
  job->body = [word, expected, deadline](WaitJob& self) -> int64_t {
    for (;;) {
      long rc = Futex(word, FUTEX_WAIT_BITSET, expected, deadline.timed ? &deadline.at : nullptr, FUTEX_BITSET_MATCH_ANY);
      if (rc == 0) return 0;
      if (errno != EINTR) return -errno;
      if (self.Cancelled()) return -ECANCELED;
    }
  };
  return Napi::Number::New(env, static_cast<double>(SubmitWait(env, std::move(job), info[4].As<Napi::Function>())));
}

// futexWake(sab, byteOffset, count) -> number of waiters woken | -errno. Wakes waiters of every process
// that maps the same object (shared futexes are keyed by the page's inode and offset, futex(2)).
Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* p;
  if (!SharedRegion(info[0], info[1].As<Napi::Number>().DoubleValue(), 4, &p, nullptr) ||
      reinterpret_cast<uintptr_t>(p) % 4 != 0) {
    return Result(env, -EINVAL);
  }
  double c = info[2].As<Napi::Number>().DoubleValue();
  uint32_t count = c >= INT_MAX ? INT_MAX : static_cast<uint32_t>(c);
  long rc = Futex(reinterpret_cast<uint32_t*>(p), FUTEX_WAKE, count, nullptr, 0);
  return Result(env, rc == -1 ? -errno : static_cast<double>(rc));
}

}  // namespace

void InitSharedMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("shmOpen", Napi::Function::New(env, ShmOpen));
  exports.Set("shmUnlink", Napi::Function::New(env, ShmUnlink));
  exports.Set("fallocate", Napi::Function::New(env, Fallocate));
  exports.Set("mmapShared", Napi::Function::New(env, MmapShared));
  exports.Set("shmget", Napi::Function::New(env, Shmget));
  exports.Set("shmat", Napi::Function::New(env, Shmat));
  exports.Set("shmctlStat", Napi::Function::New(env, ShmctlStat));
  exports.Set("shmctlRemove", Napi::Function::New(env, ShmctlRemove));
  exports.Set("futexWait", Napi::Function::New(env, FutexWait));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake));
  exports.Set("sharedArrayBufferPath", Napi::Function::New(env, SharedArrayBufferPath));
  exports.Set("mappingClose", Napi::Function::New(env, MappingClose));
  exports.Set("mappingTruncated", Napi::Function::New(env, MappingTruncated));
}

}  // namespace ipckit
