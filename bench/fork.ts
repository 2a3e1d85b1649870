// ipckit's fork() channel (a sealed memfd ring pair, eventfd doorbells, the socket inherited on fd 3)
// against child_process.fork + send, both ends on each one's public API: `await channel.send(m)` then
// `await channel.receive()` here, `for await (const m of parentChannel()) await ch.send(m)` in the child.
// Round trips at 64 B .. 1 MiB and one-way throughput; then a ring server (shm+unix:) with 1, 4, 16
// and 64 clients in one child process (aggregate round trips per second, p99); and Node <-> Python over
// the ring when python3 is there. This process is pinned to CPU a, the children to CPU b.
import { fork as cpFork, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fork, RingServer, spawn, type Channel } from '../src/index.js';
import { benchRoot, percentiles, type BenchOptions, type BenchRow } from './lib.js';
import { CORES, CPU_B, nodePeer, peerScript, pinPid, rttIters, sampleRtt, sizes, stop } from './common.js';

const LABEL = 'ipckit fork() channel (await send / await receive, both ends)';
const CP = 'child_process.fork + send (json)';

function row(label: string, impl: BenchRow['impl'], size: number, kind: BenchRow['kind'], extra: Partial<BenchRow>, note?: string): BenchRow {
  return { mechanism: 'fork-channel', impl, label, size, kind, cores: CORES, ...extra, ...(note ? { note } : {}) };
}

async function forkRtt(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // Rings big enough for 1 MiB messages (an explicit maxMessageSize grows them).
  const { child, channel } = await fork<Buffer>(peerScript('fork-peer'), ['echo'], { maxMessageSize: 1 << 20 });
  pinPid(child.pid!, CPU_B);
  try {
    for (const size of sizes(opts)) {
      const msg = Buffer.alloc(size, 7);
      const n = rttIters(opts, size) * (size <= 4096 ? 5 : 1);
      const p = percentiles(await sampleRtt(n, async () => {
        await channel.send(msg);
        await channel.receive();
      }));
      rows.push(row(LABEL, 'ipckit', size, 'rtt', p));
    }
  } finally {
    await channel.close();
    await stop(child);
  }
  return rows;
}

async function forkThroughput(opts: BenchOptions, size: number): Promise<BenchRow> {
  const { child, channel } = await fork<Buffer>(peerScript('fork-peer'), ['sink'], { maxMessageSize: 1 << 20 });
  pinPid(child.pid!, CPU_B);
  const msg = Buffer.alloc(size, 7);
  const budget = opts.quick ? 500 : 2000;
  try {
    const t0 = process.hrtime.bigint();
    const end = performance.now() + budget;
    let n = 0;
    while (performance.now() < end) for (let i = 0; i < 64; i++, n++) await channel.send(msg);
    await channel.send(Buffer.alloc(0));
    await channel.receive();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return row(`${LABEL}, one way`, 'ipckit', size, 'throughput', { msgs_per_s: Math.round(n / s), mb_per_s: Math.round((n * size) / s / 1e6) }, `${n} messages`);
  } finally {
    await channel.close();
    await stop(child);
  }
}

