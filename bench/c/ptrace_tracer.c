// The C floor of the ptrace bench: fork, PTRACE_SEIZE, exec ptrace_fault; at each signal-delivery stop
// read CLOCK_MONOTONIC, PTRACE_GETSIGINFO (as ipckit does) and deliver the signal. Prints one stamp (ns)
// per SIGSEGV stop on stdout.
//   ptrace_tracer TRACEE N OUTFILE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  int go[2];
  if (pipe(go) == -1) return 2;
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(127);
    execl(argv[1], argv[1], argv[2], argv[3], (char*)NULL);
    _exit(127);
  }
  close(go[0]);
  if (ptrace(PTRACE_SEIZE, pid, 0, (void*)(long)PTRACE_O_TRACEEXIT) == -1) return 3;
  (void)!write(go[1], "g", 1);
  close(go[1]);
  long n = atol(argv[2]);
  long long* stamps = calloc(n, sizeof *stamps);
  long seen = 0;
  for (;;) {
    int st;
    if (waitpid(pid, &st, __WALL) == -1) return 4;
    if (WIFEXITED(st) || WIFSIGNALED(st)) break;
    int sig = WSTOPSIG(st);
    long deliver = 0;
    if ((st >> 16) == 0) {
      if (sig == SIGSEGV) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        siginfo_t si;
        ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
        if (seen < n) stamps[seen++] = (long long)t1.tv_sec * 1000000000LL + t1.tv_nsec;
      }
      deliver = sig;
    }
    ptrace(PTRACE_CONT, pid, 0, (void*)deliver);
  }
  for (long i = 0; i < seen; i++) printf("%lld\n", stamps[i]);
  return 0;
}
