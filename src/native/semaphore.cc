// Semaphores: POSIX sem_open(3)/sem_init(3) semaphores and System V semaphore sets (semget(2),
// semop(2), semctl(2)). The robust mutex is in mutex.cc.
//
// A POSIX semaphore is handed to JavaScript as an External holding a shared_ptr to a Ref:
// the pointer plus what keeps its memory valid (the named semaphore's own mapping, closed by
// sem_close(3) in the destructor, or the SharedArrayBuffer backing store of the segment it lives in).
// A wait on a waiter thread holds a copy in keep_alive, so close() from JavaScript (which drops only
// the External's copy) can never unmap a semaphore under a thread blocked in sem_wait.
#include "addon.h"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/sem.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace ipckit {

namespace {

struct Ref {
  void* ptr = nullptr;
  bool named = false;          // a sem_open(3) semaphore: sem_close it when the last holder goes
  std::shared_ptr<void> keep;  // the backing store of the segment an in-memory object lives in
  ~Ref() {
    if (named) sem_close(static_cast<sem_t*>(ptr));
  }
};
using Handle = std::shared_ptr<Ref>;

Napi::Value Wrap(Napi::Env env, Handle ref) { return WrapHandle(env, std::move(ref)); }
// The Ref of a handle, or null if it is not one.
Handle Get(const Napi::Value& v) { return UnwrapHandle<Ref>(v); }

sem_t* Sem(const Handle& h) { return static_cast<sem_t*>(h->ptr); }

// In-memory objects: the region [offset, offset + size) of a SharedArrayBuffer, aligned for the type.
Handle Region(const Napi::CallbackInfo& info, size_t size, size_t align) {
  uint8_t* p;
  std::shared_ptr<void> keep;
  if (!SharedRegion(info[0], info[1].As<Napi::Number>().DoubleValue(), size, &p, &keep)) return nullptr;
  if (reinterpret_cast<uintptr_t>(p) % align != 0) return nullptr;
  auto ref = std::make_shared<Ref>();
  ref->ptr = p;
  ref->keep = std::move(keep);
  return ref;
}

// handleClose(h): drops this handle's reference (sem_close happens when no wait holds it any more).
Napi::Value HandleClose(const Napi::CallbackInfo& info) {
  if (info[0].IsExternal()) info[0].As<Napi::External<Handle>>().Data()->reset();
  return Result(info.Env(), 0);
}

// ---- POSIX semaphores ---------------------------------------------------------------------------

// semOpen(name, oflag, mode, value) -> handle | -errno. The umask applies to the mode (the caller
// chmods /dev/shm/sem.NAME afterwards).
Napi::Value SemOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  int oflag = info[1].As<Napi::Number>().Int32Value();
  mode_t mode = info[2].As<Napi::Number>().Uint32Value();
  unsigned value = info[3].As<Napi::Number>().Uint32Value();
  sem_t* s;
  do s = sem_open(name.c_str(), oflag, mode, value);
  while (s == SEM_FAILED && errno == EINTR);
  if (s == SEM_FAILED) return ErrnoResult(env);
  auto ref = std::make_shared<Ref>();
  ref->ptr = s;
  ref->named = true;
  return Wrap(env, std::move(ref));
}

// semUnlink(name) -> 0 | -errno
Napi::Value SemUnlink(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  return Result(info.Env(), sem_unlink(name.c_str()) == -1 ? -errno : 0);
}

// semInit(sab, offset, value) -> handle | -errno: sem_init(3) with pshared = 1 at that place.
Napi::Value SemInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle ref = Region(info, sizeof(sem_t), alignof(sem_t));
  if (!ref) return Result(env, -EINVAL);
  if (sem_init(Sem(ref), 1, info[2].As<Napi::Number>().Uint32Value()) == -1) return ErrnoResult(env);
  return Wrap(env, std::move(ref));
}

