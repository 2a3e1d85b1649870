// The waiter machinery every blocking wait rests on: waits run on their own threads (never libuv's
// pool), are cancellable by AbortSignal and timeout, release their threads, and never hold the process.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { native } from '../src/native.js';
import { waitOnThread } from '../src/internal/wait.js';
import { childScript, run } from './helpers/index.js';

function sleepOnThread(ms: number, opts: { signal?: AbortSignal; timeout?: number } = {}) {
  return waitOnThread((cb) => native.waiterSleep(ms, cb), opts, 'sleep');
}

test('a wait on a waiter thread resolves with the call result', async () => {
  const r = await sleepOnThread(5);
  assert.equal(r.rc, 0);
});

test('64 concurrent waits leave the threadpool free, and aborting each releases its thread', async () => {
  const ac = new AbortController();
  setMaxListeners(64, ac.signal); // one signal for 64 waits is the point here, not a listener leak
  const waits = Array.from({ length: 64 }, () => sleepOnThread(60_000, { signal: ac.signal }));
  const settled = Promise.allSettled(waits);
  assert.equal(native.waiterStats().pending, 64);
  // libuv's pool has 4 threads: if the waits sat there, these fs calls would wait a minute.
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 16 }, () => fs.stat('/')));
  assert.ok(performance.now() - t0 < 1000, 'fs calls completed promptly while 64 waits were pending');
  ac.abort();
  const results = await settled;
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.equal((r as PromiseRejectedResult).reason.name, 'AbortError');
    assert.equal((r as PromiseRejectedResult).reason.code, 'ABORT_ERR');
  }
  assert.equal(native.waiterStats().pending, 0);
  // A thread marks itself idle just after it posts its result: allow it that moment.
  const deadline = performance.now() + 2000;
  while (native.waiterStats().idle < 64 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  assert.ok(native.waiterStats().idle >= 64, 'the threads are idle again, ready for reuse');
});

test('a timeout rejects with ERR_IPC_TIMEOUT and releases the thread', async () => {
  const t0 = performance.now();
  await assert.rejects(sleepOnThread(60_000, { timeout: 50 }), { code: 'ERR_IPC_TIMEOUT', name: 'TimeoutError' });
  assert.ok(performance.now() - t0 < 5000);
  assert.equal(native.waiterStats().pending, 0);
});

test('an already-aborted signal rejects without starting a wait', async () => {
  await assert.rejects(sleepOnThread(60_000, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(native.waiterStats().pending, 0);
});

test('cancelling 1000 waits in a row loses none of them (the kicker closes the signal race)', async () => {
  for (let i = 0; i < 1000; i++) {
    const ac = new AbortController();
    const p = sleepOnThread(60_000, { signal: ac.signal });
    if (i % 2) await new Promise(setImmediate);
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
  }
  assert.equal(native.waiterStats().pending, 0);
});

for (const [mode, out] of [
  ['pending', 'woke 0'],
  ['idle', 'woke'],
  ['blocked', 'exiting'],
] as const) {
  test(`process lifetime with a waiter: ${mode}`, async () => {
    const t0 = performance.now();
    const r = await run(process.execPath, [childScript('waiter-exit'), mode], { timeout: 20_000 });
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0, 'exited by itself (not killed by the 20 s timeout)');
    assert.equal(r.stdout.trim(), out);
    assert.ok(performance.now() - t0 < 10_000);
  });
}
