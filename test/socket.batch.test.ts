// The socket's batched receive (recvmsgBatch into the shared receive slab): everything queued is read
// in one call per wake-up, and that changes nothing a reader can see. Record boundaries and contents
// hold across the 4 KiB line between copied and viewed records; a viewed record is never written over
// by later receives; descriptors stay with the record they were sent with; a cut record is still
// reported, and a hostile peer's burst of records ends in a coded error after the good ones.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { listen, UnixServer, UnixSocket } from '../src/index.js';
import { native } from '../src/native.js';
import { tmpDir } from './helpers/index.js';

const pattern = (i: number, len: number) => {
  const b = Buffer.allocUnsafe(len);
  for (let j = 0; j < len; j++) b[j] = (i * 7 + j) & 0xff;
  return b;
};

// Around the copy/view line (slab.ts COPY_BELOW) and well past it; the dgram list has an empty record.
const SIZES = [1, 100, 4095, 4096, 4097, 20_000, 1, 50_000, 3000, 60_000];

for (const type of ['dgram', 'seqpacket'] as const) {
  test(`${type}: records queued before the reader starts come out whole, in order, and are never overwritten`, async (t) => {
    const [a, b] = UnixSocket.pair(type);
    t.after(() => Promise.all([a.close(), b.close()]));
    const sizes = type === 'dgram' ? [0, ...SIZES] : SIZES;
    // Not awaited one by one: what does not fit waits in the send lane while the reader drains.
    const sends = sizes.map((len, i) => a.send(pattern(i, len)));
    const got = [];
    for (let i = 0; i < sizes.length; i++) got.push((await b.receive({ timeout: 5000 }))!);
    await Promise.all(sends);
    // More traffic through the same slab, then the first records again: views are the reader's.
    for (let round = 0; round < 3; round++) {
      const more = SIZES.map((len, i) => a.send(pattern(100 + i, len)));
      for (let i = 0; i < SIZES.length; i++) assert.deepEqual((await b.receive({ timeout: 5000 }))!.data, pattern(100 + i, SIZES[i]!));
      await Promise.all(more);
    }
    assert.deepEqual(
      got.map((m) => m.data.length),
      sizes,
    );
    got.forEach((m, i) => {
      assert.ok(m.data.equals(pattern(i, sizes[i]!)), `record ${i} (${sizes[i]} bytes) intact`);
      assert.equal(m.truncated, false);
      assert.deepEqual(m.fds, []);
    });
  });

  test(`${type}: descriptors in a burst stay with the record they were sent with`, async (t) => {
    const [a, b] = UnixSocket.pair(type);
    t.after(() => Promise.all([a.close(), b.close()]));
    const dir = tmpDir(t);
    const files = ['A', 'B'].map((name) => {
      fs.writeFileSync(path.join(dir, name), name);
      const fd = fs.openSync(path.join(dir, name), 'r');
      t.after(() => fs.closeSync(fd));
      return fd;
    });
    const withFds: Record<number, number[]> = { 2: [files[0]!], 5: [files[1]!, files[0]!], 6: [files[1]!] };
    const sends = [];
    for (let i = 0; i < 8; i++) sends.push(a.send(`record ${i}`, withFds[i] ? { fds: withFds[i] } : {}));
    await Promise.all(sends);
    for (let i = 0; i < 8; i++) {
      const m = (await b.receive({ timeout: 5000 }))!;
      assert.equal(String(m.data), `record ${i}`);
      // By inode: the descriptors share one file offset, so reading them would not tell them apart.
      const inodes = m.fds.map((f) => f.stat().ino);
      for (const f of m.fds) f.close();
      assert.deepEqual(inodes, (withFds[i] ?? []).map((fd) => fs.fstatSync(fd).ino), `record ${i}'s descriptors`);
    }
  });
}

test('stream: a burst of writes arrives intact, with descriptors before their bytes and after the bytes before them', async (t) => {
  const [a, b] = UnixSocket.pair('stream');
  t.after(() => Promise.all([a.close(), b.close()]));
  const p = path.join(tmpDir(t), 'f');
  fs.writeFileSync(p, 'passed');
  const fd = fs.openSync(p, 'r');
  t.after(() => fs.closeSync(fd));
  const seen: (Buffer | string)[] = [];
  b.on('fds', (fds: { fd: number; close(): void }[]) => {
    seen.push(`fds:${fs.readFileSync(fds[0]!.fd, 'utf8')}`);
    for (const f of fds) f.close();
  });
  const head = pattern(1, 100_000);
  const tail = pattern(2, 70_000);
  a.write(head);
  const sent = a.send('|with-fd|', { fds: [fd] });
  a.end(tail);
  await sent;
  for await (const d of b) seen.push(d as Buffer);
  const at = seen.findIndex((s) => typeof s === 'string');
  const bytes = (xs: (Buffer | string)[]) => Buffer.concat(xs.filter((x): x is Buffer => typeof x !== 'string'));
  assert.ok(bytes(seen).equals(Buffer.concat([head, Buffer.from('|with-fd|'), tail])));
  assert.equal(seen[at], 'fds:passed');
  assert.ok(bytes(seen.slice(at + 1)).includes(Buffer.from('|with-fd|')), 'the descriptor comes before its bytes');
  assert.ok(bytes(seen.slice(0, at)).length <= head.length, 'and not after anything sent later');
});

