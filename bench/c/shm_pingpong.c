// The C floor for bench/shm.ts: a round trip between two processes over a shared word, three ways.
//   spin   both sides spin on the word (atomic loads), no syscall
//   futex  both sides sleep in FUTEX_WAIT and wake each other with FUTEX_WAKE (shared, not private)
//   sem    two process-shared semaphores (sem_post / sem_wait) in the shared page, guarding the word
//   efd    the event-loop floor: each side sleeps in epoll_wait(2) on its own eventfd and the other side
//          writes it (what any wake-up through libuv costs below uv and JS)
//   handoff  ipckit's waiter design in C: each side's futex wait runs on a second thread, which on waking
//          writes an eventfd its main thread sleeps on in epoll_wait; the main thread answers and hands the
//          next wait back to that thread through a mutex and condition variable (src/native/waiter.cc)
// Usage: shm_pingpong MODE ROUNDS [CPU_A CPU_B]; prints one round-trip time in ns per line (after a
// warm-up of ROUNDS/10 untimed rounds). Both threads of a side run on that side's CPU, like a pinned
// Node process's.
//   shm_pingpong verify MODE ROUNDS [CPU_A CPU_B]: the same exchange, untimed; each side folds every
// 4-byte word it waited for (little-endian) into FNV-1a and side a prints {"bytes":...,"fnv":...} of
// both sides' words, in round order (b's word of round i, then a's).
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

static int epfd_of(int efd) {
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = efd}};
  epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
  return ep;
}

// Sleeps in epoll_wait until efd is readable, then drains it (what libuv does for a uv_poll or uv_async).
static void efd_wait(int ep, int efd) {
  struct epoll_event ev;
  while (epoll_wait(ep, &ev, 1, -1) != 1) {
  }
  uint64_t n;
  (void)!read(efd, &n, sizeof n);
}

static void efd_ring(int efd) {
  uint64_t one = 1;
  (void)!write(efd, &one, sizeof one);
}

// handoff: one waiter thread per side, given one job at a time (the word and the value to wait for).
struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint32_t *word;
  uint32_t want;
  int job;   // a wait was handed over and not taken yet
  int done;  // eventfd the thread writes when the awaited value is there
  int cpu;
};

static void *waiter_main(void *arg) {
  struct waiter *w = arg;
  pin(w->cpu);
  for (;;) {
    pthread_mutex_lock(&w->mu);
    while (!w->job) pthread_cond_wait(&w->cv, &w->mu);
    w->job = 0;
    uint32_t want = w->want;
    pthread_mutex_unlock(&w->mu);
    await_value(1, w->word, want);
    efd_ring(w->done);
  }
  return NULL;
}

static struct waiter *waiter_start(uint32_t *word, int cpu) {
  struct waiter *w = calloc(1, sizeof *w);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->word = word;
  w->done = eventfd(0, 0);
  w->cpu = cpu;
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, w);
  return w;
}

static void waiter_submit(struct waiter *w, uint32_t want) {
  pthread_mutex_lock(&w->mu);
  w->want = want;
  w->job = 1;
  pthread_mutex_unlock(&w->mu);
  pthread_cond_signal(&w->cv);
}

static uint32_t fnv_word(uint32_t h, uint32_t v) {
  for (int j = 0; j < 4; j++) h = (h ^ ((v >> (8 * j)) & 0xff)) * 16777619u;
  return h;
}

enum { SPIN, FUTEX, SEM, EFD, HANDOFF };

