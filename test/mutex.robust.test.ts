// The robust process-shared mutex: the fast path on the JS thread, waits on waiter threads, exact totals
// across processes, recovery after owners are SIGKILLed (or workers end) while holding it, and a peer
// that rewrites the mutex memory.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Mutex, SharedMemory } from '../src/index.js';
import { native } from '../src/native.js';
import { childScript, compileC, exited, firstLine, output, startPeer, uniqueName, missing } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

/** Until FUTEX_WAITERS is set in the lock word of the mutex at offset 0 (a locker is going to sleep). */
async function waitersMarked(shm: SharedMemory): Promise<void> {
  const word = new Int32Array(shm.buffer, 0, 1);
  const deadline = Date.now() + 5000;
  while ((Atomics.load(word, 0) & 0x80000000) === 0) {
    assert.ok(Date.now() < deadline, 'a locker marked FUTEX_WAITERS');
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function segment(t: test.TestContext, size = 4096): Promise<SharedMemory> {
  const name = uniqueName('mutex');
  t.after(() => SharedMemory.unlink(name));
  const shm = await SharedMemory.create(name, { size });
  t.after(() => shm.close());
  return shm;
}

test('lock, tryLock and unlock; a second lock() waits for the unlock (async mutex in one process)', async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  const other = Mutex.inSharedMemory(shm, 0);
  t.after(() => (m.close(), other.close()));
  assert.deepEqual(await m.lock(), { ownerDied: false });
  assert.equal(m.locked, true);
  assert.equal(other.tryLock(), null);
  let second = false;
  const p = other.lock({ timeout: 10_000 }).then((r) => ((second = true), r));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(second, false, 'still waiting while held');
  m.unlock();
  assert.deepEqual(await p, { ownerDied: false });
  assert.equal(other.locked, true);
  other.unlock();
  assert.deepEqual(m.tryLock(), { ownerDied: false });
  m.unlock();
});

test('unlock by an object that does not hold the lock fails with EPERM', async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  assert.throws(() => m.unlock(), { code: 'EPERM', syscall: 'mutex_unlock' });
  // Another object over the same mutex, on the same thread, does not hold what this one locked.
  const other = Mutex.inSharedMemory(shm, 0);
  t.after(() => other.close());
  await m.lock();
  assert.throws(() => other.unlock(), { code: 'EPERM' });
  assert.equal(other.tryLock(), null, 'still locked');
  m.unlock();
});

test('three processes incrementing under the mutex reach the exact total', async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  const n = 2000;
  const peers = [0, 1].map(() => exec(process.execPath, [childScript('sem-peer'), 'mutex-count', shm.name, String(n)]));
  const i32 = new Int32Array(shm.buffer);
  for (let i = 0; i < n; i++) {
    await m.lock({ timeout: 10_000 });
    const v = i32[16]!;
    if (i % 16 === 0) await new Promise(setImmediate);
    i32[16] = v + 1;
    m.unlock();
  }
  for (const r of await Promise.all(peers)) assert.equal(r.code, 0, r.stderr);
  assert.equal(i32[16], 3 * n);
});

// Each round is a Node child started, locking and killed (~150 ms): 20 rounds here, 100 with IPCKIT_STRESS=1.
const OWNERS = process.env.IPCKIT_STRESS === '1' ? 100 : 20;

test(`${OWNERS} owners SIGKILLed while holding the lock: each next locker is told ownerDied and recovers the counter`, async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  const i32 = new Int32Array(shm.buffer);
  for (let i = 0; i < OWNERS; i++) {
    const child = startPeer(t, process.execPath, [childScript('sem-peer'), 'mutex-hold', shm.name]);
    // The child locks only when we do not hold it; it reports whether its own predecessor died.
    assert.equal(await firstLine(child), 'locked false');
    assert.equal(i32[17], 1, 'the owner left its data dirty');
    const waiting = m.lock({ timeout: 10_000 });
    child.kill('SIGKILL');
    assert.equal((await exited(child)).signal, 'SIGKILL');
    assert.deepEqual(await waiting, { ownerDied: true }, `round ${i}`);
    // Recovery: the counter the lock protects is consistent again before the unlock.
    assert.equal(i32[16], i + 1);
    i32[17] = 0;
    m.unlock();
  }
  assert.deepEqual(m.tryLock(), { ownerDied: false }, 'consistent again');
  m.unlock();
});

