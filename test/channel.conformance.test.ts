// One set of tests run over every channel transport (in the manner of iceoryx2's conformance suites):
// order, record boundaries, large messages, the size limit on both sides, backpressure, close semantics,
// and a peer that dies (a child process SIGKILLed). The connecting end sends and the listening end
// receives, which is the one direction every transport has (fifo: is one-way).
import test, { after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { connect, listen, parseEndpoint, type ChannelOptions } from '../src/index.js';
import { childScript, exited, firstLine, mqExists, startPeer, tmpDir, uniqueKey, uniqueName, startNatsServer } from './helpers/index.js';

export interface Subject {
  name: string;
  /** A fresh endpoint URL. */
  url(t: TestContext): string;
  /** Nothing is lost or reordered (all but UDP). */
  reliable: boolean;
  /** Sends wait while the receiver does not read. Default: reliable. */
  backpressure?: boolean;
  /** A SIGKILLed peer is reported (ERR_IPC_PEER_DEAD). Default: reliable. */
  detectsDeath?: boolean;
  /** The carrier has one size limit that both ends adopt (a message queue's mq_msgsize). */
  sharedLimit?: boolean;
  /** Both ends can send. */
  duplex: boolean;
  /** The largest message of the large-message test. */
  large: number;
  /** Options of both ends (and of the child peers). */
  opts?: ChannelOptions;
  /** Options for the large-message test. */
  largeOpts?: ChannelOptions;
  /** Why messages the listener sent before its close may be lost to a connector that reads after it. */
  listenerCloseDrops?: string;
  /** Why the transport cannot run here, if it cannot. */
  skip?: () => string | undefined;
}

// A real nats-server on loopback for the nats:// transport (Debian package nats-server), on a port it
// picks itself; the transport is skipped, with the reason, where the binary is missing.
const nats = await startNatsServer(after);
const natsPort = nats.port;
const natsSkip: string | undefined = nats.skip || undefined;

let seq = 0;
export const subjects: Subject[] = [
  { name: 'fifo', url: (t) => `fifo:${path.join(tmpDir(t), 'ch.fifo')}`, reliable: true, duplex: false, large: 8 << 20 },
  { name: 'unix', url: (t) => `unix:${path.join(tmpDir(t), 'ch.sock')}`, reliable: true, duplex: true, large: 8 << 20 },
  { name: 'unix abstract', url: () => `unix:@ipckit-test-${process.pid}-${++seq}`, reliable: true, duplex: true, large: 8 << 20 },
  { name: 'unix seqpacket', url: (t) => `unix+seqpacket:${path.join(tmpDir(t), 'sp.sock')}`, reliable: true, duplex: true, large: 128 * 1024 },
  { name: 'unix dgram', url: (t) => `unix+dgram:${path.join(tmpDir(t), 'dg.sock')}`, reliable: true, detectsDeath: false, duplex: true, large: 128 * 1024 },
  { name: 'tcp', url: () => 'tcp://127.0.0.1:0', reliable: true, duplex: true, large: 8 << 20 },
  { name: 'udp', url: () => 'udp://127.0.0.1:0', reliable: false, duplex: true, large: 65506 },
  {
    name: 'shm ring',
    url: () => `shm:${uniqueName('ch')}`,
    reliable: true,
    duplex: true,
    large: (8 << 20) - 8,
    // Small rings: the fault tests drain what the dead peer left, and a 4 MiB ring of tiny messages is long.
    opts: { capacity: 1 << 18 },
    largeOpts: { capacity: 16 << 20 },
  },
  {
    name: 'shm+unix ring server',
    url: () => `shm+unix:@ipckit-test-${process.pid}-${++seq}`,
    reliable: true,
    duplex: true,
    large: (8 << 20) - 8,
    opts: { capacity: 1 << 18 },
    largeOpts: { capacity: 16 << 20 },
  },
  {
    name: 'posix mq',
    url: () => `mq:${uniqueName('ch')}`,
    reliable: true,
    detectsDeath: false,
    duplex: false,
    large: 8192,
    sharedLimit: true,
    // fs.mqueue.msgsize_max (8192 by default) bounds a message; RLIMIT_MSGQUEUE counts every queue at once.
    opts: { maxMessageSize: 8192, maxMessages: 10 },
  },
  {
    name: 'sysv mq',
    url: () => `sysvmq:0x${uniqueKey().toString(16)}`,
    reliable: true,
    detectsDeath: false,
    duplex: true,
    large: 8191,
    listenerCloseDrops: 'the listener\'s close removes the queue (IPC_RMID), and with it what the connector has not read yet',
  },
  {
    name: 'nats',
    url: () => `nats://127.0.0.1:${natsPort}/ipckit.test.${process.pid}.${++seq}`,
    reliable: true,
    backpressure: false,
    detectsDeath: false,
    duplex: true,
    large: 512 * 1024,
    skip: () => natsSkip,
  },
];

async function pair<T = unknown>(t: TestContext, s: Subject, opts: ChannelOptions = {}, txOpts: ChannelOptions = {}) {
  opts = { ...s.opts, ...opts };
  const rx = await listen<T>(s.url(t), opts);
  t.after(() => rx.close());
  const tx = await connect<T>(rx.url, { ...opts, ...txOpts });
  t.after(() => tx.close());
  return { tx, rx };
}

/** Resolves 'stalled' if `p` has not settled within `ms` (a bounded wait for a condition). */
function stalls(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms))),
  ]).finally(() => clearTimeout(timer));
}

