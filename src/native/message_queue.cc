// Message queues: POSIX (mq_overview(7)) and System V (msgget(2), msgsnd(2), msgrcv(2), msgctl(2)).
//
// POSIX descriptors are opened O_NONBLOCK: on Linux an mqd_t is a file descriptor that poll(2) reports
// readable when a message is queued and writable when there is room, so the TypeScript side waits for
// readiness on the event loop (fd_watch.cc) and then retries the non-blocking call. No thread, no timer.
//
// System V queues have no descriptor: msgrcv(2) and a msgsnd(2) on a full queue exist only as blocking
// calls, so they run on waiter threads (waiter.cc), cancelled by the SIGRTMAX interrupt. The loop thread
// first tries the call with IPC_NOWAIT (the common case of a message already being there costs no thread).
#include "addon.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace ipckit {

namespace {

// ---- POSIX ---------------------------------------------------------------------------------------

// mqOpen(name, flags, mode, maxMessages, maxMessageSize) -> fd | -errno. With maxMessages == 0 the
// queue gets the system defaults (fs.mqueue.msg_default / msgsize_default), as with a NULL attr.
Napi::Value MqOpen(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  mode_t mode = info[2].As<Napi::Number>().Uint32Value();
  long maxmsg = info[3].As<Napi::Number>().Int64Value();
  long msgsize = info[4].As<Napi::Number>().Int64Value();
  struct mq_attr attr {};
  attr.mq_maxmsg = maxmsg;
  attr.mq_msgsize = msgsize;
  mqd_t q = IPCKIT_RETRY(mq_open(name.c_str(), flags, mode, maxmsg > 0 ? &attr : nullptr));
  return Result(info.Env(), q == static_cast<mqd_t>(-1) ? -errno : q);
}

// mqUnlink(name) -> 0 | -errno
Napi::Value MqUnlink(const Napi::CallbackInfo& info) {
  std::string name = info[0].As<Napi::String>();
  return Result(info.Env(), mq_unlink(name.c_str()) == -1 ? -errno : 0);
}

// mqClose(fd) -> 0 | -errno (not retried on EINTR: the descriptor is gone either way, see close(2)).
Napi::Value MqClose(const Napi::CallbackInfo& info) {
  mqd_t q = info[0].As<Napi::Number>().Int32Value();
  int rc = mq_close(q);
  return Result(info.Env(), rc == -1 && errno != EINTR ? -errno : 0);
}

// mqSend(fd, data, priority) -> 0 | -errno (EAGAIN when full: the descriptor is non-blocking).
Napi::Value MqSend(const Napi::CallbackInfo& info) {
  mqd_t q = info[0].As<Napi::Number>().Int32Value();
  auto data = info[1].As<Napi::Uint8Array>();
  unsigned prio = info[2].As<Napi::Number>().Uint32Value();
  // An empty message (the channel's goodbye) may come as a view with no storage: mq_send's buffer is
  // declared nonnull, so give it a valid address even for 0 bytes (UBSan: nonnull-attribute).
  static const char kEmpty = 0;
  const char* bytes = data.ByteLength() > 0 ? reinterpret_cast<const char*>(data.Data()) : &kEmpty;
  int rc = IPCKIT_RETRY(mq_send(q, bytes, data.ByteLength(), prio));
  return Result(info.Env(), rc == -1 ? -errno : 0);
}

// ofdLock(fd, offset) -> 0 | -errno (EAGAIN when taken): an exclusive open-file-description lock on one
// byte of the queue (fcntl(2) F_OFD_SETLK; mqueue inodes take them), without waiting. It belongs to
// this descriptor, and the kernel drops it when the descriptor closes or its process dies: a liveness
// token nobody has to clean up.
Napi::Value OfdLock(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = info[1].As<Napi::Number>().Int64Value();
  fl.l_len = 1;
  int rc = IPCKIT_RETRY(fcntl(fd, F_OFD_SETLK, &fl));
  return Result(info.Env(), rc == -1 ? (errno == EACCES ? -EAGAIN : -errno) : 0);
}

// mqReceive(fd, buffer, priorityOut: Uint32Array) -> length | -errno. The buffer must be at least the
// queue's mq_msgsize (EMSGSIZE otherwise); the caller allocates it once per queue.
Napi::Value MqReceive(const Napi::CallbackInfo& info) {
  mqd_t q = info[0].As<Napi::Number>().Int32Value();
  auto buf = info[1].As<Napi::Uint8Array>();
  auto prio_out = info[2].As<Napi::Uint32Array>();
  unsigned prio = 0;
  ssize_t n = IPCKIT_RETRY(mq_receive(q, reinterpret_cast<char*>(buf.Data()), buf.ByteLength(), &prio));
  if (n == -1) return ErrnoResult(info.Env());
  prio_out[0] = prio;
  return Result(info.Env(), static_cast<double>(n));
}

// mqGetattr(fd) -> [flags, maxmsg, msgsize, curmsgs] | -errno
Napi::Value MqGetattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  mqd_t q = info[0].As<Napi::Number>().Int32Value();
  struct mq_attr attr {};
  if (mq_getattr(q, &attr) == -1) return ErrnoResult(env);
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(attr.mq_flags)));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(attr.mq_maxmsg)));
  out.Set(2u, Napi::Number::New(env, static_cast<double>(attr.mq_msgsize)));
  out.Set(3u, Napi::Number::New(env, static_cast<double>(attr.mq_curmsgs)));
  return out;
}

