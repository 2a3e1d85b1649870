// The one openOrCreate loop (src/internal/open-or-create.ts) every named object's openOrCreate runs:
// exercised here with scripted results, because the race it handles (the name removed between our
// create and our open) cannot be made to happen on demand with a real object.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { OPEN_OR_CREATE_TRIES, openOrCreate } from '../src/internal/open-or-create.js';

const { EEXIST, ENOENT, EACCES } = os.constants.errno;

test('openOrCreate creates again when the name was removed between its create and its open', () => {
  const made = { created: true };
  const creates = [-EEXIST, -EEXIST];
  const opens = [-ENOENT];
  let calls = 0;
  const got = openOrCreate(
    () => (calls++, creates.shift() ?? made),
    () => opens.shift() ?? { created: false },
    'sem_open',
    '/x',
  );
  assert.deepEqual(got, { created: false }, 'the second round found the name and opened it');
  assert.equal(calls, 2);
});

test('openOrCreate gives up with ENOENT after a bounded number of rounds (a peer creating and removing the name forever)', () => {
  let rounds = 0;
  assert.throws(
    () =>
      openOrCreate(
        () => (rounds++, -EEXIST),
        () => -ENOENT,
        'shm_open',
        '/x',
      ),
    { code: 'ENOENT', syscall: 'shm_open', path: '/x' },
  );
  assert.equal(rounds, OPEN_OR_CREATE_TRIES);
});

test('openOrCreate throws any other failure of the create or the open as a system error', () => {
  assert.throws(() => openOrCreate(() => -EACCES, () => ({}), 'mq_open', '/q'), { code: 'EACCES', syscall: 'mq_open', path: '/q' });
  assert.throws(() => openOrCreate(() => -EEXIST, () => -EACCES, 'semget'), { code: 'EACCES', syscall: 'semget' });
});