int main(int argc, char **argv) {
  int verify = argc > 1 && strcmp(argv[1], "verify") == 0;
  if (verify) argv++, argc--;
  if (argc < 3) return 2;
  const char *m = argv[1];
  int mode = !strcmp(m, "spin") ? SPIN : !strcmp(m, "futex") ? FUTEX : !strcmp(m, "sem") ? SEM : !strcmp(m, "efd") ? EFD : !strcmp(m, "handoff") ? HANDOFF : -1;
  if (mode < 0) return 2;
  long rounds = atol(argv[2]);
  int cpu_a = argc > 4 ? atoi(argv[3]) : -1, cpu_b = argc > 4 ? atoi(argv[4]) : -1;
  long warm = verify ? 0 : rounds / 10;
  struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 1;
  memset(s, 0, sizeof *s);
  sem_init(&s->ping, 1, 0);
  sem_init(&s->pong, 1, 0);
  // The words each side saw, for verify: b's of round i at [2i], a's at [2i+1].
  uint32_t *seen = mmap(NULL, sizeof(uint32_t) * 2 * (rounds + 1), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (seen == MAP_FAILED) return 1;
  int efd_a = eventfd(0, 0), efd_b = eventfd(0, 0);  // EFD: each side's doorbell
  uint64_t *samples = malloc(sizeof(uint64_t) * rounds);
  pid_t pid = fork();
  if (pid == 0) {
    pin(cpu_b);
    int ep = mode == EFD ? epfd_of(efd_b) : -1;
    struct waiter *w = mode == HANDOFF ? waiter_start(&s->word, cpu_b) : NULL;
    if (w) ep = epfd_of(w->done);
    for (long i = 0; i < warm + rounds; i++) {
      if (mode == SEM) {
        sem_wait(&s->ping);
        if (i >= warm) seen[2 * (i - warm)] = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
        __atomic_store_n(&s->word, 2 * i + 2, __ATOMIC_RELEASE);
        sem_post(&s->pong);
        continue;
      }
      if (mode == EFD) efd_wait(ep, efd_b);
      else if (mode == HANDOFF) {
        waiter_submit(w, 2 * i + 1);
        efd_wait(ep, w->done);
      } else await_value(mode, &s->word, 2 * i + 1);
      if (i >= warm) seen[2 * (i - warm)] = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
      if (mode == EFD) {
        __atomic_store_n(&s->word, 2 * i + 2, __ATOMIC_RELEASE);
        efd_ring(efd_a);
      } else put(mode == HANDOFF ? FUTEX : mode, &s->word, 2 * i + 2);
    }
    _exit(0);
  }
  pin(cpu_a);
  int ep = mode == EFD ? epfd_of(efd_a) : -1;
  struct waiter *w = mode == HANDOFF ? waiter_start(&s->word, cpu_a) : NULL;
  if (w) ep = epfd_of(w->done);
  for (long i = 0; i < warm + rounds; i++) {
    uint64_t t0 = now_ns();
    if (mode == SEM) {
      __atomic_store_n(&s->word, 2 * i + 1, __ATOMIC_RELEASE);
      sem_post(&s->ping);
      sem_wait(&s->pong);
    } else if (mode == EFD) {
      __atomic_store_n(&s->word, 2 * i + 1, __ATOMIC_RELEASE);
      efd_ring(efd_b);
      efd_wait(ep, efd_a);
    } else if (mode == HANDOFF) {
      // As in JS: the peer is told, then the next wait is handed over.
      put(FUTEX, &s->word, 2 * i + 1);
      waiter_submit(w, 2 * i + 2);
      efd_wait(ep, w->done);
    } else {
      put(mode, &s->word, 2 * i + 1);
      await_value(mode, &s->word, 2 * i + 2);
    }
    if (i >= warm) {
      samples[i - warm] = now_ns() - t0;
      seen[2 * (i - warm) + 1] = __atomic_load_n(&s->word, __ATOMIC_ACQUIRE);
    }
  }
  waitpid(pid, NULL, 0);
  if (verify) {
    uint32_t h = 0x811c9dc5u;
    for (long i = 0; i < 2 * rounds; i++) h = fnv_word(h, seen[i]);
    printf("{\"bytes\":%ld,\"fnv\":%u}\n", 8 * rounds, h);
    return 0;
  }
  for (long i = 0; i < rounds; i++) printf("%llu\n", (unsigned long long)samples[i]);
  return 0;
}
