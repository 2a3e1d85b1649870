// AF_UNIX socket benchmarks: stream, dgram and seqpacket — 64 B round trip (p50/p99) and 64 KiB
// throughput — for ipckit's UnixSocket, the same socket type in C (bench/c/socket_unix.c) and Node's own
// net.Socket over AF_UNIX (Node has no datagram or seqpacket AF_UNIX sockets), all in one run.
//
// Every pair is two processes: this one (unpinned) and a peer pinned to CPU 1 (taskset), so each
// message crosses cores the same way for every implementation.
//
// Standalone: node dist/bench/socket.js [--quick] [--json]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UnixSocket, type UnixSocketType } from '../src/index.js';
import { checkDigests, compileC, DigestAcc, patternMessage, percentiles, pinned, type BenchOptions, type BenchRow } from './lib.js';

const TYPES: UnixSocketType[] = ['stream', 'dgram', 'seqpacket'];
const RTT_SIZE = 64;
const TPUT_SIZE = 64 * 1024;
const CORES = 'a:* b:1';
const self = fileURLToPath(import.meta.url);

function counts(opts: BenchOptions): { rtt: number; tput: number } {
  return opts.quick ? { rtt: 2000, tput: 2000 } : { rtt: 20000, tput: 20000 };
}

// ---- the peer (this file run as a child) -----------------------------------------------------------

async function peer(args: string[]): Promise<void> {
  const [impl, , mode, nStr, sizeStr, addr] = args as [string, UnixSocketType, string, string, string, string?];
  const total = Number(nStr) * Number(sizeStr);
  // The peer counts bytes and finishes by itself (a datagram socket sees no end of stream). verify: it
  // digests what it got and prints that on its stdout.
  const digest = new DigestAcc();
  const verified = (done: () => void) => {
    process.stdout.write(`${JSON.stringify(digest)}\n`, done);
  };
  if (impl === 'ipckit') {
    const sock = UnixSocket.fromFd(3);
    let got = 0;
    sock.on('data', (d: Buffer | { data: Buffer }) => {
      const data = Buffer.isBuffer(d) ? d : d.data;
      got += data.length;
      if (mode === 'verify') {
        digest.add(data);
        if (got >= total) verified(() => sock.destroy());
        return;
      }
      const last = got >= total;
      if (mode === 'rtt') sock.write(data, last ? () => sock.destroy() : undefined);
      else if (last) sock.write(Buffer.from('k'), () => sock.destroy());
    });
    // The measuring side starts its clock after this (a Node process takes long to start).
    process.stdout.write('ready\n');
    return;
  }
  // Node's net over AF_UNIX
  const sock = net.connect(addr!);
  let got = 0;
  sock.on('data', (d) => {
    got += d.length;
    if (mode === 'verify') {
      digest.add(d);
      if (got >= total) verified(() => sock.destroy());
      return;
    }
    const last = got >= total;
    if (mode === 'rtt') sock.write(d, last ? () => sock.destroy() : undefined);
    else if (last) sock.write('k', () => sock.destroy());
  });
}

function startPeer(args: string[], extraFd?: number): ChildProcess {
  const [cmd, argv] = pinned(1, process.execPath, [self, 'peer', ...args]);
  // stdout: the ipckit peer's ready line, a verifying peer's digest.
  const stdio: (string | number)[] = ['ignore', 'pipe', 'inherit'];
  if (extraFd !== undefined) stdio.push(extraFd);
  return spawn(cmd, argv, { stdio: stdio as never });
}

// ---- ipckit ------------------------------------------------------------------------------------------

/** A pair whose far end lives in a pinned peer process. */
async function ipckitPair(type: UnixSocketType, mode: string, n: number, size: number, sendBufferSize?: number): Promise<{ sock: UnixSocket; child: ChildProcess; rest: string }> {
  const [a, b] = UnixSocket.pair(type, sendBufferSize ? { sendBufferSize } : {});
  const child = startPeer(['ipckit', type, mode, String(n), String(size)], b.fd);
  await once(child, 'spawn');
  await b.close(); // the child has its copy
  const rest = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('socket bench: the peer did not say ready within 30 s')), 30_000);
    const onData = (d: Buffer) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stdout!.pause();
      if (buf.slice(0, i) !== 'ready') reject(new Error(`socket bench: the peer said ${buf.slice(0, i)}`));
      else resolve(buf.slice(i + 1));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`socket bench: the peer exited (${code}) before it was ready`)));
  });
  if (mode !== 'verify') child.stdout!.resume(); // nothing more comes; let its end be read
  return { sock: a, child, rest };
}

