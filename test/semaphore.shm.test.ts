// Unnamed process-shared semaphores inside shared memory (sem_init with pshared): exact totals across
// processes, and offsets checked before any native call.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore, SharedMemory, SystemVSharedMemory } from '../src/index.js';
import { childScript, uniqueName } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

async function segment(t: test.TestContext, size = 4096): Promise<SharedMemory> {
  const name = uniqueName('semshm');
  t.after(() => SharedMemory.unlink(name));
  const shm = await SharedMemory.create(name, { size });
  t.after(() => shm.close());
  return shm;
}

test('three processes incrementing a counter under a shared semaphore reach the exact total', async (t) => {
  const shm = await segment(t);
  const sem = Semaphore.inSharedMemory(shm, 0, { value: 1 });
  t.after(() => sem.close());
  assert.equal(sem.value, 1);
  const n = 2000;
  const peers = [0, 1].map(() => exec(process.execPath, [childScript('sem-peer'), 'count', shm.name, String(n)]));
  const i32 = new Int32Array(shm.buffer);
  for (let i = 0; i < n; i++) {
    await sem.wait({ timeout: 10_000 });
    const v = i32[16]!;
    if (i % 16 === 0) await new Promise(setImmediate);
    i32[16] = v + 1;
    sem.post();
  }
  for (const r of await Promise.all(peers)) assert.equal(r.code, 0, r.stderr);
  assert.equal(i32[16], 3 * n);
  assert.equal(sem.value, 1);
});

test('a semaphore in a System V segment works the same, and attaching does not reinitialise', async (t) => {
  await using seg = await SystemVSharedMemory.create('private', { size: 256 });
  const a = Semaphore.inSharedMemory(seg, 64, { value: 2 });
  const b = Semaphore.inSharedMemory(seg, 64);
  t.after(() => (a.close(), b.close()));
  assert.equal(b.value, 2);
  assert.equal(b.tryWait(), true);
  assert.equal(a.value, 1);
  const waiting = b.wait({ timeout: 10_000 }).then(() => b.wait({ timeout: 10_000 }));
  a.post();
  await waiting;
  assert.equal(a.value, 0);
});

test('offsets that are misaligned, negative, or leave no room are refused before any native call', async (t) => {
  const shm = await segment(t, 64);
  assert.equal(Semaphore.SIZE, 32);
  for (const offset of [-8, 4, 1.5, 40, 64, 2 ** 53]) {
    assert.throws(() => Semaphore.inSharedMemory(shm, offset, { value: 1 }), { code: 'ERR_OUT_OF_RANGE' }, String(offset));
  }
  assert.throws(() => Semaphore.inSharedMemory(shm, '0' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => Semaphore.inSharedMemory({} as never, 0), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => Semaphore.inSharedMemory(shm, 0, { value: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  const last = Semaphore.inSharedMemory(shm, 32, { value: 0 });
  last.post();
  assert.equal(last.value, 1);
  last.close();
  shm.close();
  assert.throws(() => Semaphore.inSharedMemory(shm, 0, { value: 1 }), { code: 'ERR_IPC_CLOSED' });
});

test('a semaphore outlives the close of its segment object (the mapping stays while it is used)', async (t) => {
  const shm = await segment(t);
  const sem = Semaphore.inSharedMemory(shm, 0, { value: 0 });
  t.after(() => sem.close());
  const waiting = sem.wait({ timeout: 10_000 });
  shm.close();
  sem.post();
  await waiting;
  assert.equal(sem.value, 0);
});
