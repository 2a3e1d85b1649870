// AF_UNIX sockets: socket(2), socketpair(2), bind(2), listen(2), accept4(2), connect(2), sendmsg(2) and
// recvmsg(2) with SCM_RIGHTS / SCM_CREDENTIALS (unix(7), cmsg(3)), and the socket options ipckit needs.
// Every descriptor is created non-blocking and close-on-exec: readiness comes from the event loop
// (Readiness in src/internal/wait.ts), never from a thread. Addresses arrive as the raw bytes of
// sun_path (a leading NUL marks a Linux abstract name); the TypeScript caller validated their length.
#include "addon.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace ipckit {

namespace {

// SCM_MAX_FD (include/net/scm.h): the kernel refuses more descriptors than this in one message.
constexpr int kMaxFds = 253;

int TypeOf(int t) {
  switch (t) {
    case 1: return SOCK_STREAM;
    case 2: return SOCK_DGRAM;
    default: return SOCK_SEQPACKET;
  }
}

// Fills a sockaddr_un from the sun_path bytes. Empty bytes give the bare family: bind(2) with that
// length asks Linux to autobind an abstract name (unix(7), "Autobind feature").
bool FillAddr(const Napi::Value& v, sockaddr_un* addr, socklen_t* len) {
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  auto bytes = v.As<Napi::Uint8Array>();
  size_t n = bytes.ByteLength();
  if (n > sizeof addr->sun_path) return false;
  if (n == 0) {
    *len = sizeof(sa_family_t);
    return true;
  }
  std::memcpy(addr->sun_path, bytes.Data(), n);
  bool abstract = bytes.Data()[0] == 0;
  // A path carries its terminating NUL in the length when it fits; an abstract name is exactly its bytes.
  size_t extra = (!abstract && n < sizeof addr->sun_path) ? 1 : 0;
  *len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + n + extra);
  return true;
}

// socket(type) -> fd | -errno
Napi::Value Socket(const Napi::CallbackInfo& info) {
  int type = TypeOf(info[0].As<Napi::Number>().Int32Value());
  int fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return Result(info.Env(), fd == -1 ? -errno : fd);
}

// socketpair(type) -> [fd, fd] | -errno
Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int type = TypeOf(info[0].As<Napi::Number>().Int32Value());
  int fds[2];
  if (socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == -1) return ErrnoResult(env);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

// fchmod(fd, mode) -> 0 | -errno. On a socket before bind(2) this sets the mode the socket file is
// created with (Linux: unix_bind takes SOCK_INODE(sock)->i_mode & ~umask), so the file is never more
// open than asked, not even for an instant.
Napi::Value Fchmod(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  return Result(info.Env(), fchmod(fd, mode) == -1 ? -errno : 0);
}

// bind(fd, addr) -> 0 | -errno
Napi::Value Bind(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  sockaddr_un addr;
  socklen_t len;
  if (!FillAddr(info[1], &addr, &len)) return Result(info.Env(), -ENAMETOOLONG);
  return Result(info.Env(), bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == -1 ? -errno : 0);
}

// listen(fd, backlog) -> 0 | -errno
Napi::Value Listen(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int backlog = info[1].As<Napi::Number>().Int32Value();
  return Result(info.Env(), listen(fd, backlog) == -1 ? -errno : 0);
}

// accept4(fd) -> fd | -errno (the new descriptor non-blocking and close-on-exec, atomically)
Napi::Value Accept(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int c = IPCKIT_RETRY(accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  return Result(info.Env(), c == -1 ? -errno : c);
}

// connect(fd, addr) -> 0 | -errno. A non-blocking AF_UNIX connect either completes at once or fails
// (EAGAIN when the listener's backlog is full): there is no EINPROGRESS for this family. EINTR is not
// retried by calling connect again (that would report EALREADY/EISCONN); on AF_UNIX it does not occur
// with a non-blocking socket.
Napi::Value Connect(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  sockaddr_un addr;
  socklen_t len;
  if (!FillAddr(info[1], &addr, &len)) return Result(info.Env(), -ENAMETOOLONG);
  return Result(info.Env(), connect(fd, reinterpret_cast<sockaddr*>(&addr), len) == -1 ? -errno : 0);
}

// shutdown(fd, how) -> 0 | -errno
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int how = info[1].As<Napi::Number>().Int32Value();
  return Result(info.Env(), shutdown(fd, how) == -1 ? -errno : 0);
}