// ---- System V ------------------------------------------------------------------------------------

// The buffer msgsnd/msgrcv want: a long type followed by the text (msgop(2)).
struct MsgBuf {
  std::vector<uint8_t> bytes;
  void Reserve(size_t text) {
    if (bytes.size() < sizeof(long) + text) bytes.resize(sizeof(long) + text);
  }
  void* Data() { return bytes.data(); }
  long Type() const {
    long t;
    std::memcpy(&t, bytes.data(), sizeof t);
    return t;
  }
  void SetType(long t) { std::memcpy(bytes.data(), &t, sizeof t); }
  uint8_t* Text() { return bytes.data() + sizeof(long); }
};

// One per thread: the loop thread of each environment uses its own.
thread_local MsgBuf tls_buf;

// ftok(path, id) -> key | -errno
Napi::Value Ftok(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>();
  int id = info[1].As<Napi::Number>().Int32Value();
  key_t k = ftok(path.c_str(), id);
  return Result(info.Env(), k == -1 ? -errno : static_cast<double>(static_cast<uint32_t>(k)));
}

// msgget(key, flags) -> id | -errno. The key is passed as an unsigned 32-bit value (key_t is an int).
Napi::Value Msgget(const Napi::CallbackInfo& info) {
  key_t key = static_cast<key_t>(info[0].As<Napi::Number>().Uint32Value());
  int flags = info[1].As<Napi::Number>().Int32Value();
  int id = msgget(key, flags);
  return Result(info.Env(), id == -1 ? -errno : id);
}

// msgsnd(id, type, data, flags) -> 0 | -errno. The caller passes IPC_NOWAIT on the loop thread.
Napi::Value Msgsnd(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  long type = info[1].As<Napi::Number>().Int64Value();
  auto data = info[2].As<Napi::Uint8Array>();
  int flags = info[3].As<Napi::Number>().Int32Value();
  tls_buf.Reserve(data.ByteLength());
  tls_buf.SetType(type);
  if (data.ByteLength() > 0) std::memcpy(tls_buf.Text(), data.Data(), data.ByteLength());
  int rc = IPCKIT_RETRY(msgsnd(id, tls_buf.Data(), data.ByteLength(), flags));
  return Result(info.Env(), rc == -1 ? -errno : 0);
}

// msgsndWait(id, type, data, flags, cb) -> wait id: a msgsnd that may block (full queue) on a waiter
// thread. The bytes are copied into the job first: the JS buffer may change or go while it waits.
Napi::Value MsgsndWait(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  long type = info[1].As<Napi::Number>().Int64Value();
  auto data = info[2].As<Napi::Uint8Array>();
  int flags = info[3].As<Napi::Number>().Int32Value() & ~IPC_NOWAIT;
  auto msg = std::make_shared<MsgBuf>();
  msg->Reserve(data.ByteLength());
  msg->SetType(type);
  if (data.ByteLength() > 0) std::memcpy(msg->Text(), data.Data(), data.ByteLength());
  size_t len = data.ByteLength();
  auto job = std::make_unique<WaitJob>();
  job->body = [id, flags, len, msg](WaitJob& self) -> int64_t {
    for (;;) {
      if (msgsnd(id, msg->Data(), len, flags) == 0) return 0;
      if (errno != EINTR) return -errno;
      if (self.Cancelled()) return -ECANCELED;
    }
  };
  return Napi::Number::New(info.Env(), SubmitWait(info.Env(), std::move(job), info[4].As<Napi::Function>()));
}

