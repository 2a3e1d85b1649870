// Peers nobody here wrote: socat as client and server for every AF_UNIX type (abstract names included),
// Python's socket.send_fds / recv_fds both ways, and credentials of Python and C peers (root and nobody),
// including `allow` rejecting a peer before reading its data.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { UnixServer, UnixSocket, type Credentials } from '../src/index.js';
import { asNobodyCommand, compileC, exited, firstLine, run, startPeer, tmpDir, missing, missingNobody } from './helpers/index.js';

let n = 0;
const abstractName = () => `ipckit-interop-${process.pid}-${++n}`;

/**
 * Bounded wait until the kernel lists the socket as bound — and listening, for connection types (the
 * __SO_ACCEPTCON flag, 0x10000, in /proc/net/unix): a condition, not a sleep. Between socat's bind and
 * its listen a connect is refused.
 */
async function bound(addr: string, listening: boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = fs.readFileSync('/proc/net/unix', 'utf8').split('\n');
    const ok = (l: string) => l.endsWith(' ' + addr) && (!listening || (parseInt(l.split(/\s+/)[3]!, 16) & 0x10000) !== 0);
    if (lines.some(ok)) return;
    if (Date.now() > deadline) throw new Error(`${addr} never appeared in /proc/net/unix`);
    await new Promise((r) => setTimeout(r, 10));
  }
}


type Kind = 'stream' | 'dgram' | 'seqpacket';
const socatOpt = (type: Kind) => (type === 'seqpacket' ? ',type=5' : '');

for (const type of ['stream', 'seqpacket', 'dgram'] as Kind[]) {
  for (const where of ['path', 'abstract'] as const) {
    test(`socat as ${type} server on a ${where}: ipckit connects and gets its echo`, { skip: missing('socat') }, async (t) => {
      const addr = where === 'path' ? path.join(tmpDir(t), 'socat.sock') : '@' + abstractName();
      const prefix = where === 'path' ? 'UNIX' : 'ABSTRACT';
      const name = where === 'path' ? addr : addr.slice(1);
      const listen = type === 'dgram' ? `${prefix}-RECVFROM:${name}` : `${prefix}-LISTEN:${name}${socatOpt(type)}`;
      startPeer(t, 'socat', [listen, 'PIPE'], { stdio: 'ignore' });
      await bound(addr, type !== 'dgram');
      const sock = await UnixSocket.connect({ ...(where === 'path' ? { path: addr } : { abstract: name }), type });
      t.after(() => sock.close());
      if (type === 'stream') {
        sock.write('echo over stream');
        const [chunk] = await once(sock, 'data');
        assert.equal(String(chunk), 'echo over stream');
      } else {
        await sock.send(`echo over ${type}`);
        const m = (await sock.receive({ timeout: 5000 }))!;
        assert.equal(String(m.data), `echo over ${type}`);
      }
    });

    test(`socat as ${type} client to an ipckit server on a ${where}`, { skip: missing('socat') }, async (t) => {
      const addr = where === 'path' ? { path: path.join(tmpDir(t), 'ipckit.sock') } : { abstract: abstractName() };
      // allowHalfOpen: socat shuts its side down right after 'hello'; our answer must still go out.
      const server = await UnixServer.listen({ ...addr, type, allowHalfOpen: true });
      t.after(() => server.close());
      const prefix = where === 'path' ? 'UNIX' : 'ABSTRACT';
      const name = addr.path ?? addr.abstract!;
      if (type === 'dgram') {
        const r = run('socat', ['-u', '-', `${prefix}-SENDTO:${name}`], { input: 'hello from socat' });
        const m = (await server.socket!.receive({ timeout: 5000 }))!;
        assert.equal(String(m.data), 'hello from socat');
        assert.equal((await r).code, 0);
        return;
      }
      const r = run('socat', ['-t', '5', '-', `${prefix}-CONNECT:${name}${socatOpt(type)}`], { input: 'hello' });
      const conn = await server.accept({ timeout: 5000 });
      t.after(() => conn.close());
      if (type === 'stream') {
        const [chunk] = await once(conn, 'data');
        assert.equal(String(chunk), 'hello');
        conn.end('world');
      } else {
        const m = (await conn.receive({ timeout: 5000 }))!;
        assert.equal(String(m.data), 'hello');
        await conn.send('world');
        conn.end();
      }
      const out = await r;
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, 'world');
    });
  }
}

test('Python send_fds → ipckit: an open file arrives over seqpacket', { skip: missing('python3') }, async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'from-python.txt');
  const server = await UnixServer.listen({ path: path.join(dir, 's.sock'), type: 'seqpacket' });
  t.after(() => server.close());
  const py = `
import socket, sys, os
fd = os.open(sys.argv[2], os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'written by python')
os.lseek(fd, 0, 0)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
socket.send_fds(s, [b'a file'], [fd])
os.close(fd)
s.recv(1)
`;
  const r = run('python3', ['-c', py, server.address, file]);
  const conn = await server.accept({ timeout: 5000 });
  t.after(() => conn.close());
  const m = (await conn.receive({ timeout: 5000 }))!;
  assert.equal(String(m.data), 'a file');
  assert.equal(m.fds.length, 1);
  assert.equal(fs.readFileSync(m.fds[0]!.fd, 'utf8'), 'written by python');
  m.fds[0]!.close();
  conn.end();
  assert.equal((await r).code, 0);
});

