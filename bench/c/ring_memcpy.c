// The single-thread memcpy bandwidth the ring's 1 MiB target is measured against: memcpy of SIZE bytes
// between two SIZE-byte buffers, as the ring copies one message in and one out.
// Usage: ring_memcpy SIZE MILLISECONDS -> {"mb_per_s": ...}
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  size_t size = strtoul(argv[1], NULL, 10);
  double ms = atof(argv[2]);
  unsigned char *a = aligned_alloc(64, size), *b = aligned_alloc(64, size);
  memset(a, 1, size);
  memset(b, 2, size);
  long n = 0;
  double t0 = now(), t;
  do {
    for (int i = 0; i < 16; i++, n++) {
      memcpy((n & 1) ? a : b, (n & 1) ? b : a, size);
      __asm__ volatile("" ::: "memory");
    }
    t = now();
  } while (t - t0 < ms / 1000);
  printf("{\"mb_per_s\":%.1f}\n", (double)n * size / (t - t0) / 1e6);
  return 0;
}
