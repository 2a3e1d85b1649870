/*
 * ipckit_ring.h — a header-only C99 peer for ipckit's shared-memory ring channels (`shm+unix:`, `shm:`,
 * and the channel of a child started by `fork()`/`spawn()`), written from docs/ring-format.md. Linux,
 * little-endian (x86-64, arm64), GCC or Clang (the `__atomic` builtins stand in for C11 atomics).
 *
 * It is the connector's half: it joins a Node (or Python) listener, which made the segment. Everything
 * the listener sends or writes in shared memory is checked before it is used: the hello and its three
 * descriptors (a memfd sealed against shrinking and growing, two eventfds), the segment and ring headers,
 * the listener's positions (range, alignment) and every record length (range, against the published bytes
 * and the end of the data area), wrap markers. A violation is IPCKIT_CORRUPT; it never makes this side
 * read or write outside the mapping, and the seals mean the mapping can never shrink under it (SIGBUS).
 *
 *   #include "ipckit_ring.h"           // first, or build with -D_GNU_SOURCE
 *   ipckit_channel ch;
 *   int rc = ipckit_connect(&ch, "/run/app.sock");   // or "@abstract", or ipckit_from_parent(&ch)
 *   if (rc < 0) { fprintf(stderr, "%s\n", ipckit_strerror(rc)); return 1; }
 *   ipckit_send(&ch, "hi", 2, -1);
 *   char buf[4096];
 *   long n = ipckit_receive(&ch, buf, sizeof buf, 5000);  // bytes, or IPCKIT_END / an error
 *   ipckit_close(&ch);
 *
 * Waits take a timeout in milliseconds (-1: none). A wait parks in poll(2) on this side's eventfd and on
 * the channel socket, whose end is the peer's death (docs/ring-format.md, "Waiting"): no thread, no pid
 * polling, no signal. One channel is used by one thread at a time.
 *
 * The functions are `static inline`: include the header in as many files as you like.
 */
#ifndef IPCKIT_RING_H
#define IPCKIT_RING_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmsg/CMSG, SOCK_CLOEXEC, MSG_NOSIGNAL, F_GET_SEALS under -std=c99 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef F_GET_SEALS /* older libc headers: the values of <linux/fcntl.h> */
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#endif

/* Results. Sizes are >= 0; everything else is one of these (ipckit's error codes in docs/errors.md). */
#define IPCKIT_END (-1)         /* the peer closed its side on purpose and everything it sent was read */
#define IPCKIT_PEER_DEAD (-2)   /* ERR_IPC_PEER_DEAD: the peer's process is gone, or it closed (send) */
#define IPCKIT_CORRUPT (-3)     /* ERR_IPC_CORRUPT: the peer sent or wrote something the format forbids */
#define IPCKIT_TIMEOUT (-4)     /* ERR_IPC_TIMEOUT */
#define IPCKIT_TOO_LARGE (-5)   /* ERR_IPC_MESSAGE_TOO_LARGE (receive: the message stays, ipckit_peek it) */
#define IPCKIT_UNSUPPORTED (-6) /* ERR_IPC_UNSUPPORTED: another handshake or segment version */
#define IPCKIT_SYSTEM (-7)      /* a system call failed: errno says which error */

/* The format's numbers (docs/ring-format.md). */
#define IPCKIT_HELLO_MAGIC 0x484B5049u   /* "IPKH" */
#define IPCKIT_ACK_MAGIC 0x414B5049u     /* "IPKA" */
#define IPCKIT_SEGMENT_MAGIC 0x434B5049u /* "IPKC" */
#define IPCKIT_RING_MAGIC 0x524B5049u    /* "IPKR" */
#define IPCKIT_HANDSHAKE_VERSION 1u
#define IPCKIT_SEGMENT_VERSION 2u
#define IPCKIT_RING_VERSION 1u
#define IPCKIT_SEGMENT_HEADER 64u
#define IPCKIT_RING_HEADER 256u
#define IPCKIT_WRAP 0xFFFFFFFFu
#define IPCKIT_MIN_CAPACITY 64u
#define IPCKIT_MAX_CAPACITY (1u << 30)
#define IPCKIT_CHANNEL_FD_ENV "IPCKIT_CHANNEL_FD"
#define IPCKIT_HANDSHAKE_TIMEOUT_MS 10000

