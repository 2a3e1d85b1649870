// The shared-memory ring between two Node processes (this one on CPU a, the peer on CPU b), beside the
// same ping-pong in C over a MAP_SHARED mapping (bench/c/ring_pingpong.c):
// - spinning round trip (both sides busy-poll; the fast path: pure JS, no syscall, no native call), with
//   the clock's own cost subtracted from every sample here and in C alike (clockCost());
// - sleeping round trip (both sides park between messages, each in uv_poll on its own eventfd);
// - the Channel API over shm: (async send/receive, spinning);
// - one-way throughput at 64 B and 1 MiB (the latter against single-thread memcpy).
import { listen } from '../src/channel/index.js';
import { RingServer, type RingPair } from '../src/channel/shm-server.js';
import { rendezvousUrl } from '../src/channel/shm.js';
import { percentiles, type BenchOptions, type BenchRow } from './lib.js';
import { CORES, CPU_A, CPU_B, nodePeer, nsToUs, runC, stop } from './common.js';

let seq = 0;
const uname = () => `/ipckit-bench-${process.pid}-${++seq}`;

async function withPeer<T>(mode: string, capacity: number, args: string[], body: (p: RingPair) => Promise<T>): Promise<T> {
  const url = `shm+unix:@ipckit-bench-${process.pid}-${++seq}`;
  const server = await RingServer.listen(url, { capacity, spinMicros: 1e6 });
  const { child } = await nodePeer('ring-peer', [url, mode, ...args]);
  const pair = await server.acceptPair({ timeout: 10_000 });
  await server.close();
  try {
    return await body(pair);
  } finally {
    pair.tx.close();
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await pair.close();
    await stop(child);
  }
}

// Each measurement stops at n samples or after `budget` ms, whichever comes first: on a loaded 2-core
// machine a spinning peer may share its core, and a fixed count could take minutes.

/**
 * The cost of reading the clock once, as a sample sees it (median of back-to-back reads): subtracted
 * from every round-trip sample, here and in bench/c/ring_pingpong.c alike, so that a sub-microsecond
 * round trip is not mostly the clock.
 */
export function clockCost(): number {
  const d = new Float64Array(20_001);
  for (let i = 0; i < d.length; i++) {
    const a = process.hrtime.bigint();
    d[i] = Number(process.hrtime.bigint() - a);
  }
  return d.sort()[d.length >> 1]!;
}

function spinRtt(p: RingPair, n: number, size: number, budget: number, clock: number): Float64Array {
  const msg = Buffer.alloc(size, 7);
  const back = Buffer.alloc(p.rx.maxMessageSize); // the reply lands here: no allocation per message
  const out = new Float64Array(n);
  const warm = Math.max(1000, n / 10);
  const end = performance.now() + budget;
  let k = 0;
  for (let i = 0; k < n; i++) {
    const t0 = process.hrtime.bigint();
    while (!p.tx.trySend(msg));
    while (p.rx.tryReceiveInto(back) < 0);
    if (i >= warm) out[k++] = Math.max(0, Number(process.hrtime.bigint() - t0) - clock);
    if ((i & 1023) === 0 && performance.now() > end) break;
  }
  return out.subarray(0, k);
}

async function sleepRtt(p: RingPair, n: number, size: number, budget: number): Promise<Float64Array> {
  const msg = Buffer.alloc(size, 7);
  const out = new Float64Array(n);
  const warm = Math.max(50, n / 10);
  const end = performance.now() + budget;
  let k = 0;
  for (let i = 0; k < n && performance.now() < end; i++) {
    const t0 = process.hrtime.bigint();
    await p.tx.send(msg, { spinMicros: 0 });
    await p.rx.receive({ spinMicros: 0 });
    if (i >= warm) out[k++] = Number(process.hrtime.bigint() - t0);
  }
  return out.subarray(0, k);
}

/** Sends size-byte messages for `budget` ms, then an empty one; [messages, ns until the peer's ack]. */
function throughput(p: RingPair, size: number, budget: number): [number, number] {
  const msg = Buffer.alloc(size, 7);
  const t0 = process.hrtime.bigint();
  const end = performance.now() + budget;
  let n = 0;
  // Batches of 64: written with tryWrite, published with one flush (one release store, one look at the
  // consumer's sleep flag); a full ring publishes what is written and spins.
  for (;;) {
    for (let i = 0; i < 64; i++, n++) {
      if (!p.tx.tryWrite(msg)) {
        p.tx.flush();
        while (!p.tx.tryWrite(msg));
      }
    }
    p.tx.flush();
    if (performance.now() > end) break;
  }
  while (!p.tx.trySend(Buffer.alloc(0)));
  while (p.rx.tryReceive() === null);
  return [n, Number(process.hrtime.bigint() - t0)];
}

