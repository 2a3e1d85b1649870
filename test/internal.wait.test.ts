// The one helper every wait of ipckit gives up through (src/internal/wait.ts: arm, waitUntil, bounded,
// waitOnThread, Waits): abort before and during, timeout, close, and that a settled wait leaves no abort
// listener on the caller's signal and no timer behind. Then the waits whose deadline goes to the kernel
// (Semaphore.wait, SystemVSemaphoreSet.op, Mutex.lock): they time out with no JS timer armed.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { Mutex, Semaphore, SharedMemory, SystemVSemaphoreSet } from '../src/index.js';
import { closedError } from '../src/errors.js';
import { native } from '../src/native.js';
import { Waits, Waker, arm, bounded, onAbort, waitOnThread, waitUntil } from '../src/internal/wait.js';
import { uniqueKey, uniqueName } from './helpers/index.js';

/** Active timers of this process (a timer left armed by a settled wait shows here). */
const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const listeners = (s: AbortSignal): number => getEventListeners(s, 'abort').length;

/** A wait that only its owner settles, with a count of its cleanups. */
function pending<T>(opts: { signal?: AbortSignal; timeout?: number }, what = 'a test wait') {
  const box = { resolve: (_: T) => {}, reject: (_: Error) => {}, cleanups: 0, started: false };
  const p = waitUntil<T>(opts, what, (resolve, reject) => {
    box.started = true;
    box.resolve = resolve;
    box.reject = reject;
    return () => void box.cleanups++;
  });
  return { p, box };
}

test('waitUntil: a signal aborted before the wait rejects with AbortError (the reason as cause) and never starts it', async () => {
  const ac = new AbortController();
  ac.abort(new Error('why'));
  const { p, box } = pending({ signal: ac.signal, timeout: 10_000 });
  const before = timers();
  await assert.rejects(p, (err: Error) => err.name === 'AbortError' && (err as { code?: string }).code === 'ABORT_ERR' && (err.cause as Error).message === 'why');
  assert.equal(box.started, false);
  assert.equal(listeners(ac.signal), 0);
  assert.equal(timers(), before, 'no timer was armed');
});

test('waitUntil: an abort during the wait rejects, runs the cleanup once, and removes the listener and the timer', async () => {
  const ac = new AbortController();
  const before = timers();
  const { p, box } = pending({ signal: ac.signal, timeout: 10_000 });
  assert.equal(listeners(ac.signal), 1);
  assert.equal(timers(), before + 1);
  ac.abort('stop');
  await assert.rejects(p, (err: Error) => err.name === 'AbortError' && err.cause === 'stop');
  assert.equal(box.cleanups, 1);
  assert.equal(listeners(ac.signal), 0);
  assert.equal(timers(), before, 'the timer was cleared');
  box.resolve(1); // too late: nothing happens
  assert.equal(box.cleanups, 1);
});

test('waitUntil: a timeout rejects with ERR_IPC_TIMEOUT naming the wait, and removes the listener', async () => {
  const ac = new AbortController();
  const { p, box } = pending({ signal: ac.signal, timeout: 5 }, 'receive on X');
  await assert.rejects(p, { code: 'ERR_IPC_TIMEOUT', message: 'receive on X timed out after 5 ms', timeout: 5 });
  assert.equal(box.cleanups, 1);
  assert.equal(listeners(ac.signal), 0);
  ac.abort(); // after the wait settled: no effect, no throw
});

test('waitUntil: the owner\'s close (reject with ERR_IPC_CLOSED) and a wake-up (resolve) settle once and disarm', async () => {
  const ac = new AbortController();
  const before = timers();
  const a = pending<number>({ signal: ac.signal, timeout: 10_000 });
  const b = pending<number>({ signal: ac.signal, timeout: 10_000 });
  assert.equal(listeners(ac.signal), 2);
  a.box.reject(closedError('thing', 'wait'));
  b.box.resolve(7);
  b.box.reject(new Error('second settle ignored'));
  await assert.rejects(a.p, { code: 'ERR_IPC_CLOSED', message: 'thing is closed (wait)' });
  assert.equal(await b.p, 7);
  assert.deepEqual([a.box.cleanups, b.box.cleanups], [1, 1]);
  assert.equal(listeners(ac.signal), 0);
  assert.equal(timers(), before);
});