async function cpThroughput(opts: BenchOptions, size: number): Promise<BenchRow> {
  const child = cpFork(peerScript('fork-peer'), ['cp-sink'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  pinPid(child.pid!, CPU_B);
  await new Promise((r) => child.once('message', r));
  const msg = 'x'.repeat(size);
  const budget = opts.quick ? 500 : 2000;
  try {
    const t0 = process.hrtime.bigint();
    const end = performance.now() + budget;
    let n = 0;
    // child_process.send's own backpressure: every 16th send waits for its callback (written to the pipe).
    while (performance.now() < end) {
      for (let i = 0; i < 15; i++, n++) child.send(msg);
      await new Promise<void>((r) => child.send(msg, () => r()));
      n++;
    }
    const got = await new Promise<number>((r) => {
      child.once('message', (m) => r(m as number));
      child.send('end');
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return row(`${CP}, one way`, 'node', size, 'throughput', { msgs_per_s: Math.round(got / s), mb_per_s: Math.round((got * size) / s / 1e6) }, `${got} messages received`);
  } finally {
    child.disconnect();
    await stop(child);
  }
}

async function cpRtt(opts: BenchOptions): Promise<BenchRow[]> {
  const child = cpFork(peerScript('baseline-peer'), ['cp'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  pinPid(child.pid!, CPU_B);
  await new Promise((r) => child.once('message', r));
  const rows: BenchRow[] = [];
  try {
    for (const size of sizes(opts)) {
      const msg = 'x'.repeat(size);
      const p = percentiles(await sampleRtt(rttIters(opts, size, true), () => new Promise<void>((resolve) => {
        child.once('message', () => resolve());
        child.send(msg);
      })));
      rows.push(row(CP, 'node', size, 'rtt', p));
    }
  } finally {
    child.disconnect();
    await stop(child);
  }
  return rows;
}

async function serverClients(opts: BenchOptions, clients: number): Promise<BenchRow> {
  const url = `shm+unix:@ipckit-bench-${process.pid}-${clients}`;
  const server = await RingServer.listen(url, { capacity: 1 << 16 });
  const echoes: Promise<void>[] = [];
  const serving = (async () => {
    for await (const ch of server) echoes.push((async () => {
      try {
        for await (const m of ch) await ch.send(m);
      } finally {
        await ch.close();
      }
    })());
  })();
  const ms = opts.quick ? 500 : 2000;
  // The clients print one line, at the end: their counts and samples.
  const { child, line } = await nodePeer('fork-peer', ['clients', url, String(clients), String(ms)]);
  try {
    const { n, samples } = JSON.parse(line) as { n: number; samples: number[] };
    const p = percentiles(samples);
    return { mechanism: 'ring-server', impl: 'ipckit', label: `ring server shm+unix:, ${clients} client${clients > 1 ? 's' : ''} (64 B echo, aggregate)`, size: 64, kind: 'rtt', ...p, msgs_per_s: Math.round(n / (ms / 1000)), cores: CORES, note: 'clients in one child process, server here; spinMicros 0 on both (parked between messages); msg/s: round trips per second, all clients together' };
  } finally {
    await server.close();
    await Promise.allSettled(echoes);
    await serving.catch(() => {});
    await stop(child);
  }
}

async function pythonRtt(opts: BenchOptions): Promise<BenchRow | undefined> {
  if (spawnSync('python3', ['-c', 'import os; os.eventfd'], { stdio: 'ignore' }).status !== 0) return undefined;
  const script = path.join(benchRoot, 'python', 'ipckit_channel.py');
  let channel: Channel<Buffer> | undefined;
  const { child, channel: ch } = await spawn<Buffer>('python3', [script, 'echo'], { stdio: ['ignore', 'ignore', 'inherit'] });
  channel = ch;
  pinPid(child.pid!, CPU_B);
  try {
    const msg = Buffer.alloc(64, 7);
    const p = percentiles(await sampleRtt(rttIters(opts, 64, true), async () => {
      await channel!.send(msg);
      await channel!.receive();
    }));
    return { mechanism: 'fork-channel', impl: 'ipckit', label: 'Node <-> Python (python/ipckit_channel.py echo, spawn())', size: 64, kind: 'rtt', ...p, cores: CORES, note: 'the Python side spins 50 µs, then parks in select() on its eventfd' };
  } finally {
    await channel.close();
    await stop(child);
  }
}

export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(...(await cpRtt(opts)));
  rows.push(...(await forkRtt(opts)));
  for (const size of sizes(opts)) {
    rows.push(await cpThroughput(opts, size));
    rows.push(await forkThroughput(opts, size));
  }
  const py = await pythonRtt(opts).catch(() => undefined);
  if (py) rows.push(py);
  for (const c of opts.quick ? [1, 16, 64] : [1, 4, 16, 64]) rows.push(await serverClients(opts, c));
  return rows;
}
