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
}

export interface BenchOptions {
  quick: boolean;
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

/** Runs a peer to completion and returns its stdout ('close', not 'exit': all of stdout has been read). */
export function collect(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
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
