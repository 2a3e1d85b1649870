// `ipckit bench [--json [F]] [--svg F] [--quick] [--only m1,m2] [--wide]`: every mechanism and Node's own
// IPC in one run (bench/index.ts). The table goes to stdout (120 columns at most unless --wide), a
// progress line to stderr.
import fs from 'node:fs';
import { Command } from 'commander';
import type { BenchRun } from '../../bench/index.js';
import type { BenchRow } from '../../bench/lib.js';
import { usageError } from './output.js';
import { ownBenchRun } from './bench-owned.js';
import { isEnding } from './lifetime.js';
import { fmtNum, fmtSize } from '../../bench/format.js';

/** Width of the default table and of its notes. */
export const COLUMNS = 120;


/** Words of `text` in lines of at most `width` columns, each but the first indented by `indent`. */
export function wrap(text: string, width: number, indent = '    '): string[] {
  const out: string[] = [];
  const lead = /^ */.exec(text)![0];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    const next = line.trim() === '' ? `${line}${word}` : `${line} ${word}`;
    if (next.length > width && line.trim() !== '') {
      out.push(line);
      line = `${indent}${word}`;
    } else line = next;
  }
  if (line.trim() !== '') out.push(line);
  return out.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
}

type Helpers = Pick<typeof import('../../bench/index.js'), 'ratioToC' | 'speedupVsCp' | 'targets' | 'growthTargets' | 'growthTable' | 'fmtSpread'>;

/**
 * The run as a table of at most `width` columns: what, size, kind, p50, p99, msg/s, MB/s, × C and the
 * speed-up over child_process.send; labels are cut to fit (with …), notes and targets wrapped.
 * `ipckit bench --wide` prints every column (bench/index.ts table()).
 */
