// Issue 12, items 9 and 3 for the channel's unix: transport: `unix:@name` binds and connects the
// abstract name with its exact length (node:net pads it to 108 bytes, nodejs/node#50889, so nothing
// else could reach it), so socat, Python and ipckit's own UnixSocket talk to it both ways; its socket
// file is 0600 whatever the umask; a dead socket left by a crashed listener is replaced, a live one or
// a regular file is EADDRINUSE.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, listen, UnixServer, UnixSocket } from '../src/index.js';
import { missing, run, startPeer, tmpDir } from './helpers/index.js';

let n = 0;
const abstractName = () => `ipckit-harden-${process.pid}-${++n}`;

/** A stream frame as the channel writes it: 4-byte little-endian length, then the payload. */
function frame(s: string): Buffer {
  const b = Buffer.from(s);
  const h = Buffer.alloc(4);
  h.writeUInt32LE(b.length);
  return Buffer.concat([h, b]);
}

/** Bounded wait until /proc/net/unix lists `addr` as a listening socket (a condition, not a sleep). */
async function listening(addr: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = fs.readFileSync('/proc/net/unix', 'utf8').split('\n');
    if (lines.some((l) => l.endsWith(' ' + addr) && (parseInt(l.split(/\s+/)[3]!, 16) & 0x10000) !== 0)) return;
    if (Date.now() > deadline) throw new Error(`${addr} never appeared in /proc/net/unix`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function withUmask(t: TestContext, mask: number): void {
  const old = process.umask(mask);
  t.after(() => process.umask(old));
}

test('listen(unix:@name) is bound with the exact name length (as /proc/net/unix shows it)', async () => {
  const name = abstractName();
  await using _ch = await listen(`unix:@${name}`);
  const lines = fs.readFileSync('/proc/net/unix', 'utf8').split('\n');
  assert.ok(lines.some((l) => l.endsWith(` @${name}`)), 'the abstract name, not 108 NUL-padded bytes');
});

test('socat reaches a unix:@name listener and gets its reply', { skip: missing('socat') }, async () => {
  const name = abstractName();
  await using ch = await listen(`unix:@${name}`);
  const peer = run('socat', ['-t', '5', 'STDIO', `ABSTRACT-CONNECT:${name}`], { input: frame('from socat'), timeout: 10_000 });
  assert.equal(String(await ch.receive({ timeout: 5000 })), 'from socat');
  await ch.send('to socat');
  await ch.close(); // the goodbye and the end of stream: socat exits
  const r = await peer;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Buffer.from(r.stdout, 'latin1').includes(frame('to socat')), JSON.stringify(r.stdout));
});

test('connect(unix:@name) reaches a socat listener on that name', { skip: missing('socat') }, async (t) => {
  const name = abstractName();
  const peer = startPeer(t, 'socat', ['-u', `ABSTRACT-LISTEN:${name}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 10_000 });
  let out = Buffer.alloc(0);
  peer.stdout!.on('data', (d: Buffer) => (out = Buffer.concat([out, d])));
  const done = new Promise((r) => peer.once('close', r));
  await listening(`@${name}`);
  const ch = await connect(`unix:@${name}`, { timeout: 5000 });
  await ch.send('to socat');
  await ch.close();
  await done;
  assert.ok(out.includes(frame('to socat')), out.toString('hex'));
});

test('Python connects to a unix:@name listener by its exact name, both ways', { skip: missing('python3') }, async () => {
  const name = abstractName();
  await using ch = await listen(`unix:@${name}`);
  const py = [
    'import socket, struct, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
    "s.connect('\\0' + sys.argv[1])",
    "m = b'from python'",
    "s.sendall(struct.pack('<I', len(m)) + m)",
    'h = s.recv(4, socket.MSG_WAITALL)',
    "sys.stdout.write(s.recv(struct.unpack('<I', h)[0], socket.MSG_WAITALL).decode())",
  ].join('\n');
  const peer = run('python3', ['-c', py, name], { timeout: 10_000 });
  assert.equal(String(await ch.receive({ timeout: 5000 })), 'from python');
  await ch.send('to python');
  const r = await peer;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'to python');
});

test('connect(unix:@name) reaches a Python listener; ipckit UnixSocket reaches a channel listener', { skip: missing('python3') }, async (t) => {
  const name = abstractName();
  const py = [
    'import socket, sys',
    's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
    "s.bind('\\0' + sys.argv[1]); s.listen(1); print('ready', flush=True)",
    'c, _ = s.accept(); data = b""',
    'while True:',
    '    d = c.recv(65536)',
    '    if not d: break',
    '    data += d',
    'print(data.hex(), flush=True)',
  ].join('\n');
  const peer = startPeer(t, 'python3', ['-c', py, name], { timeout: 10_000 });
  const lines: string[] = [];
  let buf = '';
  peer.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) lines.push(buf.slice(0, i));
  });
  const done = new Promise((r) => peer.once('close', r));
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.equal(lines[0], 'ready');
  const ch = await connect(`unix:@${name}`, { timeout: 5000 });
  await ch.send('to python');
  await ch.close();
  await done;
  assert.ok(Buffer.from(lines[1]!, 'hex').includes(frame('to python')), lines[1]);

  // And the other way round within ipckit: a plain UnixSocket on the same abstract name.
  const other = abstractName();
  await using lc = await listen(`unix:@${other}`);
  await using sock = await UnixSocket.connect({ abstract: other });
  await sock.send(frame('plain socket'));
  assert.equal(String(await lc.receive({ timeout: 5000 })), 'plain socket');
});

test('the unix: listener socket file is 0600 under umask 000 and 022; `mode` sets another', async (t) => {
  const dir = tmpDir(t);
  withUmask(t, 0);
  await using _a = await listen(`unix:${path.join(dir, 'a.sock')}`);
  assert.equal(fs.statSync(path.join(dir, 'a.sock')).mode & 0o7777, 0o600);
  process.umask(0o022);
  await using _b = await listen(`unix:${path.join(dir, 'b.sock')}`);
  assert.equal(fs.statSync(path.join(dir, 'b.sock')).mode & 0o7777, 0o600);
  await using _c = await listen(`unix:${path.join(dir, 'c.sock')}`, { mode: 0o660 });
  assert.equal(fs.statSync(path.join(dir, 'c.sock')).mode & 0o7777, 0o660);
  await using _d = await listen(`unix+seqpacket:${path.join(dir, 'd.sock')}`);
  assert.equal(fs.statSync(path.join(dir, 'd.sock')).mode & 0o7777, 0o600);
  await using _e = await listen(`unix+dgram:${path.join(dir, 'e.sock')}`);
  assert.equal(fs.statSync(path.join(dir, 'e.sock')).mode & 0o7777, 0o600);
});

test('re-listen on unix: after a crash replaces the dead socket; a live one or a file is EADDRINUSE', async (t) => {
  const dir = tmpDir(t);
  const p = path.join(dir, 'app.sock');
  // A listener that died without removing its socket file: bound, listened, closed without unlink.
  const dead = await UnixServer.listen({ path: p, unlinkOnClose: false });
  await dead.close();
  assert.ok(fs.lstatSync(p).isSocket(), 'the stale socket file is there');
  await using ch = await listen(`unix:${p}`);
  await using c = await connect(`unix:${p}`, { timeout: 5000 });
  await c.send('after recovery');
  assert.equal(String(await ch.receive({ timeout: 5000 })), 'after recovery');

  const live = path.join(dir, 'live.sock');
  await using _srv = await UnixServer.listen({ path: live });
  await assert.rejects(listen(`unix:${live}`), { code: 'EADDRINUSE' });
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, 'keep me');
  await assert.rejects(listen(`unix:${file}`), { code: 'EADDRINUSE' });
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
});