test('a lock taken after the owner died without anyone waiting also reports ownerDied (tryLock)', async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  const child = startPeer(t, process.execPath, [childScript('sem-peer'), 'mutex-hold', shm.name]);
  assert.equal(await firstLine(child), 'locked false');
  assert.equal(m.tryLock(), null);
  child.kill('SIGKILL');
  await exited(child);
  assert.deepEqual(m.tryLock(), { ownerDied: true });
  m.unlock();
});

test('lock() times out, aborts, and rejects with ERR_IPC_CLOSED on close; the threads are released', async (t) => {
  const shm = await segment(t);
  const owner = Mutex.inSharedMemory(shm, 0, { init: true });
  const m = Mutex.inSharedMemory(shm, 0);
  t.after(() => (owner.close(), m.close()));
  await owner.lock();
  await assert.rejects(m.lock({ timeout: 30 }), { code: 'ERR_IPC_TIMEOUT' });
  const ac = new AbortController();
  const p = m.lock({ signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, { name: 'AbortError' });
  const q = m.lock();
  setTimeout(() => m.close(), 10);
  await assert.rejects(q, { code: 'ERR_IPC_CLOSED' });
  assert.equal(native.waiterStats().pending, 0);
  assert.throws(() => m.tryLock(), { code: 'ERR_IPC_CLOSED' });
  // close() of the owner unlocks: a new locker gets it at once.
  owner.close();
  const again = Mutex.inSharedMemory(shm, 0);
  assert.deepEqual(again.tryLock(), { ownerDied: false });
  again.close();
});

test('attaching where no robust shared mutex was initialised is ERR_IPC_CORRUPT; offsets are checked', async (t) => {
  const shm = await segment(t, 128);
  assert.throws(() => Mutex.inSharedMemory(shm, 0), { code: 'ERR_IPC_CORRUPT' });
  assert.throws(() => Mutex.inSharedMemory(shm, 4, { init: true }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => Mutex.inSharedMemory(shm, 128 - Mutex.SIZE + 8, { init: true }), { code: 'ERR_OUT_OF_RANGE' });
  const m = Mutex.inSharedMemory(shm, 128 - Mutex.SIZE, { init: true });
  assert.deepEqual(m.tryLock(), { ownerDied: false });
  m.close();
});

test('interoperates with a C peer speaking the documented layout, in both directions (the FUTEX_WAITERS protocol)', { skip: missing('cc') }, async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  const bin = await compileC('shm_mutex');
  // C holds, we wait in lock(): the C unlock must wake our waiter thread.
  const holder = startPeer(t, bin, ['hold', shm.name]);
  assert.equal(await firstLine(holder), 'locked 0');
  const locking = m.lock({ timeout: 10_000 });
  await waitersMarked(shm); // our waiter thread is about to sleep: the wake must come from the C unlock
  holder.stdin!.end('go\n');
  assert.deepEqual(await locking, { ownerDied: false });
  assert.equal((await exited(holder)).code, 0);
  // We hold, two C processes sleep on the futex: our unlock must wake one, and its unlock the other.
  const takers = [0, 1].map(() => startPeer(t, bin, ['take', shm.name]));
  for (const c of takers) assert.equal(await firstLine(c), 'waiting');
  await waitersMarked(shm); // a taker is about to sleep
  m.unlock();
  for (const c of takers) assert.equal((await exited(c)).code, 0);
  assert.deepEqual(m.tryLock(), { ownerDied: false });
  m.unlock();
});

test('a C holder SIGKILLed is released by the kernel through its own robust list: ownerDied', { skip: missing('cc') }, async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  const bin = await compileC('shm_mutex');
  const holder = startPeer(t, bin, ['hold', shm.name]);
  assert.equal(await firstLine(holder), 'locked 0');
  const locking = m.lock({ timeout: 10_000 });
  holder.kill('SIGKILL');
  assert.equal((await exited(holder)).signal, 'SIGKILL');
  assert.deepEqual(await locking, { ownerDied: true });
  m.unlock();
  // And the other way: a C locker after one of ours was SIGKILLed holding it is told so too.
  const child = startPeer(t, process.execPath, [childScript('sem-peer'), 'mutex-hold', shm.name]);
  assert.equal(await firstLine(child), 'locked false');
  child.kill('SIGKILL');
  await exited(child);
  const taker = startPeer(t, bin, ['take', shm.name]);
  assert.equal(await output(taker), 'waiting\ngot 1\n');
  assert.equal((await exited(taker)).code, 0);
});

