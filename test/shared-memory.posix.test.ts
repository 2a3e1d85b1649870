// POSIX shared memory objects: creation verbs, sizes, the real SharedArrayBuffer and the plain view over
// one mapping, what close() releases and what it leaves alone, and the mapping's lifetime.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SharedMemory, MAX_SHARED_MEMORY_SIZE } from '../src/index.js';
import { native } from '../src/native.js';
import { childScript, uniqueName } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

function cleanup(t: test.TestContext, name: string) {
  t.after(() => SharedMemory.unlink(name));
}

function mapped(name: string): boolean {
  return fs.readFileSync('/proc/self/maps', 'utf8').includes(`/dev/shm${name}`);
}

test('create makes /dev/shm/<name> of the asked size and mode 0600, buffer is a real SharedArrayBuffer', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  using shm = await SharedMemory.create(name, { size: 10_000 });
  assert.equal(shm.name, name);
  assert.equal(shm.size, 10_000);
  const st = fs.statSync(`/dev/shm${name}`);
  assert.equal(st.size, 10_000);
  assert.equal(st.mode & 0o7777, 0o600);
  assert.ok(shm.buffer instanceof SharedArrayBuffer);
  assert.equal(shm.buffer.byteLength, 10_000);
  assert.ok(shm.arrayBuffer instanceof ArrayBuffer);
  assert.equal(shm.arrayBuffer.byteLength, 10_000);
  // Atomics.wait accepts only Int32Arrays over real SharedArrayBuffers: 'timed-out' proves it is one.
  assert.equal(Atomics.wait(new Int32Array(shm.buffer), 0, 0, 0), 'timed-out');
  assert.throws(() => Atomics.wait(new Int32Array(shm.arrayBuffer), 0, 0, 0), TypeError);
});

test('the exact mode asked is applied despite the umask', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  const old = process.umask(0o077);
  t.after(() => process.umask(old));
  using _shm = await SharedMemory.create(name, { size: 64, mode: 0o644 });
  assert.equal(fs.statSync(`/dev/shm${name}`).mode & 0o7777, 0o644);
});

test('the shared and the plain view are the same bytes, and another process sees them', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  using shm = await SharedMemory.create(name, { size: 4096 });
  new Uint8Array(shm.arrayBuffer).set([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...new Uint8Array(shm.buffer, 0, 8)], [1, 2, 3, 4, 5, 6, 7, 8]);
  const r = await exec(process.execPath, [childScript('shm-peer'), 'echo', name]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['0102030405060708', 'wrote']);
  assert.deepEqual([...new Uint8Array(shm.buffer, 8, 8)], [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7]);
});

test('two processes adding with Atomics reach the exact total', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  using shm = await SharedMemory.create(name, { size: 64 });
  const i32 = new Int32Array(shm.buffer);
  const child = exec(process.execPath, [childScript('shm-peer'), 'add', name, '200000']);
  for (let i = 0; i < 200_000; i++) Atomics.add(i32, 0, 1);
  assert.equal((await child).code, 0);
  assert.equal(Atomics.load(i32, 0), 400_000);
});

test('create fails with EEXIST, open with ENOENT, unlink returns false when there is nothing', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  await assert.rejects(SharedMemory.open(name), { code: 'ENOENT', syscall: 'shm_open', path: name });
  using _a = await SharedMemory.create(name, { size: 64, unlinkOnClose: false });
  await assert.rejects(SharedMemory.create(name, { size: 64 }), { code: 'EEXIST', syscall: 'shm_open' });
  assert.equal(await SharedMemory.unlink(name), true);
  assert.equal(await SharedMemory.unlink(name), false);
});

test('open maps the size its creator gave; openOrCreate keeps an existing size', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  using a = await SharedMemory.openOrCreate(name, { size: 12_345 });
  using b = await SharedMemory.openOrCreate(name, { size: 99 });
  using c = await SharedMemory.open(name);
  assert.deepEqual([a.size, b.size, c.size], [12_345, 12_345, 12_345]);
  assert.equal(c.buffer.byteLength, 12_345);
  b.close();
  assert.ok(fs.existsSync(`/dev/shm${name}`), 'the opener did not own the name');
  a.close();
  assert.ok(!fs.existsSync(`/dev/shm${name}`), 'the creator did');
});

test('an object of size 0 (not sized yet by its creator) fails to open with EINVAL', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  fs.writeFileSync(`/dev/shm${name}`, '');
  await assert.rejects(SharedMemory.open(name), { code: 'EINVAL', syscall: 'mmap' });
});

