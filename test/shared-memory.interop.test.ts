// Interop with peers nobody here wrote: Python's multiprocessing.shared_memory and C shm_open/mmap
// programs see the same bytes, both directions; an unprivileged peer is denied a 0600 object.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { SharedMemory } from '../src/index.js';
import { asNobodyCommand, compileC, exited, firstLine, startPeer, uniqueName, missing, missingNobody } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

// The Python peer, standard library only (run with python3 -c).
const py = `
# A Python peer for the shared-memory interop tests, using only the standard library.
#   create NAME SIZE   create the segment, write b"python!\\0" at 0, print "ready", wait for a line on
#                      stdin, then print bytes 8..15 in hex (what the other side wrote back) and unlink
#   attach NAME        attach an existing segment, print its size and bytes 0..7 in hex, write
#                      b"fromPY\\0\\0" at 8, detach without unlinking
import sys
from multiprocessing import resource_tracker, shared_memory

mode, name = sys.argv[1], sys.argv[2]
if mode == "create":
    shm = shared_memory.SharedMemory(name=name, create=True, size=int(sys.argv[3]))
    shm.buf[0:8] = b"python!\\0"
    print("ready", flush=True)
    sys.stdin.readline()
    print(bytes(shm.buf[8:16]).hex(), flush=True)
    shm.close()
    shm.unlink()
else:
    shm = shared_memory.SharedMemory(name=name, create=False)
    # Before Python 3.13 attaching registers the segment with the resource tracker, which would unlink
    # it at exit (bpo-39959): it is not ours to remove.
    resource_tracker.unregister(shm._name, "shared_memory")
    print(shm.size, bytes(shm.buf[0:8]).hex(), flush=True)
    shm.buf[8:16] = b"fromPY\\0\\0"
    shm.close()
`;

test('a segment Python creates and writes is read here, and what we write back Python reads', { skip: missing('python3') }, async (t) => {
  const name = uniqueName('py');
  t.after(() => SharedMemory.unlink(name));
  // Python takes names without the leading '/'.
  const child = startPeer(t, 'python3', ['-c', py, 'create', name.slice(1), '4096']);
  assert.equal(await firstLine(child), 'ready');
  await using shm = await SharedMemory.open(name);
  assert.ok(shm.size >= 4096);
  assert.equal(Buffer.from(shm.buffer, 0, 8).toString('latin1'), 'python!\0');
  new Uint8Array(shm.arrayBuffer, 8, 8).set(Buffer.from('ipckit\0\0', 'latin1'));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stdin!.end('go\n');
  assert.equal((await exited(child)).code, 0);
  assert.equal(out.trim(), Buffer.from('ipckit\0\0', 'latin1').toString('hex'));
  assert.ok(!fs.existsSync(`/dev/shm${name}`), 'Python unlinked what it created');
});

test('Python attaches to a segment ipckit created, reads it and writes back', { skip: missing('python3') }, async (t) => {
  const name = uniqueName('py');
  t.after(() => SharedMemory.unlink(name));
  await using shm = await SharedMemory.create(name, { size: 8192 });
  new Uint8Array(shm.buffer).set(Buffer.from('nodejs!\0', 'latin1'));
  const r = await exec('python3', ['-c', py, 'attach', name.slice(1)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `8192 ${Buffer.from('nodejs!\0', 'latin1').toString('hex')}`);
  assert.equal(Buffer.from(shm.buffer, 8, 8).toString('latin1'), 'fromPY\0\0');
  assert.ok(fs.existsSync(`/dev/shm${name}`), 'Python did not unlink what it only attached');
});

test('a C program maps the same object and writes bytes we see', { skip: missing('cc') }, async (t) => {
  const name = uniqueName('c');
  t.after(() => SharedMemory.unlink(name));
  await using shm = await SharedMemory.create(name, { size: 64 });
  new Uint8Array(shm.buffer).set([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);
  const r = await exec(await compileC('shm_peer'), [name]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['deadbeef01020304', 'wrote']);
  assert.deepEqual([...new Uint8Array(shm.buffer, 16, 8)], [0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7]);
});

test('an unprivileged peer is denied a 0600 object (EACCES) and allowed a 0666 one', { skip: missing('cc') || missingNobody() }, async (t) => {
  const bin = await compileC('shm_peer');
  const closed = uniqueName('perm');
  t.after(() => SharedMemory.unlink(closed));
  await using a = await SharedMemory.create(closed, { size: 64 });
  const denied = await exec(...asNobodyCommand(bin, closed));
  assert.equal(denied.code, 1);
  assert.equal(denied.stdout.trim(), 'errno EACCES');
  const open = uniqueName('perm');
  t.after(() => SharedMemory.unlink(open));
  await using b = await SharedMemory.create(open, { size: 64, mode: 0o666 });
  const allowed = await exec(...asNobodyCommand(bin, open));
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(new Uint8Array(b.buffer)[16], 0xc0);
  assert.equal(new Uint8Array(a.buffer)[16], 0, 'the denied peer wrote nothing');
});
