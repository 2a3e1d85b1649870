// The harness of `ipckit bench`: runs every bench module that exists in this build (each exports
// `bench(opts): Promise<BenchRow[]>`, and may export `verify(opts)`), with this process pinned to CPU a and
// peers to CPU b, each module `repeat` times in a row, and turns the rows (medians, with their min–max)
// into an aligned table (with ratios to C and to child_process.send), JSON and an SVG chart.
import { CPU_A, NCPU, pinPid, unpinPid } from './common.js';
import { mergeRuns, type BenchOptions, type BenchRow } from './lib.js';
import { fmtNum, fmtSize } from './format.js';

/**
 * The modules that expect this process on CPU a (their peers go to CPU b). The others pin their own peers
 * with lib.ts's pinned(), which consults this process's affinity: they run with it unpinned.
 */
const PINNED = new Set(['baseline', 'pipe', 'ring', 'fork']);

/**
 * Every bench module, in running order; those not (yet) in the build are reported as skipped. Each module
 * runs its C rows beside its ipckit rows; ring's last rows (1 MiB one way) are judged against baseline's
 * first (memcpy), so baseline runs right after ring.
 */
export const MODULES = ['pipe', 'ring', 'baseline', 'mq', 'signal', 'socket', 'shm', 'fork', 'growth', 'ptrace'] as const;

/** A bench module: bench() measures; verify(), when exported, first checks the peers move the same bytes. */
export interface BenchModule {
  bench?: (o: BenchOptions) => Promise<BenchRow[]>;
  /**
   * A short exchange through each C peer and each Node peer of the module, compared with the bytes that
   * should have moved; resolves to one line per check, rejects (failing the module) when they disagree.
   */
  verify?: (o: BenchOptions) => Promise<string[]>;
}

export interface BenchRun {
  rows: BenchRow[];
  skipped: { module: string; reason: string }[];
  /** Modules whose peers were checked first (verify()), with what each check saw. */
  verified: { module: string; checks: string[] }[];
  /** Modules that ran without a verify() of their own. */
  unverified?: string[];
  /** The growth sweeps (bench/growth.ts) as curves: x, and the figure plotted, per series. */
  curves: Curve[];
  machine: { cpus: number; node: string; kernel: string; date: string; quick: boolean; repeat: number };
}

export interface Curve {
  sweep: 'size' | 'pairs';
  metric: 'mb_per_s' | 'msgs_per_s' | 'p99_us' | 'rss_per_idle_channel_kb' | 'rss_per_channel_kb';
  series: { label: string; mechanism: string; points: [number, number][] }[];
}

export interface RunOptions extends BenchOptions {
  /** Only these modules. */
  only?: string[];
  /** Called with a short status as each module starts and ends. */
  progress?: (text: string) => void;
}

/** The repetitions a run makes of each module: `repeat` when given, else 3 (a full run) or 1 (--quick). */
export function repetitions(opts: { quick: boolean; repeat?: number }): number {
  const n = opts.repeat ?? (opts.quick ? 1 : 3);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new RangeError(`repeat must be an integer from 1 to 100, not ${opts.repeat}`);
  return n;
}

