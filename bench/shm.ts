// Shared-memory benchmarks: a round trip between two processes over one shared word, ipckit beside C in
// the same run.
//   shm-atomics  both sides spin on Atomics.load (no syscall): the cost of the memory itself
//   futex        both sides sleep in SharedMemory.wait and wake each other with SharedMemory.notify
//   semaphore    two in-memory semaphores: post -> wait with a sleeping waiter
// The Node sides are two child processes (this file run as `child`), pinned to different CPUs like the
// C program's two processes, so both measure the same cross-core wake-up.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Semaphore, SharedMemory } from '../src/index.js';
import { collect, compileC, percentiles, pinned, type BenchOptions, type BenchRow } from './lib.js';

const self = fileURLToPath(import.meta.url);
type Mode = 'spin' | 'futex' | 'sem';
const PING_AT = 64;
const PONG_AT = 128;

const MECHANISM: Record<Mode, string> = { spin: 'shm-atomics', futex: 'futex', sem: 'semaphore' };
const LABEL: Record<Mode, [string, string]> = {
  spin: ['ipckit SharedMemory + Atomics (spinning)', 'C shared page, atomic spin'],
  futex: ['ipckit SharedMemory.wait/notify (sleeping)', 'C futex FUTEX_WAIT/FUTEX_WAKE'],
  sem: ['ipckit Semaphore.inSharedMemory post/wait', 'C sem_post/sem_wait (pshared)'],
};

function cores(): [number, number] {
  return os.cpus().length > 1 ? [0, 1] : [0, 0];
}

async function nodeRun(mode: Mode, rounds: number): Promise<number[]> {
  const name = `/ipckit-bench-${process.pid}-${mode}`;
  await using shm = await SharedMemory.create(name, { size: 4096 });
  // Initialised here, attached by both sides.
  using _ping = Semaphore.inSharedMemory(shm, PING_AT, { value: 0 });
  using _pong = Semaphore.inSharedMemory(shm, PONG_AT, { value: 0 });
  const [a, b] = cores();
  const args = (side: string) => [self, 'child', side, mode, name, String(rounds)];
  const [bc, ba] = pinned(b, process.execPath, args('b'));
  const [ac, aa] = pinned(a, process.execPath, args('a'));
  const responder = collect(bc, ba);
  const out = await collect(ac, aa);
  await responder;
  return JSON.parse(out) as number[];
}

async function cRun(mode: Mode, rounds: number): Promise<number[]> {
  const [a, b] = cores();
  const out = await collect(compileC('shm_pingpong'), [mode, String(rounds), String(a), String(b)]);
  return out.trim().split('\n').map(Number);
}

/**
 * A short run of every mode on both sides: each must come back with one sample per round trip (each side
 * waits for the exact counter value the other writes, so a full count means every exchange happened, in
 * order, 4 bytes each way).
 */
export async function verify(): Promise<string[]> {
  const rounds = 200;
  const out: string[] = [];
  for (const mode of ['spin', 'futex', 'sem'] as Mode[]) {
    const got = { ipckit: (await nodeRun(mode, rounds)).length, c: (await cRun(mode, rounds)).length };
    if (got.ipckit !== rounds || got.c !== rounds) throw new Error(`${MECHANISM[mode]}: ${rounds} round trips asked, ipckit timed ${got.ipckit}, C ${got.c}`);
    out.push(`${MECHANISM[mode]}: ipckit and C each made ${rounds} round trips of the 4-byte word`);
  }
  return out;
}

/** The bench rows of this file: for each mode, ipckit then C. */
export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const [a, b] = cores();
  for (const mode of ['spin', 'futex', 'sem'] as Mode[]) {
    const rounds = mode === 'spin' ? (opts.quick ? 5_000 : 50_000) : opts.quick ? 1_000 : 10_000;
    for (const impl of ['ipckit', 'c'] as const) {
      const samples = impl === 'ipckit' ? await nodeRun(mode, rounds) : await cRun(mode, rounds);
      rows.push({
        mechanism: MECHANISM[mode],
        impl,
        label: LABEL[mode][impl === 'ipckit' ? 0 : 1],
        size: 4,
        kind: mode === 'spin' ? 'rtt' : 'wakeup',
        ...percentiles(samples),
        cores: `a:${a} b:${b}`,
        note: 'round trip between two processes',
      });
    }
  }
  return rows;
}

// ---- the two Node sides --------------------------------------------------------------------------

async function side(which: string, mode: Mode, name: string, rounds: number): Promise<void> {
  const shm = await SharedMemory.open(name);
  const i32 = new Int32Array(shm.buffer, 0, 1);
  const ping = Semaphore.inSharedMemory(shm, PING_AT);
  const pong = Semaphore.inSharedMemory(shm, PONG_AT);
  const warm = Math.floor(rounds / 10);
  const samples: number[] = [];
  const awaitValue = async (want: number) => {
    if (mode === 'spin') {
      while (Atomics.load(i32, 0) !== want);
      return;
    }
    for (let v = Atomics.load(i32, 0); v !== want; v = Atomics.load(i32, 0)) await SharedMemory.wait(i32, 0, v);
  };
  const put = (v: number) => {
    Atomics.store(i32, 0, v);
    if (mode === 'futex') SharedMemory.notify(i32, 0, 1);
  };
  for (let i = 0; i < warm + rounds; i++) {
    if (which === 'b') {
      if (mode === 'sem') {
        await ping.wait();
        pong.post();
      } else {
        await awaitValue(2 * i + 1);
        put(2 * i + 2);
      }
      continue;
    }
    const t0 = process.hrtime.bigint();
    if (mode === 'sem') {
      ping.post();
      await pong.wait();
    } else {
      put(2 * i + 1);
      await awaitValue(2 * i + 2);
    }
    if (i >= warm) samples.push(Number(process.hrtime.bigint() - t0));
  }
  ping.close();
  pong.close();
  shm.close();
  if (which === 'a') process.stdout.write(JSON.stringify(samples));
}

if (process.argv[1] === self) {
  if (process.argv[2] === 'child') {
    await side(process.argv[3]!, process.argv[4] as Mode, process.argv[5]!, Number(process.argv[6]));
  } else {
    // Direct run: node dist/bench/shm.js [--quick]
    const rows = await bench({ quick: process.argv.includes('--quick') });
    console.table(rows.map(({ mechanism, impl, label, p50_us, p99_us, p999_us, samples, cores }) => ({ mechanism, impl, label, p50_us, p99_us, p999_us, samples, cores })));
  }
}
