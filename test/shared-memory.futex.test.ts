// The cross-process futex: SharedMemory.wait / notify between processes, never blocking the event loop,
// abortable, with Atomics.wait's results, and safe against the mapping going away under a wait.
import test from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { SharedMemory } from '../src/index.js';
import { native } from '../src/native.js';
import { childScript, firstLine, exited, startPeer, uniqueName } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function segment(t: test.TestContext, size = 4096): Promise<SharedMemory> {
  const name = uniqueName('futex');
  t.after(() => SharedMemory.unlink(name));
  const shm = await SharedMemory.create(name, { size });
  t.after(() => shm.close());
  return shm;
}

test('wait resolves not-equal at once when the value differs, timed-out after the timeout', async (t) => {
  const shm = await segment(t);
  const i32 = new Int32Array(shm.buffer);
  i32[3] = 5;
  assert.equal(await SharedMemory.wait(i32, 3, 4), 'not-equal');
  assert.equal(await SharedMemory.wait(i32, 3, 5, { timeout: 0 }), 'timed-out');
  const t0 = performance.now();
  assert.equal(await SharedMemory.wait(i32, 3, 5, { timeout: 50 }), 'timed-out');
  const took = performance.now() - t0;
  assert.ok(took >= 45 && took < 2000, `took ${took} ms`);
  assert.equal(native.waiterStats().pending, 0);
});

test('a child process notify wakes a waiter here, and the event loop ran meanwhile', async (t) => {
  const shm = await segment(t);
  const i32 = new Int32Array(shm.buffer);
  const waiting = SharedMemory.wait(i32, 0, 0, { timeout: 10_000 });
  let ticks = 0;
  const iv = setInterval(() => ticks++, 1);
  const r = await exec(process.execPath, [childScript('shm-peer'), 'notify', shm.name]);
  assert.equal(await waiting, 'ok');
  clearInterval(iv);
  assert.equal(r.stdout.trim(), '1', 'the child woke exactly one waiter: ours');
  assert.equal(Atomics.load(i32, 0), 1);
  assert.ok(ticks > 0, 'timers ran while the wait was pending');
});

test('notify here wakes a waiting child process', async (t) => {
  const shm = await segment(t);
  const i32 = new Int32Array(shm.buffer);
  const child = startPeer(t, process.execPath, [childScript('shm-peer'), 'wait', shm.name]);
  const lines: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => lines.push(...d.trim().split('\n')));
  await firstLine(child).catch(() => undefined);
  // The child printed "ready" just before entering the wait: notify until the wake lands.
  const deadline = Date.now() + 10_000;
  let woken = 0;
  Atomics.store(i32, 0, 0);
  while (woken === 0 && Date.now() < deadline) {
    woken = SharedMemory.notify(i32, 0, 1);
    if (woken === 0) await new Promise((r) => setTimeout(r, 2));
  }
  assert.equal(woken, 1);
  assert.equal((await exited(child)).code, 0);
  assert.ok(lines.includes('ok'), lines.join(','));
});

test('1000 ping-pongs through futex waits in both directions lose no wake-up', async (t) => {
  const shm = await segment(t);
  const i32 = new Int32Array(shm.buffer);
  const n = 1000;
  const child = exec(process.execPath, [childScript('shm-peer'), 'pingpong', shm.name, String(n)]);
  for (let i = 0; i < n; i++) {
    Atomics.store(i32, 0, 2 * i + 1);
    SharedMemory.notify(i32, 0);
    while (Atomics.load(i32, 0) !== 2 * i + 2) await SharedMemory.wait(i32, 0, 2 * i + 1, { timeout: 10_000 });
  }
  const r = await child;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done');
});

test('an abort rejects with AbortError and releases the waiter thread', async (t) => {
  const shm = await segment(t);
  const i32 = new Int32Array(shm.buffer);
  const ac = new AbortController();
  const p = SharedMemory.wait(i32, 0, 0, { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, { name: 'AbortError', code: 'ABORT_ERR' });
  assert.equal(native.waiterStats().pending, 0);
  await assert.rejects(SharedMemory.wait(i32, 0, 0, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('a pending wait keeps the mapping alive after close and GC; notify still reaches it', async (t) => {
  const shm = await segment(t);
  let i32: Int32Array | undefined = new Int32Array(shm.buffer);
  // Another mapping of the same object: the kernel keys shared futexes by (inode, offset).
  await using other = await SharedMemory.open(shm.name);
  const waiting = SharedMemory.wait(i32, 1, 0, { timeout: 10_000 });
  shm.close();
  i32 = undefined;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
  const view = new Int32Array(other.buffer);
  let woken = 0;
  const deadline = Date.now() + 5000;
  while (woken === 0 && Date.now() < deadline) {
    woken = SharedMemory.notify(view, 1);
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(woken, 1);
  assert.equal(await waiting, 'ok');
});

test('wait and notify refuse what is not a word of a SharedArrayBuffer', async (t) => {
  const shm = await segment(t, 64);
  const i32 = new Int32Array(shm.buffer);
  const cases: [unknown, unknown, string][] = [
    [new Int32Array(4), 0, 'ERR_INVALID_ARG_TYPE'],
    [new Int32Array(shm.arrayBuffer), 0, 'ERR_INVALID_ARG_TYPE'],
    [new Uint32Array(shm.buffer), 0, 'ERR_INVALID_ARG_TYPE'],
    [i32, 16, 'ERR_OUT_OF_RANGE'],
    [i32, -1, 'ERR_OUT_OF_RANGE'],
    [i32, 1.5, 'ERR_OUT_OF_RANGE'],
    [i32, '0', 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [arr, index, code] of cases) {
    await assert.rejects(SharedMemory.wait(arr as Int32Array, index as number, 0), { code });
    assert.throws(() => SharedMemory.notify(arr as Int32Array, index as number), { code });
  }
  await assert.rejects(SharedMemory.wait(i32, 0, 2 ** 32), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SharedMemory.wait(i32, 0, 0, { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => SharedMemory.notify(i32, 0, -1), { code: 'ERR_OUT_OF_RANGE' });
  // A view at an offset inside the buffer addresses the right word.
  const sub = new Int32Array(shm.buffer, 8, 2);
  const p = SharedMemory.wait(sub, 1, 0, { timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(SharedMemory.notify(i32, 2), 0, 'word 2 has no waiter');
  i32[3] = 1;
  let woken = 0;
  while (woken === 0) {
    woken = SharedMemory.notify(i32, 3);
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(await p, 'ok');
});

test('wait works on any SharedArrayBuffer, not only a mapped object', async () => {
  const i32 = new Int32Array(new SharedArrayBuffer(16));
  const p = SharedMemory.wait(i32, 2, 0, { timeout: 10_000 });
  let woken = 0;
  while (woken === 0) {
    woken = SharedMemory.notify(i32, 2);
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.equal(await p, 'ok');
});
