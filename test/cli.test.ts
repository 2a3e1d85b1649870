// The ipckit command line: exit codes, ls/rm against objects made by other programs (Python's
// _posixshmem, util-linux ipcmk), send/recv over FIFOs with the shell on the other side, and the tour.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { exited, root, run, startPeer, tmpDir, uniqueName, missing, missingMqueueMount } from './helpers/index.js';

const cli = path.join(root, 'dist/src/cli/main.js');
const ipckit = (args: string[], input?: string) => run(process.execPath, [cli, ...args], { input });

test('--help exits 0, an unknown command or option exits 2', async () => {
  assert.equal((await ipckit(['--help'])).code, 0);
  assert.equal((await ipckit(['ls', '--help'])).code, 0);
  const unknown = await ipckit(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command/);
  assert.equal((await ipckit(['ls', '--bogus'])).code, 2);
});

test('ls lists a POSIX shm object made by Python with its size and mode, and rm removes it', { skip: missing('python3') }, async (t) => {
  const name = uniqueName('cli');
  const file = `/dev/shm/${name.slice(1)}`;
  t.after(() => fs.rmSync(file, { force: true }));
  const py = await run('python3', ['-c', `import _posixshmem, os; fd = _posixshmem.shm_open(${JSON.stringify(name)}, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o640); os.ftruncate(fd, 8192)`]);
  assert.equal(py.code, 0, py.stderr);
  const ls = await ipckit(['ls', '--json', '--kind', 'posix-shm']);
  assert.equal(ls.code, 0);
  const obj = JSON.parse(ls.stdout).objects.find((o: { name: string }) => o.name === name);
  assert.deepEqual([obj.kind, obj.size, obj.mode, obj.ref], ['posix-shm', 8192, 0o640, `shm:${name}`]);
  const human = await ipckit(['ls']);
  assert.match(human.stdout, new RegExp(`shm:${name}\\s+posix-shm\\s+-\\s+root\\s+0640\\s+8\\.0 KiB`));
  assert.equal((await ipckit(['rm', `shm:${name}`])).code, 0);
  assert.equal(fs.existsSync(file), false);
  const again = await ipckit(['rm', `shm:${name}`]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /no such object/);
  assert.equal((await ipckit(['rm', '-f', `shm:${name}`])).code, 0);
});

test('ls shows a System V queue made by ipcmk, with the key and id ipcs shows', { skip: missing('ipcmk', 'ipcrm', 'ipcs') }, async (t) => {
  const mk = await run('ipcmk', ['-Q', '-p', '0600']);
  assert.equal(mk.code, 0, mk.stderr);
  const id = Number(/(\d+)\s*$/.exec(mk.stdout.trim())![1]);
  t.after(() => run('ipcrm', ['-q', String(id)]));
  const ls = JSON.parse((await ipckit(['ls', '--json', '--kind', 'sysv'])).stdout);
  const obj = ls.objects.find((o: { id: number; kind: string }) => o.kind === 'sysv-msg' && o.id === id);
  assert.ok(obj, 'listed');
  // ipcs -q: "key msqid owner perms used-bytes messages"
  const line = (await run('ipcs', ['-q'])).stdout.split('\n').find((l) => l.split(/\s+/)[1] === String(id));
  assert.ok(line, 'ipcs lists it too');
  assert.equal(obj.key, Number(line.split(/\s+/)[0]));
  assert.equal(obj.mode, 0o600);
  assert.equal(obj.count, 0);
});

test('rm refuses an object it cannot parse with exit 2 (usage)', async () => {
  const r = await ipckit(['rm', 'nonsense']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ERR_IPC_NAME_INVALID/);
});

