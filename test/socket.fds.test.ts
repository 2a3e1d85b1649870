// Descriptor passing (SCM_RIGHTS) on every AF_UNIX type: received descriptors are the user's, unclaimed
// ones are closed, a truncated control message is reported and leaks nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { UnixSocket } from '../src/index.js';
import { tmpDir } from './helpers/index.js';

const openFds = () => fs.readdirSync('/proc/self/fd').length;

function fileWith(t: test.TestContext, text: string): number {
  const p = path.join(tmpDir(t), 'f.txt');
  fs.writeFileSync(p, text);
  const fd = fs.openSync(p, 'r');
  t.after(() => fs.closeSync(fd));
  return fd;
}

for (const type of ['dgram', 'seqpacket'] as const) {
  test(`${type}: a file descriptor sent is readable on the other side and independent of ours`, async (t) => {
    const [a, b] = UnixSocket.pair(type);
    t.after(() => Promise.all([a.close(), b.close()]));
    const fd = fileWith(t, 'passed along');
    await a.send('take this', { fds: [fd, { fd }] });
    const m = (await b.receive({ timeout: 5000 }))!;
    assert.equal(String(m.data), 'take this');
    assert.equal(m.fds.length, 2);
    assert.equal(m.fdsTruncated, false);
    assert.notEqual(m.fds[0]!.fd, fd, 'a new descriptor for the same open file');
    assert.equal(fs.readFileSync(m.fds[0]!.fd, 'utf8'), 'passed along');
    assert.equal(m.fds[1]!.stat().ino, fs.fstatSync(fd).ino);
    for (const f of m.fds) f.close();
    m.fds[0]!.close(); // idempotent
    assert.throws(() => m.fds[0]!.take(), { code: 'ERR_IPC_CLOSED' });
  });
}

test("stream: descriptors arrive as 'fds' with their bytes, in order with write()", async (t) => {
  const [a, b] = UnixSocket.pair('stream');
  t.after(() => Promise.all([a.close(), b.close()]));
  const fd = fileWith(t, 'streamed file');
  const seen: string[] = [];
  b.on('fds', (fds: { fd: number; close(): void }[]) => {
    seen.push(`fds:${fs.readFileSync(fds[0]!.fd, 'utf8')}`);
    fds.forEach((f) => f.close());
  });
  b.on('data', (d) => seen.push(String(d)));
  // Zero bytes would carry no descriptors on a stream (unix_stream_sendmsg sends nothing): refused.
  await assert.rejects(a.send('', { fds: [fd] }), { code: 'ERR_OUT_OF_RANGE' });
  a.write('before|');
  const sent = a.send('with-fd|', { fds: [fd] });
  a.write('after');
  await sent;
  a.end();
  await new Promise((r) => b.once('end', r));
  assert.equal(seen.filter((s) => s.startsWith('fds:')).join(), 'fds:streamed file');
  const text = seen.filter((s) => !s.startsWith('fds:')).join('');
  assert.equal(text, 'before|with-fd|after');
  // 'fds' is emitted just before the chunk holding the first byte of their send (that chunk may start
  // with earlier bytes): never after their bytes, never after later ones.
  const at = seen.findIndex((s) => s.startsWith('fds:'));
  assert.ok(seen.slice(at + 1).join('').includes('with-fd|'));
});

test('stream: descriptors nobody listens for are closed at once', async (t) => {
  const [a, b] = UnixSocket.pair('stream');
  t.after(() => Promise.all([a.close(), b.close()]));
  const fd = fileWith(t, 'x');
  const before = openFds();
  await a.send('x', { fds: [fd, fd, fd] });
  const [chunk] = await Promise.all([new Promise((r) => b.once('data', r))]);
  assert.equal(String(chunk), 'x');
  assert.equal(openFds(), before);
});

test('more descriptors than maxFds: fdsTruncated (MSG_CTRUNC) is reported and nothing leaks', async (t) => {
  const [a, b] = UnixSocket.pair('seqpacket', { maxFds: 1 });
  t.after(() => Promise.all([a.close(), b.close()]));
  const fd = fileWith(t, 'x');
  const before = openFds();
  await a.send('three', { fds: [fd, fd, fd] });
  const m = (await b.receive({ timeout: 5000 }))!;
  assert.equal(m.fdsTruncated, true);
  assert.equal(m.fds.length, 1);
  assert.equal(openFds(), before + 1, 'only the one handed over is open');
  m.fds[0]!.close();
  assert.equal(openFds(), before);
});