test('waitUntil: a start that throws rejects with its error and disarms; one that settles at once still cleans up', async () => {
  const ac = new AbortController();
  const before = timers();
  await assert.rejects(
    waitUntil({ signal: ac.signal, timeout: 10_000 }, 'x', () => {
      throw new RangeError('bad');
    }),
    RangeError,
  );
  let cleaned = 0;
  assert.equal(await waitUntil<string>({ signal: ac.signal, timeout: 10_000 }, 'x', (resolve) => (resolve('now'), () => void cleaned++)), 'now');
  assert.equal(cleaned, 1);
  assert.equal(listeners(ac.signal), 0);
  assert.equal(timers(), before);
});

test('arm: gives up at most once, disarm is idempotent; onAbort removes its listener', async () => {
  const ac = new AbortController();
  const seen: string[] = [];
  const before = timers();
  const disarm = arm({ signal: ac.signal, timeout: 10_000 }, 'x', (err) => seen.push(err.name));
  assert.deepEqual([timers(), listeners(ac.signal)], [before + 1, 1]);
  ac.abort();
  assert.deepEqual([timers(), listeners(ac.signal)], [before, 0], 'giving up on the abort cleared the timer');
  disarm();
  assert.deepEqual(seen, ['AbortError']);
  // A timeout gives up once and removes the listener; a disarm before it fires leaves nothing either.
  const other = new AbortController();
  await new Promise<void>((resolve) => arm({ signal: other.signal, timeout: 1 }, 'y', (err) => (seen.push((err as { code?: string }).code!), resolve())));
  assert.equal(listeners(other.signal), 0);
  arm({ signal: other.signal, timeout: 10_000 }, 'z', () => seen.push('never'))();
  assert.deepEqual([timers(), listeners(other.signal)], [before, 0]);
  other.abort();
  assert.deepEqual(seen, ['AbortError', 'ERR_IPC_TIMEOUT']);
  // Already aborted: gives up at once, before arm returns, with nothing left armed.
  arm({ signal: ac.signal, timeout: 10_000 }, 'x', (err) => seen.push(err.name));
  assert.deepEqual(seen, ['AbortError', 'ERR_IPC_TIMEOUT', 'AbortError']);
  assert.equal(timers(), before);
  assert.equal(listeners(ac.signal), 0);

  const third = new AbortController();
  let fired = 0;
  const stop = onAbort(third.signal, () => fired++);
  assert.equal(listeners(third.signal), 1);
  stop();
  stop();
  third.abort();
  assert.equal(fired, 0);
  assert.equal(listeners(third.signal), 0);
});

test('bounded: passes the promise through (the same one without signal or timeout), gives up on the signal', async () => {
  const p = Promise.resolve(3);
  assert.equal(bounded(p, {}, 'x'), p);
  const ac = new AbortController();
  assert.equal(await bounded(p, { signal: ac.signal, timeout: 10_000 }, 'x'), 3);
  await assert.rejects(bounded(Promise.reject(new TypeError('no')), { signal: ac.signal }, 'x'), TypeError);
  const never = new Promise<never>(() => {});
  const q = bounded(never, { signal: ac.signal }, 'x');
  ac.abort();
  await assert.rejects(q, { name: 'AbortError' });
  assert.equal(listeners(ac.signal), 0);
});

test('Waker: a wait settled by wake() leaves no listener; one given up lets the next wait in', async () => {
  const w = new Waker('inbox');
  const ac = new AbortController();
  const p = w.wait({ signal: ac.signal, timeout: 10_000 });
  await assert.rejects(w.wait(), { code: 'ERR_IPC_UNSUPPORTED' });
  w.wake();
  await p;
  assert.equal(listeners(ac.signal), 0);
  await assert.rejects(w.wait({ timeout: 1 }), { code: 'ERR_IPC_TIMEOUT', message: 'inbox timed out after 1 ms' });
  assert.equal(w.waiting, false);
  const q = w.wait();
  w.wake(new Error('failed'));
  await assert.rejects(q, /failed/);
});

test('waitOnThread: a starter that returns -errno or no id rejects at once (the promise can never hang)', async () => {
  await assert.rejects(waitOnThread(() => -9, { timeout: 10_000 }, 'sem_wait'), { code: 'EBADF', errno: -9, syscall: 'sem_wait' });
  await assert.rejects(waitOnThread(() => 0, {}, 'futex'), TypeError);
  // A real starter whose handle is gone: the mutex's, as the semaphore's and futex's in their tests.
  const name = uniqueName('wait');
  const shm = await SharedMemory.create(name, { size: 4096 });
  try {
    const h = native.mutexInit(shm.buffer, 0);
    assert.notEqual(typeof h, 'number');
    native.mutexClose(h as never);
    await assert.rejects(waitOnThread((cb) => native.mutexWaitFree(h as never, -1, cb), { timeout: 10_000 }, 'Mutex.lock'), { code: 'EBADF' });
  } finally {
    shm.close();
    SharedMemory.unlink(name);
  }
});

