// Node's own IPC, measured in the same run as ipckit: child_process.send (json and advanced
// serialization), a worker_threads MessagePort, node:net over AF_UNIX; and the single-thread memcpy
// bandwidth (C, and Node copying into a plain ArrayBuffer) that large-message targets are judged against.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { percentiles, type BenchOptions, type BenchRow } from './lib.js';
import { CORES, CPU_B, nodePeer, peerScript, pinPid, rttIters, runC, sampleRtt, sizes, stop } from './common.js';

async function childProcessSend(opts: BenchOptions, serialization: 'json' | 'advanced'): Promise<BenchRow[]> {
  const child = fork(peerScript('baseline-peer'), ['cp'], { serialization, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  pinPid(child.pid!, CPU_B);
  await new Promise((resolve) => child.once('message', resolve));
  const rows: BenchRow[] = [];
  try {
    for (const size of sizes(opts)) {
      const msg = serialization === 'json' ? 'x'.repeat(size) : Buffer.alloc(size, 1);
      const once = () =>
        new Promise<void>((resolve) => {
          child.once('message', () => resolve());
          child.send(msg);
        });
      const p = percentiles(await sampleRtt(rttIters(opts, size, true), once));
      rows.push({ mechanism: 'node-ipc', impl: 'node', label: `child_process.send (${serialization})`, size, kind: 'rtt', ...p, cores: CORES });
    }
  } finally {
    child.disconnect();
    await stop(child);
  }
  return rows;
}

const workerEcho = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => parentPort.postMessage(m));
`;

async function messagePort(opts: BenchOptions): Promise<BenchRow[]> {
  const w = new Worker(workerEcho, { eval: true });
  const rows: BenchRow[] = [];
  try {
    for (const size of sizes(opts)) {
      const msg = Buffer.alloc(size, 1);
      const once = () =>
        new Promise<void>((resolve) => {
          w.once('message', () => resolve());
          w.postMessage(msg);
        });
      const p = percentiles(await sampleRtt(rttIters(opts, size), once));
      rows.push({ mechanism: 'node-ipc', impl: 'node', label: 'worker_threads MessagePort', size, kind: 'rtt', ...p, cores: 'a:0 b:0 (threads of this process)' });
    }
  } finally {
    await w.terminate();
  }
  return rows;
}

async function netUnix(opts: BenchOptions): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-bench-'));
  const sock = path.join(dir, 's');
  const { child } = await nodePeer('baseline-peer', ['unix', sock]);
  const rows: BenchRow[] = [];
  const s = net.connect(sock);
  try {
    await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
    s.setNoDelay(true);
    let want = 0;
    let got = 0;
    let done: (() => void) | undefined;
    s.on('data', (d) => {
      got += d.length;
      if (got >= want) done?.();
    });
    for (const size of sizes(opts)) {
      const msg = Buffer.alloc(size, 1);
      const once = () =>
        new Promise<void>((resolve) => {
          got = 0;
          want = size;
          done = resolve;
          s.write(msg);
        });
      const p = percentiles(await sampleRtt(rttIters(opts, size), once));
      rows.push({ mechanism: 'unix-stream', impl: 'node', label: 'node:net over AF_UNIX', size, kind: 'rtt', ...p, cores: CORES });
    }
  } finally {
    s.destroy();
    await stop(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

function memcpy(opts: BenchOptions): BenchRow[] {
  const size = 1 << 20;
  const ms = opts.quick ? 200 : 1000;
  const c = runC('ring_memcpy', [size, ms]);
  // Node: Buffer.set between two plain ArrayBuffers (libc memmove underneath).
  const a = Buffer.alloc(size, 1);
  const b = Buffer.alloc(size, 2);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) for (let i = 0; i < 16; i++, n++) (n & 1 ? a : b).set(n & 1 ? b : a);
  const js = (n * size) / ((performance.now() - t0) / 1000) / 1e6;
  return [
    { mechanism: 'memcpy', impl: 'c', label: 'C memcpy, one thread', size, kind: 'throughput', mb_per_s: c.mb_per_s, msgs_per_s: Math.round((c.mb_per_s! * 1e6) / size), cores: 'a:0' },
    { mechanism: 'memcpy', impl: 'node', label: 'Buffer.set, plain ArrayBuffer', size, kind: 'throughput', mb_per_s: Math.round(js), msgs_per_s: Math.round((js * 1e6) / size), cores: 'a:0' },
  ];
}

export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  return [
    ...memcpy(opts),
    ...(await childProcessSend(opts, 'json')),
    ...(await childProcessSend(opts, 'advanced')),
    ...(await messagePort(opts)),
    ...(await netUnix(opts)),
  ];
}
