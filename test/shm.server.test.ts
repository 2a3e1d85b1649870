// Ring servers (shm+unix:): many clients, each on its own sealed memfd ring pair with eventfd doorbells,
// handed over a seqpacket socket that stays open for the channel's life (docs/ring-format.md, "The
// handshake"). Peer death comes from the socket; a hostile peer cannot truncate the segment (the seals)
// nor crash us by scribbling in it; nothing is left in /dev/shm or System V tables.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect, listen, RingServer, UnixServer, UnixSocket, type Channel } from '../src/index.js';
import { connectRingPair, offerRingPair, segmentBytes, HELLO_MAGIC, SEGMENT_HEADER } from '../src/channel/shm-server.js';
import { EventFd, SealedMemory } from '../src/memfd.js';
import { native } from '../src/native.js';
import { childScript, compileC, exited, firstLine, have, missing, root, run, startPeer, tmpDir } from './helpers/index.js';
import { DeathLatency, killAndAwaitDeath, mark, type Mark } from './helpers/death.js';

let seq = 0;
const abstractUrl = () => `shm+unix:@ipckit-test-${process.pid}-${++seq}`;
const STRESS = process.env.IPCKIT_STRESS === '1';

/**
 * What this test's processes could have left: /dev/shm names carrying one of their pids, and System V
 * segments one of them created (ipcs -m -p). The machine is shared: other processes' objects are not ours.
 */