export function compactTable(run: BenchRun, h: Helpers, width = COLUMNS): string {
  const head = ['what', 'size', 'kind', 'p50 µs', 'p99 µs', 'msg/s', 'MB/s', 'min–max', '× C', 'vs cp.send'];
  // Sweep rows (bench/growth.ts) have tables of their own, x across (growthTable).
  const flat = run.rows.filter((r) => !r.sweep);
  const lines = flat.map((r) => {
    const xc = h.ratioToC(run.rows, r);
    const vs = h.speedupVsCp(run.rows, r);
    return [
      r.label,
      fmtSize(r.size),
      r.kind,
      fmtNum(r.p50_us),
      fmtNum(r.p99_us),
      fmtNum(r.msgs_per_s),
      fmtNum(r.mb_per_s, 0),
      h.fmtSpread(r),
      xc === undefined ? '' : `${xc.toFixed(2)}×`,
      vs === undefined ? '' : `${vs >= 10 ? Math.round(vs) : vs.toFixed(1)}× faster`,
    ];
  });
  const w = head.map((c, i) => Math.max(c.length, ...lines.map((l) => l[i]!.length)));
  // The label column takes what the others leave.
  const others = w.slice(1).reduce((a, b) => a + b, 0) + 2 * (head.length - 1);
  w[0] = Math.max(12, Math.min(w[0]!, width - others));
  const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? cut(c, w[0]!).padEnd(w[0]!) : i <= 2 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  const out = flat.length ? [fmt(head), w.map((n) => '-'.repeat(n)).join('  '), ...lines.map(fmt)] : [];
  out.push(...h.growthTable(run).map((l) => cut(l, width)));
  const what = (r: BenchRow) => (r.sweep ? `${r.sweep.name} ${r.sweep.name === 'size' ? fmtSize(r.sweep.x) : r.sweep.x}` : fmtSize(r.size));
  const notes = [...new Set(run.rows.filter((r) => r.note).map((r) => `  ${r.label} (${what(r)}): ${r.note}`))].flatMap((n) => wrap(n, width));
  if (notes.length) out.push('', 'notes:', ...notes);
  const t = [...h.targets(run), ...h.growthTargets(run)];
  if (t.length) out.push('', 'targets:', ...t.flatMap((l) => wrap(`  ${l}`, width)));
  if (run.verified?.length || run.unverified?.length) {
    out.push('', 'verified first (C and Node peers moved the same bytes):', ...(run.verified ?? []).map((v) => `  ${v.module}: ${v.checks.length} checks agree`));
    if (run.unverified?.length) out.push(...wrap(`  not verified (no verify()): ${run.unverified.join(', ')}`, width));
  }
  if (run.skipped.length) out.push('', 'skipped:', ...run.skipped.flatMap((s) => wrap(`  ${s.module}: ${s.reason}`, width)));
  const reps = run.machine.repeat ?? 1;
  out.push(
    '',
    ...wrap(
      (reps > 1 ? `Every figure is the median of ${reps} runs of its module; min–max: the range of its primary figure. ` : 'One run per module: no spread. ') +
        `× C: time relative to the same mechanism in C in this run (rtt p50 ratio; throughput: C MB/s ÷ ours). ` +
        `vs cp.send: p50 round trip of child_process.send (json) ÷ this p50. ${run.machine.cpus} CPUs. ` +
        `--wide: every column (p99.9, mechanism, implementation, cores).`,
      width,
      '',
    ),
  );
  return out.join('\n');
}

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
    .option('--json [file]', 'write the rows as JSON to file (without a file: to stdout, instead of the table)')
    .option('--svg <file>', 'write a bar chart of round-trip p50')
    .option('--quick', 'fewer sizes and samples (under a minute)', false)
    .option('--repeat <n>', 'runs of each module; figures are medians with their min–max (default 3, 1 with --quick)')
    .option('--only <modules>', 'comma-separated bench modules (pipe, ring, baseline, mq, signal, socket, shm, growth, fork)')
    .option('--wide', `every column (the default table fits ${COLUMNS} columns)`, false)
    .action(async (o: { json?: string | true; svg?: string; quick: boolean; only?: string; repeat?: string; wide: boolean }) => {
      // The harness lives beside the compiled CLI (dist/bench); imported lazily so that other commands
      // do not load it.
      const bench = await import('../../bench/index.js');
      const only = o.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (only) {
        const unknown = only.filter((m) => !(bench.MODULES as readonly string[]).includes(m));
        if (unknown.length || only.length === 0) throw usageError(`bench --only: unknown module${unknown.length > 1 ? 's' : ''} ${unknown.join(', ') || '(none given)'}; there are ${bench.MODULES.join(', ')}`);
      }
      const repeat = o.repeat === undefined ? undefined : Number(o.repeat);
      if (repeat !== undefined && !(Number.isInteger(repeat) && repeat >= 1 && repeat <= 100)) throw usageError(`bench --repeat: expected an integer from 1 to 100, got ${o.repeat}`);
      const tty = process.stderr.isTTY;
      const t0 = performance.now();
      // From here until the run is over, its processes, objects and temporary files are ours: a
      // signal or a reader gone away (EPIPE) removes them (bench-owned.ts). Should the run itself
      // throw, main.ts releases them the same way.
      const disown = ownBenchRun();
      const run = await bench.runBench({
        quick: o.quick,
        ...(repeat === undefined ? {} : { repeat }),
        only,
        progress: (text) => {
          const line = `bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s  ${text}`;
          if (tty) process.stderr.write(`\r\x1b[K${line}`);
          else process.stderr.write(`${line}\n`);
        },
      });
      // Told to end during the run (its children are killed, so modules fail): lifetime.ts ends it.
      if (isEnding()) return;
      disown();
      if (tty) process.stderr.write('\r\x1b[K');
      if (o.json === true) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
      else process.stdout.write(`${o.wide ? bench.table(run) : compactTable(run, bench)}\n`);
      if (typeof o.json === 'string') fs.writeFileSync(o.json, `${JSON.stringify(run, null, 2)}\n`);
      if (o.svg) fs.writeFileSync(o.svg, bench.svg(run));
      if (run.rows.length === 0) {
        process.stderr.write('ipckit: bench: no rows (every module was skipped; see "skipped" above)\n');
        process.exitCode = 1;
      }
    });
}

