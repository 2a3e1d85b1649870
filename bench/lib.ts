// Shared pieces of `ipckit bench`: the row every measurement produces, percentile summaries
// (hdr-histogram-js), C reference programs compiled on the spot, and core pinning.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';

export const benchRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One measured line of the bench table. */
export interface BenchRow {
  /** 'pipe', 'fifo', 'posix-mq', 'sysv-mq', 'unix-stream', 'shm-ring', 'futex', 'semaphore', ... */
  mechanism: string;
  /** Who moved the bytes: ipckit, the same mechanism in C, or a Node baseline. */
  impl: 'ipckit' | 'c' | 'node';
  /** What exactly, e.g. 'ipckit Fifo', 'C read/write', 'child_process.send (json)'. */
  label: string;
  /** Payload bytes per message. */
  size: number;
  kind: 'rtt' | 'throughput' | 'wakeup';
  /** Round-trip (or wake-up) percentiles in microseconds. */
  p50_us?: number;
  p99_us?: number;
  p999_us?: number;
  samples?: number;
  msgs_per_s?: number;
  mb_per_s?: number;
  /** Which CPUs each side ran on, e.g. 'a:0 b:1' (cross-core wake-ups in a VM cost tens of µs). */
  cores: string;
  note?: string;
  /** How many repetitions the figures are the median of (the harness's --repeat; absent: one). */
  runs?: number;
  /** The range of the row's primary metric over those repetitions (spreadMetric()). */
  spread?: Spread;
  /** A point of a growth curve (bench/growth.ts): which sweep, and its x (bytes or pairs). */
  sweep?: SweepPoint;
}

/** Min and max of one metric over the repetitions of a row, and every value in running order. */
export interface Spread {
  metric: 'p50_us' | 'msgs_per_s' | 'mb_per_s';
  min: number;
  max: number;
  values: number[];
}

export interface SweepPoint {
  /** 'size': one-way throughput by message size; 'pairs': concurrent channel pairs. */
  name: 'size' | 'pairs';
  /** Message bytes ('size') or channel pairs ('pairs'). */
  x: number;
  /** 'pairs' only: resident memory of the measuring process per open channel, idle and after traffic. */
  rss_per_idle_channel_kb?: number;
  rss_per_channel_kb?: number;
}

export interface BenchOptions {
  quick: boolean;
  /**
   * How many times the harness runs the module (the module need not look: it runs once per call). A
   * module that repeats inside itself may read it; absent means 1.
   */
  repeat?: number;
}

/** The figure a row is judged by: p50 of a round trip or wake-up, MB/s (or msg/s) of a throughput. */
export function spreadMetric(r: BenchRow): Spread['metric'] | undefined {
  if (r.kind !== 'throughput') return r.p50_us !== undefined ? 'p50_us' : undefined;
  if (r.mb_per_s !== undefined) return 'mb_per_s';
  return r.msgs_per_s !== undefined ? 'msgs_per_s' : undefined;
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length & 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Rounds a median of even count to the precision of its inputs (2 decimals at most). */
function tidy(v: number): number {
  return Number.isInteger(v) ? v : Math.round(v * 100) / 100;
}

/** The identity of a row across repetitions. */
export function rowKey(r: BenchRow): string {
  return [r.mechanism, r.impl, r.label, r.size, r.kind, r.sweep ? `${r.sweep.name}:${r.sweep.x}` : ''].join('\u0000');
}

const MEDIAN_FIELDS = ['p50_us', 'p99_us', 'p999_us', 'msgs_per_s', 'mb_per_s'] as const;
const SWEEP_FIELDS = ['rss_per_idle_channel_kb', 'rss_per_channel_kb'] as const;

/**
 * Folds the rows of several repetitions of one module into one row each: every figure is the median of
 * its repetitions (each percentile on its own), `runs` counts them and `spread` gives the min and max of
 * the primary metric. Rows keep the order of their first appearance; a row missing from some
 * repetitions is the median of those it appears in. One repetition comes back as it was, with runs: 1.
 */
export function mergeRuns(reps: readonly (readonly BenchRow[])[]): BenchRow[] {
  const groups = new Map<string, BenchRow[]>();
  for (const rows of reps) {
    // Two rows alike within one run stay two rows: the nth of a key is merged with the nth of the others.
    const seen = new Map<string, number>();
    for (const r of rows) {
      const base = rowKey(r);
      const nth = seen.get(base) ?? 0;
      seen.set(base, nth + 1);
      const k = `${base}\u0000${nth}`;
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
  }
  const out: BenchRow[] = [];
  for (const g of groups.values()) {
    const row: BenchRow = { ...g[0]! };
    for (const f of MEDIAN_FIELDS) {
      const vs = g.map((r) => r[f]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (vs.length) row[f] = tidy(median(vs));
    }
    if (row.sweep) {
      const sweep = { ...row.sweep };
      for (const f of SWEEP_FIELDS) {
        const vs = g.map((r) => r.sweep?.[f]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
        if (vs.length) sweep[f] = Math.round(median(vs)); // KiB: whole numbers
      }
      row.sweep = sweep;
    }
    row.runs = g.length;
    const metric = spreadMetric(row);
    if (metric) {
      const values = g.map((r) => r[metric]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (values.length) row.spread = { metric, min: Math.min(...values), max: Math.max(...values), values };
    }
    out.push(row);
  }
  return out;
}

export interface Percentiles {
  p50_us: number;
  p99_us: number;
  p999_us: number;
  samples: number;
}

/** Percentiles of samples given in nanoseconds. */
export function percentiles(samplesNs: ArrayLike<number>): Percentiles {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e12, numberOfSignificantValueDigits: 3 });
  for (let i = 0; i < samplesNs.length; i++) h.recordValue(Math.max(1, Math.round(samplesNs[i]!)));
  const us = (q: number) => Math.round(h.getValueAtPercentile(q) / 10) / 100;
  return { p50_us: us(50), p99_us: us(99), p999_us: us(99.9), samples: samplesNs.length };
}

const cache = path.join(os.tmpdir(), `ipckit-bench-cc-${process.getuid?.() ?? 0}`);

/** Compiles bench/c/NAME.c with cc -O2 (cached by content); returns the binary. */
export function compileC(name: string): string {
  const src = path.join(benchRoot, 'bench/c', `${name}.c`);
  const hash = createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 16);
  fs.mkdirSync(cache, { recursive: true });
  const bin = path.join(cache, `${name}-${hash}`);
  if (!fs.existsSync(bin)) {
    const r = spawnSync('cc', ['-O2', '-o', bin, src, '-lrt', '-lpthread'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cc ${name}.c failed:\n${r.stderr}`);
  }
  return bin;
}

/**
 * Runs a peer to completion and returns its stdout ('close', not 'exit': all of stdout has been read).
 * `fds` are passed on as the child's fds 3, 4, ...
 */
export function collect(cmd: string, args: string[], fds: number[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit', ...fds] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code, sig) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${code ?? sig}`))));
  });
}