test('a burst from a hostile seqpacket peer: the good records before garbage are delivered, then ERR_IPC_CORRUPT', async (t) => {
  const dir = tmpDir(t);
  const sockPath = path.join(dir, 'h.sock');
  await using l = await listen(`unix+seqpacket:${sockPath}`);
  await using raw = await UnixSocket.connect({ path: sockPath, type: 'seqpacket' });
  const rec = (text: string) => Buffer.concat([Buffer.from([0]), Buffer.from(text)]); // tag 0: a message
  // Queued together, so the listener reads them in one batch.
  await raw.send(rec('one'));
  await raw.send(rec('two'));
  await raw.send(Buffer.from([0x7f, 1, 2, 3])); // no valid tag
  await raw.send(rec('never'));
  assert.equal(String(await l.receive({ timeout: 5000 })), 'one');
  assert.equal(String(await l.receive({ timeout: 5000 })), 'two');
  await assert.rejects(l.receive({ timeout: 5000 }), { code: 'ERR_IPC_CORRUPT' });
  await assert.rejects(l.receive({ timeout: 5000 }), { code: 'ERR_IPC_CORRUPT' }, 'the channel stays failed');
});

test('a record cut by the kernel in the middle of a burst is flagged, and the records around it are whole', async (t) => {
  const [a, b] = UnixSocket.pair('seqpacket');
  t.after(() => Promise.all([a.close(), b.close()]));
  // Root may force a send buffer past wmem_max (SO_SNDBUFFORCE, 32): a record past the 512 KiB that
  // a receive takes can then be sent.
  const K = native.socketConstants;
  if (native.setsockoptInt(a.fd, K.SOL_SOCKET, 32, 4 << 20) < 0) return t.skip('needs CAP_NET_ADMIN for SO_SNDBUFFORCE');
  const big = pattern(9, 600 * 1024);
  try {
    await a.send(pattern(1, 10));
    await a.send(big);
    await a.send(pattern(3, 5000));
  } catch (err) {
    return t.skip(`the kernel would not take a 600 KiB record: ${(err as { code?: string }).code}`);
  }
  const first = (await b.receive({ timeout: 5000 }))!;
  const cut = (await b.receive({ timeout: 5000 }))!;
  const last = (await b.receive({ timeout: 5000 }))!;
  assert.ok(first.data.equals(pattern(1, 10)) && !first.truncated);
  assert.equal(cut.truncated, true);
  assert.ok(cut.data.length < big.length);
  assert.ok(cut.data.equals(big.subarray(0, cut.data.length)), 'what was kept is the record\'s start');
  assert.ok(last.data.equals(pattern(3, 5000)) && !last.truncated);
});

test('sendBufferSize sets SO_SNDBUF on pairs, connections and accepted sockets; a bad one leaks nothing', async (t) => {
  const K = native.socketConstants;
  const sndbuf = (s: UnixSocket) => native.getsockoptInt(s.fd, K.SOL_SOCKET, K.SO_SNDBUF);
  const [a, b] = UnixSocket.pair('seqpacket');
  const [c, d] = UnixSocket.pair('seqpacket', { sendBufferSize: 1 << 20 });
  t.after(() => Promise.all([a, b, c, d].map((s) => s.close())));
  // The kernel doubles the value and caps it at 2 × wmem_max: larger than the default either way.
  assert.ok(sndbuf(c) > sndbuf(a), `${sndbuf(c)} > ${sndbuf(a)}`);
  assert.equal(sndbuf(d), sndbuf(c));
  assert.equal(c.maxMessageSize, sndbuf(c) - 32);
  const sockPath = path.join(tmpDir(t), 's.sock');
  const server = await UnixServer.listen({ path: sockPath, type: 'stream', sendBufferSize: 1 << 20 });
  t.after(() => server.close());
  const client = await UnixSocket.connect({ path: sockPath, sendBufferSize: 1 << 20 });
  t.after(() => client.close());
  const conn = await server.accept({ timeout: 5000 });
  t.after(() => conn.close());
  assert.equal(sndbuf(conn), sndbuf(c));
  assert.equal(sndbuf(client), sndbuf(c));
  const before = fs.readdirSync('/proc/self/fd').length;
  await assert.rejects(UnixSocket.connect({ path: sockPath, sendBufferSize: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => UnixSocket.pair('dgram', { sendBufferSize: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.equal(fs.readdirSync('/proc/self/fd').length, before);
});
