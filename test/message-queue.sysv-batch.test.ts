// System V queues drained in batches: tryReceiveMany takes every matching message queued now (up to a
// count) in one call into the addon, receiveMany waits for the first and takes the rest with it. Order,
// types, type selection and E2BIG behave as msgrcv(2) one at a time would; nothing is taken that is not
// returned.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SystemVMessageQueue } from '../src/index.js';
import { compileC, missing, run, uniqueKey } from './helpers/index.js';

const texts = (ms: { data: Buffer }[]) => ms.map((m) => m.data.toString());

test('tryReceiveMany() returns [] on an empty queue, then the queued messages in order, at most max', async () => {
  await using q = await SystemVMessageQueue.create('private');
  assert.deepEqual(q.tryReceiveMany(8), []);
  for (let i = 0; i < 5; i++) assert.equal(q.trySend(1 + (i % 2), `m${i}`), true);
  const first = q.tryReceiveMany(3);
  assert.deepEqual(first.map((m) => [m.type, m.data.toString()]), [[1, 'm0'], [2, 'm1'], [1, 'm2']]);
  assert.deepEqual(texts(q.tryReceiveMany(10)), ['m3', 'm4']);
  assert.equal(q.stat().messages, 0);
});

test('tryReceiveMany() selects by type as msgrcv does and leaves the others queued', async () => {
  await using q = await SystemVMessageQueue.create('private');
  for (const [t, d] of [[2, 'a'], [1, 'b'], [2, 'c'], [3, 'd']] as const) q.trySend(t, d);
  assert.deepEqual(texts(q.tryReceiveMany(10, { type: 2 })), ['a', 'c']);
  assert.deepEqual(q.tryReceiveMany(10, { type: -2 }).map((m) => m.type), [1]);
  assert.deepEqual(texts(q.tryReceiveMany(10)), ['d']);
});

test('tryReceiveMany() gives empty and full-size messages with their exact bytes', async () => {
  await using q = await SystemVMessageQueue.create('private');
  const big = Buffer.alloc(8192, 7);
  q.trySend(1, Buffer.alloc(0));
  q.trySend(1, big);
  q.trySend(1, 'x');
  const got = q.tryReceiveMany(3);
  assert.deepEqual(got.map((m) => m.data.length), [0, 8192, 1]);
  assert.ok(got[1]!.data.equals(big));
  assert.equal(got[2]!.data.toString(), 'x');
});

test('a message over maxSize fails the batch with E2BIG when it comes first, else ends it, and stays queued', async () => {
  await using q = await SystemVMessageQueue.create('private');
  q.trySend(1, 'ok');
  q.trySend(1, 'too long');
  q.trySend(1, 'after');
  assert.deepEqual(texts(q.tryReceiveMany(10, { maxSize: 4 })), ['ok']);
  assert.throws(() => q.tryReceiveMany(10, { maxSize: 4 }), { code: 'E2BIG', syscall: 'msgrcv' });
  assert.deepEqual(texts(q.tryReceiveMany(10, { maxSize: 4, noError: true })), ['too ', 'afte']);
});

test('receiveMany() waits for the first message, then takes those queued with it; it honours timeout', async () => {
  await using q = await SystemVMessageQueue.create('private');
  await assert.rejects(q.receiveMany(4, { timeout: 50 }), { code: 'ERR_IPC_TIMEOUT' });
  const waiting = q.receiveMany(4, { type: 1, timeout: 5000 });
  await q.send(2, 'other');
  await q.send(1, 'one');
  const got = await waiting;
  assert.equal(got[0]!.data.toString(), 'one');
  for (const m of got) assert.equal(m.type, 1);
  q.trySend(1, 'x');
  q.trySend(1, 'y');
  assert.deepEqual(texts(await q.receiveMany(4)), ['other', 'x', 'y']);
});

test('tryReceiveMany()/receiveMany() refuse a bad count and a closed queue', async () => {
  const q = await SystemVMessageQueue.create('private');
  for (const bad of [0, -1, 1.5, 4097]) assert.throws(() => q.tryReceiveMany(bad), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.receiveMany(0), { code: 'ERR_OUT_OF_RANGE' });
  q.close();
  assert.throws(() => q.tryReceiveMany(1), { code: 'ERR_IPC_CLOSED' });
  await assert.rejects(q.receiveMany(1), { code: 'ERR_IPC_CLOSED' });
});

test('a batch takes what a C sender queued, in its order and with its types', { skip: missing('cc') }, async () => {
  const bin = await compileC('mq_sysv_send');
  const key = uniqueKey();
  await using q = await SystemVMessageQueue.create(key);
  const r = await run(bin, ['0x' + key.toString(16), '5:five', '7:seven', '5:again', '2147483647:big']);
  assert.equal(r.stdout.trim(), 'sent 4');
  assert.deepEqual(q.tryReceiveMany(10, { type: 5 }).map((m) => [m.type, m.data.toString()]), [[5, 'five'], [5, 'again']]);
  assert.deepEqual((await q.receiveMany(10)).map((m) => [m.type, m.data.toString()]), [[7, 'seven'], [2147483647, 'big']]);
});
