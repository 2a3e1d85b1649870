// `ipckit watch PID [--json]`: one line per state change of a process (stopped, continued, exited).
// The CLI is never the parent of PID, so stops and continues come through a tracer (PTRACE_SEIZE, every
// signal delivered at once); where ptrace is refused, the exit alone, through the pidfd. SIGINT
// detaches: the process is left running, never stopped.
import { Command, InvalidArgumentError } from 'commander';
import { processes, type ProcessEvent, type ProcessWatcher } from '../index.js';

function pidArg(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > 2 ** 31 - 1) {
    throw new InvalidArgumentError('expected a pid');
  }
  return n;
}

/** One state change as the CLI prints it. */
export function describeProcessEvent(ev: ProcessEvent): string {
  if (ev.type === 'stopped') return `stopped   ${ev.signal}`;
  if (ev.type === 'continued') return 'continued';
  if (ev.code !== null) return `exited    code ${ev.code}`;
  if (ev.signal !== null) return `exited    signal ${ev.signal}${ev.core ? ' (core dumped)' : ''}`;
  return 'exited    (status unknown: not our child, kernel before 6.15)';
}

/**
 * The `watch` subcommand.
 *
 * @example
 * ```sh
 * ipckit watch 12345 --json
 * ```
 */
export function watchCommand(): Command {
  return new Command('watch')
    .description('print the state changes of a process (stopped, continued, exited), one a line')
    .argument('<pid>', 'the process to watch', pidArg)
    .option('--json', 'one JSON object per line')
    .action(async (pid: number, opts: { json?: boolean }) => {
      let w: ProcessWatcher = processes.watch(pid, { trace: true });
      try {
        await w.ready();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.syscall !== 'ptrace') throw err;
        process.stderr.write(`ipckit watch: stops and continues not visible (${e.message}); watching for the exit only\n`);
        w = processes.watch(pid);
      }
      process.stderr.write(`watching process ${pid} (${w.mode === 'trace' ? 'traced' : 'exit only'}); Ctrl-C detaches\n`);
      const onInt = () => {
        process.exitCode = 130;
        void w.close(); // detaches: the process runs on
      };
      process.once('SIGINT', onInt);
      const print = (ev: ProcessEvent) => process.stdout.write((opts.json ? JSON.stringify(ev) : describeProcessEvent(ev)) + '\n');
      try {
        for await (const ev of w) print(ev);
      } finally {
        process.off('SIGINT', onInt);
        await w.close();
      }
    });
}
