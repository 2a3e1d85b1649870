// Shared memory: POSIX shm_open(3) + mmap(2), System V shmget(2)/shmat(2)/shmctl(2), and the
// cross-process futex(2) that blocking on a word of a shared mapping needs.
//
// A mapping is handed to JavaScript as a real SharedArrayBuffer (so that typed arrays and Atomics work
// on it across processes) plus a plain ArrayBuffer over the same bytes (V8 copies into a plain
// ArrayBuffer with libc memmove, into a SharedArrayBuffer with a slower relaxed byte loop). Node-API can
// create neither a SharedArrayBuffer nor a backing store with a custom deleter, so this file uses the V8
// API directly, converting handles the way Node's own Node-API implementation does (a napi_value *is* a
// v8::Local's slot pointer, node/src/js_native_api_v8.h, JsValueFromV8LocalValue).
//
// Lifetime: both views hold a reference to one Mapping; the mapping is unmapped (munmap or shmdt) when
// the last view is collected and the last wait on it has returned (a WaitJob holds the SharedArrayBuffer
// backing store in keep_alive). Closing the JS object never unmaps, so a stale view can never fault.
#include "addon.h"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <climits>
#include <cstring>
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

// The bytes [offset, offset + len) of a SharedArrayBuffer, and a reference that keeps them mapped while
// another thread uses them. Returns false (caller answers -EINVAL) if `sab` is not a SharedArrayBuffer
// or the range is not inside it; TypeScript validated both already, this only keeps a bug from becoming
// a wild pointer.
bool SharedRegion(napi_value sab, double offset, size_t len, uint8_t** ptr, std::shared_ptr<void>* keep) {
  v8::Local<v8::Value> v = ToV8(sab);
  if (v.IsEmpty() || !v->IsSharedArrayBuffer()) return false;
  std::shared_ptr<v8::BackingStore> store = v.As<v8::SharedArrayBuffer>()->GetBackingStore();
  size_t size = store->ByteLength();
  if (!(offset >= 0) || offset > static_cast<double>(size) || len > size - static_cast<size_t>(offset)) return false;
  *ptr = static_cast<uint8_t*>(store->Data()) + static_cast<size_t>(offset);
  if (keep) *keep = store;
  return true;
}

namespace {

struct Mapping {
  void* addr;
  size_t len;
  bool sysv;
  Mapping(void* a, size_t l, bool sv) : addr(a), len(l), sysv(sv) {}
  Mapping(const Mapping&) = delete;  // the destructor unmaps: exactly one owner of the region
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (sysv) shmdt(addr);
    else munmap(addr, len);
  }
};

// Backing-store deleter: may run on any thread (the last holder of a SharedArrayBuffer may be a
// worker); munmap/shmdt and the shared_ptr count are thread-safe.
void ReleaseView(void*, size_t, void* data) { delete static_cast<std::shared_ptr<Mapping>*>(data); }

// [SharedArrayBuffer, ArrayBuffer] over the first `len` bytes of a mapping.
Napi::Value Views(Napi::Env env, std::shared_ptr<Mapping> m, size_t len) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  auto sstore = v8::SharedArrayBuffer::NewBackingStore(m->addr, len, ReleaseView, new std::shared_ptr<Mapping>(m));
  v8::Local<v8::SharedArrayBuffer> sab = v8::SharedArrayBuffer::New(isolate, std::move(sstore));
  auto astore = v8::ArrayBuffer::NewBackingStore(m->addr, len, ReleaseView, new std::shared_ptr<Mapping>(m));
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(isolate, std::move(astore));
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Value(env, FromV8(sab)));
  out.Set(1u, Napi::Value(env, FromV8(ab)));
  return out;
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
  double timeout = info[3].As<Napi::Number>().DoubleValue();
  struct timespec deadline {};
  bool timed = timeout >= 0;
  if (timed) {
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t ns = static_cast<int64_t>(timeout * 1e6);
    deadline.tv_sec += ns / 1000000000 + (deadline.tv_nsec + ns % 1000000000) / 1000000000;
    deadline.tv_nsec = (deadline.tv_nsec + ns % 1000000000) % 1000000000;
  }
  auto job = std::make_unique<WaitJob>();
  job->keep_alive = std::move(keep);
  auto* word = reinterpret_cast<uint32_t*>(p);
  job->body = [word, expected, timed, deadline](WaitJob& self) -> int64_t {
    for (;;) {
      long rc = Futex(word, FUTEX_WAIT_BITSET, expected, timed ? &deadline : nullptr, FUTEX_BITSET_MATCH_ANY);
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
}

}  // namespace ipckit