async function settlesWithin<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Every `i` until the iteration of `ch` ends (within 5 s). */
async function drain(ch: AsyncIterable<{ i: number }>): Promise<number[]> {
  const got: number[] = [];
  await settlesWithin((async () => { for await (const m of ch) got.push(m.i); })(), 5000, 'iteration ended');
  return got;
}

/** `got` is what a peer sent, 0 to n-1: all of it in order, or on a transport that may lose, some of it. */
function assertSent(s: Subject, got: number[], n: number): void {
  const sent = Array.from({ length: n }, (_, i) => i);
  assert.deepEqual(got, s.reliable ? sent : got.filter((i) => sent.includes(i)));
}

/** A child peer listening on a fresh endpoint of `s` in `mode` (test/fixtures/channel-peer.ts), and its URL. */
async function listeningPeer(t: TestContext, s: Subject, mode: string) {
  const child = startPeer(t, process.execPath, [childScript('channel-peer'), 'listen', s.url(t), mode, JSON.stringify(s.opts ?? {})]);
  return { child, url: (await firstLine(child)).replace(/^listening /, '') };
}

/** Fails unless the iteration of `ch`, which is sent nothing more, fails with ERR_IPC_PEER_DEAD within 5 s. */
function diesEmpty(ch: AsyncIterable<unknown>): Promise<void> {
  return assert.rejects(
    settlesWithin((async () => { for await (const m of ch) assert.fail(`nothing was sent, got ${JSON.stringify(m)}`); })(), 5000, 'death noticed'),
    { code: 'ERR_IPC_PEER_DEAD' },
  );
}

/** The kernel objects and files of `url` still there (after both ends closed: none). */
function leftovers(url: string): string[] {
  const ep = parseEndpoint(url) as { transport: string; path?: string; abstract?: boolean; name?: string; key?: number };
  const sysv = (table: string) =>
    fs.readFileSync(`/proc/sysvipc/${table}`, 'utf8').split('\n').slice(1).some((l) => Number(l.trim().split(/\s+/)[0]) === ep.key);
  switch (ep.transport) {
    case 'fifo':
    case 'unix':
    case 'unix+seqpacket':
    case 'unix+dgram':
      return !ep.abstract && fs.existsSync(ep.path!) ? [ep.path!] : [];
    case 'mq':
      return mqExists(ep.name!) ? [`/dev/mqueue${ep.name}`] : [];
    case 'shm':
      return fs.readdirSync('/dev/shm').filter((f) => f === ep.name!.slice(1) || f.startsWith(`${ep.name!.slice(1)}.`)).map((f) => `/dev/shm/${f}`);
    case 'sysvmq':
      return [...(sysv('msg') ? [`msg queue key ${ep.key}`] : []), ...(sysv('sem') ? [`semaphore set key ${ep.key}`] : [])];
    default:
      return [];
  }
}

