// The C floor for POSIX message queues (mq_overview(7)), measured the way bench/mq.ts measures ipckit:
//   mq_posix rtt SIZE N    ping-pong over two queues: prints one round trip per line, in ns
//   mq_posix tput SIZE N   one-way: N messages to a consumer, then "done"; prints {"msgs_per_s":...}
//   mq_posix verify SIZE N one-way, N pattern messages: the consumer prints {"bytes":...,"fnv":...}
// The parent runs on CPU 0, the forked peer on CPU 1 (when there are two). Blocking descriptors: the
// kernel wakes the peer directly, which is what an event loop's poll wake-up is compared against.
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The verification exchange (bench/lib.ts patternDigest): message i carries byte (i + j) & 0xff at
 * offset j; the receiver folds every byte it gets into FNV-1a and prints {"bytes":B,"fnv":H}. */
static void fill(unsigned char* b, long size, long i) {
  for (long j = 0; j < size; j++) b[j] = (unsigned char)(i + j);
}

static unsigned fnv(unsigned h, const unsigned char* b, long n) {
  for (long j = 0; j < n; j++) h = (h ^ b[j]) * 16777619u;
  return h;
}

static mqd_t make(const char* name, long size) {
  struct mq_attr a = {0};
  a.mq_maxmsg = 10;
  a.mq_msgsize = size < 1 ? 1 : size;
  mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
  if (q == (mqd_t)-1) {
    perror("mq_open");
    exit(1);
  }
  // Unlinked at once: the descriptors (inherited by the fork) keep the queue; nothing is left behind.
  mq_unlink(name);
  return q;
}

int main(int argc, char** argv) {
  if (argc != 4) return 64;
  int rtt = strcmp(argv[1], "rtt") == 0;
  int verify = strcmp(argv[1], "verify") == 0;
  long size = atol(argv[2]);
  long n = atol(argv[3]);
  char na[64], nb[64];
  snprintf(na, sizeof na, "/ipckit-bench-c-%d-a", getpid());
  snprintf(nb, sizeof nb, "/ipckit-bench-c-%d-b", getpid());
  mqd_t a = make(na, size), b = make(nb, size);
  char* buf = calloc(1, size + 1);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  pid_t pid = fork();
  if (pid == 0) {
    if (ncpu > 1) pin(1);
    unsigned prio;
    if (verify) {
      unsigned h = 2166136261u;
      long bytes = 0;
      for (long i = 0; i < n; i++) {
        ssize_t m = mq_receive(a, buf, size < 1 ? 1 : size, &prio);
        if (m < 0) _exit(1);
        h = fnv(h, (unsigned char*)buf, m);
        bytes += m;
      }
      printf("{\"bytes\":%ld,\"fnv\":%u}\n", bytes, h);
      fflush(stdout);
    } else if (rtt) {
      for (;;) {
        ssize_t m = mq_receive(a, buf, size < 1 ? 1 : size, &prio);
        if (m <= 0) break;  // an empty message ends the run
        mq_send(b, buf, m, 0);
      }
    } else {
      for (long i = 0; i < n; i++) mq_receive(a, buf, size, &prio);
      mq_send(b, "d", 1, 0);
    }
    _exit(0);
  }
  pin(0);
  unsigned prio;
  if (verify) {
    for (long i = 0; i < n; i++) {
      fill((unsigned char*)buf, size, i);
      if (mq_send(a, buf, size, 0) != 0) return 1;
    }
  } else if (rtt) {
    long warm = n / 10 + 100;
    double* s = malloc(sizeof(double) * n);
    for (long i = 0; i < warm + n; i++) {
      double t0 = now_ns();
      mq_send(a, buf, size, 0);
      mq_receive(b, buf, size, &prio);
      if (i >= warm) s[i - warm] = now_ns() - t0;
    }
    mq_send(a, buf, 0, 0);
    for (long i = 0; i < n; i++) printf("%.0f\n", s[i]);
  } else {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) mq_send(a, buf, size, 0);
    mq_receive(b, buf, size, &prio);
    double dt = now_ns() - t0;
    printf("{\"msgs_per_s\":%.0f}\n", n / (dt / 1e9));
  }
  waitpid(pid, NULL, 0);
  return 0;
}
