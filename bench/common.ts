// Helpers of the bench modules this branch owns (baseline, pipe, ring): pinning whole processes,
// Node peers, C floors, round-trip sampling. bench/lib.ts holds what every bench module shares.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { benchRoot, compileC, type BenchOptions } from './lib.js';

/** CPUs of the machine (os.cpus(): availableParallelism() narrows to this process's affinity when pinned). */
export const NCPU = os.cpus().length;
export const CPU_A = 0;
export const CPU_B = NCPU > 1 ? 1 : 0;

let taskset: boolean | undefined;
/** A command line run on one CPU through taskset (lib.ts's pinned() consults the current affinity). */
export function pinned(cpu: number, cmd: string, args: string[]): [string, string[]] {
  taskset ??= spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  return taskset ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}
export const CORES = `a:${CPU_A} b:${CPU_B}`;

/** Pins a running process (all its threads) to one CPU; false when taskset is missing. */
export function pinPid(pid: number, cpu: number): boolean {
  return spawnSync('taskset', ['-a', '-pc', String(cpu), String(pid)], { stdio: 'ignore' }).status === 0;
}

/** Lets a process (all its threads) run on every CPU again. */
export function unpinPid(pid: number): boolean {
  return spawnSync('taskset', ['-a', '-pc', `0-${NCPU - 1}`, String(pid)], { stdio: 'ignore' }).status === 0;
}

/** The compiled bench/NAME.ts peer script. */
export function peerScript(name: string): string {
  return path.join(benchRoot, 'dist/bench', `${name}.js`);
}

/** Starts a Node peer pinned to CPU_B; resolves once it printed its first line (ready). */
export async function nodePeer(name: string, args: string[], opts: { stdio?: any[] } = {}): Promise<{ child: ChildProcess; line: string }> {
  const [cmd, argv] = pinned(CPU_B, process.execPath, [peerScript(name), ...args]);
  const child = spawn(cmd, argv, { stdio: opts.stdio ?? ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', function onData(d: Buffer) {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) {
        child.stdout!.off('data', onData);
        resolve(buf.slice(0, i));
      }
    });
    child.once('exit', (code) => reject(new Error(`bench peer ${name} exited (${code}) before it was ready`)));
  });
  return { child, line };
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Runs a C floor program from bench/c and parses the JSON line it prints. */
export function runC(name: string, args: (string | number)[]): Record<string, number> {
  const bin = compileC(name);
  const r = spawnSync(bin, args.map(String), { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export function nsToUs(ns: number): number {
  return Math.round(ns / 10) / 100;
}

/** Round trips to sample, by message size. */
export function rttIters(opts: BenchOptions, size: number, slow = false): number {
  const base = opts.quick ? 2000 : 20000;
  const n = size >= 1 << 20 ? base / 20 : size >= 65536 ? base / 5 : base;
  return Math.max(50, Math.floor(slow ? n / 2 : n));
}

/** Times `n` awaited round trips, after a tenth as warm-up; samples in ns. */
export async function sampleRtt(n: number, once: () => Promise<unknown>): Promise<Float64Array> {
  const warm = Math.max(10, Math.floor(n / 10));
  for (let i = 0; i < warm; i++) await once();
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    out[i] = Number(process.hrtime.bigint() - t0);
  }
  return out;
}

export const SIZES = [64, 4096, 65536, 1 << 20];
export function sizes(opts: BenchOptions): number[] {
  return opts.quick ? [64, 65536] : SIZES;
}
