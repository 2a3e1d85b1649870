// Review regressions of waiter.cc: what happens to waits whose environment (a worker) goes away.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { native } from '../src/native.js';
import { waitOnThread } from '../src/internal/wait.js';
import { childScript } from './helpers/index.js';

/** Polls `cond` until it holds or `ms` pass (a bounded wait for a condition, not a sleep). */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

function worker(count: number, mode: 'terminate' | 'exit'): Worker {
  return new Worker(childScript('review-worker-wait'), { workerData: { count, mode } });
}

test('a terminated worker releases the state of every wait it had pending', async () => {
  const w = worker(8, 'terminate');
  await new Promise((resolve, reject) => w.once('message', resolve).once('error', reject));
  assert.equal(native.waiterStats().jobs, 8, 'the worker has 8 waits pending');
  await w.terminate();
  assert.ok(await until(() => native.waiterStats().jobs === 0, 5000), `jobs left: ${native.waiterStats().jobs}`);
});

test('waits orphaned while their threads are still starting are all interrupted (no thread sleeps on)', async () => {
  // A worker that exits at once tears down while its waits are queued, entering nanosleep, or in it. An
  // interrupt that lands just before a thread enters the call is lost; with the environment's loop gone,
  // nothing would send another, and that thread would sleep the full 10 minutes.
  for (let round = 0; round < 20; round++) {
    const w = worker(16, 'exit');
    await new Promise((resolve, reject) => w.once('exit', resolve).once('error', reject));
  }
  assert.ok(await until(() => native.waiterStats().jobs === 0, 5000), `waits still blocked: ${native.waiterStats().jobs}`);
  assert.ok(await until(() => native.waiterStats().idle === native.waiterStats().threads, 5000), 'every waiter thread is idle again');
});

test('a cancel never reaches the next wait on the same thread (no spurious ECANCELED or EINTR)', async () => {
  // The interrupt for a cancelled wait may still be pending in its thread when that thread takes the
  // next job; the next body then sees one EINTR, which it must retry because its own job is not
  // cancelled. Each round cancels a wait and at once reuses the freed thread for a short one.
  for (let i = 0; i < 300; i++) {
    const ac = new AbortController();
    const x = waitOnThread((cb) => native.waiterSleep(60_000, cb), { signal: ac.signal });
    if (i % 3 === 0) await new Promise(setImmediate);
    ac.abort();
    await assert.rejects(x, { name: 'AbortError' });
    const y = await waitOnThread((cb) => native.waiterSleep(1, cb));
    assert.equal(y.rc, 0, `round ${i}: the next wait completed normally`);
  }
  assert.equal(native.waiterStats().pending, 0);
});