test('recv fifo: prints what `echo > path` writes, counts lines, and removes the FIFO it made', async (t) => {
  const p = path.join(tmpDir(t), 'in.fifo');
  const recv = startPeer(t, process.execPath, [cli, 'recv', `fifo:${p}`, '--count', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  recv.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  // The FIFO appears when recv has created it; only then can the shell's redirection find it.
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal((await run('sh', ['-c', `echo first > '${p}'; echo second > '${p}'`])).code, 0);
  assert.equal((await exited(recv)).code, 0);
  assert.equal(out, 'first\nsecond\n');
  assert.equal(fs.existsSync(p), false);
});

test('send fifo: writes to a reader that is already there (cat), with a newline for argument data', async (t) => {
  const p = path.join(tmpDir(t), 'out.fifo');
  assert.equal((await run('mkfifo', [p])).code, 0);
  const cat = startPeer(t, 'cat', [p], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  cat.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  const send = await ipckit(['send', `fifo:${p}`, 'hello cat', '--timeout', '10000']);
  assert.equal(send.code, 0, send.stderr);
  await exited(cat);
  assert.equal(out, 'hello cat\n');
});

test('framed send and recv agree on message boundaries; stdin is one message', async (t) => {
  const p = path.join(tmpDir(t), 'framed.fifo');
  const recv = startPeer(t, process.execPath, [cli, 'recv', `fifo:${p}`, '--framed', '--json', '--count', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  recv.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal((await ipckit(['send', `fifo:${p}`, '--framed', 'line one\nstill one'])).code, 0);
  assert.equal((await ipckit(['send', `fifo:${p}`, '--framed'], 'from stdin')).code, 0);
  assert.equal((await exited(recv)).code, 0);
  assert.deepEqual(out.trim().split('\n').map((l) => JSON.parse(l).data), ['line one\nstill one', 'from stdin']);
});

test('recv --timeout fails with exit 1 when nothing arrives', async (t) => {
  const p = path.join(tmpDir(t), 'quiet.fifo');
  const r = await ipckit(['recv', `fifo:${p}`, '--timeout', '100']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /nothing arrived/);
  assert.equal(fs.existsSync(p), false);
});

for (const url of ['tcp://127.0.0.1:0', 'udp://127.0.0.1:0']) {
  test(`recv ${url} --timeout fails with exit 1 when nothing arrives (it once left the event loop empty: status 13)`, async () => {
    const r = await ipckit(['recv', url, '--timeout', '100']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^listening on .*\nipckit: recv .*: nothing arrived for 100 ms\n$/);
  });
}

test('send to an unsupported endpoint is a usage error (exit 2)', async () => {
  const r = await ipckit(['send', 'carrier-pigeon:/coop', 'x']);
  assert.equal(r.code, 2);
});

test('the tour runs every section between real processes and exits 0', async () => {
  const r = await run(process.execPath, [cli, 'tour'], { timeout: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /1\. Pipes and FIFOs/);
  assert.match(r.stdout, /wc -c counted 16777216 bytes/);
  // Numbered 1..N as shown, and the count says N.
  const numbers = [...r.stdout.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
  assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, i) => i + 1));
  assert.match(r.stdout, new RegExp(`^ipckit tour: ${numbers.length} sections of ${numbers.length},`));
  // The Channel section: three transports, then the ring against child_process.send, measured.
  assert.match(r.stdout, /\d+\. Channels: one API over every transport/);
  for (const scheme of [/unix:\S+/, /tcp:\/\/127\.0\.0\.1:\d+/, /shm:\S+/]) assert.match(r.stdout, new RegExp(`${scheme.source}\\s+400 round trips, p50 [\\d.]+ µs`));
  assert.match(r.stdout, /child_process\.send \(json\): +p50 [\d.]+ µs/);
  assert.match(r.stdout, /shm: ring, both sides spinning .*p50 [\d.]+ µs +\([\d.]+× (faster|slower: another process had the other core)\)/);
});

test('rm removes System V segments and semaphore sets made by ipcmk, by id and by key', { skip: missing('ipcmk', 'ipcrm', 'ipcs') }, async (t) => {
  const shm = await run('ipcmk', ['-M', '4096']);
  const sem = await run('ipcmk', ['-S', '2']);
  const shmId = Number(/(\d+)\s*$/.exec(shm.stdout.trim())![1]);
  const semId = Number(/(\d+)\s*$/.exec(sem.stdout.trim())![1]);
  t.after(() => Promise.all([run('ipcrm', ['-m', String(shmId)]), run('ipcrm', ['-s', String(semId)])]));
  const ls = JSON.parse((await ipckit(['ls', '--json', '--kind', 'sysv'])).stdout).objects as { id: number; kind: string; key: number; count: number; size: number }[];
  const seg = ls.find((o) => o.kind === 'sysv-shm' && o.id === shmId)!;
  const set = ls.find((o) => o.kind === 'sysv-sem' && o.id === semId)!;
  assert.deepEqual([seg.size, seg.count, set.count], [4096, 0, 2]);
  assert.equal((await ipckit(['rm', `sysvshm:id=${shmId}`, `sysvsem:0x${set.key.toString(16)}`])).code, 0);
  const ipcs = (await run('ipcs', ['-m', '-s'])).stdout.split('\n').map((l) => l.split(/\s+/)[1]);
  assert.ok(!ipcs.includes(String(shmId)) && !ipcs.includes(String(semId)), 'ipcs no longer shows them');
});

test('ls shows a POSIX queue with its queued bytes, and rm removes it through mq_unlink', { skip: missingMqueueMount() }, async (t) => {
  const { MessageQueue } = await import('../src/index.js');
  const name = uniqueName('cli');
  const q = await MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 64, unlinkOnClose: false });
  t.after(async () => {
    await q.close();
    await MessageQueue.unlink(name);
  });
  await q.send('twelve bytes');
  const ls = JSON.parse((await ipckit(['ls', '--json', '--kind', 'posix-mq'])).stdout);
  const obj = ls.objects.find((o: { name: string }) => o.name === name);
  assert.deepEqual([obj.ref, obj.size, obj.mode], [`mq:${name}`, 12, 0o600]);
  assert.ok(ls.limits.messageQueues.posix.msgMax > 0, 'the kernel limits are reported');
  assert.equal((await ipckit(['rm', `mq:${name}`])).code, 0);
  assert.equal(await MessageQueue.unlink(name), false);
});

/** Starts `ipckit recv ...` and resolves once `ready()` says its endpoint exists. */
/** Starts `ipckit recv`, and waits (up to 10 s) until `ready(stderr so far)` holds or it exits. */
async function startRecv(args: string[], ready: (stderr: string) => boolean) {
  const child = spawn(process.execPath, [cli, 'recv', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const deadline = Date.now() + 10_000;
  while (!ready(err) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  return {
    child,
    done: async () => {
      const { code } = await exited(child);
      return { code, out, err };
    },
  };
}

test('send mq: with priorities, recv mq: prints them highest first', async (t) => {
  const { MessageQueue } = await import('../src/index.js');
  const name = uniqueName('cli');
  const q = await MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 64 });
  t.after(() => q.close());
  assert.equal((await ipckit(['send', `mq:${name}`, 'low', '--priority', '1'])).code, 0);
  assert.equal((await ipckit(['send', `mq:${name}`, 'high', '--priority', '9'])).code, 0);
  const r = await ipckit(['recv', `mq:${name}`, '--count', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'high\nlow\n');
  assert.equal((await ipckit(['send', `mq:${name}`, 'x', '--priority', '99999'])).code, 2);
});

test('send sysvmq: --type, recv sysvmq: --type selects by type like msgrcv', async (t) => {
  const { SystemVMessageQueue } = await import('../src/index.js');
  const key = (await import('./helpers/index.js')).uniqueKey();
  const k = await SystemVMessageQueue.create(key);
  t.after(() => k.close());
  const url = `sysvmq:0x${(key >>> 0).toString(16)}`;
  assert.equal((await ipckit(['send', url, 'job', '--type', '2'])).code, 0);
  assert.equal((await ipckit(['send', url, 'log', '--type', '1'])).code, 0);
  const r = await ipckit(['recv', url, '--type', '1', '--count', '1']);
  assert.equal(r.stdout, 'log\n');
  assert.equal(k.stat().messages, 1, 'the type-2 message is still queued');
});

test('recv unix: prints what socat sends, and removes its socket file', { skip: missing('socat') }, async (t) => {
  const p = path.join(tmpDir(t), 'in.sock');
  const recv = await startRecv([`unix:${p}`, '--count', '1'], () => fs.existsSync(p));
  const socat = await run('socat', ['-', `UNIX-CONNECT:${p}`], { input: 'from socat\n' });
  assert.equal(socat.code, 0, socat.stderr);
  const r = await recv.done();
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'from socat\n');
  assert.equal(fs.existsSync(p), false);
});

test('send unix+dgram: reaches a socat datagram receiver as one record', { skip: missing('socat') }, async (t) => {
  const p = path.join(tmpDir(t), 'dg.sock');
  const socat = startPeer(t, 'socat', ['-u', `UNIX-RECV:${p}`, '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => socat.kill('SIGKILL'));
  let out = '';
  socat.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(p) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal((await ipckit(['send', `unix+dgram:${p}`, 'one record'])).code, 0);
  while (out !== 'one record' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(out, 'one record');
});

test('send unix+dgram: opens one socket and closes it: no descriptor is left (it once kept a socketpair\'s other end)', async (t) => {
  const { UnixSocket } = await import('../src/index.js');
  const { openOutgoing } = await import('../src/cli/endpoint.js');
  const p = path.join(tmpDir(t), 'fd.sock');
  const server = await UnixSocket.create({ path: p, type: 'dgram' });
  t.after(() => server.close());
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  const before = fds();
  const out = await openOutgoing(`unix+dgram:${p}`, {});
  await out.send(Buffer.from('one'));
  assert.equal(fds(), before + 1, 'one socket while open');
  await out.close();
  assert.equal(fds(), before, 'none after close');
  const m = await server.receive({ timeout: 5000 });
  assert.equal(String(m!.data), 'one');
  assert.match(String(m!.from), /^@/, 'the sender is autobound, so the receiver can tell who sent');
});

test('recv udp: prints a datagram Python sends', { skip: missing('python3') }, async () => {
  const port = 40000 + (process.pid % 20000);
  const recv = await startRecv([`udp://127.0.0.1:${port}`, '--count', '1', '--json'], () => true);
  // Until the receiver is bound, datagrams are lost (UDP): resend until it exits.
  const py = spawn('python3', ['-c', `import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(200):\n    s.sendto(b"from python", ("127.0.0.1", ${port})); time.sleep(0.05)`], { stdio: 'ignore' });
  const r = await recv.done();
  py.kill('SIGKILL');
  assert.equal(r.code, 0, r.err);
  const m = JSON.parse(r.out.trim().split('\n')[0]!);
  assert.deepEqual({ ...m, sender: undefined }, { data: 'from python', encoding: 'utf8', bytes: 11, sender: undefined });
  assert.match(m.sender.address, /^127\.0\.0\.1:\d+$/, 'the sender\'s address');
});

test('recv udp://:0 binds every IPv4 address (0.0.0.0), says the port it got, and send reaches it there', async () => {
  const recv = spawn(process.execPath, [cli, 'recv', 'udp://:0', '--count', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  recv.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  const bound = new Promise<string>((resolve) =>
    recv.stderr!.setEncoding('utf8').on('data', (d) => {
      err += d;
      const m = /listening on (udp:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    }),
  );
  const url = await bound;
  const m = /^udp:\/\/0\.0\.0\.0:(\d+)$/.exec(url);
  assert.ok(m && Number(m[1]) > 0, url);
  const s = await ipckit(['send', `udp://127.0.0.1:${m[1]}`, 'to any address']);
  assert.equal(s.code, 0, s.stderr);
  assert.equal((await exited(recv)).code, 0, err);
  assert.equal(out, 'to any address\n');
});

test('send and recv over shm: speak the Channel protocol through the ring', async () => {
  const name = uniqueName('cli');
  // shm: names a rendezvous socket, not a segment: recv says when it listens, and nothing appears in /dev/shm.
  const recv = await startRecv([`shm:${name}`, '--count', '1'], (err) => err.includes(`listening on shm:${name}`));
  assert.equal(fs.existsSync(`/dev/shm${name}`), false, 'no segment named in /dev/shm');
  const s = await ipckit(['send', `shm:${name}`, 'through the ring']);
  assert.equal(s.code, 0, s.stderr);
  const r = await recv.done();
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, 'through the ring\n');
  assert.match(r.err, /listening on shm:/);
});