// msgrcv(id, maxSize, type, flags) -> [type, Buffer] | -errno. Loop-thread variant: the caller passes
// IPC_NOWAIT (and MSG_NOERROR if asked).
Napi::Value Msgrcv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  size_t max = info[1].As<Napi::Number>().Uint32Value();
  long type = info[2].As<Napi::Number>().Int64Value();
  int flags = info[3].As<Napi::Number>().Int32Value();
  tls_buf.Reserve(max);
  ssize_t n = IPCKIT_RETRY(msgrcv(id, tls_buf.Data(), max, type, flags));
  if (n == -1) return ErrnoResult(env);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(tls_buf.Type())));
  out.Set(1u, Napi::Buffer<uint8_t>::Copy(env, tls_buf.Text(), static_cast<size_t>(n)));
  return out;
}

// msgrcvWait(id, maxSize, type, flags, cb) -> wait id. cb(rc, payload, type): a blocking msgrcv on a
// waiter thread. EINTR is retried until the job is cancelled (SIGRTMAX then makes it -ECANCELED); a
// message the call already took is always delivered, never dropped by a late cancellation.
Napi::Value MsgrcvWait(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  size_t max = info[1].As<Napi::Number>().Uint32Value();
  long type = info[2].As<Napi::Number>().Int64Value();
  int flags = info[3].As<Napi::Number>().Int32Value() & ~IPC_NOWAIT;
  auto job = std::make_unique<WaitJob>();
  job->body = [id, max, type, flags](WaitJob& self) -> int64_t {
    MsgBuf buf;
    buf.Reserve(max);
    for (;;) {
      ssize_t n = msgrcv(id, buf.Data(), max, type, flags);
      if (n >= 0) {
        self.payload.assign(buf.Text(), buf.Text() + n);
        self.has_payload = true;
        self.aux = static_cast<double>(buf.Type());
        return n;
      }
      if (errno != EINTR) return -errno;
      if (self.Cancelled()) return -ECANCELED;
    }
  };
  return Napi::Number::New(info.Env(), SubmitWait(info.Env(), std::move(job), info[4].As<Napi::Function>()));
}

// msgrcvBatch(id, maxSize, type, flags, maxCount) -> [count, Buffer, Float64Array] | -errno. Loop-thread
// only (IPC_NOWAIT is forced): up to maxCount msgrcv(2) calls in one crossing into native code, stopping
// at the first that finds nothing (ENOMSG) or fails. The Buffer holds the records back to back, each the
// long type msgrcv wrote then its text; the Float64Array holds [type, length] per record. An error after
// the first message ends the batch without being reported: the next call meets it again (E2BIG leaves
// its message queued). -errno only when the first call fails (-ENOMSG: nothing there).
Napi::Value MsgrcvBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  size_t max = info[1].As<Napi::Number>().Uint32Value();
  long type = info[2].As<Napi::Number>().Int64Value();
  int flags = info[3].As<Napi::Number>().Int32Value() | IPC_NOWAIT;
  uint32_t count = info[4].As<Napi::Number>().Uint32Value();
  thread_local std::vector<uint8_t> records;
  thread_local std::vector<double> meta;
  meta.clear();
  size_t off = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (records.size() < off + sizeof(long) + max) records.resize(off + sizeof(long) + max);
    ssize_t n = IPCKIT_RETRY(msgrcv(id, records.data() + off, max, type, flags));
    if (n == -1) {
      if (i == 0) return ErrnoResult(env);
      break;
    }
    long t;
    std::memcpy(&t, records.data() + off, sizeof t);
    meta.push_back(static_cast<double>(t));
    meta.push_back(static_cast<double>(off + sizeof(long)));
    meta.push_back(static_cast<double>(n));
    off += sizeof(long) + static_cast<size_t>(n);
  }
  auto m = Napi::Float64Array::New(env, meta.size());
  std::memcpy(m.Data(), meta.data(), meta.size() * sizeof(double));
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(meta.size() / 3)));
  out.Set(1u, Napi::Buffer<uint8_t>::Copy(env, records.data(), off));
  out.Set(2u, m);
  return out;
}

