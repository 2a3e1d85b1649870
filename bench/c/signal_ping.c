// Sender of the signal bench: COUNT times, sigqueue(3) SIGRTMIN+1 to PID carrying the low 32 bits of
// CLOCK_MONOTONIC in nanoseconds, then wait (sigwaitinfo) for the receiver's SIGRTMIN+2 acknowledgement,
// so every sample is the wake-up of an idle receiver, not a queue draining.
//   signal_ping PID COUNT [verify]   verify: the value of signal i is i, not a stamp
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t now32(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  pid_t pid = (pid_t)atol(argv[1]);
  long count = atol(argv[2]);
  int verify = argc > 3 && strcmp(argv[3], "verify") == 0;
  sigset_t ack;
  sigemptyset(&ack);
  sigaddset(&ack, SIGRTMIN + 2);
  sigprocmask(SIG_BLOCK, &ack, NULL);
  for (long i = 0; i < count; i++) {
    union sigval v;
    v.sival_int = verify ? (int)i : (int)now32();
    if (sigqueue(pid, SIGRTMIN + 1, v) == -1) {
      perror("sigqueue");
      return 1;
    }
    siginfo_t si;
    while (sigwaitinfo(&ack, &si) == -1) {
    }
  }
  return 0;
}
