// The C floor of the signal bench: SIGRTMIN+1 blocked and taken with sigwaitinfo(2); each delivery's
// latency is CLOCK_MONOTONIC now minus the stamp the sender put in the value (mod 2^32 ns); then an
// acknowledgement (SIGRTMIN+2) goes back to the sender. Prints "ready", then the COUNT latencies in ns.
//   signal_recv COUNT
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint32_t now32(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  long count = atol(argv[1]);
  uint32_t* lat = calloc((size_t)count, sizeof *lat);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGRTMIN + 1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  printf("ready\n");
  fflush(stdout);
  for (long i = 0; i < count; i++) {
    siginfo_t si;
    if (sigwaitinfo(&set, &si) == -1) {
      i--;
      continue;
    }
    lat[i] = now32() - (uint32_t)si.si_value.sival_int;
    union sigval v = {0};
    sigqueue(si.si_pid, SIGRTMIN + 2, v);
  }
  for (long i = 0; i < count; i++) printf("%u\n", lat[i]);
  return 0;
}