async function ipckitRtt(type: UnixSocketType, n: number): Promise<BenchRow> {
  const { sock, child } = await ipckitPair(type, 'rtt', n, RTT_SIZE);
  const buf = Buffer.alloc(RTT_SIZE, 1);
  const samples = new Float64Array(n);
  let wake: (() => void) | undefined;
  let acc = 0;
  sock.on('data', (d: Buffer | { data: Buffer }) => {
    acc += Buffer.isBuffer(d) ? d.length : d.data.length;
    if (acc >= RTT_SIZE) {
      acc -= RTT_SIZE;
      wake!();
    }
  });
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const back = new Promise<void>((r) => (wake = r));
    if (type === 'stream') sock.write(buf);
    else await sock.send(buf);
    await back;
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  sock.end();
  await once(child, 'exit');
  await sock.close();
  return row(type, 'ipckit', `ipckit UnixSocket ${type}`, RTT_SIZE, samples.subarray(n / 10));
}

async function ipckitTput(type: UnixSocketType, n: number, sendBufferSize?: number): Promise<BenchRow> {
  const { sock, child } = await ipckitPair(type, 'tput', n, TPUT_SIZE, sendBufferSize);
  const buf = Buffer.alloc(TPUT_SIZE, 2);
  const done = new Promise<void>((r) => sock.once('data', () => r()));
  const t0 = process.hrtime.bigint();
  if (type === 'stream') {
    for (let i = 0; i < n; i++) if (!sock.write(buf)) await once(sock, 'drain');
  } else {
    for (let i = 0; i < n; i++) await sock.send(buf);
  }
  await done;
  const ns = Number(process.hrtime.bigint() - t0);
  sock.end();
  await once(child, 'exit');
  await sock.close();
  if (sendBufferSize) return tuned(tputRow(type, 'ipckit', `ipckit UnixSocket ${type}, sndbuf 1M`, n, ns));
  return tputRow(type, 'ipckit', `ipckit UnixSocket ${type}`, n, ns);
}

// ---- Node net ------------------------------------------------------------------------------------