// semAttach(sab, offset) -> handle | -errno: a semaphore another process initialised there.
Napi::Value SemAttach(const Napi::CallbackInfo& info) {
  Handle ref = Region(info, sizeof(sem_t), alignof(sem_t));
  if (!ref) return Result(info.Env(), -EINVAL);
  return Wrap(info.Env(), std::move(ref));
}

// sem_wait(3), or with a deadline sem_clockwait on CLOCK_MONOTONIC (glibc 2.30+; elsewhere
// sem_timedwait, whose CLOCK_REALTIME deadline is the same instant converted at each try).
int SemWaitUntil(sem_t* s, const Deadline& d) {
  if (!d.timed) return sem_wait(s);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
  return sem_clockwait(s, CLOCK_MONOTONIC, &d.at);
#else
  struct timespec rt = d.Realtime();
  return sem_timedwait(s, &rt);
#endif
}

// semWait(h, timeoutMs (< 0: none), cb) -> wait id | -errno. sem_wait(3) fails with EINTR whenever a
// handler runs (SA_RESTART or not), so the body retries until the job is cancelled. Callback rc: 0,
// -ETIMEDOUT (the kernel ended the wait at its deadline), -ECANCELED, or another -errno.
Napi::Value SemWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Handle ref = Get(info[0]);
  if (!ref) return Result(env, -EBADF);
  Deadline deadline = Deadline::After(info[1].As<Napi::Number>().DoubleValue());
  auto job = std::make_unique<WaitJob>();
  sem_t* s = Sem(ref);
  job->keep_alive = std::move(ref);
  job->body = [s, deadline](WaitJob& self) -> int64_t {
    while (SemWaitUntil(s, deadline) == -1) {
      if (errno != EINTR) return -errno;
      if (self.Cancelled()) return -ECANCELED;
    }
    return 0;
  };
  return Napi::Number::New(env, static_cast<double>(SubmitWait(env, std::move(job), info[2].As<Napi::Function>())));
}

// semTrywait(h) -> 0 | -EAGAIN | -errno
Napi::Value SemTrywait(const Napi::CallbackInfo& info) {
  Handle ref = Get(info[0]);
  if (!ref) return Result(info.Env(), -EBADF);
  return Result(info.Env(), IPCKIT_RETRY(sem_trywait(Sem(ref))) == -1 ? -errno : 0);
}

// semPost(h) -> 0 | -errno (EOVERFLOW at SEM_VALUE_MAX)
Napi::Value SemPost(const Napi::CallbackInfo& info) {
  Handle ref = Get(info[0]);
  if (!ref) return Result(info.Env(), -EBADF);
  return Result(info.Env(), sem_post(Sem(ref)) == -1 ? -errno : 0);
}

// semGetvalue(h) -> value | -errno (glibc reports 0, never a negative count, while there are waiters)
Napi::Value SemGetvalue(const Napi::CallbackInfo& info) {
  Handle ref = Get(info[0]);
  if (!ref) return Result(info.Env(), -EBADF);
  int v;
  if (sem_getvalue(Sem(ref), &v) == -1) return ErrnoResult(info.Env());
  return Result(info.Env(), v);
}

// ---- System V semaphore sets -------------------------------------------------------------------

// semget(key, nsems, flags) -> id | -errno
Napi::Value Semget(const Napi::CallbackInfo& info) {
  key_t key = static_cast<key_t>(info[0].As<Napi::Number>().Int64Value());
  int n = info[1].As<Napi::Number>().Int32Value();
  int flags = info[2].As<Napi::Number>().Int32Value();
  int id = semget(key, n, flags);
  return Result(info.Env(), id == -1 ? -errno : id);
}

// The caller's Int32Array of [num, op, flags] triples as sembufs.
std::vector<struct sembuf> Ops(const Napi::Value& v) {
  auto arr = v.As<Napi::Int32Array>();
  std::vector<struct sembuf> ops(arr.ElementLength() / 3);
  for (size_t i = 0; i < ops.size(); i++) {
    ops[i].sem_num = static_cast<unsigned short>(arr[3 * i]);
    ops[i].sem_op = static_cast<short>(arr[3 * i + 1]);
    ops[i].sem_flg = static_cast<short>(arr[3 * i + 2]);
  }
  return ops;
}

