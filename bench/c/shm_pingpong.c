// The C floor for bench/shm.ts: a round trip between two processes over a shared word, three ways.
//   spin   both sides spin on the word (atomic loads), no syscall
//   futex  both sides sleep in FUTEX_WAIT and wake each other with FUTEX_WAKE (shared, not private)
//   sem    two process-shared semaphores (sem_post / sem_wait) in the shared page
// Usage: shm_pingpong MODE ROUNDS [CPU_A CPU_B]; prints one round-trip time in ns per line (after a
// warm-up of ROUNDS/10 untimed rounds).
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <semaphore.h>
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
  _Alignas(64) uint32_t word;
  _Alignas(64) sem_t ping;
  sem_t pong;
};

static void futex_wait(uint32_t *w, uint32_t v) { syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0); }
static void futex_wake(uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0); }

static void await_value(int mode, uint32_t *w, uint32_t want) {
  for (;;) {
    uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    if (v == want) return;
    if (mode == 1) futex_wait(w, v);
  }
}

static void put(int mode, uint32_t *w, uint32_t v) {
  __atomic_store_n(w, v, __ATOMIC_RELEASE);
  if (mode == 1) futex_wake(w);
}

static void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int mode = strcmp(argv[1], "spin") == 0 ? 0 : strcmp(argv[1], "futex") == 0 ? 1 : 2;
  long rounds = atol(argv[2]);
  int cpu_a = argc > 4 ? atoi(argv[3]) : -1, cpu_b = argc > 4 ? atoi(argv[4]) : -1;
  long warm = rounds / 10;
  struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 1;
  memset(s, 0, sizeof *s);
  sem_init(&s->ping, 1, 0);
  sem_init(&s->pong, 1, 0);
  uint64_t *samples = malloc(sizeof(uint64_t) * rounds);
  pid_t pid = fork();
  if (pid == 0) {
    pin(cpu_b);
    for (long i = 0; i < warm + rounds; i++) {
      if (mode == 2) {
        sem_wait(&s->ping);
        sem_post(&s->pong);
      } else {
        await_value(mode, &s->word, 2 * i + 1);
        put(mode, &s->word, 2 * i + 2);
      }
    }
    _exit(0);
  }
  pin(cpu_a);
  for (long i = 0; i < warm + rounds; i++) {
    uint64_t t0 = now_ns();
    if (mode == 2) {
      sem_post(&s->ping);
      sem_wait(&s->pong);
    } else {
      put(mode, &s->word, 2 * i + 1);
      await_value(mode, &s->word, 2 * i + 2);
    }
    if (i >= warm) samples[i - warm] = now_ns() - t0;
  }
  waitpid(pid, NULL, 0);
  for (long i = 0; i < rounds; i++) printf("%llu\n", (unsigned long long)samples[i]);
  return 0;
}