export async function runBench(opts: RunOptions): Promise<BenchRun> {
  const os = await import('node:os');
  const repeat = repetitions(opts);
  const rows: BenchRow[] = [];
  const skipped: BenchRun['skipped'] = [];
  const verified: BenchRun['verified'] = [];
  const unverified: string[] = [];
  const list = MODULES.filter((m) => !opts.only || opts.only.includes(m));
  for (const [i, name] of list.entries()) {
    const tag = `[${i + 1}/${list.length}] ${name}`;
    opts.progress?.(tag);
    let mod: BenchModule;
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
    const mopts: BenchOptions = { quick: opts.quick, repeat };
    const reps: BenchRow[][] = [];
    if (PINNED.has(name)) pinPid(process.pid, CPU_A);
    try {
      if (typeof mod.verify !== 'function') unverified.push(name);
      else {
        opts.progress?.(`${tag}: verifying its peers`);
        try {
          verified.push({ module: name, checks: await mod.verify(mopts) });
        } catch (err) {
          // Loudly: a module whose C and Node sides move different bytes measures nothing comparable.
          skipped.push({ module: name, reason: `FAILED verification, not measured: ${(err as Error).message}` });
          continue;
        }
      }
      for (let k = 0; k < repeat; k++) {
        if (repeat > 1) opts.progress?.(`${tag}: run ${k + 1}/${repeat}`);
        reps.push(await mod.bench(mopts));
      }
    } catch (err) {
      skipped.push({ module: name, reason: `failed${reps.length ? ` in run ${reps.length + 1} (rows are of the runs before)` : ''}: ${(err as Error).message}` });
    } finally {
      if (PINNED.has(name)) unpinPid(process.pid);
    }
    const got = mergeRuns(reps);
    rows.push(...got);
    opts.progress?.(`${tag}: ${got.length} rows × ${reps.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return {
    rows,
    skipped,
    verified,
    unverified,
    curves: curves(rows),
    machine: { cpus: NCPU, node: process.version, kernel: os.release(), date: new Date().toISOString(), quick: opts.quick, repeat },
  };
}

/** The sweep rows as curves: one series per label, points sorted by x. */
export function curves(rows: BenchRow[]): Curve[] {
  const plots: [Curve['sweep'], Curve['metric']][] = [
    ['size', 'mb_per_s'],
    ['pairs', 'msgs_per_s'],
    ['pairs', 'p99_us'],
    ['pairs', 'rss_per_idle_channel_kb'],
    ['pairs', 'rss_per_channel_kb'],
  ];
  const out: Curve[] = [];
  for (const [sweep, metric] of plots) {
    const series = new Map<string, Curve['series'][number]>();
    for (const r of rows) {
      if (r.sweep?.name !== sweep) continue;
      const y = metric.startsWith('rss_') ? r.sweep[metric as 'rss_per_channel_kb'] : r[metric as 'mb_per_s'];
      if (y === undefined) continue;
      let s = series.get(r.label);
      if (!s) series.set(r.label, (s = { label: r.label, mechanism: r.mechanism, points: [] }));
      s.points.push([r.sweep.x, y]);
    }
    for (const s of series.values()) s.points.sort((a, b) => a[0] - b[0]);
    if (series.size) out.push({ sweep, metric, series: [...series.values()] });
  }
  return out;
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
  const sleep = find('ipckit ring, both sides parked (eventfd doorbells on the event loop)', 64);
  const cSleep = find('C futex ping-pong', 64);
  if (sleep?.p50_us && cSleep?.p50_us) {
    const x = sleep.p50_us / cSleep.p50_us;
    out.push(`ring sleeping 64 B round trip p50 ${sleep.p50_us} µs = ${x.toFixed(2)}× the C futex round trip (${cSleep.p50_us} µs); target <= 1.3×: ${verdict(x <= 1.3)}`);
  }
  const mc = find('C memcpy, one thread', 1 << 20);
  for (const [label, what] of [['ipckit ring one way, 1 MiB, spinning', 'copied in'], ['ipckit ring one way, 1 MiB, zero-copy (loan/fill/commit)', 'zero-copy (loan)']]) {
    const big = find(label!, 1 << 20);
    if (big?.mb_per_s && mc?.mb_per_s) {
      const f = big.mb_per_s / mc.mb_per_s;
      out.push(`ring 1 MiB one way, ${what}: ${big.mb_per_s} MB/s = ${(f * 100).toFixed(0)}% of single-thread memcpy (${mc.mb_per_s} MB/s); target >= 90% (issue 14): ${verdict(f >= 0.9)}`);
    }
  }
  // Issue 14: the public Channel API over shm:, both ends on it.
  const both = find('ipckit Channel shm:, both ends on the public API', 64, 'rtt');
  if (both?.p50_us && cSpin?.p50_us) {
    const x = both.p50_us / cSpin.p50_us;
    out.push(`Channel shm: 64 B round trip, both ends on the public API: p50 ${both.p50_us} µs = ${x.toFixed(2)}× the C spin; target <= 2.5×: ${verdict(x <= 2.5)}`);
  }
  for (const how of ['for await', 'receiveMany']) {
    const c = find(`ipckit Channel shm: one way, sendMany → ${how}`, 64, 'throughput');
    if (c?.msgs_per_s) out.push(`Channel shm: one way 64 B, sendMany → ${how}: ${(c.msgs_per_s / 1e6).toFixed(2)} M msg/s; target >= 5 M: ${verdict(c.msgs_per_s >= 5e6)}`);
  }
  // Issue 15: the fork() channel against child_process.fork + send, both on their public APIs.
  for (const [size, want] of [[64, 50], [1 << 20, 10]] as const) {
    const f = find('ipckit fork() channel (await send / await receive, both ends)', size, 'rtt');
    const c = find('child_process.fork + send (json)', size, 'rtt');
    if (f?.p50_us && c?.p50_us) {
      const x = c.p50_us / f.p50_us;
      out.push(`fork channel vs child_process.fork + send, ${fmtSize(size)} round trip p50: ${f.p50_us} vs ${c.p50_us} µs, ${x.toFixed(1)}× faster; target >= ${want}×: ${verdict(x >= want)}`);
    }
  }
  return out;
}

export function cpSend(rows: BenchRow[], r: BenchRow): BenchRow | undefined {
  const same = (label: string) => rows.find((c) => c.label === label && c.size === r.size && c.kind === 'rtt');
  return same('child_process.send (json)') ?? same('child_process.fork + send (json)');
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

/** The min–max of a row's primary metric over its runs, in the metric's units; '' for one run. */
export function fmtSpread(r: BenchRow): string {
  if (!r.spread || r.spread.values.length < 2) return '';
  const d = r.spread.metric === 'mb_per_s' ? 0 : 2;
  return `${fmtNum(r.spread.min, d)}–${fmtNum(r.spread.max, d)}`;
}

/** The growth targets of issue 14, judged from the sweep rows. */
export function growthTargets(run: BenchRun): string[] {
  const out: string[] = [];
  const pairs = run.rows.filter((r) => r.sweep?.name === 'pairs');
  for (const label of [...new Set(pairs.map((r) => r.label))]) {
    const at = (x: number) => pairs.find((r) => r.label === label && r.sweep!.x === x);
    const one = at(1);
    const four = at(4);
    const last = pairs.filter((r) => r.label === label).sort((a, b) => b.sweep!.x - a.sweep!.x)[0]!;
    const parts: string[] = [];
    if (one?.msgs_per_s && four?.msgs_per_s) {
      const f = four.msgs_per_s / one.msgs_per_s;
      parts.push(`4 pairs = ${(f * 100).toFixed(0)}% of 1 pair's aggregate msg/s (target >= 80%: ${f >= 0.8 ? 'met' : 'NOT met'})`);
    }
    if (last.p99_us !== undefined) parts.push(`p99 at ${last.sweep!.x} pairs ${fmtNum(last.p99_us)} µs`);
    if (last.sweep!.rss_per_idle_channel_kb !== undefined) parts.push(`${last.sweep!.rss_per_idle_channel_kb} KiB resident per idle channel`);
    if (parts.length) out.push(`${label} — ${parts.join('; ')}`);
  }
  return out;
}