/* Offsets in a ring header. */
#define IPCKIT__MAGIC 0
#define IPCKIT__VERSION 4
#define IPCKIT__CAPACITY 8
#define IPCKIT__PRODUCER_CLOSED 24
#define IPCKIT__CONSUMER_CLOSED 28
#define IPCKIT__HEAD 64
#define IPCKIT__TAIL 128
#define IPCKIT__CONSUMER_SLEEPING 192
#define IPCKIT__PRODUCER_WAITING 196

/* One direction. `pos` is this side's own position, kept privately and only ever published (a peer
 * scribbling over it cannot steer us); `seen` is the peer's position as last read and checked. */
typedef struct {
  unsigned char *header;
  unsigned char *data;
  uint32_t capacity;
  uint32_t pos;
  uint32_t seen;
} ipckit_ring;

typedef struct {
  int sock;      /* the seqpacket socket: silent, open for the channel's life; its end is the peer's */
  int own_bell;  /* our eventfd (C): the peer rings it */
  int peer_bell; /* the listener's eventfd (L): we ring it */
  unsigned char *segment;
  size_t segment_bytes;
  ipckit_ring tx; /* ring 0, connector -> listener */
  ipckit_ring rx; /* ring 1, listener -> connector */
  uint32_t max_message; /* capacity / 2 - 8 */
  int failed;   /* 0, or the error (IPCKIT_CORRUPT, IPCKIT_PEER_DEAD) every later receive returns */
  int hung_up;  /* the socket read end-of-file: the peer's process closed it or died */
  uint32_t lent;     /* bytes ipckit_peek lent (wrap padding + record), 0 when nothing is lent */
  uint32_t lent_len; /* the lent payload's length */
  uint32_t lent_off; /* and its offset in the data area */
} ipckit_channel;

/* The code ipckit names an error by ("ERR_IPC_PEER_DEAD"), or a description. */
static inline const char *ipckit_strerror(long rc) {
  switch (rc) {
    case IPCKIT_END: return "end of stream";
    case IPCKIT_PEER_DEAD: return "ERR_IPC_PEER_DEAD";
    case IPCKIT_CORRUPT: return "ERR_IPC_CORRUPT";
    case IPCKIT_TIMEOUT: return "ERR_IPC_TIMEOUT";
    case IPCKIT_TOO_LARGE: return "ERR_IPC_MESSAGE_TOO_LARGE";
    case IPCKIT_UNSUPPORTED: return "ERR_IPC_UNSUPPORTED";
    case IPCKIT_SYSTEM: return strerror(errno);
    default: return rc >= 0 ? "ok" : "unknown error";
  }
}

/* ---- atomics: every word the other side reads while we may write it is sequentially consistent ---- */

static inline uint32_t ipckit__load(const unsigned char *p) {
  return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_SEQ_CST);
}

static inline void ipckit__store(unsigned char *p, uint32_t v) {
  __atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_SEQ_CST);
}

