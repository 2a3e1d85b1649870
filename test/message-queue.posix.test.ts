// POSIX message queues (mq_overview(7)): creation verbs, priorities, backpressure, ordered concurrent
// waits on the event loop, cancellation, lifetime, and bad input refused before any syscall.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { MessageQueue, messageQueueLimits } from '../src/index.js';
import { native } from '../src/native.js';
import { missingMqueueMount, mqExists, mqMode, uniqueName } from './helpers/index.js';

const exists = mqExists;

test('create makes an exclusive 0600 queue that close() unlinks', async (t) => {
  const name = uniqueName();
  t.after(() => MessageQueue.unlink(name));
  const q = await MessageQueue.create(name, { maxMessages: 5, maxMessageSize: 128 });
  assert.equal(mqMode(name), 0o600);
  assert.deepEqual(q.attributes(), { maxMessages: 5, maxMessageSize: 128, currentMessages: 0 });
  await assert.rejects(MessageQueue.create(name), { code: 'EEXIST', syscall: 'mq_open' });
  q.close();
  q.close();
  assert.equal(q.closed, true);
  assert.equal(exists(name), false);
});

test('open() fails with ENOENT when the queue does not exist; unlink() says false', async () => {
  const name = uniqueName();
  await assert.rejects(MessageQueue.open(name), { code: 'ENOENT', syscall: 'mq_open', path: name });
  assert.equal(await MessageQueue.unlink(name), false);
});

test('openOrCreate creates or opens, and owns the name only if it created it', async (t) => {
  const name = uniqueName();
  t.after(() => MessageQueue.unlink(name));
  const a = await MessageQueue.openOrCreate(name, { maxMessages: 3, maxMessageSize: 16 });
  const b = await MessageQueue.openOrCreate(name, { maxMessages: 9 });
  assert.equal(b.maxMessages, 3, 'the existing queue keeps its attributes');
  await a.send('x');
  assert.equal(String((await b.receive()).data), 'x');
  b.close();
  assert.equal(exists(name), true, 'the opener does not own it');
  a.close();
  assert.equal(exists(name), false, 'the creator does');
  assert.equal(await MessageQueue.unlink(name), false);
});

test('messages come out highest priority first, FIFO within a priority', async (t) => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 10, maxMessageSize: 16 });
  for (const [d, p] of [['a', 1], ['b', 5], ['c', 3], ['d', 5], ['e', 0]] as const) await q.send(d, { priority: p });
  const out: string[] = [];
  for (let m = q.tryReceive(); m; m = q.tryReceive()) out.push(`${m.data}${m.priority}`);
  assert.deepEqual(out, ['b5', 'd5', 'c3', 'a1', 'e0']);
  t.diagnostic('ok');
});

test('a full queue makes send wait (backpressure) until a receive makes room', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 8 });
  await q.send('1');
  await q.send('2');
  assert.equal(q.trySend('x'), false);
  let done = false;
  const p = q.send('3').then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, false, 'still waiting for room');
  assert.equal(String((await q.receive()).data), '1');
  await p;
  assert.deepEqual([String(q.tryReceive()!.data), String(q.tryReceive()!.data)], ['2', '3']);
});

test('200 concurrent sends and 200 concurrent receives are served in order, on no thread', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 3, maxMessageSize: 8 });
  const recvs = Array.from({ length: 200 }, () => q.receive({ timeout: 10_000 }));
  const sends = Array.from({ length: 200 }, (_, i) => q.send(String(i), { timeout: 10_000 }));
  assert.equal(native.waiterStats().pending, 0, 'readiness waits hold no waiter thread');
  await Promise.all(sends);
  const got = (await Promise.all(recvs)).map((m) => Number(m.data));
  assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
});

test('a receive can be aborted or time out, and the next waiter still gets the message', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 8 });
  const ac = new AbortController();
  const first = q.receive({ signal: ac.signal });
  const second = q.receive({ timeout: 30 });
  const third = q.receive();
  ac.abort();
  await assert.rejects(first, { name: 'AbortError', code: 'ABORT_ERR' });
  await assert.rejects(second, { code: 'ERR_IPC_TIMEOUT' });
  await q.send('m');
  assert.equal(String((await third).data), 'm');
  await assert.rejects(q.receive({ signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('a send waiting for room can time out without sending', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 1, maxMessageSize: 8 });
  await q.send('a');
  await assert.rejects(q.send('b', { timeout: 20 }), { code: 'ERR_IPC_TIMEOUT' });
  assert.equal(String(q.tryReceive()!.data), 'a');
  assert.equal(q.tryReceive(), null);
});

test('close() rejects pending waits with ERR_IPC_CLOSED, ends for-await, and later use throws', async () => {
  const q = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 8 });
  const pending = q.receive();
  const seen: string[] = [];
  const loop = (async () => {
    for await (const m of q) seen.push(String(m.data));
  })();
  q.close();
  await assert.rejects(pending, { code: 'ERR_IPC_CLOSED' });
  await loop;
  assert.deepEqual(seen, []);
  await assert.rejects(q.send('x'), { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => q.tryReceive(), { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => q.attributes(), { code: 'ERR_IPC_CLOSED' });
});