for (const round of ['canary', 'wild'] as const) {
  test(`a peer rewriting the robust-list links of held mutexes (${round}) cannot make unlock write through them or crash`, async (t) => {
    const shm = await segment(t);
    Mutex.inSharedMemory(shm, 0, { init: true }).close();
    Mutex.inSharedMemory(shm, 64, { init: true }).close();
    const r = await exec(process.execPath, [childScript('mutex-hostile'), shm.name, round]);
    assert.equal(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    // The attack found the links (the kernel's ABI puts addresses there) and rewrote them...
    assert.ok(out.rewritten >= 1 && out.learntBase, r.stdout);
    // ...and unlocking wrote nothing through them, and both mutexes still work.
    assert.deepEqual({ canaryIntact: out.canaryIntact, works: out.works }, { canaryIntact: true, works: true });
  });
}

test('a worker that ends holding the lock releases it: the next locker is told ownerDied', async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  const worker = new Worker(new URL('./fixtures/mutex-worker.js', import.meta.url), { workerData: { name: shm.name } });
  const exitedWorker = new Promise((resolve) => worker.once('exit', resolve));
  t.after(() => worker.terminate());
  const [said] = await new Promise<unknown[]>((resolve, reject) => {
    worker.once('message', (msg) => resolve([msg]));
    worker.once('error', reject);
  });
  assert.deepEqual(said, { ownerDied: false });
  // Whether the worker is still tearing down or gone, lock() waits for the release (no racy tryLock).
  assert.deepEqual(await m.lock({ timeout: 10_000 }), { ownerDied: true });
  assert.equal(new Int32Array(shm.buffer)[16], 1);
  m.unlock();
  await exitedWorker;
});

test('a worker that is the only user of the addon ends holding the lock: its process survives, the lock is released', async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  // The child's main thread never loads ipckit: the addon is loaded, and then left, by the worker alone.
  const code = `
    import { Worker } from 'node:worker_threads';
    const w = new Worker(process.argv[1], { workerData: { name: process.argv[2] }, execArgv: [] });
    w.on('message', (m) => console.log(JSON.stringify(m)));
    w.on('exit', (c) => console.log('exit ' + c));`;
  const r = await exec(process.execPath, ['--input-type=module', '-e', code, childScript('mutex-worker'), shm.name]);
  assert.deepEqual({ code: r.code, signal: r.signal, stdout: r.stdout }, { code: 0, signal: null, stdout: '{"ownerDied":false}\nexit 0\n' }, r.stderr);
  assert.deepEqual(await m.lock({ timeout: 10_000 }), { ownerDied: true });
  m.unlock();
});

test('a lock word overwritten with an impossible state rejects lock() with ERR_IPC_CORRUPT (no spin, no hang)', async (t) => {
  const shm = await segment(t);
  const m = Mutex.inSharedMemory(shm, 0, { init: true });
  t.after(() => m.close());
  const word = new Int32Array(shm.buffer, 0, 1);
  Atomics.store(word, 0, 0x80000000 | 0); // FUTEX_WAITERS without an owner
  assert.equal(m.tryLock(), null);
  await assert.rejects(m.lock({ timeout: 5000 }), { code: 'ERR_IPC_CORRUPT' });
  Atomics.store(word, 0, 0);
  assert.deepEqual(m.tryLock(), { ownerDied: false });
  m.unlock();
});