test('waitOnThread: abort and timeout interrupt the thread; the listener and the timer go when it settles', async () => {
  const ac = new AbortController();
  const before = timers();
  const p = waitOnThread((cb) => native.waiterSleep(60_000, cb), { signal: ac.signal, timeout: 60_000 }, 'sleep');
  assert.equal(listeners(ac.signal), 1);
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  assert.equal(listeners(ac.signal), 0);
  assert.equal(timers(), before);
  await assert.rejects(waitOnThread((cb) => native.waiterSleep(60_000, cb), { timeout: 5 }, 'sleep'), { code: 'ERR_IPC_TIMEOUT', message: 'sleep timed out after 5 ms' });
  const done = new AbortController();
  assert.equal((await waitOnThread((cb) => native.waiterSleep(1, cb), { signal: done.signal, timeout: 60_000 })).rc, 0);
  assert.equal(listeners(done.signal), 0);
  assert.equal(timers(), before);
  assert.equal(native.waiterStats().pending, 0);
});

test('Waits: close() maps its aborts to ERR_IPC_CLOSED; with { removes }, EIDRM/EINVAL after close too', async () => {
  const plain = new Waits('Thing');
  const removes = new Waits('Set 1', { removes: true });
  const eidrm = Object.assign(new Error('gone'), { code: 'EIDRM' });
  assert.throws(() => removes.rethrow(eidrm, 'op'), { code: 'EIDRM' }, 'not closed yet: the error as it is');
  const p = waitOnThread((cb) => native.waiterSleep(60_000, cb), plain.options({ timeout: 60_000 }), 'sleep');
  plain.close();
  removes.close();
  await assert.rejects(p.catch((err) => plain.rethrow(err, 'wait')), { code: 'ERR_IPC_CLOSED', message: 'Thing is closed (wait)' });
  assert.throws(() => removes.rethrow(eidrm, 'op'), { code: 'ERR_IPC_CLOSED', message: 'Set 1 is closed (op)' });
  assert.throws(() => plain.rethrow(eidrm, 'op'), { code: 'EIDRM' });
});

// ---- deadlines in the kernel ----------------------------------------------------------------------

test('Semaphore.wait, SystemVSemaphoreSet.op and Mutex.lock time out in the kernel: no JS timer while they wait', async (t) => {
  const semName = uniqueName('wait');
  const sem = await Semaphore.create(semName, { value: 0 });
  t.after(() => sem.close());
  const set = await SystemVSemaphoreSet.create(uniqueKey(), { count: 1 });
  t.after(() => (SystemVSemaphoreSet.removeId(set.id), set.close()));
  const shmName = uniqueName('wait');
  const shm = await SharedMemory.create(shmName, { size: 4096 });
  t.after(() => (shm.close(), SharedMemory.unlink(shmName)));
  const owner = Mutex.inSharedMemory(shm, 0, { init: true });
  const m = Mutex.inSharedMemory(shm, 0);
  t.after(() => (m.close(), owner.close()));
  await owner.lock();

  const before = timers();
  const waits: [Promise<unknown>, string][] = [
    [sem.wait({ timeout: 20 }), 'Semaphore.wait timed out after 20 ms'],
    [set.op([{ index: 0, delta: -1 }], { timeout: 20 }), 'SystemVSemaphoreSet.op timed out after 20 ms'],
    [m.lock({ timeout: 20 }), 'Mutex.lock timed out after 20 ms'],
  ];
  assert.equal(timers(), before, 'the deadlines went to the kernel, not to a timer');
  await Promise.all(waits.map(([p, message]) => assert.rejects(p, { code: 'ERR_IPC_TIMEOUT', message, timeout: 20 })));
  assert.equal(native.waiterStats().pending, 0);

  // Abort still cancels the thread, and a wait that can be served is served before its deadline.
  const ac = new AbortController();
  const aborted = sem.wait({ signal: ac.signal, timeout: 60_000 });
  ac.abort();
  await assert.rejects(aborted, { name: 'AbortError' });
  const served = sem.wait({ timeout: 60_000 });
  sem.post();
  await served;
  const op = set.op([{ index: 0, delta: -1 }], { timeout: 60_000 });
  await set.op([{ index: 0, delta: 1 }]);
  await op;
  assert.equal(native.waiterStats().pending, 0);
  owner.unlock();
});