test('for await yields messages as they come', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 4, maxMessageSize: 8 });
  const got: string[] = [];
  const loop = (async () => {
    for await (const m of q) {
      got.push(String(m.data));
      if (got.length === 3) break;
    }
  })();
  for (const s of ['x', 'y', 'z']) await q.send(s);
  await loop;
  assert.deepEqual(got, ['x', 'y', 'z']);
});

test('a message over maxMessageSize fails with ERR_IPC_MESSAGE_TOO_LARGE before the syscall', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 16 });
  await assert.rejects(q.send(Buffer.alloc(17)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE', limit: 16, size: 17 });
  assert.throws(() => q.trySend(Buffer.alloc(17)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
  assert.equal(q.attributes().currentMessages, 0);
  await q.send(Buffer.alloc(16));
  await q.send(new Uint8Array(0));
  assert.equal(q.tryReceive()!.data.length, 16);
  assert.equal(q.tryReceive()!.data.length, 0);
});

test('priority out of range and bad data types are refused', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 16 });
  await assert.rejects(q.send('x', { priority: 32768 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.send('x', { priority: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.send('x', { priority: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.send(42 as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(q.receive({ timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await q.send('ok', { priority: 32767 });
  assert.equal(q.tryReceive()!.priority, 32767);
});

test('invalid names fail with ERR_IPC_NAME_INVALID before any syscall', async () => {
  for (const bad of ['', '/', '/a/b', 'a\0b', '/..', 'x'.repeat(256)]) {
    await assert.rejects(MessageQueue.create(bad), { code: 'ERR_IPC_NAME_INVALID' }, JSON.stringify(bad));
    await assert.rejects(MessageQueue.unlink(bad), { code: 'ERR_IPC_NAME_INVALID' });
  }
  await assert.rejects(MessageQueue.open(7 as never), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('bad attributes: ERR_OUT_OF_RANGE, and past the kernel ceiling ERR_IPC_LIMIT naming it', async () => {
  const name = uniqueName();
  await assert.rejects(MessageQueue.create(name, { maxMessages: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(MessageQueue.create(name, { maxMessageSize: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  const err = await MessageQueue.create(name, { maxMessages: 65537, maxMessageSize: 8 }).catch((e) => e);
  assert.equal(err.code, 'ERR_IPC_LIMIT');
  assert.equal(err.limit, 'the kernel ceiling HARD_MSGMAX');
  assert.equal(err.max, 65536);
  assert.equal(err.cause.code, 'EINVAL');
  const err2 = await MessageQueue.create(name, { maxMessages: 1, maxMessageSize: 16 * 1024 * 1024 + 1 }).catch((e) => e);
  assert.equal(err2.limit, 'the kernel ceiling HARD_MSGSIZEMAX');
  assert.equal(exists(name), false);
});

test('limits() reads the kernel limits from /proc', () => {
  const l = messageQueueLimits();
  assert.equal(l.posix.msgMax, Number(fs.readFileSync('/proc/sys/fs/mqueue/msg_max', 'utf8')));
  assert.equal(l.posix.msgsizeMax, Number(fs.readFileSync('/proc/sys/fs/mqueue/msgsize_max', 'utf8')));
  assert.equal(l.posix.queuesMax, Number(fs.readFileSync('/proc/sys/fs/mqueue/queues_max', 'utf8')));
  assert.equal(l.systemV.msgmax, Number(fs.readFileSync('/proc/sys/kernel/msgmax', 'utf8')));
  assert.equal(l.systemV.msgmnb, Number(fs.readFileSync('/proc/sys/kernel/msgmnb', 'utf8')));
  // /proc/self/mounts against statfs(2)'s magic number: two readings of one fact.
  assert.equal(l.posix.mounted, missingMqueueMount() === false);
});

test('a queue opened for reading cannot send (EBADF from the kernel)', async (t) => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 8 });
  const r = await MessageQueue.open(q.name, { access: 'read' });
  t.after(() => r.close());
  await assert.rejects(r.send('x'), { code: 'EBADF', syscall: 'mq_send' });
});

test('a pending receive keeps the loop alive only while ref()ed', async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 8 });
  const ac = new AbortController();
  const p = q.unref().receive({ signal: ac.signal });
  q.ref();
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
});

test('received messages are the receiver\'s: later receives never write over earlier ones, small or large', async (t) => {
  const name = uniqueName();
  t.after(() => MessageQueue.unlink(name));
  await using q = await MessageQueue.create(name, { maxMessages: 8, maxMessageSize: 8192 });
  const pattern = (i: number, len: number) => Buffer.from(Array.from({ length: len }, (_, j) => (i * 13 + j) & 0xff));
  // Across the 4 KiB line between copied and viewed messages, and through several receive slabs.
  const sizes = [1, 4095, 4096, 8192, 0, 5000, 64];
  const kept = [];
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < sizes.length; i++) await q.send(pattern(round * 10 + i, sizes[i]!));
    for (let i = 0; i < sizes.length; i++) kept.push({ want: pattern(round * 10 + i, sizes[i]!), got: (await q.receive({ timeout: 5000 })).data });
  }
  kept.forEach(({ want, got }, k) => assert.ok(got.equals(want), `message ${k} (${want.length} bytes) intact`));
});
