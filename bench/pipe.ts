// Pipes and FIFOs: throughput of 1 MiB writes between two Node processes (ipckit PipeWriter →
// PipeReader) beside `dd | cat` moving the same bytes; round trips Node↔Node over two pipes beside the
// same in C (bench/c/pipe_pingpong.c).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Fifo, pipe, type PipeReader, type PipeWriter } from '../src/pipe.js';
import { checkDigests, DigestAcc, patternMessage, percentiles, type BenchOptions, type BenchRow, type Digest } from './lib.js';
import { pinned, CORES, CPU_A, CPU_B, nodePeer, nsToUs, peerScript, rttIters, runC, sampleRtt, stop } from './common.js';

async function nodeThroughput(mib: number, kind: 'pipe' | 'fifo'): Promise<BenchRow> {
  let reader: PipeReader, writer: PipeWriter;
  let dir: string | undefined;
  if (kind === 'pipe') ({ reader, writer } = pipe());
  else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-bench-'));
    const fifo = await Fifo.create(path.join(dir, 'f'));
    reader = await fifo.openReader();
    writer = await fifo.openWriter();
    await fifo.close();
  }
  const [rc, ra] = pinned(CPU_B, process.execPath, [peerScript('pipe-peer'), 'read']);
  const rd = spawn(rc, ra, { stdio: ['ignore', 'pipe', 'inherit', reader] });
  const [wc, wa] = pinned(CPU_A, process.execPath, [peerScript('pipe-peer'), 'write', String(mib)]);
  const wr = spawn(wc, wa, { stdio: ['ignore', 'ignore', 'inherit', writer] });
  await reader.close();
  await writer.close();
  let out = '';
  rd.stdout!.on('data', (d) => (out += d));
  await Promise.all([new Promise((r) => rd.once('exit', r)), new Promise((r) => wr.once('exit', r))]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  const [bytes, ns] = out.trim().split(' ').map(Number) as [number, number];
  // The reader counted every byte the writer wrote, or this figure is not what it says.
  if (bytes !== mib * (1 << 20)) throw new Error(`${kind} throughput: wrote ${mib} MiB, the reader counted ${bytes} bytes`);
  const mbs = bytes / (ns / 1e9) / 1e6;
  return {
    mechanism: kind,
    impl: 'ipckit',
    label: `ipckit ${kind === 'pipe' ? 'pipe()' : 'Fifo'}, 1 MiB writes, Node→Node`,
    size: 1 << 20,
    kind: 'throughput',
    mb_per_s: Math.round(mbs),
    msgs_per_s: Math.round((mbs * 1e6) / (1 << 20)),
    cores: CORES,
    note: `${Math.round(bytes / 2 ** 20)} MiB`,
  };
}

function ddCat(mib: number): BenchRow {
  // The same bytes through a shell pipe: dd writes 1 MiB blocks, cat reads; both pinned like the Node peers.
  const t0 = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', `taskset -c ${CPU_A} dd if=/dev/zero bs=1M count=${mib} status=none | taskset -c ${CPU_B} cat > /dev/null`]);
  const ns = Number(process.hrtime.bigint() - t0);
  if (r.status !== 0) throw new Error(`dd | cat failed: ${r.stderr}`);
  const mbs = (mib * (1 << 20)) / (ns / 1e9) / 1e6;
  return { mechanism: 'pipe', impl: 'c', label: 'dd bs=1M | cat', size: 1 << 20, kind: 'throughput', mb_per_s: Math.round(mbs), msgs_per_s: Math.round((mbs * 1e6) / (1 << 20)), cores: CORES, note: `${mib} MiB, includes process start` };
}

async function nodeRtt(opts: BenchOptions, size: number): Promise<BenchRow> {
  const there = pipe();
  const back = pipe();
  const { child } = await nodePeer('pipe-peer', ['echo', String(size)], { stdio: ['ignore', 'pipe', 'inherit', there.reader, back.writer] });
  await there.reader.close();
  await back.writer.close();
  const msg = Buffer.alloc(size, 1);
  let got = 0;
  let done: (() => void) | undefined;
  back.reader.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= size) {
      got -= size;
      done?.();
    }
  });
  try {
    const p = percentiles(
      await sampleRtt(rttIters(opts, size), () => new Promise<void>((resolve) => {
        done = resolve;
        there.writer.write(msg);
      })),
    );
    return { mechanism: 'pipe', impl: 'ipckit', label: 'ipckit pipe() (Node streams)', size, kind: 'rtt', ...p, cores: CORES };
  } finally {
    await there.writer.close();
    await stop(child);
    await back.reader.close();
  }
}

function cRtt(opts: BenchOptions, size: number): BenchRow {
  const r = runC('pipe_pingpong', [rttIters(opts, size) * 2, size, CPU_A, CPU_B]);
  return { mechanism: 'pipe', impl: 'c', label: 'C read/write', size, kind: 'rtt', p50_us: nsToUs(r.p50!), p99_us: nsToUs(r.p99!), p999_us: nsToUs(r.p999!), samples: r.n!, cores: CORES };
}

/** n pattern messages through the Node echo peer (the rtt path); the digest of what came back. */
async function nodeVerify(size: number, n: number): Promise<Digest> {
  const there = pipe();
  const back = pipe();
  const { child } = await nodePeer('pipe-peer', ['echo', String(size)], { stdio: ['ignore', 'pipe', 'inherit', there.reader, back.writer] });
  await there.reader.close();
  await back.writer.close();
  const d = new DigestAcc();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('pipe verify: the echo peer stopped answering')), 10_000);
      back.reader.on('data', (c: Buffer) => {
        d.add(c);
        if (d.bytes >= size * n) {
          clearTimeout(timer);
          resolve();
        }
      });
      for (let i = 0; i < n; i++) there.writer.write(patternMessage(size, i));
    });
  } finally {
    await there.writer.close();
    await stop(child);
    await back.reader.close();
  }
  return d.toJSON();
}

/** Pattern messages echoed through the C program and the Node peer, each digest checked. */
export async function verify(): Promise<string[]> {
  const n = 20;
  const out: string[] = [];
  for (const size of [64, 4096]) {
    out.push(checkDigests(`pipe echo ${size} B`, size, n, { 'C pipe_pingpong': runC('pipe_pingpong', [n, size, CPU_A, CPU_B, 'verify']) as unknown as Digest, 'ipckit echo peer': await nodeVerify(size, n) }));
  }
  return out;
}

export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const mib = opts.quick ? 256 : 2048;
  const rows: BenchRow[] = [];
  for (const size of opts.quick ? [64] : [64, 4096]) rows.push(cRtt(opts, size), await nodeRtt(opts, size));
  rows.push(ddCat(mib), await nodeThroughput(mib, 'pipe'), await nodeThroughput(mib, 'fifo'));
  return rows;
}