function row(label: string, mechanism: string, size: number, kind: BenchRow['kind'], p: ReturnType<typeof percentiles>, note?: string): BenchRow {
  return { mechanism, impl: 'ipckit', label, size, kind, ...p, cores: CORES, ...(note ? { note } : {}) };
}

function cRow(label: string, mechanism: string, size: number, kind: BenchRow['kind'], r: Record<string, number>): BenchRow {
  return { mechanism, impl: 'c', label, size, kind, p50_us: nsToUs(r.p50!), p99_us: nsToUs(r.p99!), p999_us: nsToUs(r.p999!), samples: r.n!, cores: CORES };
}

async function channelRtt(opts: BenchOptions, size: number, peerMode = 'spin-echo'): Promise<BenchRow> {
  // Through the public API on this side: listen(), then awaited send() and receive() (spinning before
  // parking); the peer process echoes with the ring's synchronous fast path (spin-echo), or with the
  // public API too (channel-echo: for await + await send).
  const name = uname();
  const a = await listen(`shm:${name}`, { spinMicros: 1e6, capacity: 1 << 16 });
  // The peer connects to the name's rendezvous socket, where listen('shm:…') serves the handshake.
  const { child } = await nodePeer('ring-peer', [rendezvousUrl(name), peerMode]);
  const msg = Buffer.alloc(size, 7);
  const n = opts.quick ? 100_000 : 1_000_000;
  const out = new Float64Array(n);
  const end = performance.now() + (opts.quick ? 2000 : 5000);
  let k = 0;
  try {
    for (let i = 0; k < n; i++) {
      const t0 = process.hrtime.bigint();
      await a.send(msg);
      await a.receive();
      if (i >= 1000) out[k++] = Number(process.hrtime.bigint() - t0);
      if ((i & 1023) === 0 && performance.now() > end) break;
    }
  } finally {
    await a.close();
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await stop(child);
  }
  if (peerMode === 'channel-echo') {
    return row('ipckit Channel shm:, both ends on the public API', 'shm-ring (spin)', size, 'rtt', percentiles(out.subarray(0, k)), 'await send / await receive here; for await + await send in the peer');
  }
  return row('ipckit Channel shm: (await send / await receive)', 'shm-ring (spin)', size, 'rtt', percentiles(out.subarray(0, k)), 'the public async API on this side; the peer echoes with trySend/tryReceive');
}

/** One way through the public API: sendMany() batches of 256 here, `for await` (or receiveMany()) in the peer. */
async function channelThroughput(opts: BenchOptions, size: number, many = false): Promise<BenchRow> {
  const name = uname();
  const a = await listen(`shm:${name}`, { spinMicros: 1e6, capacity: 1 << 20 });
  const { child } = await nodePeer('ring-peer', [rendezvousUrl(name), many ? 'channel-sink-many' : 'channel-sink']);
  const batch = Array.from({ length: 256 }, () => Buffer.alloc(size, 7));
  const budget = opts.quick ? 1000 : 2500;
  let n = 0;
  let ns = 0;
  try {
    const t0 = process.hrtime.bigint();
    const end = performance.now() + budget;
    while (performance.now() < end) {
      await a.sendMany(batch);
      n += batch.length;
    }
    await a.send(Buffer.alloc(0));
    await a.receive();
    ns = Number(process.hrtime.bigint() - t0);
  } finally {
    await a.close();
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await stop(child);
  }
  const how = many ? 'receiveMany' : 'for await';
  return { mechanism: 'shm-ring (spin)', impl: 'ipckit', label: `ipckit Channel shm: one way, sendMany → ${how}`, size, kind: 'throughput', msgs_per_s: Math.round(n / (ns / 1e9)), mb_per_s: Math.round((n * size) / (ns / 1e3)), cores: CORES, note: `${n} messages; sendMany() of 256 here, ${many ? 'receiveMany() (one promise a batch)' : 'for await (one promise a message)'} in the peer; a Buffer per message` };
}

