// Shared-memory benchmarks: a round trip between two processes over one shared word, ipckit beside C in
// the same run, each mechanism's rows back to back.
//   shm-atomics  both sides spin on Atomics.load (no syscall): the cost of the memory itself
//   futex        both sides sleep in SharedMemory.wait and wake each other with SharedMemory.notify
//   semaphore    two in-memory semaphores: post -> wait with a sleeping waiter, guarding the word
//   event-loop floor  what no wake-up through Node's event loop can go below: each side sleeps in
//                epoll_wait on its own eventfd (C), or in the event loop on it, a uv_poll calling a JS
//                callback (Node, no promise); and ipckit's futex design in C (the futex wait on a second
//                thread that wakes the loop thread through an eventfd), the floor of every waiter-thread
//                wait (futex, semaphore, System V queue)
// The Node sides are two child processes (this file run as `child`), pinned to different CPUs like the
// C program's two processes, so both measure the same cross-core wake-up.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Semaphore, SharedMemory } from '../src/index.js';
import { native } from '../src/native.js';
import { READABLE, Readiness } from '../src/internal/wait.js';
import { checkDigestsAgainst, collect, compileC, percentiles, pinned, wordsDigest, type BenchOptions, type BenchRow, type Digest } from './lib.js';

const self = fileURLToPath(import.meta.url);
type Mode = 'spin' | 'futex' | 'sem' | 'efd';
const PING_AT = 64;
const PONG_AT = 128;
const EFD_NONBLOCK = 0o4000;

const MECHANISM: Record<Mode, string> = { spin: 'shm-atomics', futex: 'futex', sem: 'semaphore', efd: 'event-loop floor' };
const LABEL: Record<Mode, [string, string]> = {
  spin: ['ipckit SharedMemory + Atomics (spinning)', 'C shared page, atomic spin'],
  futex: ['ipckit SharedMemory.wait/notify (sleeping)', 'C futex FUTEX_WAIT/FUTEX_WAKE'],
  sem: ['ipckit Semaphore.inSharedMemory post/wait', 'C sem_post/sem_wait (pshared)'],
  efd: ['Node: eventfd in the event loop (uv_poll → JS callback)', 'C epoll_wait on an eventfd'],
};
const HANDOFF_LABEL = "C futex on a waiter thread → eventfd → epoll (ipckit's design)";

function cores(): [number, number] {
  return os.cpus().length > 1 ? [0, 1] : [0, 0];
}

interface SideOut {
  samples: number[];
  /** verify: the word this side waited for, each round. */
  seen?: number[];
}

async function nodeRun(mode: Mode, rounds: number, verify = false): Promise<{ samples: number[]; digest: Digest }> {
  const name = `/ipckit-bench-${process.pid}-${mode}`;
  await using shm = await SharedMemory.create(name, { size: 4096 });
  // Initialised here, attached by both sides.
  using _ping = Semaphore.inSharedMemory(shm, PING_AT, { value: 0 });
  using _pong = Semaphore.inSharedMemory(shm, PONG_AT, { value: 0 });
  // efd: each side's doorbell, its fd 3 (a's) and 4 (b's).
  const efds = mode === 'efd' ? [native.eventfd(0, EFD_NONBLOCK), native.eventfd(0, EFD_NONBLOCK)] : [];
  try {
    const [a, b] = cores();
    const args = (side: string) => [self, 'child', side, mode, name, String(rounds), verify ? 'verify' : 'time'];
    const [bc, ba] = pinned(b, process.execPath, args('b'));
    const [ac, aa] = pinned(a, process.execPath, args('a'));
    const responder = collect(bc, ba, efds);
    const outA = JSON.parse(await collect(ac, aa, efds)) as SideOut;
    const outB = JSON.parse(await responder) as SideOut;
    const words: number[] = [];
    if (verify) for (let i = 0; i < rounds; i++) words.push(outB.seen![i]!, outA.seen![i]!);
    return { samples: outA.samples, digest: wordsDigest(words) };
  } finally {
    for (const fd of efds) if (fd >= 0) native.close(fd);
  }
}

async function cRun(mode: Mode | 'handoff', rounds: number): Promise<number[]> {
  const [a, b] = cores();
  const out = await collect(compileC('shm_pingpong'), [mode, String(rounds), String(a), String(b)]);
  return out.trim().split('\n').map(Number);
}

/** The words of `rounds` exchanges: b waits for 2i + 1, a for 2i + 2. */
function exchangeWords(rounds: number): number[] {
  const w: number[] = [];
  for (let i = 0; i < rounds; i++) w.push(2 * i + 1, 2 * i + 2);
  return w;
}

/**
 * A short untimed run of every mode on both sides: each side records the word it waited for in every
 * round, and the C program and the two Node processes must have seen exactly the words of the exchange
 * (b 2i + 1, a 2i + 2; 4 bytes each way per round), in order.
 */
export async function verify(): Promise<string[]> {
  const rounds = 200;
  const want = wordsDigest(exchangeWords(rounds));
  const out: string[] = [];
  for (const mode of ['spin', 'futex', 'sem', 'efd'] as Mode[]) {
    const [a, b] = cores();
    const c = await collect(compileC('shm_pingpong'), ['verify', mode, String(rounds), String(a), String(b)]);
    const sides: Record<string, Digest | string> = { C: c, [mode === 'efd' ? 'Node' : 'ipckit']: (await nodeRun(mode, rounds, true)).digest };
    if (mode === 'futex') sides['C waiter-thread'] = await collect(compileC('shm_pingpong'), ['verify', 'handoff', String(rounds), String(a), String(b)]);
    out.push(checkDigestsAgainst(MECHANISM[mode], want, `${rounds} round trips × 2 × 4 B`, sides));
  }
  return out;
}

