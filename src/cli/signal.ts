// `ipckit signal send PID SIG [--value N]` and `ipckit signal watch SIG... [--json] [--count N]`:
// the signals module from the shell, through the public API only.
import { Command, InvalidArgumentError } from 'commander';
import { signals, type SignalEvent } from '../index.js';
import { parsed } from './output.js';

function integer(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function signalArg(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

function line(ev: SignalEvent): string {
  const f = (v: number | string | undefined) => (v === undefined ? '-' : String(v));
  return `${ev.signal.padEnd(12)} pid=${f(ev.pid)} uid=${f(ev.uid)} value=${f(ev.value)} code=${f(ev.code)}`;
}

/**
 * The `signal` subcommand.
 *
 * @example
 * ```sh
 * ipckit signal watch SIGRTMIN+1 SIGUSR2 --count 3      # in one terminal: prints its pid, then deliveries
 * ipckit signal send 12345 SIGRTMIN+1 --value 42        # in another
 * ```
 */
export function signalCommand(): Command {
  const cmd = new Command('signal').description('send signals (kill, sigqueue) and watch them with sender and value');

  // exitOverride on each subcommand: a usage error then reaches main.ts as a CommanderError (exit code 2)
  // instead of commander's own process.exit(1) (settings are inherited when a subcommand is created,
  // before main.ts configures this command).
  cmd
    .command('send')
    .exitOverride()
    .description('send SIG to PID: kill(2), or sigqueue(3) with --value')
    .argument('<pid>', 'target process (0 / negative: a process group, as kill(2))', integer(-(2 ** 31), 2 ** 31 - 1))
    .argument('<sig>', "signal name or number: SIGUSR2, USR2, 'SIGRTMIN+3', 12 (0: only check that PID exists)")
    .option('--value <n>', 'an integer carried with the signal (sigqueue)', integer(-(2 ** 31), 2 ** 31 - 1))
    .option('--json', 'print {"pid", "signal", "number", "value"} once sent')
    .action((pid: number, sig: string, opts: { value?: number; json?: boolean }) => {
      // A signal that does not exist is a usage error (exit 2); ESRCH and EPERM are failures (exit 1).
      // Signal 0 sends nothing and checks that PID exists (kill(2)).
      const number = sig === '0' ? 0 : parsed(sig, () => signals.number(signalArg(sig)));
      signals.send(pid, signalArg(sig), opts.value === undefined ? {} : { value: opts.value });
      if (opts.json) process.stdout.write(JSON.stringify({ pid, signal: sig, number, ...(opts.value === undefined ? {} : { value: opts.value }) }) + '\n');
    });

  cmd
    .command('watch')
    .exitOverride()
    .description('print one line per delivery (signal, sender pid and uid, value, si_code)')
    .argument('<sig...>', 'signals to watch; realtime ones always come with sender and value')
    .option('--json', 'one JSON object per line')
    .option('--count <n>', 'exit after N deliveries', integer(1, Number.MAX_SAFE_INTEGER))
    .option('--siginfo', 'take standard signals with their siginfo (sender pid and uid) instead of through Node')
    .action(async (sigs: string[], opts: { json?: boolean; count?: number; siginfo?: boolean }) => {
      for (const sig of sigs) parsed(sig, () => signals.number(signalArg(sig)));
      const watcher = signals.watch(sigs.map(signalArg), { siginfo: opts.siginfo === true, ref: true });
      process.stderr.write(`watching ${watcher.signals.join(' ')} in pid ${process.pid}\n`);
      let n = 0;
      for await (const ev of watcher) {
        process.stdout.write((opts.json ? JSON.stringify(ev) : line(ev)) + '\n');
        if (opts.count !== undefined && ++n >= opts.count) break; // break closes the watcher
      }
    });

  return cmd;
}