// semop(id, ops) -> 0 | -errno. The caller sets IPC_NOWAIT on every op: this never blocks.
Napi::Value Semop(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  auto ops = Ops(info[1]);
  return Result(info.Env(), IPCKIT_RETRY(semop(id, ops.data(), ops.size())) == -1 ? -errno : 0);
}

// semopWait(id, ops, timeoutMs (< 0: none), cb) -> wait id | -errno: a blocking semop(2) on a waiter
// thread, or with a deadline semtimedop(2) given what is left of it at each try. All the operations
// happen atomically or none does, so an interrupted (EINTR) call changed nothing and is safe to retry.
// Callback rc: 0, -ETIMEDOUT (semtimedop's EAGAIN: the ops never wait with IPC_NOWAIT here),
// -ECANCELED, or another -errno.
Napi::Value SemopWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  Deadline deadline = Deadline::After(info[2].As<Napi::Number>().DoubleValue());
  auto job = std::make_unique<WaitJob>();
  job->body = [id, ops = Ops(info[1]), deadline](WaitJob& self) mutable -> int64_t {
    for (;;) {
      int rc;
      if (deadline.timed) {
        struct timespec left = deadline.Left();
        rc = semtimedop(id, ops.data(), ops.size(), &left);
      } else {
        rc = semop(id, ops.data(), ops.size());
      }
      if (rc == 0) return 0;
      if (deadline.timed && errno == EAGAIN) return -ETIMEDOUT;
      if (errno != EINTR) return -errno;
      if (self.Cancelled()) return -ECANCELED;
    }
  };
  return Napi::Number::New(env, static_cast<double>(SubmitWait(env, std::move(job), info[3].As<Napi::Function>())));
}

union semun {
  int val;
  struct semid_ds* buf;
  unsigned short* array;
};

int SemStat(int id, struct semid_ds* ds) {
  union semun arg;
  arg.buf = ds;
  return semctl(id, 0, IPC_STAT, arg);
}

// semctlStat(id) -> { count, key, uid, gid, cuid, cgid, mode, otime, ctime } | -errno
Napi::Value SemctlStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  struct semid_ds ds;
  if (SemStat(id, &ds) == -1) return ErrnoResult(env);
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  num("count", static_cast<double>(ds.sem_nsems));
  num("key", static_cast<uint32_t>(ds.sem_perm.__key));  // unsigned, as ipcs prints it
  num("uid", ds.sem_perm.uid);
  num("gid", ds.sem_perm.gid);
  num("cuid", ds.sem_perm.cuid);
  num("cgid", ds.sem_perm.cgid);
  num("mode", ds.sem_perm.mode);
  num("otime", static_cast<double>(ds.sem_otime));
  num("ctime", static_cast<double>(ds.sem_ctime));
  return o;
}

// semctlGetAll(id, count) -> number[] | -errno (GETALL). GETALL writes as many values as the set has,
// whatever the caller believes: `count` was the set's size when the caller opened it, but System V ids
// are reused (and root can choose the next one, kernel.sem_next_id), so a stale id may name a bigger set
// by now. The buffer is therefore sized from IPC_STAT just before the call, and the result has the
// set's own length. (Only a removal and re-creation under the same id in the microseconds between the
// two calls could still differ; ids are not reused that fast short of writing sem_next_id.)
Napi::Value SemctlGetAll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  struct semid_ds ds;
  if (SemStat(id, &ds) == -1) return ErrnoResult(env);
  size_t nsems = ds.sem_nsems;
  size_t room = std::max<size_t>(nsems, info[1].As<Napi::Number>().Uint32Value());
  std::vector<unsigned short> vals(room == 0 ? 1 : room);
  union semun arg;
  arg.array = vals.data();
  if (semctl(id, 0, GETALL, arg) == -1) return ErrnoResult(env);
  vals.resize(nsems);
  Napi::Array out = Napi::Array::New(env, vals.size());
  for (size_t i = 0; i < vals.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, vals[i]));
  return out;
}

