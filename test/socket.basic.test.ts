// AF_UNIX sockets: the three types, paths and abstract names, socket-file modes and lifetime, bad input,
// datagram size limits and backpressure.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { UnixServer, UnixSocket, UNIX_PATH_MAX, parseUnixEndpoint } from '../src/index.js';
import { asNobodyCommand, compileC, tmpDir, run, missing, missingNobody } from './helpers/index.js';


let n = 0;
const abstractName = () => `ipckit-test-${process.pid}-${++n}`;

async function readAll(s: UnixSocket): Promise<string> {
  let out = '';
  for await (const d of s) out += d;
  return out;
}

test('a stream pair is a byte Duplex both ways', async (t) => {
  const [a, b] = UnixSocket.pair('stream');
  t.after(() => Promise.all([a.close(), b.close()]));
  a.end('from a');
  b.end('from b');
  assert.deepEqual(await Promise.all([readAll(b), readAll(a)]), ['from a', 'from b']);
});

for (const type of ['dgram', 'seqpacket'] as const) {
  test(`a ${type} pair keeps record boundaries`, async (t) => {
    const [a, b] = UnixSocket.pair(type);
    t.after(() => Promise.all([a.close(), b.close()]));
    const sent = type === 'dgram' ? ['one', '', 'three', 'four'] : ['one', 'two', 'three', 'four'];
    await a.send(sent[0]!);
    await a.send(sent[1]!);
    await a.send(Buffer.from(sent[2]!));
    a.write(sent[3]);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(String((await b.receive({ timeout: 5000 }))!.data));
    assert.deepEqual(got, sent);
    if (type === 'seqpacket') await assert.rejects(a.send(''), { code: 'ERR_OUT_OF_RANGE' });
  });
}

