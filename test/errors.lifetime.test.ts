// The error model and the lifetime model every module shares.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IpcError, errnoException } from '../src/index.js';
import { childScript, run } from './helpers/index.js';

test('errnoException builds a Node-shaped system error from -errno', () => {
  const err = errnoException(-17, 'shm_open', '/x');
  assert.equal(err.code, 'EEXIST');
  assert.equal(err.errno, -17);
  assert.equal(err.syscall, 'shm_open');
  assert.equal(err.path, '/x');
  assert.equal(err.message, 'EEXIST: file already exists, shm_open \'/x\'');
  assert.equal(errnoException(-2, 'mq_open').message, 'ENOENT: no such file or directory, mq_open');
});

test('IpcError has a stable code, extra properties, and its own name', () => {
  const err = new IpcError('ERR_IPC_MESSAGE_TOO_LARGE', 'too big', { size: 10, limit: 5, name: 'ignored' });
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'IpcError');
  assert.equal(err.code, 'ERR_IPC_MESSAGE_TOO_LARGE');
  assert.equal(err.size, 10);
  assert.equal(err.limit, 5);
  assert.equal(new IpcError('ERR_IPC_TIMEOUT', 'late').name, 'TimeoutError');
});

test('an object dropped without close() is closed by the finaliser, with a warning naming it', async () => {
  const r = await run(process.execPath, ['--expose-gc', childScript('lifetime-forgotten')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /IPCKIT_UNCLOSED/);
  assert.match(r.stderr, /ipckit pipe reader \(fd \d+\) was garbage-collected without close\(\)/);
  const [before, after] = r.stdout.trim().split(' ').map(Number);
  assert.deepEqual([before, after], [2, 0], 'both ends of the forgotten pipe were closed');
});
