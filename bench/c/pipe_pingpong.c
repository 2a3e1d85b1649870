// The C floor for pipes: two processes ping-pong SIZE bytes over a pair of pipes (read/write, blocking).
// Usage: pipe_pingpong ITERS SIZE CPU_A CPU_B -> one JSON line of round-trip percentiles (ns)
//        pipe_pingpong ITERS SIZE CPU_A CPU_B verify -> ITERS pattern messages echoed back, the echoes'
//        {"bytes":B,"fnv":H} (bench/lib.ts patternDigest)
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}

static void xfer(int fd, unsigned char *buf, size_t n, int rd) {
  size_t off = 0;
  while (off < n) {
    ssize_t r = rd ? read(fd, buf + off, n - off) : write(fd, buf + off, n - off);
    if (r <= 0) _exit(1);
    off += r;
  }
}

/* The verification exchange: message i carries byte (i + j) & 0xff at offset j; FNV-1a of what came back. */
static void fill(unsigned char *b, size_t size, int i) {
  for (size_t j = 0; j < size; j++) b[j] = (unsigned char)(i + (int)j);
}

static unsigned fnv(unsigned h, const unsigned char *b, size_t n) {
  for (size_t j = 0; j < n; j++) h = (h ^ b[j]) * 16777619u;
  return h;
}

static uint64_t now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static int cmp(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  int iters = atoi(argv[1]);
  size_t size = strtoul(argv[2], NULL, 10);
  int p1[2], p2[2];
  if (pipe(p1) || pipe(p2)) return 1;
  unsigned char *buf = calloc(1, size + 1);
  pid_t pid = fork();
  if (pid == 0) {
    pin(atoi(argv[4]));
    for (int i = 0; i < iters; i++) {
      xfer(p1[0], buf, size, 1);
      xfer(p2[1], buf, size, 0);
    }
    _exit(0);
  }
  pin(atoi(argv[3]));
  if (argc > 5 && !strcmp(argv[5], "verify")) {
    unsigned h = 2166136261u;
    for (int i = 0; i < iters; i++) {
      fill(buf, size, i);
      xfer(p1[1], buf, size, 0);
      xfer(p2[0], buf, size, 1);
      h = fnv(h, buf, size);
    }
    waitpid(pid, NULL, 0);
    printf("{\"bytes\":%llu,\"fnv\":%u}\n", (unsigned long long)iters * size, h);
    return 0;
  }
  uint64_t *rtt = malloc(sizeof(uint64_t) * iters);
  for (int i = 0; i < iters; i++) {
    uint64_t t0 = now();
    xfer(p1[1], buf, size, 0);
    xfer(p2[0], buf, size, 1);
    rtt[i] = now() - t0;
  }
  waitpid(pid, NULL, 0);
  int skip = iters / 10;
  qsort(rtt + skip, iters - skip, sizeof *rtt, cmp);
  int n = iters - skip;
  printf("{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"n\":%d}\n", (unsigned long long)rtt[skip + n / 2],
         (unsigned long long)rtt[skip + (int)(n * 0.99)], (unsigned long long)rtt[skip + (int)(n * 0.999)], n);
  return 0;
}
