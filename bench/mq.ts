// Message-queue benchmark: POSIX and System V, ipckit between two Node processes beside the same
// mechanism in C (bench/c/mq_posix.c, mq_sysv.c), in the same run and with the same pinning (client on
// CPU 0, server on CPU 1). Round trips (64 B and 4 KiB, p50/p99) and one-way throughput.
//
//   node dist/bench/mq.js [--quick] [--json]     standalone: prints a table (or the rows as JSON)
//   node dist/bench/mq.js --role client|server <posix|sysv> <rtt|tput|verify> SIZE N TARGET
//                                                 the two Node sides (internal); verify: N pattern
//                                                 messages one way, the server prints their digest
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageQueue, SystemVMessageQueue } from '../src/index.js';
import { checkDigests, collect, compileC, DigestAcc, patternMessage, percentiles, pinned, type BenchOptions, type BenchRow } from './lib.js';

type Kind = 'posix' | 'sysv';
type Mode = 'rtt' | 'tput' | 'verify';

const self = fileURLToPath(import.meta.url);
const SIZES = [64, 4096];
/** Most System V messages the sink takes per call. */
const BATCH = 64;

function exitOf(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve, reject) =>
    child.on('close', (code, sig) => (code === 0 ? resolve() : reject(new Error(`bench server: ${code ?? sig}`)))),
  );
}

// ---- the two Node sides ---------------------------------------------------------------------------

/** The echo / sink side. POSIX: receive on TARGET-a, answer on TARGET-b. System V: type 1 in, type 2 out. */
async function server(kind: Kind, mode: Mode, n: number, target: string): Promise<void> {
  if (kind === 'posix') {
    const a = await MessageQueue.open(target + '-a', { access: 'read' });
    const b = await MessageQueue.open(target + '-b', { access: 'write' });
    process.stdout.write('ready\n');
    if (mode === 'verify') {
      const d = new DigestAcc();
      for (let i = 0; i < n; i++) d.add((a.tryReceive() ?? (await a.receive({ timeout: 10_000 }))).data);
      process.stdout.write(`${JSON.stringify(d)}\n`);
    } else if (mode === 'rtt') {
      for (;;) {
        const m = a.tryReceive() ?? (await a.receive());
        if (m.data.length === 0) break;
        if (!b.trySend(m.data)) await b.send(m.data);
      }
    } else {
      for (let i = 0; i < n; i++) a.tryReceive() ?? (await a.receive());
      await b.send('d');
    }
    a.close();
    b.close();
  } else {
    // A private queue: known to the server by its id, not a key.
    const q = SystemVMessageQueue.fromId(Number(target));
    process.stdout.write('ready\n');
    if (mode === 'verify') {
      const d = new DigestAcc();
      for (let i = 0; i < n; i++) d.add((q.tryReceive({ type: 1 }) ?? (await q.receive({ type: 1, timeout: 10_000 }))).data);
      process.stdout.write(`${JSON.stringify(d)}\n`);
    } else if (mode === 'rtt') {
      for (;;) {
        const m = q.tryReceive({ type: 1 }) ?? (await q.receive({ type: 1 }));
        if (m.data.length === 0) break;
        if (!q.trySend(2, m.data)) await q.send(2, m.data);
      }
    } else {
      // Drained in batches: every message queued at a wake-up in one call (tryReceiveMany), waiting
      // (receiveMany) only when the queue is empty.
      for (let got = 0; got < n; ) {
        const want = Math.min(BATCH, n - got);
        const b = q.tryReceiveMany(want, { type: 1 });
        got += b.length || (await q.receiveMany(want, { type: 1 })).length;
      }
      await q.send(2, 'd');
    }
    q.close();
  }
}

