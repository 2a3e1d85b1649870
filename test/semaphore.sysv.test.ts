// System V semaphore sets: atomic multi-operation semop, waits on waiter threads, SEM_UNDO reverting a
// SIGKILLed process's operations, removal while waiting (EIDRM), ipcs -s, removeId.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SystemVSemaphoreSet } from '../src/index.js';
import { native } from '../src/native.js';
import { childScript, exited, firstLine, startPeer, uniqueKey, missing } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

async function set(t: test.TestContext, count: number, values?: number[]): Promise<SystemVSemaphoreSet> {
  const s = await SystemVSemaphoreSet.create(uniqueKey(), { count, values });
  t.after(() => (SystemVSemaphoreSet.removeId(s.id), s.close()));
  return s;
}

test('a set is created with its values, listed by ipcs -s, and operations apply atomically', { skip: missing('ipcs') }, async (t) => {
  const s = await set(t, 3, [1, 0, 5]);
  assert.deepEqual(s.values(), [1, 0, 5]);
  const st = s.stat();
  assert.equal(st.count, 3);
  assert.equal(st.key, s.key);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.otime, 0, 'no semop yet');
  const ipcs = await exec('ipcs', ['-s']);
  assert.ok(ipcs.stdout.split('\n').some((l) => l.trim().split(/\s+/)[1] === String(s.id)), 'listed by ipcs -s');
  // All or nothing: semaphore 1 is 0, so the whole operation is refused and semaphore 0 is untouched.
  assert.equal(s.tryOp([{ index: 0, delta: -1 }, { index: 1, delta: -1 }]), false);
  assert.deepEqual(s.values(), [1, 0, 5]);
  assert.equal(s.tryOp([{ index: 0, delta: -1 }, { index: 2, delta: +2 }]), true);
  assert.deepEqual(s.values(), [0, 0, 7]);
  assert.equal(s.lastPid(0), process.pid);
  s.setValue(1, 3);
  assert.equal(s.value(1), 3);
});

test('op() waits on a waiter thread until another process makes room, and waits for zero', async (t) => {
  const s = await set(t, 2, [0, 1]);
  const dec = s.op([{ index: 0, delta: -1 }], { timeout: 10_000 });
  const zero = s.op([{ index: 1, delta: 0 }], { timeout: 10_000 });
  const deadline = Date.now() + 5000;
  while ((s.waiting(0).decrement < 1 || s.waiting(1).zero < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual([s.waiting(0), s.waiting(1)], [{ decrement: 1, zero: 0 }, { decrement: 0, zero: 1 }]);
  const other = await SystemVSemaphoreSet.open(s.key);
  t.after(() => other.close());
  assert.equal(other.count, 2);
  other.tryOp([{ index: 0, delta: 1 }, { index: 1, delta: -1 }]);
  await Promise.all([dec, zero]);
  assert.deepEqual(s.values(), [0, 0]);
});

test('SEM_UNDO: the kernel reverts the operation of a process killed with SIGKILL', async (t) => {
  const s = await set(t, 1, [1]);
  const child = startPeer(t, process.execPath, [childScript('sem-peer'), 'sysv-hold', String(s.key)]);
  assert.equal(await firstLine(child), 'held');
  assert.equal(s.value(0), 0);
  const waiting = s.op([{ index: 0, delta: -1 }], { timeout: 10_000 });
  child.kill('SIGKILL');
  await exited(child);
  await waiting;
  assert.equal(s.value(0), 0, 'the dead holder\'s -1 was undone, and our wait took it');
});

test('timeout, abort and close reject; removal releases waiters with EIDRM', async (t) => {
  const s = await set(t, 1);
  await assert.rejects(s.op([{ index: 0, delta: -1 }], { timeout: 30 }), { code: 'ERR_IPC_TIMEOUT' });
  await assert.rejects(s.op([{ index: 0, delta: -1 }], { timeout: 0 }), { code: 'ERR_IPC_TIMEOUT' });
  const ac = new AbortController();
  const p = s.op([{ index: 0, delta: -1 }], { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, { name: 'AbortError' });
  const other = await SystemVSemaphoreSet.open(s.key);
  const q = other.op([{ index: 0, delta: -1 }]);
  setTimeout(() => other.close(), 10);
  await assert.rejects(q, { code: 'ERR_IPC_CLOSED' });
  const r = s.op([{ index: 0, delta: -1 }]);
  setTimeout(() => s.remove(), 10);
  await assert.rejects(r, { code: 'EIDRM', syscall: 'semop' });
  assert.equal(native.waiterStats().pending, 0);
  assert.equal(SystemVSemaphoreSet.removeId(s.id), false, 'already gone');
});

test("'private' sets, openOrCreate, EEXIST/ENOENT, close removes what create made", async (t) => {
  const p = await SystemVSemaphoreSet.create('private', { count: 2, mode: 0o640 });
  t.after(() => p.close());
  assert.equal(p.stat().mode & 0o777, 0o640);
  const key = uniqueKey();
  await assert.rejects(SystemVSemaphoreSet.open(key), { code: 'ENOENT', syscall: 'semget' });
  const a = await SystemVSemaphoreSet.openOrCreate(key, { count: 1, values: [4] });
  await assert.rejects(SystemVSemaphoreSet.create(key, { count: 1 }), { code: 'EEXIST' });
  const b = await SystemVSemaphoreSet.openOrCreate(key, { count: 1, values: [9] });
  assert.deepEqual(b.values(), [4]);
  b.close();
  a.close();
  await assert.rejects(SystemVSemaphoreSet.open(key), { code: 'ENOENT' });
  assert.throws(() => a.values(), { code: 'ERR_IPC_CLOSED' });
});

test('bad counts, values, indices and deltas are refused before any syscall', async (t) => {
  const s = await set(t, 2);
  await assert.rejects(SystemVSemaphoreSet.create('private', { count: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVSemaphoreSet.create('private', { count: 2, values: [1] }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(SystemVSemaphoreSet.create('private', { count: 1, values: [32768] }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => s.tryOp([{ index: 2, delta: 1 }]), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => s.tryOp([{ index: 0, delta: 40000 }]), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => s.tryOp([]), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => s.setValue(0, -1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => SystemVSemaphoreSet.removeId(-1), { code: 'ERR_OUT_OF_RANGE' });
});