test('ipckit → Python recv_fds: an open file crosses a stream socket', { skip: missing('python3') }, async (t) => {
  const dir = tmpDir(t);
  const sockPath = path.join(dir, 'py.sock');
  const file = path.join(dir, 'from-node.txt');
  fs.writeFileSync(file, 'written by node');
  const py = `
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
print('ready', flush=True)
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 100, 4)
print(msg.decode(), len(fds), os.read(fds[0], 100).decode(), flush=True)
os.unlink(sys.argv[1])
`;
  const child = startPeer(t, 'python3', ['-c', py, sockPath]);
  assert.equal(await firstLine(child), 'ready');
  const sock = await UnixSocket.connect({ path: sockPath });
  t.after(() => sock.close());
  const fd = fs.openSync(file, 'r');
  t.after(() => fs.closeSync(fd));
  const line = firstLine(child);
  await sock.send('hello-python', { fds: [fd] });
  assert.equal(await line, 'hello-python 1 written by node');
  assert.equal((await exited(child)).code, 0);
});

test("a Python client's pid and uid appear in peerCredentials()", { skip: missing('python3') }, async (t) => {
  const server = await UnixServer.listen({ abstract: abstractName() });
  t.after(() => server.close());
  const py = `
import socket, sys, os
s = socket.socket(socket.AF_UNIX)
s.connect('\\0' + sys.argv[1])
print(os.getpid(), os.getuid(), os.getgid(), flush=True)
s.recv(1)
`;
  const child = startPeer(t, 'python3', ['-c', py, server.address.slice(1)]);
  const line = firstLine(child);
  const conn = await server.accept({ timeout: 5000 });
  t.after(() => conn.close());
  const [pid, uid, gid] = (await line).split(' ').map(Number);
  assert.deepEqual(conn.peerCredentials(), { pid, uid, gid });
  assert.equal(pid, child.pid, 'the process we started');
  conn.end();
  await exited(child);
});

test('a C client running as nobody shows uid 65534; allow rejects it before reading, a root peer gets in', { skip: missing('cc') || missingNobody() }, async (t) => {
  const client = await compileC('socket_client');
  for (const type of ['stream', 'seqpacket'] as const) {
    const server = await UnixServer.listen({ abstract: abstractName(), type, allow: { uid: 0 } });
    t.after(() => server.close());
    const rejected: (Credentials | null)[] = [];
    server.on('reject', (c) => rejected.push(c));
    const accepted = server.accept({ timeout: 10_000 });
    accepted.catch(() => {}); // awaited below; a failed assertion first must not leave it unhandled
    const nobody = await run(...asNobodyCommand(client, type, server.address, 'from nobody'));
    assert.match(nobody.stdout, /^connected (\d+)\n(eof|recv errno \d+|send errno \d+)\n$/, nobody.stdout);
    const nobodyPid = Number(/^connected (\d+)/.exec(nobody.stdout)![1]);
    assert.deepEqual(rejected, [{ pid: nobodyPid, uid: 65534, gid: 65534 }]);
    const root = run(client, [type, server.address, 'from root']);
    const conn = await accepted;
    t.after(() => conn.close());
    const first = type === 'stream' ? String((await once(conn, 'data'))[0]) : String((await conn.receive({ timeout: 5000 }))!.data);
    assert.equal(first, 'from root', "the rejected peer's bytes were never read");
    assert.equal(conn.peerCredentials().uid, 0);
    if (type === 'stream') conn.end('ok');
    else await conn.send('ok');
    assert.match((await root).stdout, /reply ok/);
  }
});

test('datagrams: SCM_CREDENTIALS per message, and allow drops senders that do not match', { skip: missing('cc') || missingNobody() }, async (t) => {
  const client = await compileC('socket_client');
  const sock = await UnixSocket.create({ abstract: abstractName(), type: 'dgram', allow: (c) => c.uid === 0 });
  t.after(() => sock.close());
  const rejected: (Credentials | null)[] = [];
  sock.on('reject', (c) => rejected.push(c));
  const nobody = await run(...asNobodyCommand(client, 'dgram', sock.address!, 'bad'));
  assert.match(nobody.stdout, /sent/);
  const root = await run(client, ['dgram', sock.address!, 'good']);
  const rootPid = Number(/^connected (\d+)/.exec(root.stdout)![1]);
  const m = (await sock.receive({ timeout: 5000 }))!;
  assert.equal(String(m.data), 'good');
  assert.deepEqual(m.credentials, { pid: rootPid, uid: 0, gid: 0 });
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0]!.uid, 65534);
});