/** The measuring side: creates the queue(s), starts the server, prints samples (ns) or a rate. */
async function client(kind: Kind, mode: Mode, size: number, n: number): Promise<void> {
  const payload = Buffer.alloc(size, 0x61);
  const warm = Math.floor(n / 10) + 100;
  const samples = new Float64Array(n);
  const out: string[] = [];
  let send: (b: Buffer) => Promise<void>;
  let recv: () => Promise<unknown>;
  let target: string;
  let close: () => void;
  if (kind === 'posix') {
    target = `/ipckit-bench-${process.pid}`;
    const a = await MessageQueue.create(target + '-a', { maxMessages: 10, maxMessageSize: Math.max(size, 1), access: 'write' });
    const b = await MessageQueue.create(target + '-b', { maxMessages: 10, maxMessageSize: Math.max(size, 1), access: 'read' });
    send = (buf) => (a.trySend(buf) ? Promise.resolve() : a.send(buf));
    recv = () => (b.tryReceive() ? Promise.resolve() : b.receive());
    close = () => {
      a.close();
      b.close();
    };
  } else {
    const q = await SystemVMessageQueue.create('private');
    target = String(q.id);
    send = (buf) => (q.trySend(1, buf) ? Promise.resolve() : q.send(1, buf));
    recv = () => (q.tryReceive({ type: 2 }) ? Promise.resolve() : q.receive({ type: 2 }));
    close = () => q.close();
  }
  const [cmd, args] = pinned(1, process.execPath, [self, '--role', 'server', kind, mode, String(size), String(n), target]);
  // The server says ready once it holds the queues: the clock starts after its start-up (a Node process
  // takes far longer to start than a fork of the C program), and what it prints after that is ours.
  const srv = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = exitOf(srv);
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      srv.stdout!.off('data', onData);
      if (buf.slice(0, i) !== 'ready') return reject(new Error(`bench server said ${buf.slice(0, i)}`));
      if (buf.length > i + 1) process.stdout.write(buf.slice(i + 1));
      srv.stdout!.pipe(process.stdout, { end: false });
      resolve();
    };
    srv.stdout!.on('data', onData);
    done.catch(reject);
  });
  try {
    if (mode === 'verify') {
      // The server prints the digest (its stdout is ours); nothing else goes out.
      for (let i = 0; i < n; i++) await send(patternMessage(size, i));
      await done;
      return;
    } else if (mode === 'rtt') {
      for (let i = 0; i < warm + n; i++) {
        const t0 = process.hrtime.bigint();
        await send(payload);
        await recv();
        if (i >= warm) samples[i - warm] = Number(process.hrtime.bigint() - t0);
      }
      await send(Buffer.alloc(0));
      for (let i = 0; i < n; i++) out.push(String(samples[i]));
    } else {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) await send(payload);
      await recv();
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      out.push(JSON.stringify({ msgs_per_s: Math.round(n / dt) }));
    }
    await done;
  } finally {
    close();
  }
  process.stdout.write(out.join('\n') + '\n');
}

// ---- the harness ----------------------------------------------------------------------------------

function cores(): string {
  return 'a:0 b:1';
}

function rttRow(mechanism: string, impl: 'ipckit' | 'c', label: string, size: number, text: string): BenchRow {
  const ns = text.trim().split('\n').map(Number);
  return { mechanism, impl, label, size, kind: 'rtt', ...percentiles(ns), cores: cores() };
}

function tputRow(mechanism: string, impl: 'ipckit' | 'c', label: string, size: number, text: string): BenchRow {
  const { msgs_per_s } = JSON.parse(text.trim().split('\n').pop()!) as { msgs_per_s: number };
  const row: BenchRow = { mechanism, impl, label, size, kind: 'throughput', msgs_per_s, mb_per_s: Math.round((msgs_per_s * size) / 1e4) / 100, cores: cores() };
  if (mechanism === 'sysv-mq' && impl === 'ipckit') row.note = `the sink drains with tryReceiveMany/receiveMany, up to ${BATCH} messages per call (one msgrcv each, like C); the sender sends one by one`;
  return row;
}

/**
 * Runs the message-queue benchmark: for POSIX and System V, round trips of 64 B and 4 KiB and one-way
 * throughput, ipckit (Node <-> Node child processes) beside C (fork, blocking calls).
 */
