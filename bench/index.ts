// The harness of `ipckit bench`: runs every bench module that exists in this build (each exports
// `bench(opts): Promise<BenchRow[]>`), with this process pinned to CPU a and peers to CPU b, and turns the
// rows into an aligned table (with ratios to C and to child_process.send), JSON and an SVG chart.
import { CPU_A, NCPU, pinPid, unpinPid } from './common.js';
import type { BenchOptions, BenchRow } from './lib.js';

/**
 * The modules that expect this process on CPU a (their peers go to CPU b). The others pin their own peers
 * with lib.ts's pinned(), which consults this process's affinity: they run with it unpinned.
 */
const PINNED = new Set(['baseline', 'pipe', 'ring']);

/** Every bench module, in running order; those not (yet) in the build are reported as skipped. */
export const MODULES = ['baseline', 'pipe', 'ring', 'mq', 'signal', 'socket', 'shm', 'ptrace'] as const;

export interface BenchRun {
  rows: BenchRow[];
  skipped: { module: string; reason: string }[];
  machine: { cpus: number; node: string; kernel: string; date: string; quick: boolean };
}

export interface RunOptions extends BenchOptions {
  /** Only these modules. */
  only?: string[];
  /** Called with a short status as each module starts and ends. */
  progress?: (text: string) => void;
}

