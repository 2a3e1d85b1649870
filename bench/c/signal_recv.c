// The C floor of the signal bench: SIGRTMIN+1 blocked and taken with sigwaitinfo(2); each delivery's
// latency is CLOCK_MONOTONIC now minus the stamp the sender put in the value (mod 2^32 ns); then an
// acknowledgement (SIGRTMIN+2) goes back to the sender. Prints "ready", then the COUNT latencies in ns.
//   signal_recv COUNT [verify]   verify: folds each value (4 bytes, little-endian) into FNV-1a and
//                                prints {"bytes":...,"fnv":...} instead of the latencies
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
  if (argc < 2) return 2;
  long count = atol(argv[1]);
  int verify = argc > 2 && strcmp(argv[2], "verify") == 0;
  uint32_t h = 0x811c9dc5u;
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
    uint32_t v32 = (uint32_t)si.si_value.sival_int;
    lat[i] = now32() - v32;
    for (int j = 0; j < 4; j++) h = (h ^ ((v32 >> (8 * j)) & 0xff)) * 16777619u;
    union sigval v = {0};
    sigqueue(si.si_pid, SIGRTMIN + 2, v);
  }
  if (verify) {
    printf("{\"bytes\":%ld,\"fnv\":%u}\n", 4 * count, h);
    return 0;
  }
  for (long i = 0; i < count; i++) printf("%u\n", lat[i]);
  return 0;
}
