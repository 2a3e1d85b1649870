// Shared memory under a hostile or careless peer, and close() under memory pressure: a peer truncating
// the object while we read and write it (SIGBUS turned into zero pages and ERR_IPC_CORRUPT, any other
// SIGBUS left to the previous disposition), and segments given back at close() (a small tmpfs that
// create/close cycles would fill if close() kept the pages, System V segments detached).
import test from 'node:test';
import assert from 'node:assert/strict';
import { SharedMemory, SystemVSharedMemory, Semaphore } from '../src/index.js';
import { exited, firstLine, missing, startPeer, uniqueName } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

const index = new URL('../src/index.js', import.meta.url).href;

test('a Python peer truncating the object to 0 while we read and write it cannot kill us; ipckit reports ERR_IPC_CORRUPT', { skip: missing('python3') }, async (t) => {
  const name = uniqueName('shm');
  t.after(() => SharedMemory.unlink(name));
  const shm = await SharedMemory.create(name, { size: 1 << 20 });
  t.after(() => shm.close());
  const words = new Int32Array(shm.buffer);
  const bytes = new Uint8Array(shm.arrayBuffer);
  words.fill(1);
  const peer = startPeer(t, 'python3', [
    '-c',
    `import os, sys
fd = os.open('/dev/shm${name}', os.O_RDWR)
print('open', flush=True)
sys.stdin.readline()
os.ftruncate(fd, 0)`,
  ]);
  assert.equal(await firstLine(peer), 'open');
  let gone = false;
  const done = exited(peer).then((r) => ((gone = true), r));
  peer.stdin!.end('go\n');
  // Read and write every page while the peer truncates, and once more after it has.
  let sum = 0;
  for (let round = 0; !gone || round < 1; round++) {
    for (let i = 0; i < words.length; i += 1024) {
      sum += words[i]!;
      words[i] = i;
      bytes[i * 4 + 1] = 2;
    }
    await new Promise(setImmediate);
    if (gone) break;
  }
  assert.equal((await done).code, 0);
  for (let i = 0; i < words.length; i += 1024) sum += words[i]!;
  assert.ok(Number.isFinite(sum));
  assert.equal(shm.truncated, true);
  // Whatever goes through ipckit now says so.
  assert.throws(() => shm.buffer, { code: 'ERR_IPC_CORRUPT' });
  assert.throws(() => shm.arrayBuffer, { code: 'ERR_IPC_CORRUPT' });
  assert.throws(() => Semaphore.inSharedMemory(shm, 0), { code: 'ERR_IPC_CORRUPT' });
  // The pages past the new end read as zeros (a write there reached nothing).
  assert.equal(words[words.length - 1], 0);
});

test('a SIGBUS that is not a fault in an ipckit mapping still ends the process as before', async () => {
  const code = `
    const { SharedMemory } = await import(${JSON.stringify(index)});
    const shm = await SharedMemory.create(process.argv[1], { size: 4096 });
    await SharedMemory.unlink(process.argv[1]);
    new Uint8Array(shm.buffer)[0] = 1;  // our handler is installed now
    process.kill(process.pid, 'SIGBUS');
    setTimeout(() => console.log('survived'), 1000);`;
  const r = await exec(process.execPath, ['--input-type=module', '-e', code, uniqueName('shm')]);
  assert.deepEqual({ signal: r.signal, stdout: r.stdout }, { signal: 'SIGBUS', stdout: '' }, r.stderr);
});

test('close() gives the pages back: 100 create/close cycles of 16 MiB in a 64 MiB tmpfs all succeed (4 would fit if none were)', async (t) => {
  // A tmpfs of our own over /dev/shm, in a mount namespace of the child's own.
  const code = `
    const { SharedMemory } = await import(${JSON.stringify(index)});
    let ok = 0;
    for (let i = 0; i < 100; i++) {
      const shm = await SharedMemory.create('/ipckit-cycle', { size: 16 << 20 });
      new Uint8Array(shm.buffer)[(16 << 20) - 1] = 1;
      shm.close();
      ok++;
    }
    console.log('ok ' + ok);`;
  const script = `mount -t tmpfs -o size=64m ipckit-test /dev/shm || { echo no-mount; exit 0; }; exec "$0" --input-type=module -e "$1"`;
  if (missing('unshare')) return t.skip(missing('unshare') as string);
  const r = await exec('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, process.execPath, code]);
  if (r.stdout.startsWith('no-mount') || /unshare failed|Operation not permitted/.test(r.stderr)) {
    return t.skip(`mounting a tmpfs is not permitted here: ${r.stderr.trim()}`);
  }
  assert.deepEqual({ code: r.code, signal: r.signal, stdout: r.stdout }, { code: 0, signal: null, stdout: 'ok 100\n' }, r.stderr);
});

test('close() detaches a System V segment: one marked for removal is destroyed at once', async () => {
  for (let i = 0; i < 50; i++) {
    const seg = await SystemVSharedMemory.create('private', { size: 1 << 20 });
    const id = seg.id;
    new Uint8Array(seg.buffer)[0] = 1;
    seg.close();
    assert.equal(SystemVSharedMemory.removeId(id), false, `segment ${id} is gone, not waiting for its views to be collected`);
  }
});