/** The growth sweeps as compact tables (x across). */
export function growthTable(run: BenchRun): string[] {
  const out: string[] = [];
  const section = (sweep: 'size' | 'pairs', title: string, cells: (r: BenchRow) => string, xfmt: (x: number) => string) => {
    const rows = run.rows.filter((r) => r.sweep?.name === sweep);
    if (!rows.length) return;
    const xs = [...new Set(rows.map((r) => r.sweep!.x))].sort((a, b) => a - b);
    const labels = [...new Set(rows.map((r) => r.label))];
    const lines = [[title, ...xs.map(xfmt)], ...labels.map((l) => [l, ...xs.map((x) => {
      const r = rows.find((q) => q.label === l && q.sweep!.x === x);
      return r ? cells(r) : '—';
    })])];
    const w = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
    out.push('', ...lines.map((l) => l.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd()));
  };
  section('size', 'growth by message size: MB/s one way', (r) => (r.mb_per_s === undefined ? '—' : fmtNum(r.mb_per_s, 0)), fmtSize);
  section('pairs', 'growth by pairs: aggregate msg/s', (r) => fmtNum(r.msgs_per_s), (x) => `${x} pairs`);
  section('pairs', 'growth by pairs: round-trip p99 µs', (r) => fmtNum(r.p99_us), (x) => `${x} pairs`);
  section('pairs', 'growth by pairs: KiB resident per channel, idle / after traffic', (r) => `${r.sweep!.rss_per_idle_channel_kb ?? '?'} / ${r.sweep!.rss_per_channel_kb ?? '?'}`, (x) => `${x} pairs`);
  return out;
}

