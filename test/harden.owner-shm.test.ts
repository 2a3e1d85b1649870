// Issue 12, item 4, for shared memory: opening an existing POSIX or System V segment made by another
// user (nobody) is ERR_IPC_FOREIGN_OWNER unless `allowForeignOwner: true` — its owner could rewrite or
// truncate it under us. (A separate file from harden.owner.test.ts: shared-memory.ts has its own owner.)
import test from 'node:test';
import assert from 'node:assert/strict';
import { SharedMemory, SystemVSharedMemory } from '../src/index.js';
import { asNobodyCommand, childScript, missingNobody, run, uniqueKey, uniqueName } from './helpers/index.js';

const NOBODY = 65534;
const foreign = { code: 'ERR_IPC_FOREIGN_OWNER', uid: NOBODY };

async function asNobody(...args: string[]): Promise<unknown> {
  const r = await run(...asNobodyCommand(process.execPath, childScript('foreign-owner'), ...args), { timeout: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('a POSIX shared memory object made by nobody is refused by open() and openOrCreate(), unless allowed', { skip: missingNobody() }, async (t) => {
  const name = uniqueName('owner-shm');
  t.after(() => SharedMemory.unlink(name));
  assert.deepEqual(await asNobody('shm', name), { ok: true });
  await assert.rejects(SharedMemory.open(name), { ...foreign, path: name });
  await assert.rejects(SharedMemory.openOrCreate(name, { size: 4096 }), foreign);
  const shm = await SharedMemory.open(name, { allowForeignOwner: true });
  assert.equal(shm.size, 4096);
  shm.close();
});

test('a System V segment made by nobody is refused by open() and openOrCreate(), unless allowed', { skip: missingNobody() }, async (t) => {
  const key = uniqueKey();
  assert.deepEqual(await asNobody('sysvshm', String(key)), { ok: true });
  t.after(async () => (await SystemVSharedMemory.open(key, { allowForeignOwner: true })).remove());
  await assert.rejects(SystemVSharedMemory.open(key), { ...foreign, key });
  await assert.rejects(SystemVSharedMemory.openOrCreate(key, { size: 4096 }), foreign);
  const seg = await SystemVSharedMemory.open(key, { allowForeignOwner: true });
  assert.equal(seg.size, 4096);
  seg.close();
});