const pids = new Set<number>([process.pid]);
function leftovers(): string[] {
  const mine = (s: string) => [...pids].some((p) => new RegExp(`(^|\\D)${p}(\\D|$)`).test(s));
  const shm = fs.readdirSync('/dev/shm').filter(mine);
  const sysv = have('ipcs')
    ? spawnSync('ipcs', ['-m', '-p'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => /^\s*\d+/.test(l) && pids.has(Number(l.trim().split(/\s+/)[2])))
    : [];
  return [...shm, ...sysv];
}

/** The rejection of a loop that only ends by failing, and a mark of when it came (test/helpers/death.ts). */
function settled(p: Promise<unknown>): Promise<{ err: unknown; noticed: Mark }> {
  return p.then(
    () => ({ err: new Error('the loop ended without an error'), noticed: mark() }),
    (err) => ({ err, noticed: mark() }),
  );
}

function echoAll(server: RingServer): Promise<void> {
  return (async () => {
    const running: Promise<void>[] = [];
    for await (const ch of server) {
      running.push(
        (async () => {
          try {
            for await (const m of ch) await ch.send(m);
          } catch (err) {
            if ((err as { code?: string }).code !== 'ERR_IPC_PEER_DEAD') throw err;
          } finally {
            await ch.close();
          }
        })(),
      );
    }
    await Promise.all(running);
  })();
}

async function server(t: TestContext, url = abstractUrl(), opts = {}): Promise<RingServer> {
  const s = await RingServer.listen(url, { capacity: 1 << 14, ...opts });
  t.after(() => s.close());
  return s;
}

test('a path endpoint: a 0600 socket file, several clients at once, nothing named in /dev/shm', async (t) => {
  const before = leftovers();
  const url = `shm+unix:${path.join(tmpDir(t), 'rings.sock')}`;
  const s = await server(t, url);
  assert.equal(fs.statSync(url.slice('shm+unix:'.length)).mode & 0o777, 0o600);
  const echo = echoAll(s);
  const clients = await Promise.all([0, 1, 2].map(() => connect(url, { codec: 'json', timeout: 5000 })));
  for (const [i, c] of clients.entries()) await c.send({ i });
  for (const [i, c] of clients.entries()) assert.deepEqual(await c.receive({ timeout: 5000 }), { i });
  assert.deepEqual(leftovers(), before, 'a live ring pair has no name anywhere');
  for (const c of clients) await c.close();
  await s.close();
  await echo;
  assert.equal(fs.existsSync(url.slice('shm+unix:'.length)), false, 'the socket file is gone with the server');
});

test('listen(shm+unix:) is carried by its first client; receive waits for it with { timeout }', async () => {
  const url = abstractUrl();
  const a = await listen(url, { capacity: 4096 });
  await assert.rejects(a.receive({ timeout: 30 }), { code: 'ERR_IPC_TIMEOUT' });
  const b = await connect(url);
  await b.send('hi');
  assert.equal(String(await a.receive({ timeout: 5000 })), 'hi');
  await a.send('back');
  assert.equal(String(await b.receive({ timeout: 5000 })), 'back');
  await b.close();
  assert.equal(await a.receive({ timeout: 5000 }), undefined, 'a close is a goodbye, not a death');
  await a.close();
});

test('Channel.sendMany over shm+unix: a batch larger than the ring, in order, through for await on the other end', async (t) => {
  const url = abstractUrl();
  const a = await listen<{ i: number }>(url, { codec: 'json', capacity: 4096, spinMicros: 0 });
  const b = await connect<{ i: number }>(url, { codec: 'json', timeout: 5000, spinMicros: 0 });
  t.after(async () => {
    await b.close();
    await a.close();
  });
  const n = 3000; // ~30 bytes each: many times the 4 KiB ring, so the sender parks for room
  const sending = a.sendMany((function* () {
    for (let i = 0; i < n; i++) yield { i };
  })(), { timeout: 10_000 });
  let want = 0;
  for await (const m of b) {
    assert.deepEqual(m, { i: want }, `message ${want}`);
    if (++want === n) break;
  }
  await sending;
  await assert.rejects(a.sendMany([{ i: 1 }, { i: 'x'.repeat(5000) as unknown as number }]), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
  assert.equal(await b.receive({ timeout: 50 }).catch((e) => e.code), 'ERR_IPC_TIMEOUT', 'a batch with a value over the limit sends none');
  await a.sendMany([]);
  // The iteration ended with break, so another can start; a second one at the same time is refused.
  const it = b[Symbol.asyncIterator]();
  await a.send({ i: -1 });
  assert.deepEqual(await it.next(), { value: { i: -1 }, done: false });
  await assert.rejects(b[Symbol.asyncIterator]().next(), { code: 'ERR_IPC_UNSUPPORTED' });
  await it.return!();
  await a.close();
  assert.deepEqual(await b[Symbol.asyncIterator]().next(), { value: undefined, done: true }, 'the peer\'s close ends the iteration');
});

test('Channel.sendMany where the transport has no batch form (unix:): one send after another, in order', async (t) => {
  const p = path.join(tmpDir(t), 'many.sock');
  const a = await listen<string>(`unix:${p}`, { codec: 'json' });
  const b = await connect<string>(`unix:${p}`, { codec: 'json', timeout: 5000 });
  t.after(async () => {
    await b.close();
    await a.close();
  });
  await b.sendMany(['one', 'two', 'three']);
  assert.deepEqual([await a.receive({ timeout: 5000 }), await a.receive({ timeout: 5000 }), await a.receive({ timeout: 5000 })], ['one', 'two', 'three']);
});

test('Channel.receiveMany over shm+unix: what the ring holds, in order, at most max; bad options; [] once the peer closed', async (t) => {
  const url = abstractUrl();
  const a = await listen<number>(url, { codec: 'json', spinMicros: 0 });
  const b = await connect<number>(url, { codec: 'json', timeout: 5000, spinMicros: 0 });
  t.after(async () => {
    await b.close();
    await a.close();
  });
  await assert.rejects(b.receiveMany({ timeout: 20 }), { code: 'ERR_IPC_TIMEOUT' });
  await assert.rejects(b.receiveMany({ max: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(b.receiveMany({ max: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  const n = 100;
  await a.sendMany(Array.from({ length: n }, (_, i) => i));
  // All 100 are in the ring before the first call: each batch is a full 30 but the last.
  const batches: number[][] = [];
  while (batches.flat().length < n) batches.push(await b.receiveMany({ max: 30, timeout: 5000 }));
  assert.deepEqual(batches.map((x) => x.length), [30, 30, 30, 10]);
  assert.deepEqual(batches.flat(), Array.from({ length: n }, (_, i) => i));
  // A waiting receiveMany gets the message that comes, and what came with it.
  const waiting = b.receiveMany({ timeout: 5000 });
  await a.sendMany([7, 8]);
  const got = await waiting;
  assert.ok(got.length >= 1 && got[0] === 7, `got ${JSON.stringify(got)}`);
  if (got.length === 1) assert.deepEqual(await b.receiveMany({ timeout: 5000 }), [8]);
  else assert.deepEqual(got, [7, 8]);
  await a.close();
  assert.deepEqual(await b.receiveMany({ timeout: 5000 }), [], 'the peer closed');
});

test('Channel.receiveMany: a value that fails to decode ends the batch before it; the next receive throws for it, then the rest follow', async (t) => {
  const url = abstractUrl();
  const a = await listen(url, { spinMicros: 0 }); // raw: sends bytes that are not JSON
  const b = await connect<number>(url, { codec: 'json', timeout: 5000, spinMicros: 0 });
  t.after(async () => {
    await b.close();
    await a.close();
  });
  await a.sendMany(['1', '2', '{bad', '4', '{worse', '6'].map((x) => Buffer.from(x)));
  assert.deepEqual(await b.receiveMany({ timeout: 5000 }), [1, 2]);
  await assert.rejects(b.receiveMany(), { code: 'ERR_IPC_CODEC' });
  assert.deepEqual(await b.receiveMany({ timeout: 5000 }), [4]);
  await assert.rejects(b.receive(), { code: 'ERR_IPC_CODEC' });
  assert.equal(await b.receive({ timeout: 5000 }), 6, 'nothing after a bad value is lost');
});

test('Channel.receiveMany over a stream (unix:): the frames queued behind the first come with it, in order; [] at the end', async (t) => {
  const p = path.join(tmpDir(t), 'rmany.sock');
  const a = await listen<number>(`unix:${p}`, { codec: 'json' });
  const b = await connect<number>(`unix:${p}`, { codec: 'json', timeout: 5000 });
  t.after(async () => {
    await b.close();
    await a.close();
  });
  const n = 200;
  await b.sendMany(Array.from({ length: n }, (_, i) => i));
  const batches: number[][] = [];
  while (batches.flat().length < n) batches.push(await a.receiveMany({ max: 64, timeout: 5000 }));
  assert.deepEqual(batches.flat(), Array.from({ length: n }, (_, i) => i));
  assert.ok(batches.every((x) => x.length >= 1 && x.length <= 64), 'each batch holds 1 to max values');
  // 200 frames of a few bytes arrive in a few reads: the frames of one read come as one batch.
  assert.ok(batches.length < n, `${batches.length} batches for ${n} values`);
  await b.close();
  assert.deepEqual(await a.receiveMany({ timeout: 5000 }), []);
});

test('shm:/name meets on an abstract socket: a second connector is refused, nothing in /dev/shm', async () => {
  const before = leftovers();
  const name = `/ipckit-test-${process.pid}-${++seq}`;
  const a = await listen(`shm:${name}`, { capacity: 4096 });
  const b = await connect(`shm:${name}`);
  await b.send('x');
  assert.equal(String(await a.receive({ timeout: 5000 })), 'x');
  await assert.rejects(connect(`shm:${name}`), { code: 'ENOENT' });
  assert.deepEqual(leftovers(), before);
  await b.close();
  await a.close();
});

test('allow refuses a peer before any descriptor is passed', async (t) => {
  const s = await server(t, abstractUrl(), { allow: () => false });
  await assert.rejects(connectRingPair(s.url, { timeout: 5000 }), { code: 'ERR_IPC_PEER_DEAD' });
});

test(`${STRESS ? 64 : 16} clients x ${STRESS ? 10000 : 100} messages each: nothing lost, duplicated or reordered`, async (t) => {
  const s = await server(t);
  const echo = echoAll(s);
  const procs = 4;
  const per = STRESS ? 16 : 4;
  const n = STRESS ? 10000 : 100;
  const results = await Promise.all(
    Array.from({ length: procs }, () => run(process.execPath, [childScript('shm-clients'), s.url, String(per), String(n)], { timeout: STRESS ? 600_000 : 60_000 })),
  );
  for (const r of results) assert.equal(r.stdout.trim(), `ok ${per * n}`, r.stderr);
  await s.close();
  await echo;
});

test('a client SIGKILLed at a random moment: its server channel fails with ERR_IPC_PEER_DEAD within 50 ms', { skip: missing('cc') }, async (t) => {
  const bin = await compileC('ring_peer');
  const before = leftovers();
  const s = await server(t);
  const rounds = STRESS ? 200 : 25;
  const deaths = new DeathLatency('ring server client (C) SIGKILLed, server notices');
  for (let i = 0; i < rounds; i++) {
    const peer = startPeer(t, bin, [s.url.slice('shm+unix:'.length)]);
    pids.add(peer.pid!);
    const ch = await s.accept({ timeout: 5000 });
    assert.equal(await firstLine(peer), 'ready');
    // Traffic in flight while the kill lands somewhere in it.
    const traffic = settled((async () => {
      for (let k = 0; ; k++) {
        await ch.send(Buffer.alloc(k % 300, k));
        await ch.receive({ timeout: 5000 });
      }
    })());
    await new Promise((r) => setTimeout(r, Math.random() * 5));
    const death = killAndAwaitDeath(peer);
    const { err, noticed } = await traffic;
    await exited(peer);
    assert.equal((err as { code?: string }).code, 'ERR_IPC_PEER_DEAD', String(err));
    deaths.add(death, noticed);
    await ch.close();
  }
  t.diagnostic(deaths.check());
  assert.deepEqual(leftovers(), before);
});

test('the server SIGKILLed at a random moment: its clients fail with ERR_IPC_PEER_DEAD within 50 ms', async (t) => {
  const before = leftovers();
  const rounds = STRESS ? 100 : 10;
  const deaths = new DeathLatency('ring server SIGKILLed, its 2 clients notice');
  for (let i = 0; i < rounds; i++) {
    const url = abstractUrl();
    const srv = startPeer(t, process.execPath, [childScript('shm-server-peer'), url]);
    pids.add(srv.pid!);
    assert.equal(await firstLine(srv), 'ready');
    const chans: Channel[] = await Promise.all([0, 1].map(() => connect(url, { timeout: 5000, spinMicros: 0 })));
    const traffic = chans.map((ch) =>
      settled((async () => {
        for (let k = 0; ; k++) {
          await ch.send(Buffer.alloc(k % 500, 1));
          await ch.receive({ timeout: 5000 });
        }
      })()),
    );
    await new Promise((r) => setTimeout(r, Math.random() * 10));
    const death = killAndAwaitDeath(srv);
    for (const p of traffic) {
      const { err, noticed } = await p;
      assert.equal((err as { code?: string }).code, 'ERR_IPC_PEER_DEAD', String(err));
      deaths.add(death, noticed);
    }
    await exited(srv);
    for (const ch of chans) await ch.close();
  }
  t.diagnostic(deaths.check());
  assert.deepEqual(leftovers(), before);
});

// ---- hostile peers ---------------------------------------------------------------------------------

test('the seals refuse ftruncate from a peer holding the passed memfd (Python)', { skip: missing('python3') }, async (t) => {
  const s = await server(t);
  const accepted = s.accept({ timeout: 10_000 });
  const py = `
import socket, sys, os, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect('\\0' + sys.argv[1])
msg, fds, flags, addr = socket.recv_fds(s, 64, 3)
out = []
for size in (0, 4096, 1 << 30):
    try:
        os.ftruncate(fds[0], size)
        out.append('truncated')
    except OSError as e:
        out.append(e.strerror)
s.send(struct.pack('<II', 0x414B5049, 1))
print(','.join(out))
`;
  const r = await run('python3', ['-c', py, s.url.slice('shm+unix:@'.length)]);
  assert.equal(r.stdout.trim(), 'Operation not permitted,Operation not permitted,Operation not permitted', r.stderr);
  const ch = await accepted;
  await assert.rejects(ch.receive({ timeout: 5000 }), { code: 'ERR_IPC_PEER_DEAD' }, 'and it left');
  await ch.close();
});

/** A fake ring server that sends `fds` with a hello for `capacity`; resolves with the client's outcome. */
async function fakeServer(t: TestContext, fds: () => number[], capacity = 4096) {
  const name = `ipckit-test-fake-${process.pid}-${++seq}`;
  const srv = await UnixServer.listen({ abstract: name, type: 'seqpacket' });
  t.after(() => srv.close());
  const served = (async () => {
    const c = await srv.accept({ timeout: 5000 });
    const hello = Buffer.alloc(16);
    hello.writeUInt32LE(HELLO_MAGIC, 0);
    hello.writeUInt32LE(1, 4);
    hello.writeUInt32LE(capacity, 8);
    const list = fds();
    await c.send(hello, { fds: list });
    for (const fd of list) native.close(fd);
    await c.receive({ timeout: 5000 }).catch(() => null);
    await c.close();
    await srv.close();
  })();
  return { url: `shm+unix:@${name}`, served };
}

test('a client refuses a segment that is not sealed, or not a memfd (ERR_IPC_CORRUPT), and closes what it got', async (t) => {
  const K = native.memfdConstants;
  const bell = () => native.eventfd(0, K.EFD_CLOEXEC);
  const fdsBefore = fs.readdirSync('/proc/self/fd').length;
  for (const make of [
    () => {
      // sized but not sealed: the server could truncate it later
      const fd = native.memfdCreate('unsealed', K.MFD_CLOEXEC | K.MFD_ALLOW_SEALING);
      native.ftruncate(fd, segmentBytes(4096));
      return fd;
    },
    () => {
      // sealed against shrinking only
      const fd = native.memfdCreate('half', K.MFD_CLOEXEC | K.MFD_ALLOW_SEALING);
      native.ftruncate(fd, segmentBytes(4096));
      native.addSeals(fd, K.F_SEAL_SHRINK);
      return fd;
    },
    () => fs.openSync('/dev/zero', 'r'),
  ]) {
    const fake = await fakeServer(t, () => [make(), bell(), bell()]);
    await assert.rejects(connectRingPair(fake.url, { timeout: 5000 }), { code: 'ERR_IPC_CORRUPT' });
    await fake.served;
  }
  assert.equal(fs.readdirSync('/proc/self/fd').length, fdsBefore, 'no descriptor kept');
});

test('a client refuses a hello with the wrong descriptors or a lying size (ERR_IPC_CORRUPT)', async (t) => {
  const K = native.memfdConstants;
  for (const [fds, cap] of [
    [() => [native.eventfd(0, K.EFD_CLOEXEC)], 4096],
    [() => [SealedMemory.create(segmentBytes(4096)).fd, native.eventfd(0, K.EFD_CLOEXEC), fs.openSync('/dev/null', 'r')], 4096],
    [() => [SealedMemory.create(segmentBytes(4096)).fd, native.eventfd(0, K.EFD_CLOEXEC), native.eventfd(0, K.EFD_CLOEXEC)], 8192],
  ] as [() => number[], number][]) {
    const fake = await fakeServer(t, fds, cap);
    await assert.rejects(connectRingPair(fake.url, { timeout: 5000 }), { code: 'ERR_IPC_CORRUPT' });
    await fake.served;
  }
});

test('a hostile client scribbling garbage over the whole segment: every operation settles, none crashes', async (t) => {
  const s = await server(t, abstractUrl(), { capacity: 4096 });
  for (let round = 0; round < 4; round++) {
    // The hostile client: a real handshake, then random writes into the mapping.
    const sock = await UnixSocket.connect({ abstract: s.url.slice('shm+unix:@'.length), type: 'seqpacket' });
    const hello = (await sock.receive({ timeout: 5000 }))!;
    const mem = SealedMemory.fromFd(hello.fds[0]!.take());
    const bells = [EventFd.fromFd(hello.fds[1]!.take()), EventFd.fromFd(hello.fds[2]!.take())];
    const ack = Buffer.alloc(8);
    ack.writeUInt32LE(0x414b5049, 0);
    await sock.send(ack);
    const pair = await s.acceptPair({ timeout: 5000 });
    const bytes = new Uint8Array(mem.shared);
    const outcomes = new Set<string>();
    for (let k = 0; k < 200; k++) {
      for (let j = 0; j < 16; j++) {
        const at = round < 2 ? SEGMENT_HEADER + ((Math.random() * 600) | 0) : (Math.random() * bytes.length) | 0;
        bytes[at] = (Math.random() * 256) | 0;
      }
      bells[0]!.signal(); // ring the server as a peer would
      const ops = [pair.rx.receive({ timeout: 5, spinMicros: 0 }), pair.tx.send(Buffer.alloc(k % 64, 1), { timeout: 5, spinMicros: 0 })];
      for (const r of await Promise.allSettled(ops)) {
        outcomes.add(r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: string }).code));
      }
    }
    for (const o of outcomes) assert.ok(['ok', 'ERR_IPC_CORRUPT', 'ERR_IPC_TIMEOUT', 'ERR_IPC_MESSAGE_TOO_LARGE', 'ERR_IPC_PEER_DEAD'].includes(o), o);
    await pair.close();
    for (const b of bells) b.close();
    await sock.close();
  }
});

test('a connector that rewrites a ring\'s capacity before its ack cannot point the listener into the other ring', async (t) => {
  // The segment has room for ring 0 at twice its capacity (over ring 1's slot); each ring is bounded by its own.
  const name = `ipckit-test-cap-${process.pid}-${++seq}`;
  const srv = await UnixServer.listen({ abstract: name, type: 'seqpacket' });
  t.after(() => srv.close());
  const sock = await UnixSocket.connect({ abstract: name, type: 'seqpacket' });
  t.after(() => sock.close());
  const conn = await srv.accept({ timeout: 5000 });
  const offering = offerRingPair(conn, { capacity: 4096, timeout: 5000 });
  const hello = (await sock.receive({ timeout: 5000 }))!;
  const mem = SealedMemory.fromFd(hello.fds[0]!.take());
  const bells = [EventFd.fromFd(hello.fds[1]!.take()), EventFd.fromFd(hello.fds[2]!.take())];
  const i32 = new Int32Array(mem.shared);
  Atomics.store(i32, (SEGMENT_HEADER + 8) / 4, 8192); // ring 0's capacity, doubled
  const ack = Buffer.alloc(8);
  ack.writeUInt32LE(0x414b5049, 0);
  ack.writeUInt32LE(1, 4);
  await sock.send(ack);
  await assert.rejects(offering, { code: 'ERR_IPC_CORRUPT' });
  mem.unmap();
  for (const b of bells) b.close();
});

test('a hostile server scribbling over the segment: the client settles every operation too', async (t) => {
  const name = `ipckit-test-hostile-${process.pid}-${++seq}`;
  const srv = await UnixServer.listen({ abstract: name, type: 'seqpacket' });
  t.after(() => srv.close());
  const connecting = connectRingPair(`shm+unix:@${name}`, { timeout: 5000, spinMicros: 0 });
  const conn = await srv.accept({ timeout: 5000 });
  // An honest handshake through the library's own server half; then the server turns hostile.
  const [pair, client] = await Promise.all([offerRingPair(conn, { capacity: 4096 }), connecting]);
  const seg = new Uint8Array((pair.rx as unknown as { bulk: Uint8Array }).bulk.buffer);
  const outcomes = new Set<string>();
  for (let k = 0; k < 300; k++) {
    for (let j = 0; j < 16; j++) seg[SEGMENT_HEADER + ((Math.random() * (seg.length - SEGMENT_HEADER)) | 0)] = (Math.random() * 256) | 0;
    const ops = [client.rx.receive({ timeout: 5, spinMicros: 0 }), client.tx.send(Buffer.alloc(k % 100, 2), { timeout: 5, spinMicros: 0 })];
    for (const r of await Promise.allSettled(ops)) outcomes.add(r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: string }).code));
  }
  for (const o of outcomes) assert.ok(['ok', 'ERR_IPC_CORRUPT', 'ERR_IPC_TIMEOUT', 'ERR_IPC_MESSAGE_TOO_LARGE', 'ERR_IPC_PEER_DEAD'].includes(o), o);
  await client.close();
  await pair.close();
});

test('shm: no longer touches files at the paths version 1 used for doorbells (issue 12: the connector unlinked them)', async (t) => {
  const name = `/ipckit-test-${process.pid}-${++seq}`;
  const planted = [`/dev/shm/${name.slice(1)}.${process.pid}.bell-l`, `/dev/shm/${name.slice(1)}.${process.pid}.bell-c`];
  for (const p of planted) fs.writeFileSync(p, 'not yours');
  t.after(() => planted.forEach((p) => fs.rmSync(p, { force: true })));
  const a = await listen(`shm:${name}`, { capacity: 4096 });
  const b = await connect(`shm:${name}`);
  await b.send('x');
  assert.equal(String(await a.receive({ timeout: 5000 })), 'x');
  await b.close();
  await a.close();
  for (const p of planted) assert.equal(fs.readFileSync(p, 'utf8'), 'not yours');
});

test('a peer that forges pids in the rings and then dies is still noticed at once (liveness is the socket)', { skip: missing('python3') }, async (t) => {
  const s = await server(t);
  const py = `
import sys, os, time, struct
sys.path.insert(0, ${JSON.stringify(path.join(root, 'python'))})
from ipckit_channel import Channel
ch = Channel.connect(sys.argv[1])
for ring in (ch._tx, ch._rx):
    ring.w[4] = os.getppid()   # the words version 1 kept pids in: a live pid, then 0
    ring.w[5] = 0
print('ready', flush=True)
time.sleep(30)
`;
  const peer = startPeer(t, 'python3', ['-c', py, s.url]);
  const ch = await s.accept({ timeout: 10_000 });
  assert.equal(await firstLine(peer), 'ready');
  const pending = settled(ch.receive({ timeout: 5000 }));
  const death = killAndAwaitDeath(peer);
  const { err, noticed } = await pending;
  await exited(peer);
  assert.equal((err as { code?: string }).code, 'ERR_IPC_PEER_DEAD');
  new DeathLatency('a peer that forged pids SIGKILLed').add(death, noticed);
  await ch.close();
});

test('a shm: listener SIGKILLed before any peer came leaves nothing: no /dev/shm entry, no socket', async (t) => {
  const name = `/ipckit-test-${process.pid}-${++seq}`;
  const peer = startPeer(t, process.execPath, [childScript('channel-peer'), 'listen', `shm:${name}`, 'recv1']);
  assert.match(await firstLine(peer), /^listening /);
  assert.ok(fs.readFileSync('/proc/net/unix', 'utf8').includes(`@ipckit-shm:${name}\n`), 'the rendezvous socket while it lives');
  peer.kill('SIGKILL');
  await exited(peer);
  assert.deepEqual(fs.readdirSync('/dev/shm').filter((f) => f.includes(name.slice(1))), []);
  assert.equal(fs.readFileSync('/proc/net/unix', 'utf8').includes(`@ipckit-shm:${name}\n`), false);
  await assert.rejects(connect(`shm:${name}`), { code: 'ENOENT' });
});
