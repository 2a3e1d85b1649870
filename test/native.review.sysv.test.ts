// Review regressions of the System V natives: a size the caller passes must never become the size of a
// kernel write or of a view. The caller's size came from IPC_STAT when its object was opened; System V
// ids are reused (and root can pick the next one, kernel.sem_next_id), so by the time of a later call
// the id may name a different, larger or smaller, object.
import test from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/native.js';
import { errno } from '../src/errors.js';
import { childScript, run } from './helpers/index.js';

test('semctlGetAll sizes its buffer from the set itself, not from a stale count (no heap overflow)', async (t) => {
  const id = native.semget(native.mqConstants.IPC_PRIVATE, 4000, native.mqConstants.IPC_CREAT | 0o600);
  assert.ok(id >= 0, `semget: ${id}`);
  t.after(() => native.semctlRemove(id));
  for (let i = 0; i < 4000; i++) assert.equal(native.semctlSetVal(id, i, (i % 7) + 1), 0);
  const r = await run(process.execPath, [childScript('review-semctl-getall'), String(id)], { timeout: 20_000 });
  assert.equal(r.signal, null, `the child died of ${r.signal}: ${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  let sum = 0;
  for (let i = 0; i < 4000; i++) sum += (i % 7) + 1;
  assert.equal(r.stdout.trim(), `4000 ${sum}`, 'every value of the set, as the kernel wrote them');
});

test('shmat refuses views larger than the segment (EINVAL) and leaves no attachment behind', (t) => {
  const id = native.shmget(native.mqConstants.IPC_PRIVATE, 4096, native.mqConstants.IPC_CREAT | 0o600);
  assert.ok(id >= 0, `shmget: ${id}`);
  t.after(() => native.shmctlRemove(id));
  // Views over 64 KiB of a 4 KiB attachment would reach past it: SIGSEGV, or another mapping's bytes.
  const rc = native.shmat(id, 65536);
  assert.equal(typeof rc === 'number' ? rc : `views of ${rc[0].byteLength} bytes`, errno('EINVAL'));
  const st = native.shmctlStat(id);
  assert.ok(typeof st !== 'number');
  assert.equal(st.attaches, 0, 'the refused attachment was detached');
  // The segment's own size, and less, still work.
  const views = native.shmat(id, 4096);
  assert.ok(typeof views !== 'number');
  assert.equal(views[0].byteLength, 4096);
});