test('receiveFds: false closes every descriptor on arrival', async (t) => {
  const [a, b] = UnixSocket.pair('dgram', { receiveFds: false });
  t.after(() => Promise.all([a.close(), b.close()]));
  const fd = fileWith(t, 'x');
  const before = openFds();
  await a.send('m', { fds: [fd, fd] });
  const m = (await b.receive({ timeout: 5000 }))!;
  assert.equal(m.fds.length, 0);
  assert.equal(openFds(), before);
});

test('descriptors of messages never read are closed with the socket', async (t) => {
  const [a, b] = UnixSocket.pair('seqpacket');
  t.after(() => a.close());
  const fd = fileWith(t, 'x');
  const before = openFds();
  await a.send('1', { fds: [fd] });
  await a.send('2', { fds: [fd, fd] });
  const first = (await b.receive({ timeout: 5000 }))!;
  // Let the read loop pull the second message into the stream's buffer too.
  for (let i = 0; i < 5 && b.readableLength === 0; i++) await new Promise(setImmediate);
  assert.equal(b.readableLength, 1);
  assert.equal(openFds(), before + 3, 'one delivered, two buffered');
  await b.close();
  assert.equal(openFds(), before - 1 + 1, 'b and the two undelivered are closed; the delivered one is not');
  first.fds[0]!.close();
});

test('a socket passed over a socket keeps working, wrapped as UnixSocket or net.Socket', async (t) => {
  const [a, b] = UnixSocket.pair('seqpacket');
  t.after(() => Promise.all([a.close(), b.close()]));
  const [x, y] = UnixSocket.pair('stream');
  t.after(() => y.close());
  const [p, q] = UnixSocket.pair('dgram');
  t.after(() => q.close());
  await a.send('sockets', { fds: [x.fd, p.fd] });
  await x.close();
  await p.close();
  const m = (await b.receive({ timeout: 5000 }))!;
  const asNet = m.fds[0]!.toSocket();
  const asUnix = m.fds[1]!.toUnixSocket();
  t.after(() => Promise.all([asNet.destroy(), asUnix.close()]));
  assert.equal(m.fds[0]!.fd, -1, 'taken');
  assert.equal(asUnix.type, 'dgram');
  y.end('over net.Socket');
  let got = '';
  for await (const d of asNet) got += d;
  assert.equal(got, 'over net.Socket');
  await q.send('over UnixSocket');
  assert.equal(String((await asUnix.receive({ timeout: 5000 }))!.data), 'over UnixSocket');
});

test('bad descriptor lists are rejected before any syscall', async (t) => {
  const [a, b] = UnixSocket.pair('dgram');
  t.after(() => Promise.all([a.close(), b.close()]));
  await assert.rejects(a.send('x', { fds: [-1] }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(a.send('x', { fds: ['3' as never] }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(a.send('x', { fds: new Array(254).fill(0) }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(a.send('x', { fds: 3 as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  // A number that is not an open descriptor is the kernel's EBADF, Node-shaped.
  await assert.rejects(a.send('x', { fds: [99999] }), { code: 'EBADF', syscall: 'sendmsg' });
});

test('fromFd adopts only AF_UNIX sockets; bad socket options leak no descriptor', async (t) => {
  const before = openFds();
  assert.throws(() => UnixSocket.pair('stream', { maxFds: 300 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.equal(openFds(), before);
  const fd = fs.openSync('/dev/null', 'r');
  t.after(() => fs.closeSync(fd));
  assert.throws(() => UnixSocket.fromFd(fd), { code: 'ENOTSOCK', syscall: 'getsockopt' });
  const server = net.createServer().listen(0, '127.0.0.1');
  t.after(() => server.close());
  await once(server, 'listening');
  const tcp = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  t.after(() => tcp.destroy());
  await once(tcp, 'connect');
  const fdOf = (tcp as unknown as { _handle: { fd: number } })._handle.fd;
  assert.throws(() => UnixSocket.fromFd(fdOf), { code: 'ERR_IPC_UNSUPPORTED' });
});