/** The bench rows of this file: for each mode, ipckit then C (then, for futex, C with ipckit's hand-off). */
export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const [a, b] = cores();
  const row = (mode: Mode, impl: BenchRow['impl'], label: string, samples: number[], note: string, mechanism = MECHANISM[mode]): BenchRow => ({
    mechanism,
    impl,
    label,
    size: 4,
    kind: mode === 'spin' ? 'rtt' : 'wakeup',
    ...percentiles(samples),
    cores: `a:${a} b:${b}`,
    note,
  });
  for (const mode of ['spin', 'futex', 'sem', 'efd'] as Mode[]) {
    const rounds = mode === 'spin' ? (opts.quick ? 5_000 : 50_000) : opts.quick ? 1_000 : 10_000;
    const note = mode === 'efd' ? 'round trip between two processes, each asleep in epoll_wait on its own eventfd' : 'round trip between two processes';
    rows.push(row(mode, mode === 'efd' ? 'node' : 'ipckit', LABEL[mode][0], (await nodeRun(mode, rounds)).samples, note));
    rows.push(row(mode, 'c', LABEL[mode][1], await cRun(mode, rounds), note));
    if (mode === 'futex') {
      rows.push(row(mode, 'c', HANDOFF_LABEL, await cRun('handoff', rounds), 'round trip between two processes; the floor of a wait on a waiter thread', 'futex (waiter thread)'));
    }
  }
  return rows;
}

// ---- the two Node sides --------------------------------------------------------------------------

async function side(which: string, mode: Mode, name: string, rounds: number, verify: boolean): Promise<void> {
  const shm = await SharedMemory.open(name);
  const i32 = new Int32Array(shm.buffer, 0, 1);
  const ping = Semaphore.inSharedMemory(shm, PING_AT);
  const pong = Semaphore.inSharedMemory(shm, PONG_AT);
  const warm = verify ? 0 : Math.floor(rounds / 10);
  const samples: number[] = [];
  const seen: number[] = [];
  const saw = (i: number) => {
    if (verify && i >= warm) seen.push(Atomics.load(i32, 0));
  };
  if (mode === 'spin') {
    // Synchronous, like the C loop: the round trip is the memory's, not a promise's.
    for (let i = 0; i < warm + rounds; i++) {
      if (which === 'b') {
        while (Atomics.load(i32, 0) !== 2 * i + 1);
        saw(i);
        Atomics.store(i32, 0, 2 * i + 2);
        continue;
      }
      const t0 = process.hrtime.bigint();
      Atomics.store(i32, 0, 2 * i + 1);
      while (Atomics.load(i32, 0) !== 2 * i + 2);
      if (i >= warm) samples.push(Number(process.hrtime.bigint() - t0));
      saw(i);
    }
  } else if (mode === 'efd') {
    // Callbacks only: a wake-up is the uv_poll callback, the answer an eventfd write from inside it.
    const mine = which === 'a' ? 3 : 4;
    const theirs = which === 'a' ? 4 : 3;
    const bell = new Readiness(mine, 'doorbell');
    await new Promise<void>((done) => {
      let i = 0;
      let t0 = 0n;
      const ask = () => {
        t0 = process.hrtime.bigint();
        Atomics.store(i32, 0, 2 * i + 1);
        native.eventfdSignal(theirs);
      };
      bell.listen(READABLE, () => {
        native.drain(mine);
        if (which === 'b') {
          saw(i);
          Atomics.store(i32, 0, 2 * i + 2);
          native.eventfdSignal(theirs);
        } else {
          if (i >= warm) samples.push(Number(process.hrtime.bigint() - t0));
          saw(i);
        }
        if (++i === warm + rounds) {
          bell.listen(0);
          done();
        } else if (which === 'a') ask();
      });
      bell.ref();
      if (which === 'a') ask();
    });
    bell.close();
  } else {
    const awaitValue = async (want: number) => {
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
          saw(i);
          Atomics.store(i32, 0, 2 * i + 2);
          pong.post();
        } else {
          await awaitValue(2 * i + 1);
          saw(i);
          put(2 * i + 2);
        }
        continue;
      }
      const t0 = process.hrtime.bigint();
      if (mode === 'sem') {
        Atomics.store(i32, 0, 2 * i + 1);
        ping.post();
        await pong.wait();
      } else {
        put(2 * i + 1);
        await awaitValue(2 * i + 2);
      }
      if (i >= warm) samples.push(Number(process.hrtime.bigint() - t0));
      saw(i);
    }
  }
  ping.close();
  pong.close();
  shm.close();
  process.stdout.write(JSON.stringify(verify ? { samples, seen } : { samples: which === 'a' ? samples : [] }));
}

if (process.argv[1] === self) {
  if (process.argv[2] === 'child') {
    await side(process.argv[3]!, process.argv[4] as Mode, process.argv[5]!, Number(process.argv[6]), process.argv[7] === 'verify');
  } else {
    // Direct run: node dist/bench/shm.js [--quick]
    console.log((await verify()).join('\n'));
    const rows = await bench({ quick: process.argv.includes('--quick') });
    console.table(rows.map(({ mechanism, impl, label, p50_us, p99_us, p999_us, samples, cores }) => ({ mechanism, impl, label, p50_us, p99_us, p999_us, samples, cores })));
  }
}
