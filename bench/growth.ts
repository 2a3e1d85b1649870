// How cost grows (issue 14, item 6), in two sweeps:
// - size: one-way throughput by message size, 64 B to 4 MiB in powers of 4, for the shared-memory ring
//   (tryWrite/flush batches; the consumer reads in place with peek/release), UnixSocket stream and the
//   POSIX message queue (sizes above fs.mqueue.msgsize_max are skipped, with a note). This process sends;
//   one peer process on CPU 1 drains every size in turn and says how many bytes it saw, which must be
//   exactly what was sent.
// - pairs: 1, 4, 16 and 64 concurrent channel pairs over unix:, tcp://127.0.0.1 and shm: (the public
//   Channel API, 64 B raw messages; shm: also with spinMicros 0, to show what the busy wait before
//   parking costs when many channels share one event loop): aggregate one-way throughput (every pair streaming at once), the
//   round-trip p99 while every pair ping-pongs at once, and the resident memory of the measuring side per
//   channel, idle (after one exchange) and after the traffic. The measuring side is a child process run
//   with --expose-gc (so the harness's own heap is not in its RSS) on CPU 0; every far end lives in one
//   echo process on CPU 1.
//
//   node dist/bench/growth.js [--quick]      standalone: prints the growth tables
//   IPCKIT_BENCH_PROF=DIR                    every peer and measuring child writes a --cpu-prof profile
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MessageQueue, UnixSocket } from '../src/index.js';
import { connect, listen, type Channel } from '../src/channel/index.js';
import { connectRingPair, RingServer, type RingPair } from '../src/channel/shm-server.js';
import { maxPayload } from '../src/channel/ring.js';
import { checkDigests, DigestAcc, patternMessage, percentiles, pinned, type BenchOptions, type BenchRow } from './lib.js';

const self = fileURLToPath(import.meta.url);
const KiB = 1024;
const MiB = 1024 * 1024;
/** 64 B to 4 MiB in powers of 4. */
export const GROWTH_SIZES = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
export const PAIRS = [1, 4, 16, 64];
const TRANSPORTS = ['unix', 'tcp', 'shm', 'shm-nospin'] as const;
type Transport = (typeof TRANSPORTS)[number];
type SizeMech = 'ring' | 'unix' | 'mq';
/** No wait in this file outlasts this (a peer that stops answering fails the module, never hangs it). */
const STALL_MS = 30_000;

// ---- plumbing ----------------------------------------------------------------------------------------

/** Lines of a child's stdout, awaited one at a time, each within STALL_MS. */
class Lines {
  readonly #queue: string[] = [];
  readonly #waiters: ((l: string | null) => void)[] = [];
  #ended = false;
  constructor(child: ChildProcess) {
    const rl = readline.createInterface({ input: child.stdout! });
    rl.on('line', (l) => (this.#waiters.length ? this.#waiters.shift()!(l) : this.#queue.push(l)));
    rl.on('close', () => {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(null);
    });
  }
  next(what: string): Promise<string> {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift()!);
    if (this.#ended) return Promise.reject(new Error(`growth: the peer exited before ${what}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`growth: no ${what} from the peer within ${STALL_MS} ms`)), STALL_MS);
      this.#waiters.push((l) => {
        clearTimeout(timer);
        if (l === null) reject(new Error(`growth: the peer exited before ${what}`));
        else resolve(l);
      });
    });
  }
}