// sendmsg(fd, data, offset, length, fds: number[] | null, to: Uint8Array | null) -> bytes sent | -errno.
// MSG_NOSIGNAL: a vanished peer is EPIPE, never SIGPIPE. The descriptors ride on this one call; a
// stream socket delivers them with the first byte of it.
//
// The descriptors are read first, and the data's pointer and length only after: reading an array's
// elements can run JavaScript (getters, proxies), which could detach or shrink the data's buffer, and a
// pointer taken before would then send freed memory.
Napi::Value Sendmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  size_t off = info[2].As<Napi::Number>().Uint32Value();
  size_t len = info[3].As<Napi::Number>().Uint32Value();

  msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (info[4].IsArray()) {
    auto arr = info[4].As<Napi::Array>();
    uint32_t n = arr.Length();
    if (n > static_cast<uint32_t>(kMaxFds)) return Result(env, -ETOOMANYREFS);
    if (n > 0) {
      std::memset(control, 0, sizeof control);
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * n);
      int* out = reinterpret_cast<int*>(CMSG_DATA(c));
      for (uint32_t i = 0; i < n; i++) out[i] = arr.Get(i).As<Napi::Number>().Int32Value();
    }
  }

  sockaddr_un addr;
  socklen_t addrlen;
  if (info[5].IsTypedArray()) {
    if (!FillAddr(info[5], &addr, &addrlen)) return Result(env, -ENAMETOOLONG);
    msg.msg_name = &addr;
    msg.msg_namelen = addrlen;
  }

  // No JavaScript runs from here to the call.
  auto data = info[1].As<Napi::Uint8Array>();
  if (off > data.ByteLength() || len > data.ByteLength() - off) return Result(env, -EINVAL);
  iovec iov;
  iov.iov_base = data.Data() + off;
  iov.iov_len = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t rc = IPCKIT_RETRY(sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT));
  return Result(env, rc == -1 ? -errno : static_cast<double>(rc));
}

// What one recvmsg(2) brought besides its bytes.
struct Received {
  int flags;    // msg_flags, with MSG_CTRUNC also set when descriptors beyond maxFds were closed here
  int nfds;     // descriptors stored
  bool creds;   // SCM_CREDENTIALS came
  ucred cred;
  size_t alen;  // sender address bytes in sun_path (0 = unnamed)
};

// One non-blocking recvmsg of up to `len` bytes into `data`: descriptors (at most maxFds) into
// fdsOut, the sender's address into *addr. -> bytes (the real length with MSG_TRUNC) | -errno.
// MSG_CMSG_CLOEXEC: received descriptors are close-on-exec from the moment they exist in this process.
// MSG_TRUNC: for datagrams the result is the real length even when it did not fit (unix(7)).
ssize_t RecvOne(int fd, void* data, size_t len, int maxFds, int truncFlag, int32_t* fdsOut, sockaddr_un* addr, Received* r) {
  iovec iov;
  iov.iov_base = data;
  iov.iov_len = len;
  std::memset(addr, 0, sizeof *addr);
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds) + CMSG_SPACE(sizeof(ucred))];
  msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_name = addr;
  msg.msg_namelen = sizeof *addr;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  // Room for maxFds descriptors (and credentials): more descriptors than that set MSG_CTRUNC, and the
  // kernel closes the ones that did not fit (scm_detach_fds), so nothing leaks into this process.
  msg.msg_controllen = (maxFds > 0 ? CMSG_SPACE(sizeof(int) * maxFds) : 0) + CMSG_SPACE(sizeof(ucred));

  ssize_t rc = IPCKIT_RETRY(recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT | truncFlag));
  if (rc == -1) return -errno;

  r->flags = msg.msg_flags;
  r->nfds = 0;
  r->creds = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const int* in = reinterpret_cast<const int*>(CMSG_DATA(c));
      for (size_t i = 0; i < n; i++) {
        int rfd;
        std::memcpy(&rfd, in + i, sizeof rfd);
        // Never drop a descriptor on the floor: one beyond the caller's room is closed here.
        if (r->nfds < maxFds) {
          fdsOut[r->nfds++] = rfd;
        } else {
          close(rfd);
          r->flags |= MSG_CTRUNC;  // reported like the kernel's own truncation
        }
      }
    } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      std::memcpy(&r->cred, CMSG_DATA(c), sizeof r->cred);
      r->creds = true;
    }
  }
  r->alen = msg.msg_namelen > offsetof(sockaddr_un, sun_path) ? msg.msg_namelen - offsetof(sockaddr_un, sun_path) : 0;
  if (r->alen > sizeof addr->sun_path) r->alen = sizeof addr->sun_path;
  return rc;
}