async function netPair(mode: string, n: number, size: number): Promise<{ sock: net.Socket; child: ChildProcess; cleanup: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-bench-'));
  const p = path.join(dir, 'net.sock');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(p, r));
  const child = startPeer(['net', 'stream', mode, String(n), String(size), p]);
  const [sock] = (await once(server, 'connection')) as [net.Socket];
  server.close();
  return { sock, child, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function netRtt(n: number): Promise<BenchRow> {
  const { sock, child, cleanup } = await netPair('rtt', n, RTT_SIZE);
  const buf = Buffer.alloc(RTT_SIZE, 1);
  const samples = new Float64Array(n);
  let wake: (() => void) | undefined;
  let acc = 0;
  sock.on('data', (d) => {
    acc += d.length;
    if (acc >= RTT_SIZE) {
      acc -= RTT_SIZE;
      wake!();
    }
  });
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    const back = new Promise<void>((r) => (wake = r));
    sock.write(buf);
    await back;
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  sock.end();
  await once(child, 'exit');
  sock.destroy();
  cleanup();
  return row('stream', 'node', 'node net.Socket (AF_UNIX stream)', RTT_SIZE, samples.subarray(n / 10));
}

async function netTput(n: number): Promise<BenchRow> {
  const { sock, child, cleanup } = await netPair('tput', n, TPUT_SIZE);
  const buf = Buffer.alloc(TPUT_SIZE, 2);
  const done = new Promise<void>((r) => sock.once('data', () => r()));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (!sock.write(buf)) await once(sock, 'drain');
  await done;
  const ns = Number(process.hrtime.bigint() - t0);
  sock.end();
  await once(child, 'exit');
  sock.destroy();
  cleanup();
  return tputRow('stream', 'node', 'node net.Socket (AF_UNIX stream)', n, ns);
}

// ---- the verification exchange -----------------------------------------------------------------------

/** Everything a verifying peer prints, once it exited. */
async function peerOutput(child: ChildProcess, rest = ''): Promise<string> {
  let out = rest;
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stdout!.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await once(child, 'close');
  clearTimeout(timer);
  return out;
}

async function ipckitVerify(type: UnixSocketType, n: number, size: number): Promise<string> {
  const { sock, child, rest } = await ipckitPair(type, 'verify', n, size);
  const out = peerOutput(child, rest);
  for (let i = 0; i < n; i++) {
    const m = patternMessage(size, i);
    if (type === 'stream') {
      if (!sock.write(m)) await once(sock, 'drain');
    } else await sock.send(m);
  }
  const text = await out;
  await sock.close();
  return text;
}

async function netVerify(n: number, size: number): Promise<string> {
  const { sock, child, cleanup } = await netPair('verify', n, size);
  const out = peerOutput(child);
  for (let i = 0; i < n; i++) if (!sock.write(patternMessage(size, i))) await once(sock, 'drain');
  const text = await out;
  sock.destroy();
  cleanup();
  return text;
}

/** Pattern messages one way through the C program, ipckit's UnixSocket and node:net, each digest checked. */
export async function verify(): Promise<string[]> {
  const n = 20;
  const out: string[] = [];
  for (const type of TYPES) {
    for (const size of [RTT_SIZE, TPUT_SIZE]) {
      const sides: Record<string, string> = {
        'C socket_unix': JSON.stringify(cRun(type, 'verify', n, size)),
        'ipckit peer': await ipckitVerify(type, n, size),
      };
      if (type === 'stream') sides['node:net peer'] = await netVerify(n, size);
      out.push(checkDigests(`unix ${type} ${size} B`, size, n, sides));
    }
  }
  return out;
}

// ---- C -----------------------------------------------------------------------------------------------

function cRun(type: UnixSocketType, mode: 'rtt' | 'tput' | 'verify', n: number, size: number, sndbuf?: number): Record<string, number> {
  const bin = compileC('socket_unix');
  const r = spawnSync(bin, [type, mode, String(n), String(size), ...(sndbuf ? [String(sndbuf)] : [])], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`socket_unix ${type} ${mode} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

function cRtt(type: UnixSocketType, n: number): BenchRow {
  const j = cRun(type, 'rtt', n, RTT_SIZE);
  const us = (ns: number) => Math.round(ns / 10) / 100;
  return {
    mechanism: `unix-${type}`,
    impl: 'c',
    label: `C send/recv ${type}`,
    size: RTT_SIZE,
    kind: 'rtt',
    p50_us: us(j.p50_ns!),
    p99_us: us(j.p99_ns!),
    p999_us: us(j.p999_ns!),
    samples: j.samples!,
    cores: CORES,
  };
}

function cTput(type: UnixSocketType, n: number, sndbuf?: number): BenchRow {
  const j = cRun(type, 'tput', n, TPUT_SIZE, sndbuf);
  if (sndbuf) return tuned(tputRow(type, 'c', `C send/recv ${type}, sndbuf 1M`, n, j.elapsed_ns!), false);
  return tputRow(type, 'c', `C send/recv ${type}`, n, j.elapsed_ns!);
}

/**
 * The same throughput with a 1 MiB send buffer asked for on both ends, in C as in ipckit: a full socket
 * wakes its sender only once three quarters of the buffer were read, so at the default (~208 KiB) a
 * sender of 64 KiB messages sleeps every third one and each wake-up drains the pipe. A separate
 * mechanism name pairs these rows with each other.
 */
const TUNED_SNDBUF = 1 << 20;
function tuned(r: BenchRow, note = true): BenchRow {
  const out = { ...r, mechanism: `${r.mechanism}-sndbuf` };
  if (note) out.note = 'both ends (and C\'s) ask for SO_SNDBUF 1 MiB (sendBufferSize); the kernel doubles it, up to 2 × wmem_max';
  return out;
}

// ---- rows ----------------------------------------------------------------------------------------------

function row(type: UnixSocketType, impl: BenchRow['impl'], label: string, size: number, samplesNs: ArrayLike<number>): BenchRow {
  return { mechanism: `unix-${type}`, impl, label, size, kind: 'rtt', ...percentiles(samplesNs), cores: CORES };
}

function tputRow(type: UnixSocketType, impl: BenchRow['impl'], label: string, n: number, ns: number): BenchRow {
  const s = ns / 1e9;
  return {
    mechanism: `unix-${type}`,
    impl,
    label,
    size: TPUT_SIZE,
    kind: 'throughput',
    msgs_per_s: Math.round(n / s),
    mb_per_s: Math.round((n * TPUT_SIZE) / s / 1e6),
    samples: n,
    cores: CORES,
  };
}

/** The AF_UNIX rows of `ipckit bench`. */
export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const { rtt, tput } = counts(opts);
  const rows: BenchRow[] = [];
  for (const type of TYPES) {
    rows.push(cRtt(type, rtt));
    rows.push(await ipckitRtt(type, rtt));
    if (type === 'stream') rows.push(await netRtt(rtt));
  }
  for (const type of TYPES) {
    rows.push(cTput(type, tput));
    rows.push(await ipckitTput(type, tput));
    if (type === 'stream') rows.push(await netTput(tput));
  }
  for (const type of TYPES) {
    rows.push(cTput(type, tput, TUNED_SNDBUF));
    rows.push(await ipckitTput(type, tput, TUNED_SNDBUF));
  }
  return rows;
}

function table(rows: BenchRow[]): string {
  const lines = [['mechanism', 'impl', 'size', 'p50 µs', 'p99 µs', 'MB/s', 'msg/s', 'label']];
  for (const r of rows) {
    lines.push([
      r.mechanism,
      r.impl,
      String(r.size),
      r.p50_us?.toFixed(2) ?? '',
      r.p99_us?.toFixed(2) ?? '',
      r.mb_per_s?.toString() ?? '',
      r.msgs_per_s?.toString() ?? '',
      r.label,
    ]);
  }
  const w = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => (i === l.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n');
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  if (process.argv[2] === 'peer') {
    await peer(process.argv.slice(3));
  } else {
    const rows = await bench({ quick: process.argv.includes('--quick') });
    console.log(process.argv.includes('--json') ? JSON.stringify(rows, null, 2) : table(rows));
  }
}