export function table(run: BenchRun): string {
  const head = ['mechanism', 'impl', 'what', 'size', 'kind', 'p50 µs', 'p99 µs', 'p99.9 µs', 'msg/s', 'MB/s', 'min–max', '× C', 'vs cp.send', 'cores'];
  const flat = run.rows.filter((r) => !r.sweep);
  const lines = flat.map((r) => {
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
      fmtSpread(r),
      xc === undefined ? '' : `${xc.toFixed(2)}×`,
      vs === undefined ? '' : `${vs >= 10 ? Math.round(vs) : vs.toFixed(1)}× faster`,
      r.cores,
    ];
  });
  const numeric = new Set([5, 6, 7, 8, 9, 10, 11, 12]);
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  const out = flat.length ? [fmt(head), width.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)] : [];
  // A module whose peers disagree on the bytes moved is said first, not only among the skipped.
  const failed = run.skipped.filter((x) => x.reason.startsWith('FAILED verification'));
  if (failed.length) out.unshift(...failed.map((x) => `FAILED: ${x.module} was not measured — ${x.reason}`), '');
  out.push(...growthTable(run));
  const notes = run.rows.filter((r) => r.note).map((r) => `  ${r.label} (${r.sweep ? `${r.sweep.name} ${r.sweep.name === 'size' ? fmtSize(r.sweep.x) : r.sweep.x}` : fmtSize(r.size)}): ${r.note}`);
  if (notes.length) out.push('', 'notes:', ...notes);
  const t = [...targets(run), ...growthTargets(run)];
  if (t.length) out.push('', 'targets:', ...t.map((l) => `  ${l}`));
  if (run.verified?.length || run.unverified?.length) {
    out.push('', 'verified first (C and Node peers moved the same bytes):', ...run.verified.map((v) => `  ${v.module}: ${v.checks.length} checks agree`));
    if (run.unverified?.length) out.push(`  not verified (no verify()): ${run.unverified.join(', ')}`);
  }
  if (run.skipped.length) out.push('', 'skipped:', ...run.skipped.map((s) => `  ${s.module}: ${s.reason}`));
  const reps = run.machine.repeat ?? 1;
  out.push(
    '',
    (reps > 1
      ? `Every figure is the median of ${reps} runs of its module; min–max is the range over those runs of the row's ` +
        `primary figure (p50 for rtt and wakeup rows, MB/s for throughput). `
      : 'One run per module (--repeat 1): no spread. ') +
      `× C: time relative to the same mechanism in C in this run (rtt p50 ratio; throughput: C MB/s ÷ ours). ` +
      `vs cp.send: p50 round trip of child_process.send (json) ÷ this p50. cores a = this process, b = the peer ` +
      `(${run.machine.cpus} CPUs; cross-core wake-ups in a VM cost tens of µs).`,
  );
  return out.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const PALETTE = ['#2b7bb9', '#d9534f', '#5cb85c', '#e8a33d', '#8e6bbf', '#6c757d'];

