// Tracer latency: from a tracee's fault to the event in JS. A C tracee (bench/c/ptrace_fault.c) stamps
// CLOCK_MONOTONIC and writes into a PROT_NONE page, N times; the tracer stamps the SIGSEGV
// signal-delivery stop and delivers the signal (the tracee's handler siglongjmps on). The tracer is
// ipckit's (a Tracer in this process: waitpid on its thread, PTRACE_GETSIGINFO, the event loop, the
// event object) or the C floor (bench/c/ptrace_tracer.c: waitpid, PTRACE_GETSIGINFO in one thread).
// Both clocks are CLOCK_MONOTONIC (process.hrtime is), so stamps compare across processes. Unpinned.
//
// Standalone: `node dist/bench/ptrace.js [--quick]` (after `npm run build`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tracer } from '../src/index.js';
import { collect, compileC, percentiles, type BenchOptions, type BenchRow } from './lib.js';

const self = fileURLToPath(import.meta.url);
const WARMUP = 100;

function readStamps(file: string): number[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map(Number);
}

function latencies(t0: number[], t1: number[]): number[] {
  const out: number[] = [];
  for (let i = WARMUP; i < Math.min(t0.length, t1.length); i++) out.push(t1[i]! - t0[i]!);
  return out;
}

async function viaIpckit(tracee: string, count: number, file: string): Promise<number[]> {
  const t = await Tracer.spawn(tracee, [String(count), file], { stdio: 'ignore' });
  const t1: number[] = [];
  for await (const ev of t) {
    if (ev.type === 'signal') {
      if (ev.signal === 'SIGSEGV') t1.push(Number(process.hrtime.bigint()));
      ev.deliver();
    }
  }
  const st = await t.exited();
  if (st.code !== 0) throw new Error(`ptrace bench: tracee ended ${st.code ?? st.signal}`);
  return latencies(readStamps(file), t1);
}

async function viaC(tracee: string, count: number, file: string): Promise<number[]> {
  const out = await collect(compileC('ptrace_tracer'), [tracee, String(count), file]);
  return latencies(readStamps(file), out.trim().split('\n').map(Number));
}

export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const count = (opts.quick ? 1000 : 10000) + WARMUP;
  const tracee = compileC('ptrace_fault');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-bench-ptrace-'));
  try {
    const common = { mechanism: 'ptrace', size: 0, kind: 'wakeup' as const, cores: 'unpinned' };
    const ipckit = percentiles(await viaIpckit(tracee, count, path.join(dir, 'a')));
    const c = percentiles(await viaC(tracee, count, path.join(dir, 'b')));
    return [
      { ...common, impl: 'ipckit', label: 'fault → Tracer event in JS', ...ipckit, note: 'SIGSEGV signal-delivery stop, one-way' },
      { ...common, impl: 'c', label: 'fault → waitpid in a C tracer', ...c, note: 'SIGSEGV signal-delivery stop, one-way' },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  const rows = await bench({ quick: process.argv.includes('--quick') });
  for (const r of rows) {
    console.log(`${r.label.padEnd(34)} p50 ${String(r.p50_us).padStart(7)} µs  p99 ${String(r.p99_us).padStart(7)} µs  p99.9 ${String(r.p999_us).padStart(7)} µs  (${r.samples} samples, ${r.cores})`);
  }
}
