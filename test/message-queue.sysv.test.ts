// System V message queues (msgget(2), msgop(2), msgctl(2)): typed messages selected as msgrcv selects
// them, waits on waiter threads (cancellable), stat, removal, and bad input refused before the syscall.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SystemVMessageQueue, ftok, messageQueueLimits } from '../src/index.js';
import { native } from '../src/native.js';
import { threadBlockedIn, tmpDir, uniqueKey } from './helpers/index.js';

const inTable = (id: number) => fs.readFileSync('/proc/sysvipc/msg', 'utf8').split('\n').slice(1).some((l) => l.trim().split(/\s+/)[1] === String(id));

test('create(key) is exclusive and 0600; close() removes what create made', async () => {
  const key = uniqueKey();
  const q = await SystemVMessageQueue.create(key);
  assert.equal(q.stat().mode, 0o600);
  assert.equal(q.stat().key, key);
  await assert.rejects(SystemVMessageQueue.create(key), { code: 'EEXIST', syscall: 'msgget' });
  const o = await SystemVMessageQueue.open(key);
  assert.equal(o.id, q.id);
  o.close();
  assert.equal(inTable(q.id), true, 'an opener does not remove');
  q.close();
  q.close();
  assert.equal(inTable(q.id), false);
  await assert.rejects(SystemVMessageQueue.open(key), { code: 'ENOENT' });
});

test('openOrCreate makes or opens the queue of a key; removeId removes by id', async () => {
  const key = uniqueKey();
  const a = await SystemVMessageQueue.openOrCreate(key);
  const b = await SystemVMessageQueue.openOrCreate(key);
  assert.equal(a.id, b.id);
  b.close();
  assert.equal(a.stat().key >>> 0, key >>> 0, 'the opener does not remove it');
  a.close();
  assert.equal(await SystemVMessageQueue.removeId(a.id), false, 'the creator did');
  const c = await SystemVMessageQueue.openOrCreate(key, { unlinkOnClose: false });
  c.close();
  assert.equal(await SystemVMessageQueue.removeId(c.id), true);
  assert.equal(await SystemVMessageQueue.removeId(c.id), false);
});

test("receive's type selects as msgrcv: 0 first, > 0 that type, < 0 lowest type <= |type|", async () => {
  await using q = await SystemVMessageQueue.create('private');
  for (const [t, d] of [[3, 'c1'], [1, 'a1'], [2, 'b1'], [1, 'a2'], [5, 'e1']] as const) await q.send(t, d);
  const take = async (type: number) => {
    const m = await q.receive({ type });
    return `${m.type}:${m.data}`;
  };
  assert.equal(await take(0), '3:c1');
  assert.equal(await take(2), '2:b1');
  assert.equal(await take(-4), '1:a1');
  assert.equal(await take(-4), '1:a2');
  assert.equal(q.tryReceive({ type: -4 }), null);
  assert.equal(await take(-5), '5:e1');
  assert.equal(q.stat().messages, 0);
});

test('a receive waits on a waiter thread, not on the loop, and wakes when a matching message comes', async () => {
  await using q = await SystemVMessageQueue.create('private');
  const p = q.receive({ type: 7, timeout: 5000 });
  assert.equal(native.waiterStats().pending, 1);
  await threadBlockedIn('do_msgrcv'); // the receive is in the kernel when the other type comes
  await q.send(3, 'other');
  await q.send(7, 'mine');
  const m = await p;
  assert.deepEqual([m.type, String(m.data)], [7, 'mine']);
  assert.equal(q.stat().messages, 1);
});