for (const type of ['stream', 'seqpacket'] as const) {
  for (const where of ['path', 'abstract'] as const) {
    test(`a ${type} server on a ${where} accepts, echoes, and reports the same peer credentials`, async (t) => {
      const addr = where === 'path' ? { path: path.join(tmpDir(t), 's.sock') } : { abstract: abstractName() };
      const server = await UnixServer.listen({ ...addr, type });
      t.after(() => server.close());
      assert.equal(server.address, where === 'path' ? addr.path : '@' + addr.abstract);
      const client = await UnixSocket.connect({ ...addr, type });
      t.after(() => client.close());
      const conn = await server.accept({ timeout: 5000 });
      t.after(() => conn.close());
      assert.deepEqual(conn.peerCredentials(), { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
      if (type === 'stream') {
        conn.pipe(conn);
        client.end('echo me');
        assert.equal(await readAll(client), 'echo me');
      } else {
        await client.send('rec');
        const m = (await conn.receive({ timeout: 5000 }))!;
        await conn.send(m.data);
        assert.equal(String((await client.receive({ timeout: 5000 }))!.data), 'rec');
        client.end();
        assert.equal(await conn.receive({ timeout: 5000 }), null, 'orderly shutdown reads as the end');
      }
    });
  }
}

test('async iteration of a server yields connections until it closes', async (t) => {
  const server = await UnixServer.listen({ abstract: abstractName(), type: 'seqpacket' });
  t.after(() => server.close());
  const clients = await Promise.all([1, 2].map(() => UnixSocket.connect({ abstract: server.address.slice(1), type: 'seqpacket' })));
  t.after(() => Promise.all(clients.map((c) => c.close())));
  const got: UnixSocket[] = [];
  for await (const conn of server) {
    got.push(conn);
    if (got.length === 2) void server.close();
  }
  assert.equal(got.length, 2);
  await Promise.all(got.map((c) => c.close()));
});

test('abstract names off Linux are ERR_IPC_UNSUPPORTED, before any syscall', async (t) => {
  const real = Object.getOwnPropertyDescriptor(process, 'platform')!;
  Object.defineProperty(process, 'platform', { value: 'darwin' });
  t.after(() => Object.defineProperty(process, 'platform', real));
  await assert.rejects(UnixServer.listen({ abstract: 'x' }), { code: 'ERR_IPC_UNSUPPORTED' });
  await assert.rejects(UnixSocket.connect({ abstract: 'x' }), { code: 'ERR_IPC_UNSUPPORTED' });
});

test('a seqpacket peer killed with SIGKILL mid-conversation reads as the end, after what it sent', { skip: missing('python3') }, async (t) => {
  const server = await UnixServer.listen({ abstract: abstractName(), type: 'seqpacket' });
  t.after(() => server.close());
  const py = 'import socket,sys,os,signal\ns=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\ns.connect("\\0"+sys.argv[1])\ns.send(b"last words")\nos.kill(os.getpid(), signal.SIGKILL)';
  const r = run('python3', ['-c', py, server.address.slice(1)]);
  const conn = await server.accept({ timeout: 5000 });
  t.after(() => conn.close());
  assert.equal((await r).signal, 'SIGKILL');
  assert.equal(String((await conn.receive({ timeout: 5000 }))!.data), 'last words');
  assert.equal(await conn.receive({ timeout: 5000 }), null);
});

test("'connection' events accept while there is a listener", async (t) => {
  const server = await UnixServer.listen({ abstract: abstractName() });
  t.after(() => server.close());
  const got = once(server, 'connection');
  const c1 = await UnixSocket.connect({ abstract: server.address.slice(1) });
  t.after(() => c1.close());
  const [conn] = (await got) as [UnixSocket];
  t.after(() => conn.close());
  assert.equal(conn.type, 'stream');
  server.removeAllListeners('connection');
});

test('a datagram server sees senders by address and answers them', async (t) => {
  const server = await UnixServer.listen({ path: path.join(tmpDir(t), 'd.sock'), type: 'dgram' });
  t.after(() => server.close());
  const client = await UnixSocket.connect({ path: server.address, type: 'dgram' });
  t.after(() => client.close());
  await client.send('ping');
  const m = (await server.socket!.receive({ timeout: 5000 }))!;
  assert.equal(String(m.data), 'ping');
  assert.match(m.from!, /^@/, 'the client was autobound to an abstract name');
  await server.socket!.send('pong', { to: m.from! });
  assert.equal(String((await client.receive({ timeout: 5000 }))!.data), 'pong');
});

test('socket files get exactly the requested mode even with umask 0, 0600 by default', async (t) => {
  const dir = tmpDir(t);
  const old = process.umask(0);
  t.after(() => process.umask(old));
  const a = await UnixServer.listen({ path: path.join(dir, 'a.sock') });
  t.after(() => a.close());
  const b = await UnixServer.listen({ path: path.join(dir, 'b.sock'), mode: 0o660, type: 'seqpacket' });
  t.after(() => b.close());
  process.umask(0o077);
  const c = await UnixSocket.create({ path: path.join(dir, 'c.sock'), mode: 0o666 });
  t.after(() => c.close());
  assert.equal(fs.statSync(path.join(dir, 'a.sock')).mode & 0o7777, 0o600);
  assert.equal(fs.statSync(path.join(dir, 'b.sock')).mode & 0o7777, 0o660);
  assert.equal(fs.statSync(path.join(dir, 'c.sock')).mode & 0o7777, 0o666, 'widened to the requested mode');
  assert.ok(fs.statSync(path.join(dir, 'a.sock')).isSocket());
});

test('the mode is enforced: nobody gets EACCES on 0600 and connects on 0666', { skip: missing('cc') || missingNobody() }, async (t) => {
  // Not under TMPDIR: CI's TMPDIR is a 0700 directory that nobody could not even traverse.
  const dir = fs.mkdtempSync('/tmp/ipckit-mode-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o711);
  const closed = await UnixServer.listen({ path: path.join(dir, 'closed.sock') });
  t.after(() => closed.close());
  const open = await UnixServer.listen({ path: path.join(dir, 'open.sock'), mode: 0o666 });
  t.after(() => open.close());
  const client = await compileC('socket_client');
  const peer = (p: string) => run(...asNobodyCommand(client, 'stream', p));
  const [r1, r2] = await Promise.all([peer(closed.address), peer(open.address)]);
  assert.equal(r1.stdout.trim(), `errno ${os.constants.errno.EACCES}`);
  assert.match(r2.stdout, /^connected \d+/);
  (await open.accept({ timeout: 5000 })).destroy();
});

test('listen replaces a dead socket file, refuses a live one and a non-socket with EADDRINUSE', { skip: missing('python3') }, async (t) => {
  const dir = tmpDir(t);
  const dead = path.join(dir, 'dead.sock');
  // Python binds and exits without unlinking: the file stays, nobody listens.
  const r = await run('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen()', dead]);
  assert.equal(r.code, 0);
  assert.ok(fs.statSync(dead).isSocket());
  const s1 = await UnixServer.listen({ path: dead });
  t.after(() => s1.close());
  await assert.rejects(UnixServer.listen({ path: dead }), { code: 'EADDRINUSE', syscall: 'bind' });
  const c = await UnixSocket.connect({ path: dead });
  (await s1.accept({ timeout: 5000 })).destroy();
  c.destroy();
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, 'keep me');
  await assert.rejects(UnixServer.listen({ path: file }), { code: 'EADDRINUSE' });
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
});

test('close unlinks its own socket file, but never a newer socket at the same path', async (t) => {
  const dir = tmpDir(t);
  const p = path.join(dir, 's.sock');
  const a = await UnixServer.listen({ path: p });
  await a.close();
  assert.equal(fs.existsSync(p), false);
  await a.close(); // idempotent
  const b = await UnixServer.listen({ path: p });
  fs.unlinkSync(p);
  const c = await UnixServer.listen({ path: p });
  t.after(() => c.close());
  await b.close();
  assert.ok(fs.statSync(p).isSocket(), "b did not remove c's socket");
  const d = await UnixServer.listen({ path: path.join(dir, 'kept.sock'), unlinkOnClose: false });
  await d.close();
  assert.equal(await UnixServer.unlink(path.join(dir, 'kept.sock')), true);
  assert.equal(await UnixServer.unlink(path.join(dir, 'kept.sock')), false);
});

test('a path longer than sun_path is ERR_IPC_NAME_INVALID naming the limit, never truncated', async (t) => {
  const dir = tmpDir(t);
  const fits = path.join(dir, 'x'.repeat(UNIX_PATH_MAX - dir.length - 1));
  assert.equal(Buffer.byteLength(fits), 107);
  const s = await UnixServer.listen({ path: fits });
  t.after(() => s.close());
  assert.ok(fs.statSync(fits).isSocket());
  const long = fits + 'y';
  for (const p of [UnixServer.listen({ path: long }), UnixSocket.connect({ path: long })]) {
    await assert.rejects(p, (err: NodeJS.ErrnoException & { limit: number }) => {
      assert.equal(err.code, 'ERR_IPC_NAME_INVALID');
      assert.equal(err.limit, 107);
      assert.match(err.message, /107/);
      return true;
    });
  }
  assert.equal(fs.existsSync(fits.slice(0, -1)), false);
  await assert.rejects(UnixServer.listen({ abstract: 'a'.repeat(108) }), { code: 'ERR_IPC_NAME_INVALID', limit: 107, path: '@' + 'a'.repeat(108) });
  await assert.rejects(UnixServer.listen({ path: long }), { code: 'ERR_IPC_NAME_INVALID', path: long });
  await assert.rejects(UnixServer.listen({ path: 'a\0b' }), { code: 'ERR_IPC_NAME_INVALID' });
  await assert.rejects(UnixServer.listen({ path: '' }), { code: 'ERR_IPC_NAME_INVALID' });
  await assert.rejects(UnixServer.listen({} as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(UnixServer.listen({ path: '/x', abstract: 'y' }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(UnixServer.listen({ path: '/x', type: 'raw' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
});

for (const type of ['dgram', 'seqpacket'] as const) {
  test(`${type}: maxMessageSize is reported; one byte more is ERR_IPC_MESSAGE_TOO_LARGE`, async (t) => {
    const [a, b] = UnixSocket.pair(type);
    t.after(() => Promise.all([a.close(), b.close()]));
    const max = a.maxMessageSize;
    assert.ok(max > 1000 && max < 1 << 24, `max ${max}`);
    await assert.rejects(a.send(Buffer.alloc(max + 1)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE', limit: max });
    await a.send(Buffer.alloc(max, 7));
    const m = (await b.receive({ timeout: 5000 }))!;
    assert.equal(m.data.length, max);
    assert.equal(m.truncated, false);
  });
}

for (const connected of [true, false]) {
  test(`dgram send waits for room (${connected ? 'connected' : 'unconnected, with to'}) and loses nothing`, async (t) => {
    let a: UnixSocket, b: UnixSocket;
    if (connected) [a, b] = UnixSocket.pair('dgram');
    else {
      b = await UnixSocket.create({ abstract: abstractName() });
      a = await UnixSocket.create({ abstract: abstractName() });
    }
    t.after(() => Promise.all([a.close(), b.close()]));
    // 4 KiB each: a socketpair is bounded by the sender's SO_SNDBUF (~208 KiB), a named receiver by
    // its queue length (net.unix.max_dgram_qlen); 200 of them exceed both.
    const N = 200;
    let settled = 0;
    const msg = (i: number) => Buffer.concat([Buffer.from(String(i).padEnd(8)), Buffer.alloc(4088)]);
    const sends = Array.from({ length: N }, (_, i) =>
      a.send(msg(i), connected ? {} : { to: b.address! }).then(() => settled++),
    );
    for (let i = 0; i < 20; i++) await new Promise(setImmediate);
    assert.ok(settled < N, `the receiver's queue is bounded: ${settled} of ${N} sent before anyone read`);
    const got: number[] = [];
    for (let i = 0; i < N; i++) got.push(Number(String((await b.receive({ timeout: 5000 }))!.data.subarray(0, 8)).trim()));
    await Promise.all(sends);
    assert.deepEqual(got, Array.from({ length: N }, (_, i) => i));
  });
}

test('a dgram send waiting for room honours its timeout and signal', async (t) => {
  const [a, b] = UnixSocket.pair('dgram');
  t.after(() => Promise.all([a.close(), b.close()]));
  const fill: Promise<void>[] = [];
  for (let i = 0; i < 100; i++) fill.push(a.send(Buffer.alloc(4096)).catch(() => {}));
  await assert.rejects(a.send('late', { timeout: 50 }), { code: 'ERR_IPC_TIMEOUT' });
  await assert.rejects(a.send('late', { signal: AbortSignal.abort() }), { name: 'AbortError' });
  await assert.rejects(b.receive({ signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('receive waits honour timeout; use after close is ERR_IPC_CLOSED; close is idempotent', async (t) => {
  const [a, b] = UnixSocket.pair('seqpacket');
  t.after(() => b.close());
  await assert.rejects(a.receive({ timeout: 30 }), { code: 'ERR_IPC_TIMEOUT' });
  const fd = fs.openSync('/dev/null', 'r');
  t.after(() => fs.closeSync(fd));
  await a.close();
  await a.close();
  assert.equal(a.fd, -1);
  await assert.rejects(a.send('x', { fds: [fd] }), { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => a.peerCredentials(), { code: 'ERR_IPC_CLOSED' });
  assert.equal(await b.receive({ timeout: 5000 }), null, 'the peer sees the end');
  const server = await UnixServer.listen({ abstract: abstractName() });
  await server.close();
  await assert.rejects(server.accept(), { code: 'ERR_IPC_CLOSED' });
});

test('connecting to nothing is ECONNREFUSED / ENOENT, Node-shaped', async (t) => {
  await assert.rejects(UnixSocket.connect({ abstract: abstractName() }), { code: 'ECONNREFUSED', syscall: 'connect' });
  const p = path.join(tmpDir(t), 'none.sock');
  await assert.rejects(UnixSocket.connect({ path: p }), { code: 'ENOENT', syscall: 'connect', path: p });
});

test('a stream send to a peer killed with SIGKILL fails with EPIPE, never SIGPIPE', { skip: missing('python3') }, async (t) => {
  const server = await UnixServer.listen({ abstract: abstractName() });
  t.after(() => server.close());
  const r = run('python3', ['-c', 'import socket,sys,os,signal; s=socket.socket(socket.AF_UNIX); s.connect("\\0"+sys.argv[1]); os.kill(os.getpid(), signal.SIGKILL)', server.address.slice(1)]);
  const conn = await server.accept({ timeout: 5000 });
  t.after(() => conn.close());
  assert.equal((await r).signal, 'SIGKILL');
  conn.on('error', () => {});
  await assert.rejects(
    (async () => {
      for (;;) await conn.send(Buffer.alloc(65536));
    })(),
    (err: NodeJS.ErrnoException) => ['EPIPE', 'ECONNRESET'].includes(err.code!),
  );
});

test('endpoint URLs name the type and the address, validated like any other', () => {
  assert.deepEqual(parseUnixEndpoint('unix:/run/a.sock'), { type: 'stream', path: '/run/a.sock' });
  assert.deepEqual(parseUnixEndpoint('unix:@name'), { type: 'stream', abstract: 'name' });
  assert.deepEqual(parseUnixEndpoint('unix+dgram:///tmp/d'), { type: 'dgram', path: '/tmp/d' });
  assert.deepEqual(parseUnixEndpoint('unix+seqpacket:@x'), { type: 'seqpacket', abstract: 'x' });
  assert.throws(() => parseUnixEndpoint('tcp://localhost:1'), { code: 'ERR_IPC_NAME_INVALID' });
  assert.throws(() => parseUnixEndpoint('unix:/' + 'a'.repeat(200)), { code: 'ERR_IPC_NAME_INVALID', limit: 107 });
  assert.throws(() => parseUnixEndpoint('unix:'), { code: 'ERR_IPC_NAME_INVALID' });
});

test('a pending receive() rejects ERR_IPC_CLOSED when its socket closes; send() after end() is ERR_IPC_CLOSED', async (t) => {
  const [a, b] = UnixSocket.pair('dgram');
  t.after(() => a.close());
  const pending = b.receive();
  await b.close();
  await assert.rejects(pending, { code: 'ERR_IPC_CLOSED' });
  const [c, d] = UnixSocket.pair('stream');
  t.after(() => Promise.all([c.close(), d.close()]));
  c.end();
  await assert.rejects(c.send('late'), { code: 'ERR_IPC_CLOSED' });
});

test('a peer that dies with our message unread: receive() rejects with ECONNRESET, and no unheard error event kills the process', async () => {
  const [a, b] = UnixSocket.pair('seqpacket');
  await a.send('unread');
  await b.close(); // closing with data queued resets the connection (unix(7): ECONNRESET for the peer)
  await assert.rejects(a.receive({ timeout: 5000 }), { code: 'ECONNRESET' });
  await new Promise((resolve) => setImmediate(resolve)); // where an unheard 'error' would have been thrown
  await a.close();
});
