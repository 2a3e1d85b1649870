/* The C floor for AF_UNIX sockets: a socketpair, a forked echo/sink child pinned to CPU 1, blocking
 * send/recv. Usage:
 *   socket_unix <stream|dgram|seqpacket> rtt  <iterations> <size>   -> JSON: round-trip samples' percentiles (ns)
 *   socket_unix <stream|dgram|seqpacket> tput <messages>   <size>   -> JSON: elapsed ns for all messages
 *   socket_unix <stream|dgram|seqpacket> verify <messages> <size>   -> JSON: the sink's {"bytes","fnv"} of
 *                                                                      that many pattern messages
 * An optional fifth argument asks for that SO_SNDBUF on both ends, as ipckit's
 * sendBufferSize does.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

/* Reads exactly n bytes (stream) or one message (others). */
static int recv_full(int fd, char *buf, size_t n, int stream) {
  size_t got = 0;
  do {
    ssize_t r = recv(fd, buf + got, n - got, 0);
    if (r <= 0) return -1;
    got += (size_t)r;
  } while (stream && got < n);
  return 0;
}

/* The verification exchange (bench/lib.ts patternDigest): message i carries byte (i + j) & 0xff at
 * offset j; the receiver folds every byte it gets into FNV-1a and prints {"bytes":B,"fnv":H}. */
static void fill(unsigned char *b, size_t size, long i) {
  for (size_t j = 0; j < size; j++) b[j] = (unsigned char)(i + (long)j);
}

static unsigned fnv(unsigned h, const unsigned char *b, size_t n) {
  for (size_t j = 0; j < n; j++) h = (h ^ b[j]) * 16777619u;
  return h;
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set); /* best effort: a 1-CPU machine keeps its mask */
}

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  int stream = !strcmp(argv[1], "stream");
  int type = stream ? SOCK_STREAM : !strcmp(argv[1], "dgram") ? SOCK_DGRAM : SOCK_SEQPACKET;
  int rtt = !strcmp(argv[2], "rtt");
  int verify = !strcmp(argv[2], "verify");
  long iters = atol(argv[3]);
  size_t size = (size_t)atol(argv[4]);
  int sv[2];
  if (socketpair(AF_UNIX, type, 0, sv) < 0) return 3;
  if (argc > 5) {
    int b = atoi(argv[5]);
    for (int k = 0; k < 2; k++) setsockopt(sv[k], SOL_SOCKET, SO_SNDBUF, &b, sizeof b);
  }
  char *buf = malloc(size);
  memset(buf, 'x', size);
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    pin(1);
    if (verify) {
      long long total = (long long)iters * (long long)size, got = 0;
      unsigned h = 2166136261u;
      while (got < total) {
        ssize_t r = recv(sv[1], buf, size, 0);
        if (r <= 0) _exit(1);
        h = fnv(h, (unsigned char *)buf, (size_t)r);
        got += r;
      }
      printf("{\"bytes\":%lld,\"fnv\":%u}\n", got, h);
      fflush(stdout);
    } else if (rtt) {
      for (long i = 0; i < iters; i++) {
        if (recv_full(sv[1], buf, size, stream) < 0) _exit(1);
        if (send(sv[1], buf, size, 0) < 0) _exit(1);
      }
    } else {
      long long total = (long long)iters * (long long)size, got = 0;
      while (got < total) {
        ssize_t r = recv(sv[1], buf, size, 0);
        if (r <= 0) _exit(1);
        got += r;
      }
      if (send(sv[1], "k", 1, 0) < 0) _exit(1);
    }
    _exit(0);
  }
  close(sv[1]);
  if (verify) {
    for (long i = 0; i < iters; i++) {
      fill((unsigned char *)buf, size, i);
      size_t off = 0;
      while (off < size) {
        ssize_t w = send(sv[0], buf + off, size - off, 0);
        if (w < 0) return 4;
        off += (size_t)w;
      }
    }
  } else if (rtt) {
    long long *s = malloc(sizeof(long long) * (size_t)iters);
    for (long i = 0; i < iters; i++) {
      long long t0 = now_ns();
      if (send(sv[0], buf, size, 0) < 0) return 4;
      if (recv_full(sv[0], buf, size, stream) < 0) return 5;
      s[i] = now_ns() - t0;
    }
    long warm = iters / 10;
    long n = iters - warm;
    qsort(s + warm, (size_t)n, sizeof *s, cmp);
    printf("{\"p50_ns\":%lld,\"p99_ns\":%lld,\"p999_ns\":%lld,\"samples\":%ld}\n", s[warm + n / 2],
           s[warm + (long)(n * 0.99)], s[warm + (long)(n * 0.999)], n);
  } else {
    long long t0 = now_ns();
    for (long i = 0; i < iters; i++) {
      size_t off = 0;
      while (off < size) {
        ssize_t w = send(sv[0], buf + off, size - off, 0);
        if (w < 0) return 4;
        off += (size_t)w;
      }
    }
    char k;
    if (recv(sv[0], &k, 1, 0) != 1) return 5;
    printf("{\"elapsed_ns\":%lld}\n", now_ns() - t0);
  }
  int st;
  waitpid(pid, &st, 0);
  return 0;
}
