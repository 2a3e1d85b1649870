// `ipckit trace [--suppress SIG[:N]]... [--json] -- command args...`: runs a command under the tracer.
// Each signal on its way to the command is printed on stderr with its siginfo and delivered, or
// suppressed (the first N times with SIG:N); group stops, continues and the exit status are printed
// too, and the CLI exits with the command's own status (128 + signal number when a signal killed it).
// SIGINT detaches (the command runs on, never stopped, and keeps its own copy of a terminal's SIGINT);
// the CLI then waits for the command to end.
import { Command } from 'commander';
import { Tracer, type TraceEvent } from '../index.js';
import { CliError } from './output.js';
import os from 'node:os';

function collect(value: string, prev: string[]): string[] {
  return [...prev, value];
}

/** A signal event as the CLI prints it. */
export function describeTraceEvent(ev: TraceEvent, action?: string): string {
  switch (ev.type) {
    case 'signal': {
      const parts = [`signal ${ev.signal}`, `code=${ev.code}`];
      if (ev.addr !== undefined) parts.push(`addr=0x${ev.addr.toString(16)}`);
      if (ev.pid !== undefined) parts.push(`pid=${ev.pid}`, `uid=${ev.uid}`);
      if (ev.status !== undefined) parts.push(`status=${ev.status}`);
      if (ev.value !== undefined) parts.push(`value=${ev.value}`);
      if (action) parts.push(`→ ${action}`);
      return parts.join(' ');
    }
    case 'stopped':
      return `stopped by ${ev.signal}`;
    case 'continued':
      return 'continued';
    case 'exec':
      return `exec (pid ${ev.tid})`;
    case 'fork':
      return `${ev.via} → pid ${ev.child} (not traced)`;
    case 'clone':
      return `new thread ${ev.thread} (not traced)`;
    case 'exit':
      return ev.code !== null ? `exit code ${ev.code}` : `exit signal ${ev.signal}${ev.core ? ' (core dumped)' : ''}`;
  }
}

/**
 * The `trace` subcommand.
 *
 * @example
 * ```sh
 * ipckit trace --suppress SIGUSR1 --suppress SIGSEGV:1 -- ./server --port 0
 * ```
 */
export function traceCommand(): Command {
  return new Command('trace')
    .description("run a command under the tracer: print each signal delivered to it with its siginfo, and its exit; exit with the command's status")
    .argument('<command>', 'the program (looked up in PATH)')
    .argument('[args...]', 'its arguments (put -- before the command)')
    .option('--suppress <sig[:n]>', 'suppress SIG (every time, or the first N times); repeatable', collect, [])
    .option('--json', 'one JSON object per line on stderr')
    .action(async (command: string, args: string[], opts: { suppress: string[]; json?: boolean }) => {
      const budget = new Map<number, number>();
      for (const s of opts.suppress) {
        const [name, n] = s.split(':');
        const signo = /^\d+$/.test(name!) ? Number(name) : (os.constants.signals as Record<string, number>)[name!.toUpperCase().startsWith('SIG') ? name!.toUpperCase() : 'SIG' + name!.toUpperCase()];
        if (signo === undefined || !(n === undefined || /^\d+$/.test(n))) throw new CliError(`--suppress ${s}: expected SIG or SIG:N`, 2);
        budget.set(signo, n === undefined ? Infinity : Number(n));
      }
      // The handler goes in before the spawn: the command may be running (and the user pressing
      // Ctrl-C) before Tracer.spawn resolves.
      let tracer: Tracer | undefined;
      let interrupted = false;
      const onInt = () => {
        interrupted = true;
        if (!tracer) return;
        process.stderr.write(`[trace ${tracer.pid}] SIGINT: detaching; waiting for the command to end\n`);
        void tracer.detach();
      };
      process.on('SIGINT', onInt);
      try {
        tracer = await Tracer.spawn(command, args);
      } catch (err) {
        process.off('SIGINT', onInt);
        throw err;
      }
      if (interrupted) onInt();
      const pid = tracer.pid;
      const out = (ev: TraceEvent, action?: string) => {
        const line = opts.json
          ? JSON.stringify({ ...ev, ...(action ? { action } : {}) }, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))
          : `[trace ${pid}] ${describeTraceEvent(ev, action)}`;
        process.stderr.write(line + '\n');
      };
      try {
        for await (const ev of tracer) {
          if (ev.type === 'signal') {
            const left = budget.get(ev.signo) ?? 0;
            if (left > 0) {
              budget.set(ev.signo, left - 1);
              out(ev, 'suppressed');
              ev.suppress();
            } else {
              out(ev, 'delivered');
              ev.deliver();
            }
          } else if (ev.type !== 'exec') {
            out(ev);
            if (ev.type === 'exit') ev.resume();
          }
        }
        const st = await tracer.exited();
        process.exitCode = st.code ?? 128 + ((os.constants.signals as Record<string, number>)[st.signal ?? ''] ?? 0);
      } finally {
        process.off('SIGINT', onInt);
        await tracer.close();
      }
    });
}
