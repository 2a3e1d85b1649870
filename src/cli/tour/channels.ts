// `ipckit tour`, channels: one message API over every transport. The same few lines run over unix:,
// tcp: and shm: (only the URL changes), each against a child process that echoes; then the shm: ring
// against Node's own child_process.send, 64-byte JSON round trips measured now, on this machine. This
// file is also its own child process (run with `child echo URL` or `child cp-echo`), so the tour needs
// no script beside the package.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, listen, type Channel } from '../../index.js';
import { own, ownChild } from '../lifetime.js';
import type { TourOutput, TourSection } from './section.js';

const self = fileURLToPath(import.meta.url);
const ROUNDS = 400;
const WARMUP = 50;
// Both ends of the ring spin this long before parking: a ping-pong then never sleeps.
const SPIN = { spinMicros: 2000 };

function exit(c: ChildProcess): Promise<number | string | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode ?? c.signalCode);
  return new Promise((resolve) => c.once('exit', (code, sig) => resolve(code ?? sig)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function us(ms: number): string {
  const u = ms * 1000;
  return u >= 100 ? `${Math.round(u)} µs` : `${u.toFixed(1)} µs`;
}

/** Round trips of `{ n }` through an echoing peer: each one's time in ms (after a warm-up). */
async function pingPong(send: (m: { n: number }) => unknown, receive: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let n = 0; n < WARMUP + ROUNDS; n++) {
    const t0 = performance.now();
    await send({ n });
    const back = (await receive()) as { n?: number } | undefined;
    if (back?.n !== n) throw new Error(`the echo sent back ${JSON.stringify(back)} for ${n}`);
    if (n >= WARMUP) times.push(performance.now() - t0);
  }
  return times;
}

/** The code the first step runs, once per transport: a listener here, an echo in a child. */
async function overChannel(url: string, opts: object): Promise<{ url: string; p50: number }> {
  const ch: Channel = await listen(url, { codec: 'json', ...opts });
  const disown = own(ch.url, () => ch.close());
  try {
    const child = ownChild(spawn(process.execPath, [self, 'child', 'echo', ch.url, JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit'] }));
    const times = await pingPong((m) => ch.send(m), () => ch.receive({ timeout: 10_000 }));
    await ch.close();
    await exit(child);
    return { url: ch.url, p50: median(times) };
  } finally {
    await ch.close();
    disown();
  }
}

async function overChildProcessSend(): Promise<number> {
  const child = ownChild(fork(self, ['child', 'cp-echo'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' }));
  try {
    let pending: ((m: unknown) => void) | undefined;
    child.on('message', (m) => pending?.(m));
    const times = await pingPong(
      (m) => child.send(m),
      () => new Promise((resolve) => (pending = resolve)),
    );
    return median(times);
  } finally {
    child.disconnect();
    await exit(child);
  }
}

async function runChild(mode: string, url?: string, opts?: string): Promise<void> {
  if (mode === 'echo') {
    const ch = await connect(url!, { codec: 'json', timeout: 10_000, ...(JSON.parse(opts ?? '{}') as object) });
    for await (const m of ch) await ch.send(m);
    await ch.close();
  } else if (mode === 'cp-echo') {
    process.on('message', (m) => process.send!(m));
    process.on('disconnect', () => process.exit(0));
  }
}

export const section: TourSection = {
  title: 'Channels: one API over every transport',
  order: 7,
  async run(out: TourOutput): Promise<void> {
    out.step('The same code over three transports; only the URL changes. Here, and in a child that echoes:');
    out.detail("here:  const ch = await listen(url, { codec: 'json' });  await ch.send({ n }); await ch.receive();");
    out.detail("child: const ch = await connect(url, { codec: 'json' });  for await (const m of ch) await ch.send(m);");
    const sock = path.join(os.tmpdir(), `ipckit-tour-${process.pid}.sock`);
    const urls: [string, object][] = [
      [`unix:${sock}`, {}],
      ['tcp://127.0.0.1:0', {}],
      [`shm:/ipckit-tour-${process.pid}`, {}],
    ];
    const results: { url: string; p50: number }[] = [];
    for (const [url, opts] of urls) results.push(await overChannel(url, opts));
    const w = Math.max(...results.map((r) => r.url.length));
    for (const r of results) out.detail(`${r.url.padEnd(w)}  ${ROUNDS} round trips, p50 ${us(r.p50)}`);

    out.step(`The shm: ring against Node's own IPC: ${ROUNDS} round trips of a small JSON message each, measured now.`);
    const cp = await overChildProcessSend();
    const ring = await overChannel(`shm:/ipckit-tour-${process.pid}-spin`, SPIN);
    out.detail(`child_process.send (json):            p50 ${us(cp)}`);
    out.detail(`shm: ring, both sides spinning ${SPIN.spinMicros / 1000} ms:  p50 ${us(ring.p50)}  (${(cp / ring.p50).toFixed(0)}× faster)`);
    out.detail('One run on a busy or small machine varies; `ipckit bench` measures it properly, with C floors.');
  },
};

export default section;

if (process.argv[1] === self && process.argv[2] === 'child') {
  await runChild(process.argv[3]!, process.argv[4], process.argv[5]);
}