/** IPCKIT_BENCH_PROF=DIR: every child of this module writes a CPU profile (--cpu-prof) into DIR. */
const PROF = process.env.IPCKIT_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.IPCKIT_BENCH_PROF}`] : [];

function startChild(cpu: number, args: string[], node: string[] = [], extra: number[] = []): ChildProcess {
  const [cmd, argv] = pinned(cpu, process.execPath, [...PROF, ...node, self, ...args]);
  return spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit', ...extra] as never });
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** The ring capacity for a message size: the default 4 MiB, or the smallest power of two carrying it. */
function ringCapacity(size: number): number {
  let cap = 4 * MiB;
  while (maxPayload(cap) < size) cap *= 2;
  return cap;
}

function msgsizeMax(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/fs/mqueue/msgsize_max', 'utf8'));
  } catch {
    return 8192; // the kernel default
  }
}

// ---- sweep 1: message size ---------------------------------------------------------------------------

/**
 * Sends `size`-byte messages for `budget` ms, or exactly `count` pattern messages when given (the
 * verification exchange); then the end marker. Returns how many it sent.
 */
type Sender = (msg: Buffer, budget: number, count?: number) => Promise<number>;

function ringSender(p: RingPair): Sender {
  return async (msg, budget, count) => {
    const end = performance.now() + budget;
    let n = 0;
    // Batches published by one flush (one release store); a full ring publishes what it has and spins,
    // within STALL_MS (a consumer that died never drains it).
    const batch = msg.length >= 64 * KiB ? 1 : 64;
    const write = (m: Buffer) => {
      if (p.tx.tryWrite(m)) return;
      p.tx.flush();
      const stall = performance.now() + STALL_MS;
      for (let k = 0; !p.tx.tryWrite(m); k++) if ((k & 1023) === 0 && performance.now() > stall) throw new Error('growth: the ring consumer stopped draining');
    };
    if (count !== undefined) for (; n < count; n++) write(patternMessage(msg.length, n));
    else {
      do {
        for (let i = 0; i < batch; i++, n++) write(msg);
        p.tx.flush();
      } while (performance.now() < end);
    }
    p.tx.flush();
    const stall = performance.now() + STALL_MS;
    while (!p.tx.trySend(Buffer.alloc(0))) if (performance.now() > stall) throw new Error('growth: the ring consumer stopped draining');
    return n;
  };
}

function unixSender(sock: UnixSocket): Sender {
  return async (msg, budget, count) => {
    const end = performance.now() + budget;
    let n = 0;
    const write = async (m: Buffer) => {
      if (!sock.write(m)) await new Promise((r) => sock.once('drain', r));
    };
    if (count !== undefined) for (; n < count; n++) await write(patternMessage(msg.length, n));
    else {
      do for (let i = 0; i < 16; i++, n++) await write(msg);
      while (performance.now() < end);
    }
    sock.end();
    return n;
  };
}

function mqSender(q: MessageQueue): Sender {
  return async (msg, budget, count) => {
    const end = performance.now() + budget;
    let n = 0;
    const opts = { timeout: STALL_MS };
    const send = async (m: Buffer) => {
      if (!q.trySend(m)) await q.send(m, opts);
    };
    if (count !== undefined) for (; n < count; n++) await send(patternMessage(msg.length, n));
    else {
      do for (let i = 0; i < 16; i++, n++) await send(msg);
      while (performance.now() < end);
    }
    if (!q.trySend(Buffer.alloc(0))) await q.send(Buffer.alloc(0), opts);
    return n;
  };
}

interface SizePoint {
  size: number;
  open: () => Promise<{ arg: string; peerEnd?: UnixSocket; send: Sender; close: () => Promise<void> }>;
}

/**
 * One mechanism across its sizes, against one peer that drains them in turn. With `verifyCount`, each
 * size carries that many pattern messages and the peer's digest must be the pattern's (patternDigest).
 */
async function sizeSweep(mech: SizeMech, sizes: number[], budget: number, verifyCount?: number): Promise<{ size: number; n: number; ns: number; check?: string }[]> {
  let seq = 0;
  const base = `/ipckit-bench-growth-${process.pid}-${mech}`;
  const points: SizePoint[] = sizes.map((size) => ({
    size,
    open: async () => {
      const name = `${base}-${++seq}`;
      if (mech === 'ring') {
        // A ring server per point; the peer connects to each (the pair exists once it did).
        const url = `shm+unix:@${name.slice(1)}`;
        const server = await RingServer.listen(url, { capacity: ringCapacity(size), spinMicros: 1e6 });
        const accepted = server.acceptPair({ timeout: STALL_MS }).finally(() => server.close());
        accepted.catch(() => {});
        return { arg: url, send: async (msg, budget) => ringSender(await accepted)(msg, budget), close: async () => (await server.close(), await (await accepted.catch(() => undefined))?.close()) };
      }
      if (mech === 'mq') {
        const q = await MessageQueue.create(name, { maxMessages: 10, maxMessageSize: size, access: 'write' });
        return { arg: name, send: mqSender(q), close: async () => q.close() };
      }
      const [a, b] = UnixSocket.pair('stream');
      return { arg: 'fd', peerEnd: b, send: unixSender(a), close: async () => void (await Promise.all([a.close(), b.close()])) };
    },
  }));
  const opened: Awaited<ReturnType<SizePoint['open']>>[] = [];
  let child: ChildProcess | undefined;
  try {
    for (const p of points) opened.push(await p.open());
    const ends = opened.filter((o) => o.peerEnd).map((o) => o.peerEnd!);
    child = startChild(1, ['size-peer', mech, verifyCount === undefined ? 'count' : 'digest', ...opened.map((o, i) => `${points[i]!.size}:${o.arg}`)], [], ends.map((e) => e.fd));
    await once(child, 'spawn');
    // The child has its copies: ours would keep each stream open after the peer closes it.
    await Promise.all(ends.map((e) => e.close()));
    const lines = new Lines(child);
    const ready = await lines.next('ready');
    if (ready !== 'ready') throw new Error(`growth: the ${mech} peer said ${ready}`);
    const out: { size: number; n: number; ns: number; check?: string }[] = [];
    for (const [i, p] of points.entries()) {
      const msg = Buffer.alloc(p.size, 0x61 + (i % 26));
      const t0 = process.hrtime.bigint();
      const n = await opened[i]!.send(msg, budget, verifyCount);
      const done = await lines.next(`the end of ${p.size} B`);
      const ns = Number(process.hrtime.bigint() - t0);
      if (verifyCount !== undefined) {
        out.push({ size: p.size, n, ns, check: checkDigests(`${mech} ${p.size} B`, p.size, n, { 'growth peer': done.slice(5) }) });
        continue;
      }
      // The check that the numbers mean what they say: the peer saw every byte that was sent, no more.
      const got = Number(done.split(' ')[1]);
      if (!done.startsWith('done ') || got !== n * p.size) throw new Error(`growth: ${mech} ${p.size} B: sent ${n * p.size} bytes, the peer counted ${done}`);
      out.push({ size: p.size, n, ns });
    }
    return out;
  } finally {
    for (const o of opened) await o.close().catch(() => {});
    if (child) await kill(child);
  }
}

/** The peer of the size sweep: opens every point, says ready, drains each in turn, printing its bytes. */
async function sizePeer(mech: SizeMech, what: string, specs: string[]): Promise<void> {
  // 'count': bytes only (cheap, while measuring); 'digest': the verification exchange's digest.
  const digest = what === 'digest';
  const done = (d: DigestAcc) => say(`done ${digest ? JSON.stringify(d) : d.bytes}`);
  const points = specs.map((s) => {
    const i = s.indexOf(':');
    return { size: Number(s.slice(0, i)), arg: s.slice(i + 1) };
  });
  const say = (l: string) => process.stdout.write(`${l}\n`);
  if (mech === 'ring') {
    const pairs = await Promise.all(points.map((p) => connectRingPair(p.arg, { spinMicros: 1e6 })));
    say('ready');
    for (const p of pairs) {
      const d = new DigestAcc();
      for (;;) {
        const v = p.rx.peek();
        if (!v) continue;
        const len = v.byteLength;
        if (digest) d.add(v);
        else d.bytes += len;
        p.rx.release();
        if (len === 0) break;
      }
      done(d);
    }
    for (const p of pairs) await p.close();
  } else if (mech === 'mq') {
    const qs = await Promise.all(points.map((p) => MessageQueue.open(p.arg, { access: 'read' })));
    say('ready');
    for (const q of qs) {
      const d = new DigestAcc();
      for (;;) {
        const m = q.tryReceive() ?? (await q.receive({ timeout: STALL_MS }));
        if (m.data.length === 0) break;
        if (digest) d.add(m.data);
        else d.bytes += m.data.length;
      }
      done(d);
      q.close();
    }
  } else {
    const socks = points.map((_, i) => UnixSocket.fromFd(3 + i));
    say('ready');
    for (const s of socks) {
      const d = new DigestAcc();
      s.on('data', (b: Buffer) => (digest ? d.add(b) : (d.bytes += b.length)));
      await new Promise<void>((resolve, reject) => s.once('end', () => resolve()).once('error', reject));
      done(d);
      await s.close();
    }
  }
}

// ---- sweep 2: concurrent pairs -----------------------------------------------------------------------

const TAG_STREAM = 0x53; // 'S': counted, no answer
const TAG_END = 0x45; // 'E': answered with the count of S messages since the last E
const TAG_PING = 0x50; // 'P': echoed

function urlFor(t: Transport, dir: string, i: number): string {
  if (t === 'unix') return `unix:${path.join(dir, `c${i}.sock`)}`;
  if (t === 'tcp') return 'tcp://127.0.0.1:0';
  return `shm:/ipckit-bench-growth-${process.pid}-${i}`;
}

/**
 * Channel options per transport. 'shm-nospin' is shm: with spinMicros 0: a receive (or a send on a full
 * ring) that must wait parks at once instead of busy-waiting on the event loop first, which with many
 * channels in one process holds up every other channel's work for the spin.
 */
function optsFor(t: Transport): { spinMicros?: number } {
  return t === 'shm-nospin' ? { spinMicros: 0 } : {};
}

function rssKiB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().rss / 1024;
}

interface PairsResult {
  stream_msgs: number;
  stream_ns: number;
  samples: number[];
  rss0_kb: number;
  rss_idle_kb: number;
  rss_after_kb: number;
}

/** The measuring side of one pairs point (this file run as `pairs-client`, with --expose-gc). */
async function pairsClient(t: Transport, k: number, budget: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-bench-growth-'));
  const chans: Channel<Buffer>[] = [];
  let server: ChildProcess | undefined;
  try {
    // The far ends connect to each url the server reads on its stdin.
    server = spawn(...pinned(1, process.execPath, [...PROF, self, 'pairs-server']), { stdio: ['pipe', 'ignore', 'inherit'] });
    const serverExit = new Promise<never>((_, reject) => server!.once('exit', (code, sig) => reject(new Error(`growth: the echo server exited (${code ?? sig})`))));
    serverExit.catch(() => {});
    const opts = { timeout: STALL_MS };
    const recv = async (c: Channel<Buffer>): Promise<Buffer> => {
      const m = await Promise.race([c.receive(opts), serverExit]);
      if (m === undefined) throw new Error('growth: a channel closed early');
      return m;
    };
    const ping = Buffer.alloc(64, 0x2e);
    ping[0] = TAG_PING;
    const open = async (from: number, to: number) => {
      const fresh: Channel<Buffer>[] = [];
      for (let i = from; i < to; i++) fresh.push(await listen<Buffer>(urlFor(t, dir, i), optsFor(t)));
      server!.stdin!.write(fresh.map((c) => `${JSON.stringify({ url: c.url, opts: optsFor(t) })}\n`).join(''));
      // One exchange per channel: connected, and every lazy structure of the path allocated.
      await Promise.all(fresh.map(async (c) => (await c.send(ping), await recv(c))));
      return fresh;
    };
    // A first channel, not counted, so that what the first use of a transport loads (modules, code,
    // the adapter's shared state) is not charged to the channels measured.
    chans.push(...(await open(0, 1))); // idle from now on
    const rss0 = rssKiB();
    chans.push(...(await open(1, k + 1)));
    const rssIdle = rssKiB();
    const active = chans.slice(1);

    // Every pair streams at once, then says E and waits for the count.
    const msg = Buffer.alloc(64, 0x2e);
    msg[0] = TAG_STREAM;
    const end = Buffer.from([TAG_END]);
    const t0 = process.hrtime.bigint();
    const stop = performance.now() + budget;
    const sent = await Promise.all(
      active.map(async (c) => {
        let n = 0;
        do for (let i = 0; i < 32; i++, n++) await c.send(msg);
        while (performance.now() < stop);
        await c.send(end);
        const got = Number((await recv(c)).toString());
        if (got !== n) throw new Error(`growth: ${t} sent ${n} messages on a channel, the peer counted ${got}`);
        return n;
      }),
    );
    const streamNs = Number(process.hrtime.bigint() - t0);

    // Every pair ping-pongs at once; every round trip is a sample.
    const samples: number[] = [];
    const pstop = performance.now() + budget;
    await Promise.all(
      active.map(async (c) => {
        for (let i = 0; performance.now() < pstop || i < 20; i++) {
          const a = process.hrtime.bigint();
          await c.send(ping);
          await recv(c);
          if (i >= 10) samples.push(Number(process.hrtime.bigint() - a)); // the first few warm up
        }
      }),
    );
    const rssAfter = rssKiB();
    const r: PairsResult = { stream_msgs: sent.reduce((a, b) => a + b, 0), stream_ns: streamNs, samples, rss0_kb: rss0, rss_idle_kb: rssIdle, rss_after_kb: rssAfter };
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } finally {
    await Promise.all(chans.map((c) => c.close().catch(() => {})));
    server?.stdin?.end();
    if (server) {
      // The server ends when every channel closed; bounded all the same.
      const timer = setTimeout(() => server!.kill('SIGKILL'), 5000);
      if (server.exitCode === null && server.signalCode === null) await new Promise((r) => server!.once('exit', r));
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The far ends of a pairs point: connects to every { url, opts } line read on stdin; on each channel counts S, answers
 * E with the count, echoes P, until the channel closes. Exits when stdin ends and every channel closed.
 */
async function pairsServer(): Promise<void> {
  const serving: Promise<void>[] = [];
  const serve = async (line: string) => {
    const { url, opts } = JSON.parse(line) as { url: string; opts: { spinMicros?: number } };
    const c = await connect<Buffer>(url, opts);
    let n = 0;
    for await (const m of c) {
      if (m[0] === TAG_STREAM) n++;
      else if (m[0] === TAG_END) {
        await c.send(Buffer.from(String(n)));
        n = 0;
      } else await c.send(m);
    }
    await c.close();
  };
  for await (const u of readline.createInterface({ input: process.stdin })) if (u) serving.push(serve(u));
  await Promise.all(serving);
}

async function pairsPoint(t: Transport, k: number, budget: number): Promise<PairsResult> {
  const child = startChild(0, ['pairs-client', t, String(k), String(budget)], ['--expose-gc']);
  try {
    const line = await new Lines(child).next(`the ${t} ${k}-pair figures`);
    return JSON.parse(line) as PairsResult;
  } finally {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    clearTimeout(timer);
  }
}

// ---- rows --------------------------------------------------------------------------------------------

const SIZE_LABEL: Record<SizeMech, [string, string]> = {
  ring: ['shm-ring', 'ipckit ring (tryWrite/flush → peek/release)'],
  unix: ['unix-stream', 'ipckit UnixSocket stream'],
  mq: ['posix-mq', 'ipckit MessageQueue'],
};
const PAIR_LABEL: Record<Transport, [string, string]> = {
  unix: ['unix-stream', 'Channel unix:'],
  tcp: ['tcp', 'Channel tcp://127.0.0.1'],
  shm: ['shm-ring', 'Channel shm:'],
  'shm-nospin': ['shm-ring', 'Channel shm: (spinMicros: 0)'],
};

/**
 * The verification exchange of the size sweep: 8 pattern messages of 64 B, 64 KiB and 4 MiB (mq: 64 B
 * and its largest size) through each mechanism, the peer's digest checked. The pairs sweep checks, at
 * every point, that the far end counted every message sent.
 */
export async function verify(): Promise<string[]> {
  const out: string[] = [];
  const mqMax = msgsizeMax();
  for (const mech of ['ring', 'unix', 'mq'] as SizeMech[]) {
    const sizes = mech === 'mq' ? [64, Math.min(mqMax, 4 * KiB)] : [64, 64 * KiB, 4 * MiB];
    for (const p of await sizeSweep(mech, sizes, 0, 8)) out.push(p.check!);
  }
  return out;
}

/** Bytes/s as MB/s: whole numbers, two decimals below 10. */
function mb(bytesPerS: number): number {
  const v = bytesPerS / 1e6;
  return v >= 10 ? Math.round(v) : Math.round(v * 100) / 100;
}

/** The growth rows of `ipckit bench`: every point of both sweeps (BenchRow.sweep says which). */
export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const budget = opts.quick ? 60 : 400;
  const mqMax = msgsizeMax();
  for (const mech of ['ring', 'unix', 'mq'] as SizeMech[]) {
    const sizes = mech === 'mq' ? GROWTH_SIZES.filter((s) => s <= mqMax) : GROWTH_SIZES;
    const [mechanism, label] = SIZE_LABEL[mech];
    const got = await sizeSweep(mech, sizes, budget);
    for (const p of got) {
      const s = p.ns / 1e9;
      const row: BenchRow = { mechanism, impl: 'ipckit', label, size: p.size, kind: 'throughput', msgs_per_s: Math.round(p.n / s), mb_per_s: mb((p.n * p.size) / s), samples: p.n, cores: 'a:* b:1', sweep: { name: 'size', x: p.size } };
      if (mech === 'mq' && p === got[got.length - 1] && sizes.length < GROWTH_SIZES.length) {
        row.note = `larger sizes skipped: fs.mqueue.msgsize_max is ${mqMax} B (raise /proc/sys/fs/mqueue/msgsize_max to measure them)`;
      }
      if (mech === 'ring' && p.size === 64) row.note = `rings of ${ringCapacity(64) / MiB} MiB (${ringCapacity(4 * MiB) / MiB} MiB for 4 MiB messages), consumer reading in place`;
      rows.push(row);
    }
  }
  const pbudget = opts.quick ? 150 : 1000;
  // --quick leaves out the spinMicros 0 variant (a diagnosis, not a figure users get by default).
  for (const t of opts.quick ? TRANSPORTS.filter((x) => x !== 'shm-nospin') : TRANSPORTS) {
    const [mechanism, label] = PAIR_LABEL[t];
    for (const k of PAIRS) {
      const r = await pairsPoint(t, k, pbudget);
      const s = r.stream_ns / 1e9;
      const p = percentiles(r.samples);
      rows.push({
        mechanism,
        impl: 'ipckit',
        label,
        size: 64,
        kind: 'throughput',
        msgs_per_s: Math.round(r.stream_msgs / s),
        mb_per_s: mb((r.stream_msgs * 64) / s),
        ...p,
        cores: 'a:0 b:1',
        sweep: { name: 'pairs', x: k, rss_per_idle_channel_kb: Math.round((r.rss_idle_kb - r.rss0_kb) / k), rss_per_channel_kb: Math.round((r.rss_after_kb - r.rss0_kb) / k) },
        ...(k === 1 ? { note: 'msg/s: every pair streaming 64 B at once (await send per message); p50/p99: every pair in a ping-pong at once; KiB: RSS of the listening side per channel, after one exchange (idle) and after the traffic (heap high-water included); below 16 pairs the idle figure is under RSS\'s page and heap-chunk granularity' } : {}),
      });
    }
  }
  return rows;
}

if (process.argv[1] === self) {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === 'size-peer') await sizePeer(rest[0] as SizeMech, rest[1]!, rest.slice(2));
  else if (mode === 'pairs-client') await pairsClient(rest[0] as Transport, Number(rest[1]), Number(rest[2]));
  else if (mode === 'pairs-server') await pairsServer();
  else {
    const { curves, table } = await import('./index.js');
    const rows = await bench({ quick: process.argv.includes('--quick') });
    const run = { rows, skipped: [], verified: [], curves: curves(rows), machine: { cpus: os.cpus().length, node: process.version, kernel: os.release(), date: new Date().toISOString(), quick: process.argv.includes('--quick'), repeat: 1 } };
    process.stdout.write(`${table(run)}\n`);
  }
}