/**
 * A command line prefixed to run on one CPU (taskset), when there is taskset and that CPU. The machine's
 * CPUs are os.cpus(), not availableParallelism(), which shrinks to this process's affinity when the
 * harness itself runs pinned.
 */
export function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  if (cpu < os.cpus().length && hasTaskset()) return ['taskset', ['-c', String(cpu), cmd, ...args]];
  return [cmd, args];
}

let taskset: boolean | undefined;
function hasTaskset(): boolean {
  taskset ??= spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return taskset;
}

// ---- the verification exchange (BenchModule.verify) ------------------------------------------------
// Before a module measures, each of its C peers and Node peers moves a few messages of a known pattern
// (message i carries byte (i + j) & 0xff at offset j) and the receiving side folds every byte it got into
// FNV-1a (32 bits, seed 0x811c9dc5). Both must report exactly what patternDigest() computes: the same
// count of bytes and the same hash, or the two sides do not move the same bytes and their figures are
// not comparable. The C programs carry the same two functions (fill, fnv) in their `verify` mode.

/** What the receiving side of a verification exchange saw. */
export interface Digest {
  bytes: number;
  fnv: number;
}

export const FNV_SEED = 0x811c9dc5;

/** FNV-1a over `data`, continuing from `h`. */
export function fnv1a(h: number, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 16777619) >>> 0;
  return h;
}

/** Message `i` of a verification exchange. */
export function patternMessage(size: number, i: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = (i + j) & 0xff;
  return b;
}

/** The digest of `n` pattern messages of `size` bytes, in order. */
export function patternDigest(size: number, n: number): Digest {
  let h = FNV_SEED;
  for (let i = 0; i < n; i++) h = fnv1a(h, patternMessage(size, i));
  return { bytes: size * n, fnv: h };
}

const WORD = Buffer.alloc(4);

/** A running digest, for receivers. */
export class DigestAcc implements Digest {
  bytes = 0;
  fnv = FNV_SEED;
  add(data: Uint8Array): void {
    this.bytes += data.length;
    this.fnv = fnv1a(this.fnv, data);
  }
  /** A 4-byte word, little-endian (what a side folds in when the data is a word: wordsDigest()). */
  addWord(w: number): void {
    WORD.writeUInt32LE(w >>> 0);
    this.add(WORD);
  }
  toJSON(): Digest {
    return { bytes: this.bytes, fnv: this.fnv };
  }
}

/**
 * Checks each side's digest against the pattern's; returns one line saying what agreed, throws naming
 * every side that did not.
 */
export function checkDigests(what: string, size: number, n: number, sides: Record<string, Digest | string>): string {
  return checkDigestsAgainst(what, patternDigest(size, n), `${n} × ${size} B`, sides);
}

/**
 * The digest of 4-byte little-endian words, in order: what a side folds in for an exchange whose data
 * is a word (a shared counter, a sigqueue value) rather than pattern messages.
 */
export function wordsDigest(words: Iterable<number>): Digest {
  const d = new DigestAcc();
  for (const w of words) d.addWord(w);
  return d.toJSON();
}

/** checkDigests() against a given digest; `moved` says what should have moved ('300 × 4 B'). */
export function checkDigestsAgainst(what: string, want: Digest, moved: string, sides: Record<string, Digest | string>): string {
  const bad: string[] = [];
  for (const [side, got] of Object.entries(sides)) {
    let d: Digest;
    try {
      d = typeof got === 'string' ? (JSON.parse(got.trim().split('\n').pop()!) as Digest) : got;
    } catch {
      bad.push(`${side} printed ${JSON.stringify(String(got).slice(0, 80))}`);
      continue;
    }
    if (d.bytes !== want.bytes || d.fnv >>> 0 !== want.fnv) bad.push(`${side} saw ${d.bytes} B fnv ${(d.fnv >>> 0).toString(16)}`);
  }
  if (bad.length) throw new Error(`${what}: ${moved} should be ${want.bytes} B fnv ${want.fnv.toString(16)}, but ${bad.join(', ')}`);
  const names = Object.keys(sides);
  return `${what}: ${names.join(' and ')}${names.length > 1 ? ' each' : ''} received ${moved} = ${want.bytes} B, fnv ${want.fnv.toString(16)}`;
}
