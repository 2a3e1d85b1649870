// `ipckit bench [--json F] [--svg F] [--quick] [--only m1,m2]`: every mechanism and Node's own IPC in one
// run (bench/index.ts). The table goes to stdout, a progress line to stderr.
import fs from 'node:fs';
import { Command } from 'commander';

/**
 * The `bench` subcommand.
 *
 * @example
 * ```sh
 * ipckit bench --quick --json bench.json --svg bench.svg
 * ```
 */
export function benchCommand(): Command {
  return new Command('bench')
    .description('latency (p50/p99/p99.9 round trip) and throughput per mechanism and size, with C floors and Node baselines')
    .option('--json <file>', 'write the rows as JSON')
    .option('--svg <file>', 'write a bar chart of round-trip p50')
    .option('--quick', 'fewer sizes and samples (under a minute)', false)
    .option('--repeat <n>', 'runs of each module; figures are medians with their min–max (default 3, 1 with --quick)')
    .option('--only <modules>', 'comma-separated bench modules (baseline, pipe, ring, mq, signal, socket, shm, growth, fork)')
    .action(async (o: { json?: string; svg?: string; quick: boolean; only?: string; repeat?: string }) => {
      // The harness lives beside the compiled CLI (dist/bench); imported lazily so that other commands
      // do not load it.
      const { runBench, table, svg } = await import('../../bench/index.js');
      const tty = process.stderr.isTTY;
      const t0 = performance.now();
      const run = await runBench({
        quick: o.quick,
        ...(o.repeat === undefined ? {} : { repeat: Number(o.repeat) }),
        only: o.only?.split(',').map((s) => s.trim()),
        progress: (text) => {
          const line = `bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s  ${text}`;
          if (tty) process.stderr.write(`\r\x1b[K${line}`);
          else process.stderr.write(`${line}\n`);
        },
      });
      if (tty) process.stderr.write('\r\x1b[K');
      process.stdout.write(`${table(run)}\n`);
      if (o.json) fs.writeFileSync(o.json, `${JSON.stringify(run, null, 2)}\n`);
      if (o.svg) fs.writeFileSync(o.svg, svg(run));
      if (run.rows.length === 0) process.exitCode = 1;
    });
}
