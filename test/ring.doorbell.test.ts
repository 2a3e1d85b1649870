// Doorbells (docs/ring-format.md, "Doorbells"): two Node sides of an shm: segment agree on FIFOs next to
// the segment and park in uv_poll on them (sleep flag 2) instead of the futex on a waiter thread (flag 1).
// Both sides run in this process here (the fds and the event loop are what is tested; the conformance
// suite runs the same transport across processes, with a SIGKILLed peer).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRingPair, openRingPair, type RingPair } from '../src/channel/shm.js';
import { OFF_CONSUMER_SLEEPING } from '../src/channel/ring.js';
import { uniqueName } from './helpers/index.js';

const SEGMENT_HEADER = 64;
const bellFiles = (name: string) => fs.readdirSync('/dev/shm').filter((f) => f.startsWith(`${name.slice(1)}.`));

function closePair(p: RingPair): void {
  p.tx.close();
  p.rx.close();
  p.shm.close();
}

/** The sleep flag of the listener's incoming ring (ring 0), once it is non-zero (bounded wait). */
async function parkedFlag(p: RingPair): Promise<number> {
  const i32 = new Int32Array(p.shm.buffer);
  const at = (SEGMENT_HEADER + OFF_CONSUMER_SLEEPING) >> 2;
  const deadline = performance.now() + 2000;
  while (Atomics.load(i32, at) === 0 && performance.now() < deadline) await new Promise((r) => setImmediate(r));
  return Atomics.load(i32, at);
}

test('both sides agree on doorbells: the FIFOs are unlinked once connected, a parked receive is rung awake', async (t) => {
  const name = uniqueName('bell');
  const l = await createRingPair(name, { capacity: 4096, spinMicros: 0, doorbell: true });
  t.after(() => closePair(l));
  assert.equal(bellFiles(name).length, 2, 'the listener made two FIFOs next to the segment');
  const c = await openRingPair(name, { spinMicros: 0, doorbell: true });
  t.after(() => closePair(c));
  assert.deepEqual(bellFiles(name), [], 'the connector unlinked them');
  assert.equal(new Int32Array(l.shm.buffer)[7], 1, 'the connector acknowledged (segment byte 28)');
  const got = l.rx.receive({ timeout: 5000 });
  assert.equal(await parkedFlag(l), 2, 'parked on the doorbell');
  assert.equal(c.tx.trySend(Buffer.from('ding')), true);
  assert.equal(String(await got), 'ding');
  // And the other way: the connector parks on its own bell.
  const back = c.rx.receive({ timeout: 5000 });
  await new Promise((r) => setImmediate(r));
  await l.tx.send(Buffer.from('dong'));
  assert.equal(String(await back), 'dong');
});

test('doorbell: false on the connector leaves both sides on the futex (flag 1), and works', async (t) => {
  const name = uniqueName('bell');
  const l = await createRingPair(name, { capacity: 4096, spinMicros: 0, doorbell: true });
  t.after(() => closePair(l));
  const c = await openRingPair(name, { spinMicros: 0, doorbell: false });
  t.after(() => closePair(c));
  assert.equal(new Int32Array(l.shm.buffer)[7], 0, 'no acknowledgement');
  const got = l.rx.receive({ timeout: 5000 });
  assert.equal(await parkedFlag(l), 1, 'parked on the futex');
  c.tx.trySend(Buffer.from('futex'));
  assert.equal(String(await got), 'futex');
  closePair(c);
  closePair(l);
  assert.deepEqual(bellFiles(name), [], 'the listener unlinked its unused FIFOs on close');
});

test('a listener closed before any peer came leaves nothing in /dev/shm; doorbell: false makes no FIFOs', async (t) => {
  const name = uniqueName('bell');
  const l = await createRingPair(name, { capacity: 4096, doorbell: true });
  t.after(() => closePair(l));
  assert.equal(bellFiles(name).length, 2);
  closePair(l);
  assert.deepEqual(bellFiles(name), []);
  const n = await createRingPair(name, { capacity: 4096, doorbell: false });
  t.after(() => closePair(n));
  assert.deepEqual(bellFiles(name), [], 'no FIFOs');
  assert.equal(fs.existsSync(`/dev/shm/${name.slice(1)}`), true);
});

test('a receive parked on the doorbell is aborted by its signal and times out on time', async (t) => {
  const name = uniqueName('bell');
  const l = await createRingPair(name, { capacity: 4096, spinMicros: 0, doorbell: true });
  t.after(() => closePair(l));
  const c = await openRingPair(name, { spinMicros: 0, doorbell: true });
  t.after(() => closePair(c));
  const ac = new AbortController();
  const p = l.rx.receive({ signal: ac.signal });
  assert.equal(await parkedFlag(l), 2);
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  await assert.rejects(l.rx.receive({ timeout: 50 }), { code: 'ERR_IPC_TIMEOUT' });
  c.tx.trySend(Buffer.from('still fine'));
  assert.equal(String(await l.rx.receive({ timeout: 5000 })), 'still fine');
});