static inline int ipckit__cas(unsigned char *p, uint32_t expect, uint32_t v) {
  return __atomic_compare_exchange_n((uint32_t *)(void *)p, &expect, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* ---- doorbells ---- */

static inline void ipckit__bell(int fd) {
  uint64_t one = 1;
  /* EAGAIN: the counter is full, so it is rung already. */
  while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

/* After a position store: ring the peer only if it said it parked (its flag non-zero), and only once per
 * park: the flag goes to 3 ("rung") by compare-and-swap from the value read, and 3 is not rung again. */
static inline void ipckit__wake(ipckit_channel *ch, unsigned char *flag) {
  uint32_t f = ipckit__load(flag);
  if (f != 0 && f != 3 && ipckit__cas(flag, f, 3)) ipckit__bell(ch->peer_bell);
}

static inline int64_t ipckit__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parks until our eventfd rings, the socket says something (its end: the peer is gone), or the deadline
 * (-1: none). The flag is stored before `word` is re-read, and the peer stores its word before reading
 * the flag, both sequentially consistent: one of us always sees the other, so no wake-up is lost. The
 * caller re-checks its condition after every return. */
static inline int ipckit__park(ipckit_channel *ch, unsigned char *flag, const unsigned char *word, uint32_t seen, const unsigned char *closed, int64_t deadline) {
  ipckit__store(flag, 2);
  if (ipckit__load(word) != seen || ipckit__load(closed)) {
    ipckit__store(flag, 0);
    return 0;
  }
  int ms = -1;
  if (deadline >= 0) {
    int64_t left = deadline - ipckit__now_ms();
    ms = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
  }
  struct pollfd p[2] = {{ch->own_bell, POLLIN, 0}, {ch->sock, POLLIN, 0}};
  int n = poll(p, ch->hung_up ? 1 : 2, ms);
  int saved = errno;
  ipckit__store(flag, 0); /* it may read 3: the peer rang */
  if (n < 0 && saved != EINTR) {
    errno = saved;
    return IPCKIT_SYSTEM;
  }
  if (n > 0 && p[0].revents) {
    uint64_t count;
    while (read(ch->own_bell, &count, sizeof count) < 0 && errno == EINTR) {
    }
  }
  if (n > 0 && !ch->hung_up && p[1].revents) {
    /* The socket carries nothing after the handshake: what arrives is dropped; end-of-file or an error
     * is the peer's process closing it. Its last records and closed flags were stored before that. */
    char junk[64];
    ssize_t r = recv(ch->sock, junk, sizeof junk, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) ch->hung_up = 1;
  }
  return 0;
}

static inline int ipckit__fail(ipckit_channel *ch, int rc) {
  ch->failed = rc;
  return rc;
}

/* ---- receive ---- */

/*
 * Waits for the next message and lends it in place: *data points into the ring, valid until
 * ipckit_release (nothing is copied). Returns its length, IPCKIT_END, or an error. Calling it again before
 * ipckit_release lends the same message.
 */
static inline long ipckit_peek(ipckit_channel *ch, const void **data, int timeout_ms) {
  ipckit_ring *r = &ch->rx;
  if (ch->failed) return ch->failed;
  if (!ch->segment) return IPCKIT_END;
  if (ch->lent) {
    *data = r->data + ch->lent_off + 8;
    return (long)ch->lent_len;
  }
  int64_t deadline = timeout_ms < 0 ? -1 : ipckit__now_ms() + timeout_ms;
  uint32_t cap = r->capacity;
  for (;;) {
    uint32_t avail = r->seen - r->pos;
    if (avail == 0) {
      r->seen = ipckit__load(r->header + IPCKIT__HEAD);
      avail = r->seen - r->pos;
      if (avail > cap || (avail & 7u)) return ipckit__fail(ch, IPCKIT_CORRUPT);
    }
    if (avail == 0) {
      if (ipckit__load(r->header + IPCKIT__PRODUCER_CLOSED)) {
        /* Closed after its last head store: one more look, then the end. */
        r->seen = ipckit__load(r->header + IPCKIT__HEAD);
        if (r->seen == r->pos) return IPCKIT_END;
        continue;
      }
      if (ch->hung_up) {
        /* The socket ended without a goodbye: the rings were looked at once more after it (above). */
        return ipckit__fail(ch, IPCKIT_PEER_DEAD);
      }
      if (deadline >= 0 && ipckit__now_ms() >= deadline) return IPCKIT_TIMEOUT;
      int rc = ipckit__park(ch, r->header + IPCKIT__CONSUMER_SLEEPING, r->header + IPCKIT__HEAD, r->seen, r->header + IPCKIT__PRODUCER_CLOSED, deadline);
      if (rc < 0) return rc;
      continue;
    }
    uint32_t off = r->pos & (cap - 1), skip = 0, len;
    memcpy(&len, r->data + off, 4); /* read once: the peer may rewrite it, we use this copy */
    if (len == IPCKIT_WRAP) {
      skip = cap - off;
      if (skip >= avail) return ipckit__fail(ch, IPCKIT_CORRUPT);
      off = 0;
      memcpy(&len, r->data, 4);
      if (len == IPCKIT_WRAP) return ipckit__fail(ch, IPCKIT_CORRUPT);
    }
    if (len > cap / 2 - 8) return ipckit__fail(ch, IPCKIT_CORRUPT);
    uint32_t rec = 8 + ((len + 7u) & ~7u);
    if (rec > avail - skip || rec > cap - off) return ipckit__fail(ch, IPCKIT_CORRUPT);
    ch->lent = skip + rec;
    ch->lent_len = len;
    ch->lent_off = off;
    *data = r->data + off + 8;
    return (long)len;
  }
}

/* Gives the lent message's room back to the producer (publishes our tail), ringing it if it waits. */
static inline void ipckit_release(ipckit_channel *ch) {
  ipckit_ring *r = &ch->rx;
  if (!ch->lent) return;
  r->pos += ch->lent;
  ch->lent = 0;
  ipckit__store(r->header + IPCKIT__TAIL, r->pos);
  ipckit__wake(ch, r->header + IPCKIT__PRODUCER_WAITING);
}

/*
 * Receives the next message into buf. Returns its length, IPCKIT_END, or an error; IPCKIT_TOO_LARGE when
 * it is longer than `size` (it is not consumed: ipckit_peek lends it).
 */
static inline long ipckit_receive(ipckit_channel *ch, void *buf, size_t size, int timeout_ms) {
  const void *p = NULL;
  long n = ipckit_peek(ch, &p, timeout_ms);
  if (n < 0) return n;
  if ((size_t)n > size) return IPCKIT_TOO_LARGE;
  memcpy(buf, p, (size_t)n);
  ipckit_release(ch);
  return n;
}

/* ---- send ---- */

/*
 * Sends one message of `len` bytes (at most ch->max_message), waiting for room up to timeout_ms. 0, or
 * an error: IPCKIT_PEER_DEAD once the peer closed its receiving side or its process is known gone.
 */
static inline int ipckit_send(ipckit_channel *ch, const void *p, size_t len, int timeout_ms) {
  ipckit_ring *r = &ch->tx;
  if (ch->failed) return ch->failed;
  if (!ch->segment) return IPCKIT_PEER_DEAD;
  if (len > ch->max_message) return IPCKIT_TOO_LARGE;
  int64_t deadline = timeout_ms < 0 ? -1 : ipckit__now_ms() + timeout_ms;
  uint32_t cap = r->capacity, rec = 8 + (((uint32_t)len + 7u) & ~7u);
  for (;;) {
    if (ipckit__load(r->header + IPCKIT__CONSUMER_CLOSED) || ch->hung_up) return IPCKIT_PEER_DEAD;
    uint32_t off = r->pos & (cap - 1), to_end = cap - off;
    uint32_t need = rec <= to_end ? rec : to_end + rec;
    if (need > cap - (r->pos - r->seen)) {
      r->seen = ipckit__load(r->header + IPCKIT__TAIL);
      uint32_t used = r->pos - r->seen;
      if (used > cap || (used & 7u)) return ipckit__fail(ch, IPCKIT_CORRUPT);
      if (need > cap - used) {
        if (deadline >= 0 && ipckit__now_ms() >= deadline) return IPCKIT_TIMEOUT;
        int rc = ipckit__park(ch, r->header + IPCKIT__PRODUCER_WAITING, r->header + IPCKIT__TAIL, r->seen, r->header + IPCKIT__CONSUMER_CLOSED, deadline);
        if (rc < 0) return rc;
        continue;
      }
    }
    if (rec > to_end) {
      uint32_t wrap = IPCKIT_WRAP;
      memcpy(r->data + off, &wrap, 4);
      r->pos += to_end;
      off = 0;
    }
    uint32_t header[2] = {(uint32_t)len, 0};
    memcpy(r->data + off, header, 8);
    if (len) memcpy(r->data + off + 8, p, len);
    r->pos += rec;
    ipckit__store(r->header + IPCKIT__HEAD, r->pos); /* publication */
    ipckit__wake(ch, r->header + IPCKIT__CONSUMER_SLEEPING);
    return 0;
  }
}

/* ---- the handshake (docs/ring-format.md, "The handshake": we are the connector) ---- */

/* A ring header as the listener made it: magic, version and the segment's capacity. */
static inline int ipckit__ring_ok(const unsigned char *h, uint32_t cap) {
  return ipckit__load(h + IPCKIT__MAGIC) == IPCKIT_RING_MAGIC && ipckit__load(h + IPCKIT__VERSION) == IPCKIT_RING_VERSION &&
         ipckit__load(h + IPCKIT__CAPACITY) == cap;
}

static inline int ipckit__is_eventfd(int fd) {
  char path[64], link[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n < 0) return 1; /* no /proc: trust the descriptor's type */
  link[n] = 0;
  return strcmp(link, "anon_inode:[eventfd]") == 0;
}

/*
 * The connector's half of the handshake on a connected seqpacket socket, which the channel then owns
 * (closed on failure too). 0, or an error; nothing is left open or mapped on failure.
 */
static inline int ipckit_join(ipckit_channel *ch, int sock) {
  memset(ch, 0, sizeof *ch);
  ch->sock = ch->own_bell = ch->peer_bell = -1;
  int fds[8], nfds = 0, rc = IPCKIT_CORRUPT;
  uint32_t hello[4];
  union {
    char buf[CMSG_SPACE(8 * sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {hello, sizeof hello};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.buf;
  mh.msg_controllen = sizeof control.buf;
  struct pollfd pf = {sock, POLLIN, 0};
  int ready;
  do ready = poll(&pf, 1, IPCKIT_HANDSHAKE_TIMEOUT_MS);
  while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    close(sock);
    return ready == 0 ? IPCKIT_TIMEOUT : IPCKIT_SYSTEM;
  }
  ssize_t got;
  do got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  /* Take every descriptor that came, whatever else is wrong, so that none leaks. */
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); got >= 0 && c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && nfds < 8; i++) memcpy(&fds[nfds++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  if (got < 0) {
    rc = IPCKIT_SYSTEM;
    goto fail;
  }
  if (got == 0) {
    rc = IPCKIT_PEER_DEAD; /* refused by the listener's allow rule, or not a ring server */
    goto fail;
  }
  if (got != (ssize_t)sizeof hello || hello[0] != IPCKIT_HELLO_MAGIC) goto fail;
  if (hello[1] != IPCKIT_HANDSHAKE_VERSION) {
    rc = IPCKIT_UNSUPPORTED;
    goto fail;
  }
  uint32_t cap = hello[2];
  if (cap < IPCKIT_MIN_CAPACITY || cap > IPCKIT_MAX_CAPACITY || (cap & (cap - 1)) || nfds != 3 || (mh.msg_flags & MSG_CTRUNC)) goto fail;
  /* Refused unless its size can never change: a truncated segment would make our next touch SIGBUS. */
  int seals = fcntl(fds[0], F_GET_SEALS);
  int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
  if (seals < 0 || (seals & want) != want) goto fail;
  if (!ipckit__is_eventfd(fds[1]) || !ipckit__is_eventfd(fds[2])) goto fail;
  struct stat st;
  uint64_t bytes = IPCKIT_SEGMENT_HEADER + 2 * ((uint64_t)IPCKIT_RING_HEADER + cap);
  if (fstat(fds[0], &st) < 0 || (uint64_t)st.st_size != bytes) goto fail;
  void *seg = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
  if (seg == MAP_FAILED) {
    rc = IPCKIT_SYSTEM;
    goto fail;
  }
  close(fds[0]); /* the mapping stays */
  fds[0] = -1;
  ch->segment = (unsigned char *)seg;
  ch->segment_bytes = (size_t)bytes;
  ch->peer_bell = fds[1]; /* L, the listener's */
  ch->own_bell = fds[2];  /* C, ours */
  ch->sock = sock;
  nfds = 0;
  fcntl(ch->own_bell, F_SETFL, O_NONBLOCK);
  fcntl(ch->peer_bell, F_SETFL, O_NONBLOCK);
  unsigned char *s = ch->segment;
  if (ipckit__load(s) != IPCKIT_SEGMENT_MAGIC) goto fail_mapped;
  if (ipckit__load(s + 4) != IPCKIT_SEGMENT_VERSION) {
    rc = IPCKIT_UNSUPPORTED;
    goto fail_mapped;
  }
  if (ipckit__load(s + 8) != cap || ipckit__load(s + 12) != 2) goto fail_mapped;
  ch->tx.header = s + IPCKIT_SEGMENT_HEADER;
  ch->rx.header = s + IPCKIT_SEGMENT_HEADER + IPCKIT_RING_HEADER + cap;
  if (!ipckit__ring_ok(ch->tx.header, cap) || !ipckit__ring_ok(ch->rx.header, cap)) goto fail_mapped;
  ch->tx.data = ch->tx.header + IPCKIT_RING_HEADER;
  ch->rx.data = ch->rx.header + IPCKIT_RING_HEADER;
  ch->tx.capacity = ch->rx.capacity = cap;
  ch->max_message = cap / 2 - 8;
  /* Our own positions are read once, here, then only kept and published. */
  ch->tx.pos = ipckit__load(ch->tx.header + IPCKIT__HEAD);
  ch->tx.seen = ipckit__load(ch->tx.header + IPCKIT__TAIL);
  ch->rx.pos = ch->rx.seen = ipckit__load(ch->rx.header + IPCKIT__TAIL);
  if ((ch->tx.pos & 7u) || (ch->rx.pos & 7u) || ch->tx.pos - ch->tx.seen > cap || ((ch->tx.pos - ch->tx.seen) & 7u)) goto fail_mapped;
  uint32_t ack[2] = {IPCKIT_ACK_MAGIC, IPCKIT_HANDSHAKE_VERSION};
  ssize_t sent;
  do sent = send(sock, ack, sizeof ack, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  if (sent != (ssize_t)sizeof ack) {
    rc = sent < 0 && errno != EPIPE && errno != ECONNRESET ? IPCKIT_SYSTEM : IPCKIT_PEER_DEAD;
    goto fail_mapped;
  }
  return 0;

fail_mapped : {
  int saved = errno;
  munmap(ch->segment, ch->segment_bytes);
  close(ch->own_bell);
  close(ch->peer_bell);
  close(ch->sock);
  memset(ch, 0, sizeof *ch);
  ch->sock = ch->own_bell = ch->peer_bell = -1;
  errno = saved;
  return rc;
}
fail : {
  int saved = errno;
  for (int i = 0; i < nfds; i++)
    if (fds[i] >= 0) close(fds[i]);
  close(sock);
  errno = saved;
  return rc;
}
}

/* Connects to a ring server (`shm+unix:ADDRESS`: a socket path, or "@name" for an abstract one; a
 * `shm:/name` listener is "@ipckit-shm:/name") and joins it. 0, or an error. */
static inline int ipckit_connect(ipckit_channel *ch, const char *address) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t n = strlen(address);
  if (n == 0 || n >= sizeof sa.sun_path) {
    errno = ENAMETOOLONG;
    return IPCKIT_SYSTEM;
  }
  socklen_t len;
  if (address[0] == '@') { /* abstract: a NUL, then the name's bytes, and exactly that length */
    memcpy(sa.sun_path + 1, address + 1, n - 1);
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    memcpy(sa.sun_path, address, n);
    len = (socklen_t)sizeof sa;
  }
  int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (sock < 0) return IPCKIT_SYSTEM;
  int rc;
  do rc = connect(sock, (struct sockaddr *)&sa, len);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int saved = errno;
    close(sock);
    errno = saved;
    return IPCKIT_SYSTEM;
  }
  return ipckit_join(ch, sock);
}

/* In a child started by ipckit's fork()/spawn(): joins the parent on the inherited descriptor named by
 * IPCKIT_CHANNEL_FD, which is then removed from the environment and made close-on-exec (not for our own
 * children). IPCKIT_UNSUPPORTED when this process was not started so. */
static inline int ipckit_from_parent(ipckit_channel *ch) {
  const char *v = getenv(IPCKIT_CHANNEL_FD_ENV);
  char *end;
  if (!v || !*v) return IPCKIT_UNSUPPORTED;
  errno = 0;
  long fd = strtol(v, &end, 10);
  if (*end || errno || fd < 0 || fd > INT_MAX) return IPCKIT_UNSUPPORTED;
  unsetenv(IPCKIT_CHANNEL_FD_ENV);
  if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0) return IPCKIT_SYSTEM;
  return ipckit_join(ch, (int)fd);
}

/* Says goodbye (producer_closed after our last head store, consumer_closed; the peer is rung), then
 * unmaps and closes everything. The peer drains what we sent, then sees the end. Idempotent. */
static inline void ipckit_close(ipckit_channel *ch) {
  if (ch->segment) {
    ipckit__store(ch->tx.header + IPCKIT__PRODUCER_CLOSED, 1);
    ipckit__store(ch->rx.header + IPCKIT__CONSUMER_CLOSED, 1);
    /* Through the flags as after a position store, then the doorbell regardless: a peer about to park
     * sees either the closed flag or its flag rung. Both before the socket closes, so the peer reading
     * end-of-file can tell this goodbye from a death. */
    ipckit__wake(ch, ch->tx.header + IPCKIT__CONSUMER_SLEEPING);
    ipckit__wake(ch, ch->rx.header + IPCKIT__PRODUCER_WAITING);
    ipckit__bell(ch->peer_bell);
    munmap(ch->segment, ch->segment_bytes);
  }
  if (ch->own_bell >= 0) close(ch->own_bell);
  if (ch->peer_bell >= 0) close(ch->peer_bell);
  if (ch->sock >= 0) close(ch->sock);
  memset(ch, 0, sizeof *ch);
  ch->sock = ch->own_bell = ch->peer_bell = -1;
}

#endif /* IPCKIT_RING_H */