export async function runBench(opts: RunOptions): Promise<BenchRun> {
  const os = await import('node:os');
  const rows: BenchRow[] = [];
  const skipped: BenchRun['skipped'] = [];
  const list = MODULES.filter((m) => !opts.only || opts.only.includes(m));
  for (const [i, name] of list.entries()) {
    opts.progress?.(`[${i + 1}/${list.length}] ${name}`);
    let mod: { bench?: (o: BenchOptions) => Promise<BenchRow[]> };
    try {
      mod = await import(`./${name}.js`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      skipped.push({ module: name, reason: e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(`/${name}.js`) ? 'not in this build' : String(e.message) });
      continue;
    }
    if (typeof mod.bench !== 'function') {
      skipped.push({ module: name, reason: 'exports no bench()' });
      continue;
    }
    const t0 = performance.now();
    if (PINNED.has(name)) pinPid(process.pid, CPU_A);
    try {
      const got = await mod.bench({ quick: opts.quick });
      rows.push(...got);
      opts.progress?.(`[${i + 1}/${list.length}] ${name}: ${got.length} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      skipped.push({ module: name, reason: `failed: ${(err as Error).message}` });
    } finally {
      if (PINNED.has(name)) unpinPid(process.pid);
    }
  }
  return {
    rows,
    skipped,
    machine: { cpus: NCPU, node: process.version, kernel: os.release(), date: new Date().toISOString(), quick: opts.quick },
  };
}

function fmtSize(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

function fmtNum(n: number | undefined, digits = 2): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)} K`;
  if (n >= 100) return String(Math.round(n));
  return n.toFixed(digits);
}

/** The C row this row is compared with: same mechanism, size and kind. */
export function cFloor(rows: BenchRow[], r: BenchRow): BenchRow | undefined {
  if (r.impl === 'c') return undefined;
  // A FIFO is a pipe with a name: the same kernel object, the same floor.
  const mech = r.mechanism === 'fifo' ? 'pipe' : r.mechanism;
  return rows.find((c) => c.impl === 'c' && c.mechanism === mech && c.size === r.size && c.kind === r.kind);
}

/** The issue's targets for the ring, judged from the rows of this run. */
export function targets(run: BenchRun): string[] {
  const find = (label: string, size: number, kind?: string) => run.rows.find((r) => r.label === label && r.size === size && (!kind || r.kind === kind));
  const out: string[] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const spin = find('ipckit ring, spinning (tryReceive/trySend)', 64);
  const cSpin = find('C spin ping-pong (MAP_SHARED)', 64);
  const cp = find('child_process.send (json)', 64, 'rtt');
  if (spin?.p50_us && cSpin?.p50_us) {
    const x = spin.p50_us / cSpin.p50_us;
    out.push(`ring spinning 64 B round trip p50 ${spin.p50_us} µs = ${x.toFixed(2)}× C (${cSpin.p50_us} µs); target <= 2×: ${verdict(x <= 2)}`);
  }
  if (spin?.p50_us && cp?.p50_us) {
    const x = cp.p50_us / spin.p50_us;
    out.push(`ring spinning vs child_process.send (json) 64 B: ${Math.round(x)}× faster; target >= 200×: ${verdict(x >= 200)}`);
  }
  const tput = find('ipckit ring one way, 64 B, spinning', 64);
  if (tput?.msgs_per_s) out.push(`ring one way 64 B: ${(tput.msgs_per_s / 1e6).toFixed(2)} M msg/s; target >= 5 M: ${verdict(tput.msgs_per_s >= 5e6)}`);
  // The default parking (doorbells between two ipckit processes); the futex path is in the table too.
  const sleep = find('ipckit ring, both sides parked (doorbell FIFOs on the event loop)', 64);
  const cSleep = find('C futex ping-pong', 64);
  if (sleep?.p50_us && cSleep?.p50_us) {
    const x = sleep.p50_us / cSleep.p50_us;
    out.push(`ring sleeping 64 B round trip p50 ${sleep.p50_us} µs = ${x.toFixed(2)}× the C futex round trip (${cSleep.p50_us} µs); target <= 1.3×: ${verdict(x <= 1.3)}`);
  }
  const big = find('ipckit ring one way, 1 MiB, spinning', 1 << 20);
  const mc = find('C memcpy, one thread', 1 << 20);
  if (big?.mb_per_s && mc?.mb_per_s) {
    const f = big.mb_per_s / mc.mb_per_s;
    out.push(`ring 1 MiB one way ${big.mb_per_s} MB/s = ${(f * 100).toFixed(0)}% of single-thread memcpy (${mc.mb_per_s} MB/s); target >= 70%: ${verdict(f >= 0.7)}`);
  }
  return out;
}

export function cpSend(rows: BenchRow[], r: BenchRow): BenchRow | undefined {
  return rows.find((c) => c.label === 'child_process.send (json)' && c.size === r.size && c.kind === 'rtt');
}

/** x C: time relative to C (rtt: p50 / C p50; throughput: C MB/s / our MB/s); 1.00 = as fast as C. */
export function ratioToC(rows: BenchRow[], r: BenchRow): number | undefined {
  const c = cFloor(rows, r);
  if (!c) return undefined;
  if (r.kind !== 'throughput' && r.p50_us && c.p50_us) return r.p50_us / c.p50_us;
  if (r.kind === 'throughput' && r.mb_per_s && c.mb_per_s) return c.mb_per_s / r.mb_per_s;
  return undefined;
}

/** How many times faster than child_process.send (json) at the same size (p50 round trip). */
export function speedupVsCp(rows: BenchRow[], r: BenchRow): number | undefined {
  const cp = cpSend(rows, r);
  if (!cp || r.kind !== 'rtt' || !r.p50_us || !cp.p50_us || cp === r) return undefined;
  return cp.p50_us / r.p50_us;
}

export function table(run: BenchRun): string {
  const head = ['mechanism', 'impl', 'what', 'size', 'kind', 'p50 µs', 'p99 µs', 'p99.9 µs', 'msg/s', 'MB/s', '× C', 'vs cp.send', 'cores'];
  const lines = run.rows.map((r) => {
    const xc = ratioToC(run.rows, r);
    const vs = speedupVsCp(run.rows, r);
    return [
      r.mechanism,
      r.impl,
      r.label,
      fmtSize(r.size),
      r.kind,
      fmtNum(r.p50_us),
      fmtNum(r.p99_us),
      fmtNum(r.p999_us),
      fmtNum(r.msgs_per_s),
      fmtNum(r.mb_per_s, 0),
      xc === undefined ? '' : `${xc.toFixed(2)}×`,
      vs === undefined ? '' : `${vs >= 10 ? Math.round(vs) : vs.toFixed(1)}× faster`,
      r.cores,
    ];
  });
  const numeric = new Set([5, 6, 7, 8, 9, 10, 11]);
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  const out = [fmt(head), width.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)];
  const notes = run.rows.filter((r) => r.note).map((r) => `  ${r.label} (${fmtSize(r.size)}): ${r.note}`);
  if (notes.length) out.push('', 'notes:', ...notes);
  const t = targets(run);
  if (t.length) out.push('', 'targets (issue 7):', ...t.map((l) => `  ${l}`));
  if (run.skipped.length) out.push('', 'skipped:', ...run.skipped.map((s) => `  ${s.module}: ${s.reason}`));
  out.push(
    '',
    `× C: time relative to the same mechanism in C in this run (rtt p50 ratio; throughput: C MB/s ÷ ours). ` +
      `vs cp.send: p50 round trip of child_process.send (json) ÷ this p50. cores a = this process, b = the peer ` +
      `(${run.machine.cpus} CPUs; cross-core wake-ups in a VM cost tens of µs).`,
  );
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A horizontal bar chart of round-trip p50 (log scale), one bar per rtt row, grouped by size. */
export function svg(run: BenchRun): string {
  const rows = run.rows.filter((r) => r.kind !== 'throughput' && r.p50_us).sort((a, b) => a.size - b.size || a.p50_us! - b.p50_us!);
  const barH = 16;
  const left = 360;
  const plotW = 560;
  const top = 40;
  const h = top + rows.length * (barH + 4) + 40;
  const max = Math.max(...rows.map((r) => r.p50_us!), 1);
  const min = Math.min(...rows.map((r) => r.p50_us!), 1) / 2;
  const x = (v: number) => (Math.log10(v / min) / Math.log10(max / min)) * plotW;
  const color = { ipckit: '#2b7bb9', c: '#6c757d', node: '#e8a33d' } as const;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + plotW + 120}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="20" font-size="14" font-weight="bold">ipckit bench: round-trip p50 (µs, log scale)${run.machine.quick ? ' --quick' : ''}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * (barH + 4);
    parts.push(
      `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${esc(`${r.label} · ${fmtSize(r.size)}${r.kind === 'wakeup' ? ' (wake-up)' : ''}`)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, x(r.p50_us!)).toFixed(1)}" height="${barH}" fill="${color[r.impl]}"/>`,
      `<text x="${left + x(r.p50_us!) + 4}" y="${y + 12}">${fmtNum(r.p50_us)}</text>`,
    );
  });
  const ly = h - 20;
  (['ipckit', 'c', 'node'] as const).forEach((k, i) => {
    parts.push(`<rect x="${left + i * 110}" y="${ly - 10}" width="12" height="12" fill="${color[k]}"/>`, `<text x="${left + i * 110 + 16}" y="${ly}">${k === 'c' ? 'C floor' : k === 'node' ? 'Node baseline' : 'ipckit'}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
