// Issue 12, items 10 and 11 (the smaller ones) for pipes, sockets and queues: Channel.send takes
// { signal, timeout } and gives up on a stalled consumer; a record the kernel cut (MSG_TRUNC) is an error,
// never a shorter message; on mq: a non-empty priority-0 message is a message, not the goodbye; an
// empty mq message is sent with a valid buffer; running out of RLIMIT_MSGQUEUE is named as such.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { connect, listen, MessageQueue, UnixSocket, type Channel } from '../src/index.js';
import { native } from '../src/native.js';
import { childScript, missing, run, tmpDir, uniqueKey, uniqueName } from './helpers/index.js';

const stalled: Array<{ name: string; url: (dir: string) => string; opts?: Record<string, unknown>; size: number }> = [
  { name: 'unix:', url: (d) => `unix:${path.join(d, 's.sock')}`, size: 64 * 1024 },
  { name: 'tcp://', url: () => 'tcp://127.0.0.1:0', size: 64 * 1024 },
  { name: 'fifo:', url: (d) => `fifo:${path.join(d, 'f')}`, size: 16 * 1024 },
  { name: 'unix+seqpacket:', url: (d) => `unix+seqpacket:${path.join(d, 'q.sock')}`, size: 16 * 1024 },
  { name: 'unix+dgram:', url: (d) => `unix+dgram:${path.join(d, 'd.sock')}`, size: 1024 },
  { name: 'sysvmq:', url: () => `sysvmq:0x${uniqueKey().toString(16)}`, size: 1024 },
  { name: 'mq:', url: () => `mq:${uniqueName('stall')}`, opts: { maxMessages: 4, maxMessageSize: 1024 }, size: 1024 },
];

for (const s of stalled) {
  test(`${s.name} Channel.send gives up on a consumer that stopped reading: ERR_IPC_TIMEOUT, then AbortError`, async (t) => {
    const url = s.url(tmpDir(t));
    const l = await listen(url, s.opts ?? {});
    const c: Channel = await connect(l.url, { timeout: 5000 });
    // The listener closes first: a stalled stream's goodbye could otherwise wait for a reader forever.
    t.after(async () => {
      await l.close();
      await c.close();
    });
    const msg = Buffer.alloc(s.size, 7);
    if (l.canSend) {
      // Connection-oriented listeners learn their peer from the first message.
      await c.send(Buffer.from('hello'), { timeout: 5000 });
      assert.equal(String(await l.receive({ timeout: 5000 })), 'hello');
    }
    let sent = 0;
    let err: { code?: string } | undefined;
    for (; sent < 100_000 && !err; sent++) {
      await c.send(msg, { timeout: 200 }).catch((e) => (err = e));
    }
    assert.equal(err?.code, 'ERR_IPC_TIMEOUT', `after ${sent} sends: ${String(err)}`);
    const ac = new AbortController();
    const p = c.send(msg, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, { name: 'AbortError' });
    await assert.rejects(c.send(msg, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    await assert.rejects(c.send(msg, { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  });
}

test('a seqpacket record longer than the receive buffer is ERR_IPC_MESSAGE_TOO_LARGE, not a cut message', async (t) => {
  const url = `unix+seqpacket:${path.join(tmpDir(t), 'big.sock')}`;
  await using l = await listen(url);
  await using raw = await UnixSocket.connect({ path: url.slice('unix+seqpacket:'.length), type: 'seqpacket' });
  // Root may force a send buffer past wmem_max (SO_SNDBUFFORCE, 32): a 1 MiB record, past the 512 KiB
  // receive buffer, then reaches the listener.
  const K = native.socketConstants;
  if (native.setsockoptInt(raw.fd, K.SOL_SOCKET, 32, 4 << 20) < 0) return t.skip('needs CAP_NET_ADMIN for SO_SNDBUFFORCE');
  const rec = Buffer.alloc(1 << 20, 0x61);
  rec[0] = 0; // the message tag
  await raw.send(rec).catch((e) => t.skip(`the kernel would not take a 1 MiB record: ${e.code}`));
  await assert.rejects(l.receive({ timeout: 5000 }), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
  await assert.rejects(l.receive({ timeout: 5000 }), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' }, 'the channel stays failed');
});

test('mq: a non-empty priority-0 message from another program is a message, not the goodbye', async (t) => {
  const name = uniqueName('prio0');
  await using l = await listen(`mq:${name}`);
  const raw = await MessageQueue.open(name, { access: 'write' });
  t.after(() => raw.close());
  await raw.send('from a C program', { priority: 0 });
  assert.equal(String(await l.receive({ timeout: 5000 })), 'from a C program');
  const c = await connect(`mq:${name}`);
  await c.send('then ours');
  await c.close();
  assert.equal(String(await l.receive({ timeout: 5000 })), 'then ours');
  assert.equal(await l.receive({ timeout: 5000 }), undefined, 'the empty priority-0 message is the goodbye');
});

test('mq: empty messages (no storage behind the view) are sent and received', async () => {
  await using q = await MessageQueue.create(uniqueName('empty'), { maxMessages: 4, maxMessageSize: 16 });
  await q.send(Buffer.alloc(0));
  await q.send(new Uint8Array(new ArrayBuffer(0)));
  assert.equal((await q.receive({ timeout: 1000 })).data.byteLength, 0);
  assert.equal((await q.receive({ timeout: 1000 })).data.byteLength, 0);
});

test('past RLIMIT_MSGQUEUE, mq_open\'s EMFILE is ERR_IPC_LIMIT naming RLIMIT_MSGQUEUE', { skip: missing('prlimit') }, async (t) => {
  const name = uniqueName('rlimit');
  t.after(() => MessageQueue.unlink(name));
  const r = await run('prlimit', ['--msgqueue=4096', process.execPath, childScript('mq-peer'), 'create-posix', name, '10', '8192'], { timeout: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { code: 'ERR_IPC_LIMIT', limit: 'RLIMIT_MSGQUEUE', max: 4096 });
});