// recvmsgBatch(fd, buf, meta: Int32Array, addrs: Uint8Array, maxFds, records, maxRecords, chunk, headroom)
//   -> records received (>= 1) | -errno of the first recvmsg (EAGAIN: nothing to read).
// Drains the socket in one call into the addon (`records`: a dgram or seqpacket socket, read with
// MSG_TRUNC; false: a stream socket): recvmsg(2) again and again (RecvOne), each record (a datagram
// or seqpacket record; a read on a stream socket) placed right after the previous one in `buf`
// (records 8-byte aligned, stream reads back to back), until the socket says EAGAIN, `maxRecords` were
// read, or fewer than `headroom` bytes of `buf` are left (each recvmsg is offered min(chunk, what is
// left); a datagram socket passes chunk = headroom = the largest record it takes, so a record is never
// cut short for want of room). A batch also ends after a record that carried descriptors or was cut
// (MSG_TRUNC, MSG_CTRUNC), after a read of 0 bytes (end of stream, or an empty record), and on a stream
// socket after a short read (the socket is empty): the descriptors of a batch therefore all belong to
// its last record. An error after the first record ends the batch quietly; the next call reports it.
// meta on return: [0] descriptors of the last record, [1] 1 when the socket is known to be empty now
// (EAGAIN, or a short stream read), [8..8+maxFds) the descriptors; from kBatchRecords, per record i
// at kBatchRecords + 8i: offset in buf, bytes (the real length with MSG_TRUNC), msg_flags, address
// bytes (0 = unnamed), credentials present, pid, uid, gid. Record i's address is at
// addrs[i * sizeof(sun_path)].
constexpr int kBatchRecords = 8 + kMaxFds + 3;  // 264: the fds area, rounded up to 8

Napi::Value RecvmsgBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto buf = info[1].As<Napi::Uint8Array>();
  auto meta = info[2].As<Napi::Int32Array>();
  auto addrs = info[3].As<Napi::Uint8Array>();
  int maxFds = info[4].As<Napi::Number>().Int32Value();
  int truncFlag = info[5].ToBoolean() ? MSG_TRUNC : 0;
  int maxRecords = info[6].As<Napi::Number>().Int32Value();
  size_t chunk = info[7].As<Napi::Number>().Uint32Value();
  size_t headroom = info[8].As<Napi::Number>().Uint32Value();
  constexpr size_t kPath = sizeof(sockaddr_un{}.sun_path);
  if (maxFds < 0 || maxFds > kMaxFds || maxRecords < 1 || chunk == 0 ||
      meta.ElementLength() < static_cast<size_t>(kBatchRecords + 8 * maxRecords) ||
      addrs.ByteLength() < kPath * static_cast<size_t>(maxRecords)) {
    return Result(env, -EINVAL);
  }
  // Records keep their boundaries (dgram, seqpacket) exactly when the caller asks for MSG_TRUNC.
  bool stream = truncFlag == 0;

  uint8_t* base = buf.Data();
  size_t cap = buf.ByteLength();
  int32_t* m = meta.Data();
  uint8_t* addrOut = addrs.Data();
  m[0] = 0;
  m[1] = 0;
  size_t off = 0;
  int count = 0;
  while (count < maxRecords) {
    size_t room = cap - off;
    if (room == 0 || (count > 0 && room < headroom)) break;
    size_t offered = room < chunk ? room : chunk;
    sockaddr_un addr;
    Received r;
    ssize_t rc = RecvOne(fd, base + off, offered, maxFds, truncFlag, m + 8, &addr, &r);
    if (rc < 0) {
      if (count == 0) return Result(env, static_cast<double>(rc));
      if (rc == -EAGAIN) m[1] = 1;
      break;  // drained, or an error that the next call reports
    }
    int32_t* e = m + kBatchRecords + 8 * count;
    e[0] = static_cast<int32_t>(off);
    e[1] = static_cast<int32_t>(rc);
    e[2] = r.flags;
    e[3] = static_cast<int32_t>(r.alen);
    e[4] = r.creds ? 1 : 0;
    if (r.creds) {
      e[5] = r.cred.pid;
      e[6] = static_cast<int32_t>(r.cred.uid);
      e[7] = static_cast<int32_t>(r.cred.gid);
    }
    std::memcpy(addrOut + kPath * count, addr.sun_path, r.alen);
    count++;
    size_t got = static_cast<size_t>(rc) < offered ? static_cast<size_t>(rc) : offered;
    if (r.nfds > 0 || (r.flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || rc == 0) {
      m[0] = r.nfds;
      break;
    }
    if (stream && got < offered) {
      m[1] = 1;  // a short stream read emptied the socket
      break;
    }
    // Stream reads follow each other byte for byte (the caller may join them); records are aligned.
    off += stream ? got : (got + 7) & ~static_cast<size_t>(7);
    if (off > cap) break;
  }
  return Result(env, count);
}

