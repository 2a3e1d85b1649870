// System V shared memory segments: creation by key or private, stat(), ipcs, removal by object and by id.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SystemVSharedMemory } from '../src/index.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { childScript, uniqueKey, missing } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

/** The `ipcs -m` line of segment `id` (execFile: ipcs never reads stdin, a piped stdin races EPIPE). */
async function ipcsLine(id: number): Promise<string | undefined> {
  const { stdout } = await promisify(execFile)('ipcs', ['-m']);
  return stdout.split('\n').find((l) => l.trim().split(/\s+/)[1] === String(id));
}

test('a keyed segment is listed by ipcs -m, shared with another process, and removed on close', { skip: missing('ipcs') }, async (t) => {
  const key = uniqueKey();
  const seg = await SystemVSharedMemory.create(key, { size: 5000 });
  t.after(() => SystemVSharedMemory.removeId(seg.id));
  assert.ok(seg.buffer instanceof SharedArrayBuffer);
  assert.equal(seg.buffer.byteLength, 5000);
  assert.equal(seg.arrayBuffer.byteLength, 5000);
  const st = seg.stat();
  assert.equal(st.size, 5000);
  assert.equal(st.key, key >>> 0);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.cpid, process.pid);
  assert.ok(st.attaches >= 1);
  assert.ok(await ipcsLine(seg.id), 'listed by ipcs -m');

  new Uint8Array(seg.buffer).set([9, 8, 7, 6, 5, 4, 3, 2]);
  const r = await exec(process.execPath, [childScript('shm-peer'), 'sysv-echo', String(key)]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['0908070605040302', 'wrote']);
  assert.deepEqual([...new Uint8Array(seg.arrayBuffer, 8, 8)], [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7]);

  seg.close();
  seg.close();
  assert.throws(() => seg.stat(), { code: 'ERR_IPC_CLOSED' });
  await assert.rejects(SystemVSharedMemory.open(key), { code: 'ENOENT', syscall: 'shmget' });
});

test('create is exclusive; open attaches with the creator size; openOrCreate does either', async (t) => {
  const key = uniqueKey();
  await using a = await SystemVSharedMemory.openOrCreate(key, { size: 3000 });
  t.after(() => SystemVSharedMemory.removeId(a.id));
  await assert.rejects(SystemVSharedMemory.create(key, { size: 10 }), { code: 'EEXIST' });
  await using b = await SystemVSharedMemory.openOrCreate(key, { size: 10 });
  await using c = await SystemVSharedMemory.open(key);
  assert.deepEqual([b.id, c.id, b.size, c.size], [a.id, a.id, 3000, 3000]);
  new Int32Array(a.buffer)[10] = 77;
  assert.equal(new Int32Array(c.buffer)[10], 77);
});

test("'private' segments are distinct, mode is applied, remove() takes them out of ipcs", { skip: missing('ipcs') }, async (t) => {
  const a = await SystemVSharedMemory.create('private', { size: 100, mode: 0o640, removeOnClose: false });
  t.after(() => SystemVSharedMemory.removeId(a.id));
  const b = await SystemVSharedMemory.create('private', { size: 100 });
  t.after(() => b.close());
  assert.notEqual(a.id, b.id);
  assert.equal(a.key, 0);
  assert.equal(a.stat().mode & 0o777, 0o640);
  assert.doesNotMatch((await ipcsLine(a.id))!, /dest/);
  a.remove();
  // Destroyed when the last attachment goes (our views, when collected); until then ipcs says "dest".
  assert.match((await ipcsLine(a.id)) ?? 'dest', /dest/);
  a.close();
});

test('removeId returns false for an id that does not exist; bad keys and sizes are refused', async () => {
  assert.equal(SystemVSharedMemory.removeId(2 ** 31 - 2), false);
  assert.throws(() => SystemVSharedMemory.removeId(-1), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVSharedMemory.create(0, { size: 1 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVSharedMemory.create(2 ** 32, { size: 1 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVSharedMemory.create('x' as never, { size: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(SystemVSharedMemory.create('private', { size: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVSharedMemory.open('private' as never), { code: 'ERR_OUT_OF_RANGE' });
});

test('a key with the top bit set reads the same, unsigned, in the object, in stat(), and in ipcs', { skip: missing('ipcs') }, async (t) => {
  const key = (0x80000000 | (uniqueKey() & 0x0fffffff)) >>> 0;
  const seg = await SystemVSharedMemory.create(key, { size: 64 });
  t.after(() => seg.close());
  assert.equal(seg.key, key);
  assert.equal(seg.stat().key, key);
  const line = await ipcsLine(seg.id);
  assert.equal(Number(line!.trim().split(/\s+/)[0]), key);
  const again = await SystemVSharedMemory.open(key | 0); // the signed reading of the same bits
  t.after(() => again.close());
  assert.equal(again.id, seg.id);
  assert.equal(again.key, key);
});
