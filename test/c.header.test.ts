// include/ipckit_ring.h, the header-only C99 peer written from docs/ring-format.md: compiled here with
// `cc -std=c99 -pedantic -Wall -Wextra -Werror -I include` (test/fixtures/c/ring_peer.c on it), and run
// against Node: as the child of ipckit's spawn() (ipckit_from_parent), echoing both ways across many
// wraps, and as a client of a Node ring server that is SIGKILLed, which C must see as ERR_IPC_PEER_DEAD.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RingServer, spawn, UnixServer } from '../src/index.js';
import { HELLO_MAGIC, segmentBytes } from '../src/channel/shm-server.js';
import { SealedMemory } from '../src/memfd.js';
import { native } from '../src/native.js';
import { childScript, compileC, exited, firstLine, missing, root, run, startPeer, tmpDir } from './helpers/index.js';
import { DeathLatency, killAndAwaitDeath, reported } from './helpers/death.js';

const skip = missing('cc');
const strict = ['-std=c99', '-pedantic', '-Wextra', '-Werror'];

/** C's own messages in `both` mode (ring_peer.c's own()): `(i * 37) % 2041` bytes of i * 131 + k. */
function own(i: number): Buffer {
  const b = Buffer.alloc((i * 37) % 2041);
  for (let k = 0; k < b.length; k++) b[k] = (i * 131 + k) & 0xff;
  return b;
}

test('a C child of spawn() on ipckit_ring.h: its messages echoed by Node, then Node\'s echoed reversed by C, across many wraps', { skip }, async () => {
  const bin = await compileC('ring_peer', strict);
  const n = 300;
  const { child, channel } = await spawn<Buffer>(bin, ['--parent', 'both', String(n)], { capacity: 4096, stdio: ['ignore', 'pipe', 'inherit'] });
  assert.equal(await firstLine(child), 'ready');
  // C → Node → C: C checks each echo against what it sent (it exits 3 on a difference).
  for (let i = 0; i < n; i++) {
    const m = (await channel.receive({ timeout: 5000 }))!;
    assert.ok(m.equals(own(i)), `C's message ${i} arrived intact (${m.length} bytes)`);
    await channel.send(m);
  }
  // Node → C → Node, reversed by C; then many in flight, so both sides park for room and for data.
  for (let i = 0; i < 300; i++) {
    const m = randomBytes((i * 53) % 2041);
    await channel.send(m);
    assert.ok((await channel.receive({ timeout: 5000 }))!.equals(Buffer.from(m).reverse()), `message ${i} (${m.length} bytes)`);
  }
  const many = Array.from({ length: 64 }, (_, i) => randomBytes(100 + i * 29));
  const back = (async () => {
    for (const m of many) assert.ok((await channel.receive({ timeout: 5000 }))!.equals(Buffer.from(m).reverse()));
  })();
  for (const m of many) await channel.send(m);
  await back;
  await assert.rejects(channel.send(Buffer.alloc(4096 / 2 - 7)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
  // Our close is a goodbye: C drains, sees the end (not a death), closes its side and exits 0.
  await channel.close();
  assert.deepEqual(await exited(child), { code: 0, signal: null });
});

test('a C client of a Node ring server sees the server SIGKILLed as ERR_IPC_PEER_DEAD within 50 ms', { skip }, async (t) => {
  const bin = await compileC('ring_peer', strict);
  const deaths = new DeathLatency('Node ring server SIGKILLed, C client (ipckit_ring.h) notices');
  for (let i = 0; i < 5; i++) {
    const address = `@ipckit-test-c-${process.pid}-${i}`;
    const srv = startPeer(t, process.execPath, [childScript('shm-server-peer'), `shm+unix:${address}`]);
    assert.equal(await firstLine(srv), 'ready');
    // C sends, the server echoes, C checks: traffic in flight when the kill lands.
    const c = startPeer(t, bin, [address, 'talk']);
    assert.equal(await firstLine(c), 'ready');
    const death = killAndAwaitDeath(srv, c.pid);
    const [code, at, queued] = (await firstLine(c)).split(' ');
    assert.equal(code, 'ERR_IPC_PEER_DEAD');
    deaths.add(death, reported(Number(at), Number(queued)));
    assert.deepEqual(await exited(c), { code: 0, signal: null });
    await exited(srv);
  }
  t.diagnostic(deaths.check());
});

test('the C peer refuses what a hostile listener hands it: an unsealed or half-sealed segment, a file, a lying size, too few descriptors', { skip }, async (t) => {
  const bin = await compileC('ring_peer', strict);
  const K = native.memfdConstants;
  const bell = () => native.eventfd(0, K.EFD_CLOEXEC);
  const memfd = (seals: number) => {
    const fd = native.memfdCreate('hostile', K.MFD_CLOEXEC | K.MFD_ALLOW_SEALING);
    native.ftruncate(fd, segmentBytes(4096));
    if (seals) native.addSeals(fd, seals);
    return fd;
  };
  const cases: [string, () => number[], number][] = [
    ['not sealed: the listener could truncate it under the mapping (SIGBUS)', () => [memfd(0), bell(), bell()], 4096],
    ['sealed against shrinking only', () => [memfd(K.F_SEAL_SHRINK), bell(), bell()], 4096],
    ['not a memfd', () => [fs.openSync('/dev/zero', 'r'), bell(), bell()], 4096],
    ['a doorbell that is not an eventfd', () => [SealedMemory.create(segmentBytes(4096)).fd, bell(), fs.openSync('/dev/null', 'r')], 4096],
    ['a size other than the hello\'s capacity says', () => [SealedMemory.create(segmentBytes(4096)).fd, bell(), bell()], 8192],
    ['one descriptor', () => [bell()], 4096],
  ];
  const name = `ipckit-test-c-hostile-${process.pid}`;
  const srv = await UnixServer.listen({ abstract: name, type: 'seqpacket' });
  t.after(() => srv.close());
  for (const [what, fds, capacity] of cases) {
    const peer = run(bin, [`@${name}`]);
    const c = await srv.accept({ timeout: 5000 });
    // The hello of docs/ring-format.md: magic, version 1, capacity, flags 0.
    const list = fds();
    await c.send(Buffer.from(new Uint32Array([HELLO_MAGIC, 1, capacity, 0]).buffer), { fds: list });
    for (const fd of list) native.close(fd);
    const r = await peer;
    assert.equal(r.code, 3, `${what}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /join: ERR_IPC_CORRUPT/, what);
    assert.equal(await c.receive({ timeout: 5000 }), null, `${what}: no ack, and the connection closed`);
    await c.close();
  }
});

test('the example of docs/c.md compiles as C99 and talks to a Node ring server', { skip }, async (t) => {
  const page = fs.readFileSync(path.join(root, 'docs/c.md'), 'utf8');
  const code = /```c\n([\s\S]*?)```/.exec(page)![1]!;
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'peer.c'), code);
  const cc = await run('cc', [...strict, '-Wall', '-O2', '-I', path.join(root, 'include'), '-o', path.join(dir, 'peer'), path.join(dir, 'peer.c')]);
  assert.equal(cc.code, 0, cc.stderr);
  const address = `@ipckit-test-c-doc-${process.pid}`;
  const server = await RingServer.listen<Buffer>(`shm+unix:${address}`);
  t.after(() => server.close());
  const echo = (async () => {
    const ch = await server.accept({ timeout: 10_000 });
    for await (const m of ch) await ch.send(Buffer.from(`echo: ${m}`));
    await ch.close();
  })();
  const r = await run(path.join(dir, 'peer'), [address]);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'echo: hello from C\n', '']);
  await echo;
});