// semctlSetVal(id, num, value) -> 0 | -errno (SETVAL; clears every process's undo entry for it)
Napi::Value SemctlSetVal(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  int num = info[1].As<Napi::Number>().Int32Value();
  union semun arg;
  arg.val = info[2].As<Napi::Number>().Int32Value();
  return Result(info.Env(), semctl(id, num, SETVAL, arg) == -1 ? -errno : 0);
}

// semctlGet(id, num, cmd) -> value | -errno, for GETVAL, GETPID, GETNCNT, GETZCNT.
Napi::Value SemctlGet(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  int num = info[1].As<Napi::Number>().Int32Value();
  int cmd = info[2].As<Napi::Number>().Int32Value();
  if (cmd != GETVAL && cmd != GETPID && cmd != GETNCNT && cmd != GETZCNT) return Result(info.Env(), -EINVAL);
  int rc = semctl(id, num, cmd);
  return Result(info.Env(), rc == -1 ? -errno : rc);
}

// semctlRemove(id) -> 0 | -errno (IPC_RMID: immediate; blocked semops fail with EIDRM)
Napi::Value SemctlRemove(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  return Result(info.Env(), semctl(id, 0, IPC_RMID) == -1 ? -errno : 0);
}

}  // namespace

void InitSemaphore(Napi::Env env, Napi::Object exports) {
  exports.Set("handleClose", Napi::Function::New(env, HandleClose));
  exports.Set("semOpen", Napi::Function::New(env, SemOpen));
  exports.Set("semUnlink", Napi::Function::New(env, SemUnlink));
  exports.Set("semInit", Napi::Function::New(env, SemInit));
  exports.Set("semAttach", Napi::Function::New(env, SemAttach));
  exports.Set("semWait", Napi::Function::New(env, SemWait));
  exports.Set("semTrywait", Napi::Function::New(env, SemTrywait));
  exports.Set("semPost", Napi::Function::New(env, SemPost));
  exports.Set("semGetvalue", Napi::Function::New(env, SemGetvalue));
  exports.Set("semget", Napi::Function::New(env, Semget));
  exports.Set("semop", Napi::Function::New(env, Semop));
  exports.Set("semopWait", Napi::Function::New(env, SemopWait));
  exports.Set("semctlStat", Napi::Function::New(env, SemctlStat));
  exports.Set("semctlGetAll", Napi::Function::New(env, SemctlGetAll));
  exports.Set("semctlSetVal", Napi::Function::New(env, SemctlSetVal));
  exports.Set("semctlGet", Napi::Function::New(env, SemctlGet));
  exports.Set("semctlRemove", Napi::Function::New(env, SemctlRemove));
  Napi::Object sizes = Napi::Object::New(env);
  sizes.Set("semaphore", Napi::Number::New(env, sizeof(sem_t)));
  sizes.Set("semaphoreAlign", Napi::Number::New(env, alignof(sem_t)));
  Napi::Object cmds = Napi::Object::New(env);
  cmds.Set("GETVAL", Napi::Number::New(env, GETVAL));
  cmds.Set("GETPID", Napi::Number::New(env, GETPID));
  cmds.Set("GETNCNT", Napi::Number::New(env, GETNCNT));
  cmds.Set("GETZCNT", Napi::Number::New(env, GETZCNT));
  cmds.Set("SEM_UNDO", Napi::Number::New(env, SEM_UNDO));
  cmds.Set("IPC_NOWAIT", Napi::Number::New(env, IPC_NOWAIT));
  sizes.Set("sysv", cmds);
  exports.Set("semaphoreLayout", sizes);
}

}  // namespace ipckit