// msgctlStat(id) -> { key, uid, gid, cuid, cgid, mode, qnum, cbytes, qbytes, lspid, lrpid, stime,
// rtime, ctime } | -errno (IPC_STAT).
Napi::Value MsgctlStat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int id = info[0].As<Napi::Number>().Int32Value();
  struct msqid_ds ds {};
  if (msgctl(id, IPC_STAT, &ds) == -1) return ErrnoResult(env);
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](const char* k, double v) { o.Set(k, Napi::Number::New(env, v)); };
  num("key", static_cast<uint32_t>(ds.msg_perm.__key));
  num("uid", ds.msg_perm.uid);
  num("gid", ds.msg_perm.gid);
  num("cuid", ds.msg_perm.cuid);
  num("cgid", ds.msg_perm.cgid);
  num("mode", ds.msg_perm.mode & 0777);
  num("qnum", static_cast<double>(ds.msg_qnum));
  num("cbytes", static_cast<double>(ds.__msg_cbytes));
  num("qbytes", static_cast<double>(ds.msg_qbytes));
  num("lspid", ds.msg_lspid);
  num("lrpid", ds.msg_lrpid);
  num("stime", static_cast<double>(ds.msg_stime));
  num("rtime", static_cast<double>(ds.msg_rtime));
  num("ctime", static_cast<double>(ds.msg_ctime));
  return o;
}

// msgctlSetQbytes(id, qbytes) -> 0 | -errno (IPC_SET of msg_qbytes; raising it above kernel.msgmnb
// needs CAP_SYS_RESOURCE, EPERM otherwise).
Napi::Value MsgctlSetQbytes(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  double qbytes = info[1].As<Napi::Number>().DoubleValue();
  struct msqid_ds ds {};
  if (msgctl(id, IPC_STAT, &ds) == -1) return ErrnoResult(info.Env());
  ds.msg_qbytes = static_cast<msglen_t>(qbytes);
  return Result(info.Env(), msgctl(id, IPC_SET, &ds) == -1 ? -errno : 0);
}

// msgctlRmid(id) -> 0 | -errno. Blocked senders and receivers wake with EIDRM.
Napi::Value MsgctlRmid(const Napi::CallbackInfo& info) {
  int id = info[0].As<Napi::Number>().Int32Value();
  return Result(info.Env(), msgctl(id, IPC_RMID, nullptr) == -1 ? -errno : 0);
}

}  // namespace

void InitMessageQueue(Napi::Env env, Napi::Object exports) {
  exports.Set("mqOpen", Napi::Function::New(env, MqOpen));
  exports.Set("mqUnlink", Napi::Function::New(env, MqUnlink));
  exports.Set("mqClose", Napi::Function::New(env, MqClose));
  exports.Set("ofdLock", Napi::Function::New(env, OfdLock));
  exports.Set("mqSend", Napi::Function::New(env, MqSend));
  exports.Set("mqReceive", Napi::Function::New(env, MqReceive));
  exports.Set("mqGetattr", Napi::Function::New(env, MqGetattr));
  exports.Set("ftok", Napi::Function::New(env, Ftok));
  exports.Set("msgget", Napi::Function::New(env, Msgget));
  exports.Set("msgsnd", Napi::Function::New(env, Msgsnd));
  exports.Set("msgsndWait", Napi::Function::New(env, MsgsndWait));
  exports.Set("msgrcv", Napi::Function::New(env, Msgrcv));
  exports.Set("msgrcvWait", Napi::Function::New(env, MsgrcvWait));
  exports.Set("msgrcvBatch", Napi::Function::New(env, MsgrcvBatch));
  exports.Set("msgctlStat", Napi::Function::New(env, MsgctlStat));
  exports.Set("msgctlSetQbytes", Napi::Function::New(env, MsgctlSetQbytes));
  exports.Set("msgctlRmid", Napi::Function::New(env, MsgctlRmid));

  Napi::Object c = Napi::Object::New(env);
  c.Set("IPC_CREAT", IPC_CREAT);
  c.Set("IPC_EXCL", IPC_EXCL);
  c.Set("IPC_NOWAIT", IPC_NOWAIT);
  c.Set("IPC_PRIVATE", static_cast<double>(IPC_PRIVATE));
  c.Set("MSG_NOERROR", MSG_NOERROR);
  c.Set("O_CREAT", O_CREAT);
  c.Set("O_EXCL", O_EXCL);
  c.Set("O_RDWR", O_RDWR);
  c.Set("O_RDONLY", O_RDONLY);
  c.Set("O_WRONLY", O_WRONLY);
  c.Set("O_NONBLOCK", O_NONBLOCK);
  c.Set("O_CLOEXEC", O_CLOEXEC);
  exports.Set("mqConstants", c);
}

}  // namespace ipckit