// getPeerCred(fd) -> [pid, uid, gid] | -errno (SO_PEERCRED: the credentials at connect/socketpair time)
Napi::Value GetPeerCred(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) return ErrnoResult(env);
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, Napi::Number::New(env, cr.pid));
  out.Set(1u, Napi::Number::New(env, cr.uid));
  out.Set(2u, Napi::Number::New(env, cr.gid));
  return out;
}

// getsockoptInt(fd, level, name) -> value | -errno
Napi::Value GetsockoptInt(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) == -1) return ErrnoResult(info.Env());
  return Result(info.Env(), v);
}

// setsockoptInt(fd, level, name, value) -> 0 | -errno
Napi::Value SetsockoptInt(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int level = info[1].As<Napi::Number>().Int32Value();
  int name = info[2].As<Napi::Number>().Int32Value();
  int v = info[3].As<Napi::Number>().Int32Value();
  return Result(info.Env(), setsockopt(fd, level, name, &v, sizeof v) == -1 ? -errno : 0);
}

// getsockname(fd, out) -> address bytes written (0 = unnamed) | -errno
Napi::Value Getsockname(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  auto out = info[1].As<Napi::Uint8Array>();
  sockaddr_un addr;
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == -1) return ErrnoResult(info.Env());
  size_t alen = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
  if (alen > out.ByteLength()) alen = out.ByteLength();
  std::memcpy(out.Data(), addr.sun_path, alen);
  return Result(info.Env(), static_cast<double>(alen));
}

}  // namespace

void InitSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair));
  exports.Set("fchmod", Napi::Function::New(env, Fchmod));
  exports.Set("bind", Napi::Function::New(env, Bind));
  exports.Set("listen", Napi::Function::New(env, Listen));
  exports.Set("accept", Napi::Function::New(env, Accept));
  exports.Set("connect", Napi::Function::New(env, Connect));
  exports.Set("shutdown", Napi::Function::New(env, Shutdown));
  exports.Set("sendmsg", Napi::Function::New(env, Sendmsg));
  exports.Set("recvmsgBatch", Napi::Function::New(env, RecvmsgBatch));
  exports.Set("getPeerCred", Napi::Function::New(env, GetPeerCred));
  exports.Set("getsockoptInt", Napi::Function::New(env, GetsockoptInt));
  exports.Set("setsockoptInt", Napi::Function::New(env, SetsockoptInt));
  exports.Set("getsockname", Napi::Function::New(env, Getsockname));

  Napi::Object k = Napi::Object::New(env);
  k.Set("SOL_SOCKET", Napi::Number::New(env, SOL_SOCKET));
  k.Set("SO_SNDBUF", Napi::Number::New(env, SO_SNDBUF));
  k.Set("SO_RCVBUF", Napi::Number::New(env, SO_RCVBUF));
  k.Set("SO_PASSCRED", Napi::Number::New(env, SO_PASSCRED));
  k.Set("SO_TYPE", Napi::Number::New(env, SO_TYPE));
  k.Set("SO_DOMAIN", Napi::Number::New(env, SO_DOMAIN));
  k.Set("AF_UNIX", Napi::Number::New(env, AF_UNIX));
  k.Set("SO_ERROR", Napi::Number::New(env, SO_ERROR));
  k.Set("MSG_TRUNC", Napi::Number::New(env, MSG_TRUNC));
  k.Set("MSG_CTRUNC", Napi::Number::New(env, MSG_CTRUNC));
  k.Set("SHUT_RD", Napi::Number::New(env, SHUT_RD));
  k.Set("SHUT_WR", Napi::Number::New(env, SHUT_WR));
  k.Set("SHUT_RDWR", Napi::Number::New(env, SHUT_RDWR));
  k.Set("SCM_MAX_FD", Napi::Number::New(env, kMaxFds));
  k.Set("BATCH_RECORDS", Napi::Number::New(env, kBatchRecords));
  k.Set("SUN_PATH_MAX", static_cast<double>(sizeof(sockaddr_un{}.sun_path)));
  exports.Set("socketConstants", k);
}

}  // namespace ipckit
