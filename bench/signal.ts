// Signal delivery latency between two processes: a C sender sigqueue(3)s SIGRTMIN+1 with a CLOCK_MONOTONIC
// stamp in the value and waits for an acknowledgement before the next one; the receiver is either
// ipckit (signals.watch, handler → self-pipe → event loop) or the C floor (sigwaitinfo(2)), each
// computing now - stamp. Receiver on CPU 0, sender on CPU 1.
//
// Standalone: `node dist/bench/signal.js [--quick]` (after `npm run build`).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { signals } from '../src/index.js';
import { checkDigestsAgainst, compileC, DigestAcc, percentiles, pinned, wordsDigest, type BenchOptions, type BenchRow } from './lib.js';

const self = fileURLToPath(import.meta.url);
const WARMUP = 200;

/**
 * The ipckit receiver (this file run with --receiver COUNT [verify]): prints "ready", then the latencies;
 * with verify, the digest of the values instead (each 4 bytes, little-endian, as the C receiver folds them).
 */
async function receiver(count: number, verify: boolean): Promise<void> {
  using w = signals.watch('SIGRTMIN+1', { ref: true });
  const lat = new Float64Array(count);
  const digest = new DigestAcc();
  process.stdout.write('ready\n');
  let i = 0;
  for await (const ev of w) {
    const now = Number(process.hrtime.bigint() & 0xffffffffn);
    lat[i] = (now - (ev.value! >>> 0) + 2 ** 32) % 2 ** 32;
    signals.send(ev.pid!, 'SIGRTMIN+2', { value: 0 });
    if (verify) digest.addWord(ev.value!);
    if (++i === count) break;
  }
  process.stdout.write(verify ? JSON.stringify(digest) + '\n' : Array.from(lat).join('\n') + '\n');
}

/**
 * Runs receiver command, then the pinned C sender against it; returns the latencies (ns), or with
 * `verify` (the sender sends 0..count-1 as values) the receiver's last line: its digest.
 */
async function measure(cmd: string, args: string[], count: number, verify?: false): Promise<number[]>;
async function measure(cmd: string, args: string[], count: number, verify: true): Promise<string>;
async function measure(cmd: string, args: string[], count: number, verify = false): Promise<number[] | string> {
  const [rc, ra] = pinned(0, cmd, args);
  const recv = spawn(rc, ra, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const rl = readline.createInterface({ input: recv.stdout! });
  rl.on('line', (l) => lines.push(l));
  while (lines.length === 0) await once(rl, 'line');
  if (lines[0] !== 'ready') throw new Error(`receiver said ${lines[0]}`);
  // With taskset in front, the receiver is taskset's exec'd image: the same pid.
  const [sc, sa] = pinned(1, compileC('signal_ping'), [String(recv.pid), String(count), ...(verify ? ['verify'] : [])]);
  const sender = spawn(sc, sa, { stdio: 'inherit' });
  const [[scode], [rcode]] = await Promise.all([once(sender, 'exit'), once(recv, 'exit')]);
  if (scode !== 0 || rcode !== 0) throw new Error(`signal bench: sender ${scode}, receiver ${rcode}`);
  if (verify) return lines[lines.length - 1]!;
  return lines.slice(1 + WARMUP, 1 + count).map(Number);
}

/**
 * A short run of both receivers with the C sender's values 0, 1, 2, ...: each must have received every
 * value, in order (4 bytes of sival_int per signal, folded into FNV-1a like every module's check).
 */
export async function verify(): Promise<string[]> {
  const count = WARMUP + 100;
  const want = wordsDigest(Array.from({ length: count }, (_, i) => i));
  const sides = {
    ipckit: await measure(process.execPath, [self, '--receiver', String(count), 'verify'], count, true),
    C: await measure(compileC('signal_recv'), [String(count), 'verify'], count, true),
  };
  return [checkDigestsAgainst('signal', want, `${count} sigqueue values × 4 B`, sides)];
}

export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const count = (opts.quick ? 2000 : 20000) + WARMUP;
  const rows: BenchRow[] = [];
  const common = { mechanism: 'signal', size: 4, kind: 'wakeup' as const, cores: 'recv:0 send:1' };
  const ipckit = percentiles(await measure(process.execPath, [self, '--receiver', String(count)], count));
  rows.push({ ...common, impl: 'ipckit', label: 'sigqueue → signals.watch event', ...ipckit, note: 'one-way, C sender' });
  const c = percentiles(await measure(compileC('signal_recv'), [String(count)], count));
  rows.push({ ...common, impl: 'c', label: 'sigqueue → sigwaitinfo (C)', ...c, note: 'one-way, C sender' });
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === self) {
  const i = process.argv.indexOf('--receiver');
  if (i > 0) await receiver(Number(process.argv[i + 1]), process.argv[i + 2] === 'verify');
  else {
    console.log((await verify()).join('\n'));
    const rows = await bench({ quick: process.argv.includes('--quick') });
    for (const r of rows) {
      console.log(`${r.label.padEnd(34)} p50 ${String(r.p50_us).padStart(7)} µs  p99 ${String(r.p99_us).padStart(7)} µs  p99.9 ${String(r.p999_us).padStart(7)} µs  (${r.samples} samples, ${r.cores})`);
    }
  }
}