export async function bench(opts: BenchOptions): Promise<BenchRow[]> {
  const rttN = opts.quick ? 2_000 : 20_000;
  const tputN = opts.quick ? 20_000 : 200_000;
  const rows: BenchRow[] = [];
  const specs: [Kind, string, string, string][] = [
    ['posix', 'posix-mq', 'mq_posix', 'mq_send/mq_receive'],
    ['sysv', 'sysv-mq', 'mq_sysv', 'msgsnd/msgrcv'],
  ];
  for (const [kind, mechanism, cprog, calls] of specs) {
    const cbin = compileC(cprog);
    const label = kind === 'posix' ? 'ipckit MessageQueue' : 'ipckit SystemVMessageQueue';
    for (const size of SIZES) {
      const [cmd, args] = pinned(0, process.execPath, [self, '--role', 'client', kind, 'rtt', String(size), String(rttN)]);
      rows.push(rttRow(mechanism, 'ipckit', label, size, await collect(cmd, args)));
      rows.push(rttRow(mechanism, 'c', `C ${calls}`, size, await collect(cbin, ['rtt', String(size), String(rttN)])));
    }
    for (const size of SIZES) {
      const [cmd, args] = pinned(0, process.execPath, [self, '--role', 'client', kind, 'tput', String(size), String(tputN)]);
      rows.push(tputRow(mechanism, 'ipckit', label, size, await collect(cmd, args)));
      rows.push(tputRow(mechanism, 'c', `C ${calls}`, size, await collect(cbin, ['tput', String(size), String(tputN)])));
    }
  }
  return rows;
}

/** Pattern messages one way through every C program and every Node pair, each digest checked. */
export async function verify(): Promise<string[]> {
  const n = 25;
  const out: string[] = [];
  for (const [kind, prog, what] of [['posix', 'mq_posix', 'POSIX mq'], ['sysv', 'mq_sysv', 'System V mq']] as const) {
    for (const size of SIZES) {
      const [cmd, args] = pinned(0, process.execPath, [self, '--role', 'client', kind, 'verify', String(size), String(n)]);
      out.push(checkDigests(`${what} ${size} B`, size, n, { [`C ${prog}`]: await collect(compileC(prog), ['verify', String(size), String(n)]), 'ipckit server': await collect(cmd, args) }));
    }
  }
  return out;
}

function table(rows: BenchRow[]): string {
  const head = ['mechanism', 'impl', 'size', 'kind', 'p50 µs', 'p99 µs', 'msgs/s', 'MB/s', 'vs C'];
  const lines = [head];
  for (const r of rows) {
    const c = rows.find((x) => x.impl === 'c' && x.mechanism === r.mechanism && x.size === r.size && x.kind === r.kind);
    let ratio = '';
    if (r.impl !== 'c' && c) {
      ratio = r.kind === 'rtt' ? `${(r.p50_us! / c.p50_us!).toFixed(2)}x p50` : `${(r.msgs_per_s! / c.msgs_per_s!).toFixed(2)}x rate`;
    }
    lines.push([
      r.mechanism,
      r.impl,
      String(r.size),
      r.kind,
      r.p50_us?.toFixed(1) ?? '',
      r.p99_us?.toFixed(1) ?? '',
      r.msgs_per_s?.toLocaleString('en-US') ?? '',
      r.mb_per_s?.toFixed(1) ?? '',
      ratio,
    ]);
  }
  const w = head.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l) => l.map((c, i) => (i < 4 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')).join('\n');
}

if (process.argv[1] === self) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--role') {
    const [, role, kind, mode, size, n, target] = argv as [string, string, Kind, Mode, string, string, string];
    if (role === 'server') await server(kind, mode, Number(n), target);
    else await client(kind, mode, Number(size), Number(n));
  } else {
    const rows = await bench({ quick: argv.includes('--quick') });
    process.stdout.write(argv.includes('--json') ? JSON.stringify(rows, null, 2) + '\n' : table(rows) + '\n');
  }
}