for (const s of subjects) {
  const skip = s.skip?.();
  test(`channel conformance: ${s.name}`, { skip }, async (t) => {
    await t.test('messages arrive in the order sent', async (t) => {
      const { tx, rx } = await pair<{ i: number }>(t, s, { codec: 'json' });
      const n = s.reliable ? 1000 : 100;
      const got: number[] = [];
      const reading = (async () => {
        for await (const m of rx) {
          got.push(m.i);
          if (got.length === n) break;
        }
      })();
      for (let i = 0; i < n; i++) await tx.send({ i });
      await settlesWithin(reading, 5000, 'all messages received');
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => i));
    });

    await t.test('record boundaries are kept, empty messages included', async (t) => {
      const { tx, rx } = await pair<Buffer>(t, s);
      const sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4095, 4096, 4097, 65506].filter((n) => n <= s.large);
      const sent = sizes.map((n) => randomBytes(n));
      const reading = (async () => {
        const out: Buffer[] = [];
        for (let i = 0; i < sent.length; i++) out.push((await rx.receive())!);
        return out;
      })();
      for (const m of sent) await tx.send(m);
      const got = await settlesWithin(reading, 5000, 'all records received');
      assert.deepEqual(got.map((b) => b.length), sizes);
      for (let i = 0; i < sent.length; i++) assert.ok(got[i]!.equals(sent[i]!), `record ${i} intact`);
    });

    await t.test('a large message arrives whole', async (t) => {
      const { tx, rx } = await pair<Buffer>(t, s, s.largeOpts);
      const big = randomBytes(s.large);
      const receiving = rx.receive();
      await tx.send(big);
      await tx.send(Buffer.from('after'));
      const got = await settlesWithin(receiving, 10_000, 'large message');
      assert.equal(got!.length, big.length);
      assert.ok(got!.equals(big));
      assert.equal(String(await rx.receive()), 'after');
    });

    await t.test('a message over the limit is refused by the sender before anything moves', async (t) => {
      const { tx, rx } = await pair<Buffer>(t, s, { maxMessageSize: 1024 });
      await assert.rejects(tx.send(Buffer.alloc(1025)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
      await tx.send(Buffer.alloc(1024, 1));
      assert.equal((await rx.receive())!.length, 1024);
    });

    await t.test('a message over the receiver\'s limit is refused by the receiver', async (t) => {
      const { tx, rx } = await pair<Buffer>(t, s, { maxMessageSize: 1024 }, { maxMessageSize: 4096 });
      if (s.sharedLimit) {
        // One limit for both ends, the carrier's: the sender refuses what the receiver would.
        await assert.rejects(tx.send(Buffer.alloc(2048, 2)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
        return;
      }
      await tx.send(Buffer.alloc(2048, 2));
      if (s.reliable) {
        await assert.rejects(rx.receive(), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
      } else {
        // A datagram over the limit is dropped like a lost one; the next one still arrives.
        await tx.send(Buffer.from('small'));
        assert.equal(String(await rx.receive({ timeout: 5000 })), 'small');
      }
    });

    await t.test('send waits for room while the receiver does not read (backpressure)', { skip: !(s.backpressure ?? s.reliable) && `${s.name} has no end-to-end backpressure` }, async (t) => {
      const { tx, rx } = await pair<Buffer>(t, s);
      const chunk = Buffer.alloc(Math.min(64 * 1024, s.large), 9);
      let sent = 0;
      let pending: Promise<void> | undefined;
      // Kernel socket buffers on loopback can grow to a few MiB; 128 MiB is far past any of them.
      while (sent < 2048) {
        const p = tx.send(chunk);
        if (await stalls(p, 250)) {
          pending = p;
          break;
        }
        sent++;
      }
      assert.ok(pending, `a send stalled (after ${sent} messages)`);
      for (let i = 0; i <= sent; i++) assert.equal((await rx.receive())!.length, chunk.length);
      await settlesWithin(pending, 5000, 'the stalled send completed once the receiver read');
    });

    await t.test('receiveMany: the values in order, 1 to max at a time, then [] once the sender closed', { skip: !s.reliable && `${s.name} may drop messages: "in order, none lost" is not a promise it can make` }, async (t) => {
      const { tx, rx } = await pair<number>(t, s, { codec: 'json' });
      const n = 300;
      const batches: number[][] = [];
      const reading = (async () => {
        while (batches.flat().length < n) batches.push(await rx.receiveMany({ max: 16 }));
      })();
      await tx.sendMany(Array.from({ length: n }, (_, i) => i));
      await settlesWithin(reading, 5000, 'all messages received');
      assert.deepEqual(batches.flat(), Array.from({ length: n }, (_, i) => i));
      assert.ok(batches.every((b) => b.length >= 1 && b.length <= 16), `batch sizes ${batches.map((b) => b.length)}`);
      await tx.close();
      assert.deepEqual(await settlesWithin(rx.receiveMany({ timeout: 5000 }), 6000, 'the end'), []);
    });

    await t.test('closing the sender ends the receiver\'s iteration after the last message', async (t) => {
      const { tx, rx } = await pair<string>(t, s, { codec: 'json' });
      for (const m of ['a', 'b', 'c']) await tx.send(m);
      await tx.close();
      const got: string[] = [];
      await settlesWithin((async () => { for await (const m of rx) got.push(m); })(), 5000, 'iteration ended');
      assert.deepEqual(got, s.reliable ? ['a', 'b', 'c'] : got.filter((m) => ['a', 'b', 'c'].includes(m)));
      assert.equal(await rx.receive(), undefined);
    });

    await t.test('use after close fails with ERR_IPC_CLOSED; close is idempotent', async (t) => {
      const { tx, rx } = await pair(t, s);
      const pending = assert.rejects(rx.receive(), { code: 'ERR_IPC_CLOSED' });
      await rx.close();
      await rx.close();
      await pending;
      await tx.close();
      await tx[Symbol.asyncDispose]();
      assert.equal(tx.closed, true);
      await assert.rejects(tx.send(Buffer.from('x')), { code: 'ERR_IPC_CLOSED' });
      await assert.rejects(rx.receive(), { code: 'ERR_IPC_CLOSED' });
    });

    if (s.duplex) {
      await t.test('both ends send and receive', async (t) => {
        const { tx, rx } = await pair<{ n: number }>(t, s, { codec: 'json' });
        await tx.send({ n: 1 });
        assert.deepEqual(await rx.receive(), { n: 1 });
        await rx.send({ n: 2 });
        assert.deepEqual(await tx.receive(), { n: 2 });
        await rx.close();
        assert.equal(await settlesWithin(tx.receive(), 5000, 'end seen'), undefined);
      });
    } else {
      await t.test('the one-way ends refuse the other direction with ERR_IPC_UNSUPPORTED', async (t) => {
        const { tx, rx } = await pair(t, s);
        await assert.rejects(rx.send(Buffer.from('x')), { code: 'ERR_IPC_UNSUPPORTED' });
        await assert.rejects(tx.receive(), { code: 'ERR_IPC_UNSUPPORTED' });
      });
    }

    await t.test('a sender that is SIGKILLed: the receiver gets ERR_IPC_PEER_DEAD within 1 s', { skip: !(s.detectsDeath ?? s.reliable) && `${s.name} cannot tell a dead peer` }, async (t) => {
      const rx = await listen<{ i: number }>(s.url(t), { ...s.opts, codec: 'json' });
      t.after(() => rx.close());
      const child = startPeer(t, process.execPath, [childScript('channel-peer'), 'connect', rx.url, 'send', JSON.stringify(s.opts ?? {})]);
      let last = -1;
      for (;;) {
        const m = await rx.receive({ timeout: 10_000 });
        last = m!.i;
        if (last === 9) break;
      }
      child.kill('SIGKILL');
      const t0 = performance.now();
      await assert.rejects(
        settlesWithin((async () => { for await (const m of rx) assert.equal(m.i, ++last); })(), 5000, 'death noticed'),
        { code: 'ERR_IPC_PEER_DEAD' },
      );
      assert.ok(performance.now() - t0 < 1000, 'within 1 s');
    });

    await t.test('a receiver that is SIGKILLed: the sender gets ERR_IPC_PEER_DEAD within 1 s', { skip: !(s.detectsDeath ?? s.reliable) && `${s.name} cannot tell a dead peer` }, async (t) => {
      const child = startPeer(t, process.execPath, [childScript('channel-peer'), 'listen', s.url(t), 'recv1', JSON.stringify(s.opts ?? {})]);
      const url = (await firstLine(child)).replace(/^listening /, '');
      const tx = await connect<{ i: number }>(url, { codec: 'json', timeout: 10_000 });
      t.after(() => tx.close());
      await tx.send({ i: 0 });
      const got = await new Promise<string>((resolve) => child.stdout!.once('data', (d) => resolve(String(d))));
      assert.match(got, /got/);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const t0 = performance.now();
      await assert.rejects(
        (async () => {
          for (let i = 1; performance.now() - t0 < 2000; i++) await tx.send({ i });
        })(),
        { code: 'ERR_IPC_PEER_DEAD' },
      );
      assert.ok(performance.now() - t0 < 1000, 'within 1 s');
    });

    // A clean close is never a dead peer (issue 13): the peer closes on purpose and its process exits at
    // once, before this end reads anything, so that the kernel's view (the socket hung up, the process
    // gone) is all there is when the reading starts. The goodbye must still win.
    for (const n of [3, 0]) {
      await t.test(`a sender that closes on purpose and exits (${n} sent): the receiver's iteration ends normally, never ERR_IPC_PEER_DEAD`, async (t) => {
        const rx = await listen<{ i: number }>(s.url(t), { ...s.opts, codec: 'json' });
        t.after(() => rx.close());
        const child = startPeer(t, process.execPath, [childScript('channel-peer'), 'connect', rx.url, `close:${n}`, JSON.stringify(s.opts ?? {})]);
        assert.deepEqual(await exited(child), { code: 0, signal: null });
        assertSent(s, await drain(rx), n);
        assert.equal(await rx.receive(), undefined);
        await rx.close();
        assert.deepEqual(leftovers(rx.url), [], 'nothing left after a clean close');
      });

      if (s.duplex) {
        await t.test(`a listener that closes on purpose and exits (${n} sent): the connector's iteration ends normally, never ERR_IPC_PEER_DEAD`, { skip: n > 0 && s.listenerCloseDrops }, async (t) => {
          const { child, url } = await listeningPeer(t, s, `close:${n}`);
          const tx = await connect<{ i: number }>(url, { ...s.opts, codec: 'json', timeout: 10_000 });
          t.after(() => tx.close());
          await tx.send({ i: -1 }); // the listener's peer is whoever sent first
          assert.deepEqual(await exited(child), { code: 0, signal: null });
          assertSent(s, await drain(tx), n);
          assert.equal(await tx.receive(), undefined);
          await tx.close();
          assert.deepEqual(leftovers(url), [], 'nothing left after a clean close');
        });
      }
    }

    if (s.duplex) {
      await t.test('a listener that closes on purpose while the connector still sends: the connector\'s sends fail with ERR_IPC_PEER_DEAD at most, its iteration still ends normally', { skip: s.listenerCloseDrops }, async (t) => {
        const { child, url } = await listeningPeer(t, s, 'close:3');
        const tx = await connect<{ i: number }>(url, { ...s.opts, codec: 'json', timeout: 10_000 });
        t.after(() => tx.close());
        await tx.send({ i: -1 });
        assert.deepEqual(await exited(child), { code: 0, signal: null });
        // Sends to a peer that has closed: refused (or, where the carrier cannot tell, dropped).
        for (let i = 0; i < 20; i++) {
          try {
            await tx.send({ i }, { timeout: 2000 });
          } catch (err) {
            assert.equal((err as { code?: string }).code, 'ERR_IPC_PEER_DEAD', String(err));
            assert.doesNotMatch(String(err), /without closing/, 'the peer closed on purpose');
            break;
          }
        }
        assertSent(s, await drain(tx), 3);
        assert.equal(await tx.receive(), undefined);
      });
    }

    await t.test('a sender SIGKILLed before it sent anything: the receiver gets ERR_IPC_PEER_DEAD', { skip: !(s.detectsDeath ?? s.reliable) && `${s.name} cannot tell a dead peer` }, async (t) => {
      const rx = await listen<{ i: number }>(s.url(t), { ...s.opts, codec: 'json' });
      t.after(() => rx.close());
      const child = startPeer(t, process.execPath, [childScript('channel-peer'), 'connect', rx.url, 'idle', JSON.stringify(s.opts ?? {})]);
      assert.equal(await firstLine(child), 'ready');
      child.kill('SIGKILL');
      await exited(child);
      await diesEmpty(rx);
    });

    if (s.duplex) {
      await t.test('a listener SIGKILLed: the connector\'s iteration gets ERR_IPC_PEER_DEAD', { skip: !(s.detectsDeath ?? s.reliable) && `${s.name} cannot tell a dead peer` }, async (t) => {
        const { child, url } = await listeningPeer(t, s, 'recv1');
        const tx = await connect<{ i: number }>(url, { ...s.opts, codec: 'json', timeout: 10_000 });
        t.after(() => tx.close());
        await tx.send({ i: 0 });
        assert.equal(await firstLine(child), 'got');
        child.kill('SIGKILL');
        await exited(child);
        await diesEmpty(tx);
      });
    }
  });
}


// Two senders, one receiver, nothing lost: on every transport that can promise it. The others say why not.
// fifo: promises it for frames up to PIPE_BUF (4096 bytes with the header), which one writev(2) puts in
// the pipe whole (pipe(7)); the messages here are small. nats: a listener takes every sender on the
// subject. The connectionless channels have one connector by design (test/harden.fanin.test.ts).
const busy = 'a channel has one connector: a second one is refused at connect with ERR_IPC_BUSY, before it sends anything';
const oneSender: Record<string, string> = {
  'unix dgram': busy,
  'posix mq': busy,
  'sysv mq': busy,
  unix: 'a stream channel has one peer: the listener closes a second connection at once (listen once per peer)',
  'unix abstract': 'a stream channel has one peer: the listener closes a second connection at once (listen once per peer)',
  'unix seqpacket': 'a seqpacket channel has one peer: the listener closes a second connection at once',
  tcp: 'a stream channel has one peer: the listener closes a second connection at once (listen once per peer)',
  udp: 'UDP may drop datagrams: "nothing lost" is not a promise it can make',
  'shm ring': 'a ring pair has one peer: the listener stops listening once its peer attached (many clients: RingServer on shm+unix:)',
  'shm+unix ring server': 'listen() is one channel, carried by its first client; RingServer serves many, each on its own ring pair (test/shm.server.test.ts)',
};

for (const s of subjects) {
  const skip = s.skip?.() ?? oneSender[s.name];
  test(`channel conformance: ${s.name}: two senders, one receiver, nothing lost`, { skip }, async (t) => {
    const rx = await listen<{ from: number; i: number }>(s.url(t), { ...s.opts, codec: 'json' });
    t.after(() => rx.close());
    const senders = [await connect<{ from: number; i: number }>(rx.url, { ...s.opts, codec: 'json' }), await connect<{ from: number; i: number }>(rx.url, { ...s.opts, codec: 'json' })];
    t.after(() => Promise.all(senders.map((tx) => tx.close())));
    const n = 300;
    const got: { from: number; i: number }[] = [];
    const reading = (async () => {
      while (got.length < 2 * n) got.push((await rx.receive({ timeout: 5000 }))!);
    })();
    // Interleaved: each sender sends while the other does.
    await Promise.all(senders.map(async (tx, from) => {
      for (let i = 0; i < n; i++) await tx.send({ from, i });
    }));
    await settlesWithin(reading, 10_000, 'every message of both senders received');
    for (const from of [0, 1]) {
      assert.deepEqual(got.filter((m) => m.from === from).map((m) => m.i), Array.from({ length: n }, (_, i) => i), `sender ${from}: all, in its order`);
    }
  });
}

