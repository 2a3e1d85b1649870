// The C floor for the shared-memory ring: two processes ping-pong a message of SIZE bytes through a
// MAP_SHARED mapping. mode "spin": each side busy-waits on the other's sequence word (C11 atomics);
// mode "futex": each side sleeps in futex(FUTEX_WAIT) until woken (the wake-up round trip).
// Usage: ring_pingpong spin|futex ITERS SIZE CPU_A CPU_B   -> one JSON line of round-trip percentiles (ns),
// less the cost of one clock read ("clock", also in the line)
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
  _Alignas(64) _Atomic uint32_t ping;
  _Alignas(64) _Atomic uint32_t pong;
  _Alignas(64) unsigned char a[1 << 20];
  _Alignas(64) unsigned char b[1 << 20];
};

static void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}

static long futex(_Atomic uint32_t *w, int op, uint32_t v) {
  return syscall(SYS_futex, (uint32_t *)w, op, v, NULL, NULL, 0);
}

static void await_value(_Atomic uint32_t *w, uint32_t want, int sleep) {
  for (;;) {
    uint32_t v = atomic_load(w);
    if (v == want) return;
    if (sleep) futex(w, FUTEX_WAIT, v); // EINTR/EAGAIN: look again
  }
}

static void publish(_Atomic uint32_t *w, uint32_t v, int sleep) {
  atomic_store(w, v);
  if (sleep) futex(w, FUTEX_WAKE, 1);
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
  if (argc < 6) return 2;
  int sleep = strcmp(argv[1], "futex") == 0;
  int iters = atoi(argv[2]);
  size_t size = strtoul(argv[3], NULL, 10);
  if (size > (1 << 20)) return 2;
  struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return 1;
  unsigned char *msg = malloc(size + 1), *in = malloc(size + 1);
  memset(msg, 7, size);
  pid_t pid = fork();
  if (pid == 0) {
    pin(atoi(argv[5]));
    for (uint32_t i = 1; i <= (uint32_t)iters; i++) {
      await_value(&sh->ping, i, sleep);
      memcpy(in, sh->a, size);
      memcpy(sh->b, in, size);
      publish(&sh->pong, i, sleep);
    }
    _exit(0);
  }
  pin(atoi(argv[4]));
  // The clock's own cost (median of back-to-back reads), subtracted from every sample as bench/ring.ts
  // does for the JS side: a sub-microsecond round trip should not be mostly the clock.
  enum { CLOCKN = 20001 };
  static uint64_t cd[CLOCKN];
  for (int i = 0; i < CLOCKN; i++) {
    uint64_t a = now();
    cd[i] = now() - a;
  }
  qsort(cd, CLOCKN, sizeof *cd, cmp);
  uint64_t clk = cd[CLOCKN / 2];
  uint64_t *rtt = malloc(sizeof(uint64_t) * iters);
  for (uint32_t i = 1; i <= (uint32_t)iters; i++) {
    uint64_t t0 = now();
    memcpy(sh->a, msg, size);
    publish(&sh->ping, i, sleep);
    await_value(&sh->pong, i, sleep);
    memcpy(in, sh->b, size);
    uint64_t d = now() - t0;
    rtt[i - 1] = d > clk ? d - clk : 0;
  }
  waitpid(pid, NULL, 0);
  int skip = iters / 10; // warm-up
  qsort(rtt + skip, iters - skip, sizeof *rtt, cmp);
  int n = iters - skip;
  printf("{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"n\":%d,\"clock\":%llu}\n", (unsigned long long)rtt[skip + n / 2],
         (unsigned long long)rtt[skip + (int)(n * 0.99)], (unsigned long long)rtt[skip + (int)(n * 0.999)], n, (unsigned long long)clk);
  return 0;
}