test('a waiting receive can be aborted or time out, releasing its thread and taking nothing', async () => {
  await using q = await SystemVMessageQueue.create('private');
  const ac = new AbortController();
  const p = q.receive({ signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, { name: 'AbortError' });
  await assert.rejects(q.receive({ timeout: 20 }), { code: 'ERR_IPC_TIMEOUT' });
  assert.equal(native.waiterStats().pending, 0);
  await q.send(1, 'still here');
  assert.equal(String(q.tryReceive()!.data), 'still here');
});

test('a full queue makes send wait on a thread until there is room', async () => {
  await using q = await SystemVMessageQueue.create('private', { maxBytes: 16 });
  assert.equal(q.stat().maxBytes, 16);
  await q.send(1, Buffer.alloc(16));
  assert.equal(q.trySend(1, 'x'), false);
  let sent = false;
  const p = q.send(2, 'late').then(() => (sent = true));
  await threadBlockedIn('do_msgsnd');
  assert.equal(sent, false);
  assert.equal(q.tryReceive()!.data.length, 16);
  await p;
  assert.equal(String(q.tryReceive({ type: 2 })!.data), 'late');
  await q.send(1, Buffer.alloc(16));
  await assert.rejects(q.send(1, 'x', { timeout: 20 }), { code: 'ERR_IPC_TIMEOUT' });
});

test('a longer message fails with E2BIG and stays queued unless noError truncates it', async () => {
  await using q = await SystemVMessageQueue.create('private');
  await q.send(1, 'abcdef');
  await assert.rejects(q.receive({ maxSize: 3 }), { code: 'E2BIG', syscall: 'msgrcv' });
  assert.equal(q.stat().messages, 1);
  const m = await q.receive({ maxSize: 3, noError: true });
  await q.send(1, 'xyz');
  assert.equal(String((await q.receive({ maxSize: 2 ** 31 - 1 })).data), 'xyz', 'a huge maxSize is held to kernel.msgmax');
  assert.equal(String(m.data), 'abc');
});

test('stat() reports counts, limits, and the last sender and receiver', async () => {
  await using q = await SystemVMessageQueue.create('private');
  const before = q.stat();
  assert.deepEqual([before.messages, before.bytes, before.lastSendPid, before.lastReceivePid, before.lastSend], [0, 0, 0, 0, null]);
  assert.equal(before.maxBytes, messageQueueLimits().systemV.msgmnb);
  await q.send(1, 'hello');
  await q.send(1, 'world!');
  const s = q.stat();
  assert.deepEqual([s.messages, s.bytes, s.lastSendPid], [2, 11, process.pid]);
  assert.ok(s.lastSend instanceof Date);
  q.tryReceive();
  assert.equal(q.stat().lastReceivePid, process.pid);
});

test('remove() wakes a waiting receive with EIDRM and closes the object', async () => {
  const q = await SystemVMessageQueue.create('private');
  const other = SystemVMessageQueue.fromId(q.id);
  const p = other.receive();
  await threadBlockedIn('do_msgrcv'); // removed before msgrcv began, the call would see EINVAL, not EIDRM
  assert.equal(await q.remove(), true);
  await assert.rejects(p, { code: 'EIDRM' });
  assert.equal(q.closed, true);
  assert.throws(() => q.stat(), { code: 'ERR_IPC_CLOSED' });
  other.close();
});

test('close() rejects pending waits with ERR_IPC_CLOSED and ends the iterator', async () => {
  const q = await SystemVMessageQueue.create('private');
  const p = q.receive();
  const loop = (async () => {
    const seen: number[] = [];
    for await (const m of q) seen.push(m.type);
    return seen;
  })();
  await new Promise((r) => setTimeout(r, 10));
  q.close();
  await assert.rejects(p, { code: 'ERR_IPC_CLOSED' });
  assert.deepEqual(await loop, []);
  await assert.rejects(q.send(1, 'x'), { code: 'ERR_IPC_CLOSED' });
});

test('bad input: type <= 0 on send, oversized data, bad keys, bad options', async () => {
  await using q = await SystemVMessageQueue.create('private');
  await assert.rejects(q.send(0, 'x'), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.send(-3, 'x'), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.send(1.5, 'x'), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.send('1' as never, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  const max = messageQueueLimits().systemV.msgmax!;
  await assert.rejects(q.send(1, Buffer.alloc(max + 1)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE', limit: max });
  await q.send(1, Buffer.alloc(max));
  assert.equal((await q.receive()).data.length, max);
  await assert.rejects(q.receive({ type: 0.5 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(q.receive({ noError: 1 as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(SystemVMessageQueue.create(0), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVMessageQueue.create(2 ** 32), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVMessageQueue.open('private' as never), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVMessageQueue.create('x' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.equal(q.stat().messages, 0);
});

test('maxBytes above kernel.msgmnb fails with ERR_IPC_LIMIT when not privileged enough, leaving no queue', async (t) => {
  const { msgmnb } = messageQueueLimits().systemV;
  const key = uniqueKey();
  let q: SystemVMessageQueue | undefined;
  try {
    q = await SystemVMessageQueue.create(key, { maxBytes: msgmnb! * 4 });
  } catch (err) {
    assert.equal((err as { code: string }).code, 'ERR_IPC_LIMIT');
    assert.equal((err as { limit: string }).limit, 'kernel.msgmnb');
    await assert.rejects(SystemVMessageQueue.open(key), { code: 'ENOENT' });
    return;
  }
  // With CAP_SYS_RESOURCE the kernel allows it.
  t.diagnostic('this process may raise msg_qbytes (CAP_SYS_RESOURCE)');
  assert.equal(q.stat().maxBytes, msgmnb! * 4);
  q.close();
});

test('ftok gives the same key for the same file and id, ENOENT for a missing file', (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(dir + '/f', '');
  assert.equal(ftok(dir + '/f', 1), ftok(dir + '/f', 1));
  assert.notEqual(ftok(dir + '/f', 1), ftok(dir + '/f', 2));
  assert.throws(() => ftok(dir + '/missing', 1), { code: 'ENOENT', syscall: 'ftok' });
  assert.throws(() => ftok(dir + '/f', 0), { code: 'ERR_OUT_OF_RANGE' });
});
