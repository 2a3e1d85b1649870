// The tracee of the ptrace bench: N times, read CLOCK_MONOTONIC and write into a PROT_NONE page at once
// (SIGSEGV); the tracer stamps the signal-delivery stop and delivers the signal; the handler
// siglongjmps back. The stamps taken before each fault go to OUTFILE (after the fault: not timed).
//   ptrace_fault N OUTFILE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static sigjmp_buf back;
static void on_segv(int s) { (void)s; siglongjmp(back, 1); }

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  long n = atol(argv[1]);
  FILE* out = fopen(argv[2], "w");
  if (!out) return 2;
  volatile char* page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 2;
  struct sigaction sa = {0};
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, NULL);
  for (volatile long i = 0; i < n; i++) {
    struct timespec t0;
    if (sigsetjmp(back, 1) == 0) {
      clock_gettime(CLOCK_MONOTONIC, &t0);
      page[16] = 1;
    }
    fprintf(out, "%lld\n", (long long)t0.tv_sec * 1000000000LL + t0.tv_nsec);
  }
  fclose(out);
  return 0;
}
