// Tour, process management: a child under a tracer is stopped and continued, then crashes with SIGSEGV.
// The tracer reports the faulting address, suppresses the first fault (the write runs again and faults
// again) and lets the second one through. The crasher is a few lines of C compiled here when cc exists;
// without cc, `sleep` shows the stop and continue alone.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tracer, pipe, signals, type TraceEvent } from '../../index.js';
import type { TourSection } from './section.js';

const CRASHER = `#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
static volatile sig_atomic_t go;
static void on_usr2(int s) { (void)s; go = 1; }
int main(void) {
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  sigset_t m, old;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR2);
  sigprocmask(SIG_BLOCK, &m, &old);
  signal(SIGUSR2, on_usr2);
  volatile char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("%p\\n", (void *)(page + 16));
  fflush(stdout);
  while (!go) sigsuspend(&old);
  page[16] = 1; /* SIGSEGV, SEGV_ACCERR at page + 16 */
  return 0;
}
`;

/** The crasher, compiled once per content into the temporary directory; undefined without cc. */
function crasher(): string | undefined {
  const hash = createHash('sha256').update(CRASHER).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `ipckit-tour-${process.getuid?.() ?? 0}`);
  const bin = path.join(dir, `crasher-${hash}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const src = `${bin}.c`;
  fs.writeFileSync(src, CRASHER);
  const r = spawnSync('cc', ['-O1', '-o', bin, src], { stdio: 'ignore' });
  fs.rmSync(src, { force: true });
  return r.status === 0 ? bin : undefined;
}

async function next(t: Tracer): Promise<TraceEvent> {
  const r = await t.next({ timeout: 10_000 });
  if (r.done) throw new Error('the tracee ended early');
  return r.value;
}

export const section: TourSection = {
  title: 'Process management',
  order: 8,
  async run(out) {
    const bin = crasher();
    const { reader, writer } = pipe();
    reader.setEncoding('utf8');
    const firstLine = new Promise<string>((resolve) => reader.once('data', (d: string) => resolve(d.trim())));
    const t = bin
      ? await Tracer.spawn(bin, [], { stdio: ['ignore', writer.fd, 'inherit'] })
      : await Tracer.spawn('sleep', ['30'], { stdio: 'ignore' });
    writer.destroy();
    try {
      out.step(`A child runs under our tracer (PTRACE_SEIZE on a thread of ours): pid ${t.pid}.`);
      const addr = bin ? await firstLine : undefined;
      if (addr) out.detail(`it will write to ${addr}, a page it mapped PROT_NONE`);

      out.step('We stop it with SIGSTOP, then continue it with SIGCONT.');
      signals.send(t.pid, 'SIGSTOP');
      for (let ev = await next(t); ; ev = await next(t)) {
        if (ev.type === 'signal') out.detail(`signal ${ev.signal} on its way, from pid ${ev.pid} (${ev.code}): delivered`);
        if (ev.type === 'stopped') {
          out.detail(`group stop by ${ev.signal}: the child is stopped`);
          break;
        }
      }
      signals.send(t.pid, 'SIGCONT');
      for (let ev = await next(t); ; ev = await next(t)) {
        if (ev.type === 'continued') out.detail('continued');
        if (ev.type === 'signal') {
          out.detail(`then ${ev.signal} itself, from pid ${ev.pid}: delivered`);
          break;
        }
      }

      if (!bin) {
        out.step('(The crash needs cc to compile its few lines of C: skipped.)');
        process.kill(t.pid, 'SIGTERM');
        await t.exited({ timeout: 10_000 });
        return;
      }
      out.step('We tell it to go on (SIGUSR2): it writes to the forbidden page.');
      signals.send(t.pid, 'SIGUSR2');
      let faults = 0;
      for (;;) {
        const ev = await next(t);
        if (ev.type === 'signal' && ev.signal === 'SIGSEGV') {
          const at = `0x${ev.addr?.toString(16)}`;
          if (faults++ === 0) {
            out.detail(`${ev.signal} ${ev.code} at ${at}${at === addr ? ' (the address it printed)' : ''}: suppressed, the write runs again`);
            ev.suppress();
          } else {
            out.detail(`${ev.signal} ${ev.code} at ${at} again: delivered`);
            ev.deliver();
          }
        } else if (ev.type === 'signal') ev.deliver();
        else if (ev.type === 'exit') {
          out.detail(`exit stop, while the process still exists: killed by ${ev.signal}`);
          ev.resume();
          break;
        }
      }
      const st = await t.exited({ timeout: 10_000 });
      out.detail(`reaped by the tracer thread: ${st.signal ?? `code ${st.code}`}, no core file`);
    } finally {
      reader.destroy();
      if (t.state !== 'exited') {
        try {
          process.kill(t.pid, 'SIGKILL');
        } catch {}
        await t.exited({ timeout: 10_000 }).catch(() => {});
      }
    }
  },
};

export default section;