/** A log–log line plot of one curve at (ox, oy), w × h including its margins; returns SVG elements. */
function plot(c: Curve, ox: number, oy: number, w: number, h: number, title: string, xfmt: (x: number) => string, yunit: string): string[] {
  const ml = 60;
  const mr = 12;
  const mt = 24;
  const mb = 56 + 14 * c.series.length;
  const pw = w - ml - mr;
  const ph = h - mt - mb;
  const xs = [...new Set(c.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const ys = c.series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => v > 0);
  if (!xs.length || !ys.length) return [];
  const lx0 = Math.log10(xs[0]!);
  const lx1 = Math.log10(xs[xs.length - 1]!);
  const ly0 = Math.floor(Math.log10(Math.min(...ys)));
  const ly1 = Math.max(ly0 + 1, Math.ceil(Math.log10(Math.max(...ys))));
  const X = (x: number) => ox + ml + (lx1 > lx0 ? ((Math.log10(x) - lx0) / (lx1 - lx0)) * pw : pw / 2);
  const Y = (y: number) => oy + mt + ph - ((Math.log10(y) - ly0) / (ly1 - ly0)) * ph;
  const out = [
    `<text x="${ox + ml}" y="${oy + 14}" font-size="12" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${ox + ml}" y="${oy + mt}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`,
  ];
  for (let e = ly0; e <= ly1; e++) {
    const y = Y(10 ** e);
    out.push(`<line x1="${ox + ml}" y1="${y.toFixed(1)}" x2="${ox + ml + pw}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`, `<text x="${ox + ml - 4}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(fmtNum(10 ** e, 0))}</text>`);
  }
  for (const x of xs) {
    out.push(`<line x1="${X(x).toFixed(1)}" y1="${oy + mt}" x2="${X(x).toFixed(1)}" y2="${oy + mt + ph}" stroke="#f0f0f0"/>`, `<text x="${X(x).toFixed(1)}" y="${oy + mt + ph + 14}" text-anchor="middle">${esc(xfmt(x))}</text>`);
  }
  out.push(`<text x="${ox + 12}" y="${oy + mt + ph / 2}" transform="rotate(-90 ${ox + 12} ${oy + mt + ph / 2})" text-anchor="middle">${esc(yunit)} (log)</text>`);
  c.series.forEach((s, i) => {
    const col = PALETTE[i % PALETTE.length]!;
    const pts = s.points.filter((p) => p[1] > 0);
    out.push(`<polyline fill="none" stroke="${col}" stroke-width="2" points="${pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="2.5" fill="${col}"/>`);
    const ly = oy + mt + ph + 34 + i * 14;
    out.push(`<rect x="${ox + ml}" y="${ly - 9}" width="10" height="10" fill="${col}"/>`, `<text x="${ox + ml + 14}" y="${ly}">${esc(s.label)}</text>`);
  });
  return out;
}

/**
 * A horizontal bar chart of round-trip p50 (log scale), one bar per rtt row, grouped by size, with the
 * min–max of the runs as a whisker; below it one log–log plot per growth sweep.
 */
export function svg(run: BenchRun): string {
  const rows = run.rows.filter((r) => !r.sweep && r.kind !== 'throughput' && r.p50_us).sort((a, b) => a.size - b.size || a.p50_us! - b.p50_us!);
  const barH = 16;
  const left = 360;
  const plotW = 560;
  const top = 40;
  const barsH = top + rows.length * (barH + 4) + 40;
  const width = left + plotW + 120;
  const lo = (r: BenchRow) => (r.spread?.metric === 'p50_us' ? r.spread.min : r.p50_us!);
  const hi = (r: BenchRow) => (r.spread?.metric === 'p50_us' ? r.spread.max : r.p50_us!);
  const max = Math.max(...rows.map(hi), 1);
  const min = Math.min(...rows.map(lo), 1) / 2;
  const x = (v: number) => (Math.log10(v / min) / Math.log10(max / min)) * plotW;
  const color = { ipckit: '#2b7bb9', c: '#6c757d', node: '#e8a33d' } as const;
  const reps = run.machine.repeat ?? 1;
  const body = [
    `<text x="10" y="20" font-size="14" font-weight="bold">ipckit bench: round-trip p50 (µs, log scale)${reps > 1 ? `, median of ${reps} runs, whisker = min–max` : ''}${run.machine.quick ? ' --quick' : ''}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * (barH + 4);
    body.push(
      `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${esc(`${r.label} · ${fmtSize(r.size)}${r.kind === 'wakeup' ? ' (wake-up)' : ''}`)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(1, x(r.p50_us!)).toFixed(1)}" height="${barH}" fill="${color[r.impl]}"/>`,
    );
    if (hi(r) > lo(r)) body.push(`<line x1="${(left + x(lo(r))).toFixed(1)}" y1="${y + barH / 2}" x2="${(left + x(hi(r))).toFixed(1)}" y2="${y + barH / 2}" stroke="#222" stroke-width="1.5"/>`);
    body.push(`<text x="${left + Math.max(x(r.p50_us!), x(hi(r))) + 4}" y="${y + 12}">${fmtNum(r.p50_us)}</text>`);
  });
  const ly = barsH - 20;
  (['ipckit', 'c', 'node'] as const).forEach((k, i) => {
    body.push(`<rect x="${left + i * 110}" y="${ly - 10}" width="12" height="12" fill="${color[k]}"/>`, `<text x="${left + i * 110 + 16}" y="${ly}">${k === 'c' ? 'C floor' : k === 'node' ? 'Node baseline' : 'ipckit'}</text>`);
  });
  // The growth plots, two per line.
  const plots: [Curve, string, (x: number) => string, string][] = [];
  for (const c of run.curves ?? []) {
    if (c.sweep === 'size' && c.metric === 'mb_per_s') plots.push([c, 'growth: one-way throughput by message size', fmtSize, 'MB/s']);
    if (c.sweep === 'pairs' && c.metric === 'msgs_per_s') plots.push([c, 'growth: aggregate round trips/s by channel pairs', String, 'msg/s']);
    if (c.sweep === 'pairs' && c.metric === 'p99_us') plots.push([c, 'growth: round-trip p99 by channel pairs', String, 'µs']);
    if (c.sweep === 'pairs' && c.metric === 'rss_per_idle_channel_kb') plots.push([c, 'growth: resident KiB per idle channel by pairs', String, 'KiB']);
  }
  const pw = width / 2;
  const ph = 300;
  plots.forEach(([c, title, xfmt, unit], i) => body.push(...plot(c, (i % 2) * pw, barsH + Math.floor(i / 2) * ph, pw, ph, title, xfmt, unit)));
  const h = rows.length || !plots.length ? barsH + Math.ceil(plots.length / 2) * ph : Math.ceil(plots.length / 2) * ph;
  const shift = rows.length || !plots.length ? 0 : -barsH;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif" font-size="11">`,
    shift ? `<g transform="translate(0 ${shift})">` : '<g>',
    ...body,
    '</g>',
    '</svg>',
  ].join('\n');
}