test('bad sizes are refused before anything is created', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  for (const size of [0, -1, 1.5, NaN, MAX_SHARED_MEMORY_SIZE + 1]) {
    await assert.rejects(SharedMemory.create(name, { size }), { code: 'ERR_OUT_OF_RANGE' }, String(size));
  }
  await assert.rejects(SharedMemory.create(name, { size: '10' as unknown as number }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(SharedMemory.create(name, undefined as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.ok(!fs.existsSync(`/dev/shm${name}`));
});

test('a size the kernel cannot map fails with a system error and leaves no object behind', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  await assert.rejects(SharedMemory.create(name, { size: MAX_SHARED_MEMORY_SIZE }), (err: NodeJS.ErrnoException) => {
    assert.ok(['ENOMEM', 'EFBIG', 'ENOSPC', 'EINVAL'].includes(err.code!), err.code);
    return true;
  });
  assert.ok(!fs.existsSync(`/dev/shm${name}`));
});

test('invalid names are refused with ERR_IPC_NAME_INVALID before any syscall', async () => {
  for (const name of ['/a/b', '', '/', 'x'.repeat(256), 'a\0b', '..']) {
    await assert.rejects(SharedMemory.create(name, { size: 1 }), { code: 'ERR_IPC_NAME_INVALID' }, JSON.stringify(name));
    await assert.rejects(SharedMemory.open(name), { code: 'ERR_IPC_NAME_INVALID' });
    await assert.rejects(SharedMemory.unlink(name), { code: 'ERR_IPC_NAME_INVALID' });
  }
  await assert.rejects(SharedMemory.open(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('close is idempotent, closes the fd, and use after close throws ERR_IPC_CLOSED', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  const shm = await SharedMemory.create(name, { size: 64 });
  const fd = shm.fd;
  assert.ok(fs.fstatSync(fd).isFile());
  shm.close();
  shm.close();
  assert.equal(shm.closed, true);
  assert.equal(shm.fd, -1);
  assert.throws(() => fs.fstatSync(fd), { code: 'EBADF' });
  assert.throws(() => shm.buffer, { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => shm.arrayBuffer, { code: 'ERR_IPC_CLOSED' });
});

test('close() gives the pages back at once: views kept from before read zeros and never fault', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  const shm = await SharedMemory.create(name, { size: 8192, unlinkOnClose: false });
  const view = new Int32Array(shm.buffer);
  const plain = new Uint8Array(shm.arrayBuffer);
  view[0] = 42;
  plain[8191] = 7;
  assert.ok(mapped(name));
  shm.close();
  assert.ok(!mapped(name), 'the object is no longer mapped after close()');
  // Zero pages now: reads see zeros, writes reach nothing (the object keeps what it had).
  assert.equal(view[0], 0);
  assert.equal(plain[8191], 0);
  view[1] = 9;
  plain[0] = 1;
  using again = await SharedMemory.open(name);
  assert.equal(new Int32Array(again.buffer)[0], 42);
  assert.equal(new Uint8Array(again.buffer)[8191], 7);
  assert.equal(new Int32Array(again.buffer)[1], 0, 'a write after close reached nothing');
});

test('a semaphore in the segment keeps the pages until it is closed; then they go', async (t) => {
  const { Semaphore } = await import('../src/index.js');
  const name = uniqueName('shm');
  cleanup(t, name);
  const shm = await SharedMemory.create(name, { size: 4096 });
  const sem = Semaphore.inSharedMemory(shm, 0, { value: 1 });
  shm.close();
  assert.ok(mapped(name), 'still mapped while the semaphore is open');
  assert.equal(sem.tryWait(), true);
  sem.post();
  sem.close();
  assert.ok(!mapped(name), 'released with its last user');
});

test('unlinkOnClose leaves alone a new object made under the same name by someone else', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  const first = await SharedMemory.create(name, { size: 64 });
  await SharedMemory.unlink(name);
  using second = await SharedMemory.create(name, { size: 128, unlinkOnClose: false });
  first.close();
  assert.equal(fs.statSync(`/dev/shm${name}`).size, 128);
  assert.equal(second.size, 128);
});

test('a SharedArrayBuffer over the mapping can be posted to a worker and Atomics work there', async (t) => {
  const { Worker } = await import('node:worker_threads');
  const name = uniqueName('shm');
  cleanup(t, name);
  using shm = await SharedMemory.create(name, { size: 64 });
  const i32 = new Int32Array(shm.buffer);
  const w = new Worker(
    `const { workerData } = require('node:worker_threads');
     const a = new Int32Array(workerData); Atomics.store(a, 1, 42); Atomics.notify(a, 1);`,
    { eval: true, workerData: shm.buffer },
  );
  await new Promise((resolve, reject) => w.on('exit', resolve).on('error', reject));
  assert.equal(Atomics.load(i32, 1), 42);
});

test('openOrCreate sizes an object its creator has not sized yet (between shm_open and ftruncate)', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  fs.writeFileSync(`/dev/shm${name}`, '', { mode: 0o600 });
  using shm = await SharedMemory.openOrCreate(name, { size: 256 });
  assert.equal(shm.size, 256);
  assert.equal(fs.statSync(`/dev/shm${name}`).size, 256);
});

test('pages are reserved at creation: a size tmpfs cannot hold fails now with ENOSPC, not later with SIGBUS', async (t) => {
  const name = uniqueName('shm');
  cleanup(t, name);
  const free = fs.statfsSync('/dev/shm');
  // More than the whole tmpfs (not merely its free space): shmem_fallocate refuses that at once, while a
  // size between the free space and the total would first fill the tmpfs (RAM) page by page.
  const tooBig = (free.blocks + 1024) * free.bsize;
  await assert.rejects(SharedMemory.create(name, { size: tooBig }), { code: 'ENOSPC', syscall: 'fallocate', path: name });
  assert.ok(!fs.existsSync(`/dev/shm${name}`));
  // Sparse on request: the same size is accepted, and only touched pages take room.
  using sparse = await SharedMemory.create(name, { size: tooBig, reserve: false });
  assert.equal(sparse.size, tooBig);
  assert.ok(fs.statSync(`/dev/shm${name}`).blocks === 0);
  using small = await SharedMemory.openOrCreate(uniqueName('shm'), { size: 8192 });
  t.after(() => SharedMemory.unlink(small.name));
  assert.ok(fs.statSync(`/dev/shm${small.name}`).blocks * 512 >= 8192, 'a reserved object has its blocks');
});

test('the SharedArrayBuffer over a mapping is made through Node-API on Node 22 and later, through V8 on Node 20', () => {
  const major = Number(process.versions.node.split('.')[0]);
  assert.equal(native.sharedArrayBufferPath(), major >= 22 ? 'node-api' : 'v8');
});
