// Every program in examples/ runs as a user would run it (`node examples/NAME.mjs`, importing 'ipckit'
// through the package's self-reference to dist/), exits 0 within a bound, prints what its comment
// promises, and leaves no kernel object behind. Each is given the name of its object, so that the test
// can look for it afterwards.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MessageQueue, SharedMemory } from '../src/index.js';
import { missing, mqExists, root, run, tmpDir, uniqueName } from './helpers/index.js';

const EXAMPLE_TIMEOUT_MS = 60_000;

function example(name: string, args: string[]) {
  return run(process.execPath, [path.join(root, 'examples', name), ...args], { cwd: root, timeout: EXAMPLE_TIMEOUT_MS });
}

/** Entries of /dev/shm made for the POSIX name (the segment, and an shm: ring's doorbells beside it). */
function inDevShm(name: string): string[] {
  return fs.readdirSync('/dev/shm').filter((f) => f === name.slice(1) || f.startsWith(name.slice(1) + '.'));
}

test('every file in examples/ is run by this test', () => {
  const programs = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.mjs')).sort();
  assert.deepEqual(programs, ['job-queue.mjs', 'python-peer.mjs', 'request-reply.mjs', 'ring.mjs', 'worker-pool.mjs']);
});

test('examples/job-queue.mjs: workers take the urgent jobs first; the queue is removed', async (t) => {
  const name = uniqueName('example-jobs');
  t.after(() => MessageQueue.unlink(name));
  const r = await example('job-queue.mjs', [name]);
  assert.equal(r.code, 0, r.stderr);
  const priorities = [...r.stdout.matchAll(/^worker \d: .* \(priority (\d+)\)$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(priorities, [9, 9, 1, 1, 1], r.stdout);
  assert.equal(mqExists(name), false, 'the queue is gone');
});

test('examples/worker-pool.mjs: no update lost under the mutex; a dead owner is reported; the segment is removed', async (t) => {
  const name = uniqueName('example-pool');
  t.after(() => SharedMemory.unlink(name));
  const r = await example('worker-pool.mjs', [name]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /counter = 600$/m);
  assert.match(r.stdout, /killed: SIGKILL$/m);
  assert.match(r.stdout, /ownerDied = true$/m);
  assert.deepEqual(inDevShm(name), []);
});

test('examples/request-reply.mjs: every request gets its reply; the socket file is removed', async (t) => {
  const socket = path.join(tmpDir(t), 'rpc.sock');
  const r = await example('request-reply.mjs', [socket]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /add\(2, 3\) = 5$/m);
  assert.match(r.stdout, /mul\(6, 7\) = 42$/m);
  assert.match(r.stdout, /pow\(2, 10\) = unknown op pow$/m);
  assert.equal(fs.existsSync(socket), false, 'the socket file is gone');
});

test('examples/ring.mjs: the stream arrives whole and round trips complete; the socket file is removed', async (t) => {
  const socket = path.join(tmpDir(t), 'ring.sock');
  const r = await example('ring.mjs', ['2000', socket]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^stream: 2000 x 64 B in /m);
  assert.match(r.stdout, /^round trips: 1000, mean /m);
  assert.equal(fs.existsSync(socket), false, 'the socket file is gone');
});

test('examples/python-peer.mjs: a Python child answers over the shared-memory ring and exits', { skip: missing('python3') }, async () => {
  // The ring lives in a sealed memfd: no name anywhere, so there is nothing to look for afterwards.
  const r = await example('python-peer.mjs', []);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^python: batch 0: mean 3\.875, median 3\.5$/m);
  assert.match(r.stdout, /^python: batch 1: mean 4\.667, median 4\.5$/m);
  assert.match(r.stdout, /^python3 exited 0$/m);
});
