// fork()/spawn() with a shared-memory ring channel to the child, and parentChannel() in it: both ends on
// the public API, codecs, large messages, and death either way (the inherited socket closing) noticed
// within 50 ms with nothing left behind.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { fork, parentChannel, spawn, spawnWorker } from '../src/index.js';
import { childScript, exited, startPeer, killDuringTraffic } from './helpers/index.js';
import { DeathLatency, killAndAwaitDeath, reported } from './helpers/death.js';

const STRESS = process.env.IPCKIT_STRESS === '1';

/** The lines a child prints, as they come. */
function lines(child: ChildProcess): () => Promise<string> {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) queue.push(buf.slice(0, i));
    wake?.();
  });
  return async () => {
    const deadline = Date.now() + 10_000;
    while (queue.length === 0) {
      if (Date.now() > deadline) throw new Error('no line from the child within 10 s');
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    return queue.shift()!;
  };
}

/** Names in /dev/shm that carry one of these pids as a whole number (not 1697 inside 16978). */
function shmNames(pids: number[]): string[] {
  return fs.readdirSync('/dev/shm').filter((f) => pids.some((p) => new RegExp(`(^|\\D)${p}(\\D|$)`).test(f)));
}

test('fork: json messages both ways through parentChannel(); closing the channel ends the child', async () => {
  const { child, channel } = await fork<{ n: number; s: string }>(childScript('fork-child'), ['echo', 'json'], { codec: 'json', capacity: 1 << 16 });
  for (let n = 0; n < 200; n++) {
    await channel.send({ n, s: 'x'.repeat(n) });
    assert.deepEqual(await channel.receive({ timeout: 5000 }), { n, s: 'x'.repeat(n) });
  }
  await channel.close();
  assert.deepEqual(await exited(child), { code: 0, signal: null });
});

test('fork: an explicit maxMessageSize grows the rings; 3 MiB messages go through', async () => {
  const { child, channel } = await fork<Buffer>(childScript('fork-child'), ['echo'], { maxMessageSize: 3 << 20 });
  const big = Buffer.alloc(3 << 20, 7);
  await channel.send(big);
  assert.ok((await channel.receive({ timeout: 10_000 }))!.equals(big));
  await assert.rejects(channel.send(Buffer.alloc((3 << 20) + 1)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
  await channel.close();
  await exited(child);
});

test(`the child SIGKILLed at a random moment (${STRESS ? 200 : 10} times): the parent's pending operation fails with ERR_IPC_PEER_DEAD within 50 ms`, async (t) => {
  const pids: number[] = [];
  const deaths = new DeathLatency('fork child SIGKILLed, parent notices');
  for (let i = 0; i < (STRESS ? 200 : 10); i++) {
    const { child, channel } = await fork(childScript('fork-child'), ['echo'], { capacity: 1 << 14, spinMicros: 0 });
    pids.push(child.pid!);
    const { err, death, noticed } = await killDuringTraffic(child, channel, 700, 8);
    assert.equal((err as { code?: string }).code, 'ERR_IPC_PEER_DEAD', String(err));
    deaths.add(death, noticed);
    await assert.rejects(channel.send(Buffer.from('late')), { code: 'ERR_IPC_PEER_DEAD' }, 'and later sends too');
    await channel.close();
  }
  t.diagnostic(deaths.check());
  assert.deepEqual(shmNames(pids), []);
});

test('the parent SIGKILLed: the child\'s pending receive fails with ERR_IPC_PEER_DEAD within 50 ms', async (t) => {
  const parent = startPeer(t, process.execPath, [childScript('fork-child'), 'fork-parent']);
  const next = lines(parent);
  const got = [await next(), await next()].sort();
  assert.equal(got[0], 'ready');
  assert.match(got[1]!, /^ready \d+$/);
  const grandchild = Number(got[1]!.split(' ')[1]);
  // The grandchild notices: its run-queue counter is read here at the death, and by itself at the error.
  const death = killAndAwaitDeath(parent, grandchild);
  await exited(parent);
  const [code, at, queued] = (await next()).split(' ');
  assert.equal(code, 'ERR_IPC_PEER_DEAD');
  const deaths = new DeathLatency('fork parent SIGKILLed, child notices');
  deaths.add(death, reported(Number(at), queued ? Number(queued) : undefined));
  t.diagnostic(deaths.check());
  // The grandchild exits on its own once it has reported.
  for (let i = 0; i < 100 && fs.existsSync(`/proc/${grandchild}`); i++) await new Promise((r) => setTimeout(r, 20));
});

test('spawn: a command that never speaks the handshake and exits is ERR_IPC_PEER_DEAD; a missing one is ENOENT', async () => {
  await assert.rejects(spawn('true'), { code: 'ERR_IPC_PEER_DEAD' });
  await assert.rejects(spawn('/nonexistent/ipckit-no-such-command'), { code: 'ENOENT' });
});

test('the channel fd is 3, or the next one after a longer stdio; its number is in IPCKIT_CHANNEL_FD, then consumed', async () => {
  for (const [stdio, want] of [[undefined, 3], [['ignore', 'ignore', 'inherit', 'ignore', 'ignore'], 5]] as const) {
    const { child, channel } = await fork<{ fd: number; link: string; env: string | null; cloexec: boolean }>(childScript('fork-child'), ['fdinfo'], { codec: 'json', ...(stdio ? { stdio: [...stdio] } : {}) });
    const info = (await channel.receive({ timeout: 5000 }))!;
    assert.equal(info.fd, want);
    assert.match(info.link, /^socket:/);
    assert.equal(info.env, null, 'parentChannel() removed it from the environment');
    assert.equal(info.cloexec, true, 'and made the descriptor close-on-exec');
    await channel.close();
    await exited(child);
  }
});

test('parentChannel() in a process not started by fork/spawn is ERR_IPC_UNSUPPORTED', async () => {
  await assert.rejects(parentChannel(), { code: 'ERR_IPC_UNSUPPORTED' });
});

test('spawnWorker: the same pair with a worker thread; a terminated worker is ERR_IPC_PEER_DEAD at once', async () => {
  const { worker, channel } = await spawnWorker<{ n: number }>(childScript('fork-worker'), { codec: 'json', capacity: 1 << 14, workerData: { mode: 'hold' } });
  for (let n = 0; n < 100; n++) {
    await channel.send({ n });
    assert.deepEqual(await channel.receive({ timeout: 5000 }), { n });
  }
  const pending = channel.receive({ timeout: 5000 });
  const t0 = performance.now();
  await worker.terminate();
  await assert.rejects(pending, { code: 'ERR_IPC_PEER_DEAD' });
  assert.ok(performance.now() - t0 < 200);
  await channel.close();
  const second = await spawnWorker(childScript('fork-worker'), { codec: 'json', workerData: { mode: 'echo' } });
  await second.channel.send('x');
  assert.equal(await second.channel.receive({ timeout: 5000 }), 'x');
  await second.channel.close();
  await new Promise((r) => second.worker.once('exit', r));
});