/** Zero-copy send: loan 1 MiB of the ring, fill it in place, commit; the peer reads in place. */
function loanThroughput(p: RingPair, size: number, budget: number): [number, number] {
  const t0 = process.hrtime.bigint();
  const end = performance.now() + budget;
  let n = 0;
  while (performance.now() < end) {
    let view: Uint8Array | null;
    while ((view = p.tx.loan(size)) === null);
    view.fill(n & 0xff);
    p.tx.commit();
    n++;
  }
  while (!p.tx.trySend(Buffer.alloc(0)));
  while (p.rx.tryReceive() === null);
  return [n, Number(process.hrtime.bigint() - t0)];
}

export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const clock = clockCost();
  const spinN = opts.quick ? 100_000 : 1_000_000;
  const sleepN = opts.quick ? 2000 : 20000;
  const budget = opts.quick ? 2000 : 5000;

  rows.push(cRow('C spin ping-pong (MAP_SHARED)', 'shm-ring (spin)', 64, 'rtt', runC('ring_pingpong', ['spin', spinN, 64, CPU_A, CPU_B])));
  rows.push(
    await withPeer('spin-echo', 1 << 16, [], async (p) => row('ipckit ring, spinning (tryReceive/trySend)', 'shm-ring (spin)', 64, 'rtt', percentiles(spinRtt(p, spinN, 64, budget, clock)), `less the clock's own cost (${clock} ns, subtracted in C too); zero-allocation receive (tryReceiveInto) on both sides; the peer copies in and out like the C peer`)),
  );
  rows.push(cRow('C futex ping-pong', 'shm-ring (sleep)', 64, 'wakeup', runC('ring_pingpong', ['futex', sleepN, 64, CPU_A, CPU_B])));
  rows.push(
    await withPeer('sleep-echo', 1 << 16, [], async (p) => row('ipckit ring, both sides parked (eventfd doorbells on the event loop)', 'shm-ring (sleep)', 64, 'wakeup', percentiles(await sleepRtt(p, sleepN, 64, budget)), 'each side parks in uv_poll on its own eventfd, the other writes it (one wake-up hop)')),
  );
  rows.push(await channelRtt(opts, 64));
  rows.push(await channelRtt(opts, 64, 'channel-echo'));
  rows.push(await channelThroughput(opts, 64));
  rows.push(await channelThroughput(opts, 64, true));

  const [n64, ns64] = await withPeer('sink', 1 << 20, [], async (p) => throughput(p, 64, budget / 2));
  rows.push({ mechanism: 'shm-ring (spin)', impl: 'ipckit', label: 'ipckit ring one way, 64 B, spinning', size: 64, kind: 'throughput', msgs_per_s: Math.round(n64 / (ns64 / 1e9)), mb_per_s: Math.round((n64 * 64) / (ns64 / 1e3)), cores: CORES, note: `${n64} messages` });

  const big = 1 << 20;
  // A 4 MiB ring, the smallest that takes 1 MiB messages (half the capacity): its working set stays in cache
  // like the memcpy baseline's.
  const [nBig, nsBig] = await withPeer('sink-inplace', 4 << 20, [], async (p) => throughput(p, big, budget / 2));
  const mbs = (nBig * big) / (nsBig / 1e3);
  rows.push({ mechanism: 'memcpy', impl: 'ipckit', label: 'ipckit ring one way, 1 MiB, spinning', size: big, kind: 'throughput', msgs_per_s: Math.round(nBig / (nsBig / 1e9)), mb_per_s: Math.round(mbs), cores: CORES, note: `${nBig} messages; the producer copies each message into a 4 MiB ring, the consumer on the other core reads it in place (peek/release); compared with memcpy between two hot 1 MiB buffers` });
  const [nLoan, nsLoan] = await withPeer('sink-inplace', 4 << 20, [], async (p) => loanThroughput(p, big, budget / 2));
  rows.push({ mechanism: 'memcpy', impl: 'ipckit', label: 'ipckit ring one way, 1 MiB, zero-copy (loan/fill/commit)', size: big, kind: 'throughput', msgs_per_s: Math.round(nLoan / (nsLoan / 1e9)), mb_per_s: Math.round((nLoan * big) / (nsLoan / 1e3)), cores: CORES, note: `${nLoan} messages; each one written in place in the ring (fill), no copy; the consumer reads in place` });
  return rows;
}
