// The C floor for System V message queues (msgop(2)), measured the way bench/mq.ts measures ipckit:
//   mq_sysv rtt SIZE N    ping-pong on one private queue (type 1 there, type 2 back): ns per line
//   mq_sysv tput SIZE N   one-way: N messages of type 1, then a type-2 "done"; prints {"msgs_per_s":...}
//   mq_sysv verify SIZE N one-way, N pattern messages of type 1: the consumer prints {"bytes":...,"fnv":...}
// The parent runs on CPU 0, the forked peer on CPU 1 (when there are two).
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct msg {
  long type;
  char text[8192];
};

/* The verification exchange (bench/lib.ts patternDigest): message i carries byte (i + j) & 0xff at
 * offset j; the receiver folds every byte it gets into FNV-1a and prints {"bytes":B,"fnv":H}. */
static void fill(unsigned char* b, long size, long i) {
  for (long j = 0; j < size; j++) b[j] = (unsigned char)(i + j);
}

static unsigned fnv(unsigned h, const unsigned char* b, long n) {
  for (long j = 0; j < n; j++) h = (h ^ b[j]) * 16777619u;
  return h;
}

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

int main(int argc, char** argv) {
  if (argc != 4) return 64;
  int rtt = strcmp(argv[1], "rtt") == 0;
  int verify = strcmp(argv[1], "verify") == 0;
  long size = atol(argv[2]);
  long n = atol(argv[3]);
  int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (id == -1) {
    perror("msgget");
    return 1;
  }
  static struct msg m;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  pid_t pid = fork();
  if (pid == 0) {
    if (ncpu > 1) pin(1);
    if (verify) {
      unsigned h = 2166136261u;
      long bytes = 0;
      for (long i = 0; i < n; i++) {
        ssize_t k = msgrcv(id, &m, sizeof m.text, 1, 0);
        if (k < 0) _exit(1);
        h = fnv(h, (unsigned char*)m.text, k);
        bytes += k;
      }
      printf("{\"bytes\":%ld,\"fnv\":%u}\n", bytes, h);
      fflush(stdout);
    } else if (rtt) {
      for (;;) {
        ssize_t k = msgrcv(id, &m, sizeof m.text, 1, 0);
        if (k <= 0) break;
        m.type = 2;
        msgsnd(id, &m, k, 0);
      }
    } else {
      for (long i = 0; i < n; i++) msgrcv(id, &m, sizeof m.text, 1, 0);
      m.type = 2;
      msgsnd(id, &m, 1, 0);
    }
    _exit(0);
  }
  pin(0);
  if (verify) {
    m.type = 1;
    for (long i = 0; i < n; i++) {
      fill((unsigned char*)m.text, size, i);
      if (msgsnd(id, &m, size, 0) != 0) return 1;
    }
  } else if (rtt) {
    long warm = n / 10 + 100;
    double* s = malloc(sizeof(double) * n);
    for (long i = 0; i < warm + n; i++) {
      double t0 = now_ns();
      m.type = 1;
      msgsnd(id, &m, size, 0);
      msgrcv(id, &m, sizeof m.text, 2, 0);
      if (i >= warm) s[i - warm] = now_ns() - t0;
    }
    m.type = 1;
    msgsnd(id, &m, 0, 0);
    for (long i = 0; i < n; i++) printf("%.0f\n", s[i]);
  } else {
    double t0 = now_ns();
    m.type = 1;
    for (long i = 0; i < n; i++) msgsnd(id, &m, size, 0);
    msgrcv(id, &m, sizeof m.text, 2, 0);
    double dt = now_ns() - t0;
    printf("{\"msgs_per_s\":%.0f}\n", n / (dt / 1e9));
  }
  waitpid(pid, NULL, 0);
  msgctl(id, IPC_RMID, NULL);
  return 0;
}
