// Interop with peers nobody here wrote: C programs (mq_send(3), msgsnd(2), msgrcv(2)) compiled by the
// test, Python's ctypes over librt, ipcs(1); and permission denial for an unprivileged peer.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MessageQueue, SystemVMessageQueue } from '../src/index.js';
import fs from 'node:fs';
import { asNobodyCommand, childScript, compileC, uniqueKey, uniqueName, run, missing, missingNobody, startPeer } from './helpers/index.js';

// helpers' run() writes to the child's stdin, which fails with EPIPE when a peer exits at once (it
// reads nothing): these peers get no stdin at all.

test("a C sender's priorities come out highest first", { skip: missing('cc') }, async (t) => {
  const bin = await compileC('mq_posix_send');
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 8, maxMessageSize: 64 });
  const r = await run(bin, [q.name, '1:a', '5:b', '3:c', '5:d', '0:e']);
  assert.equal(r.stdout.trim(), 'sent 5');
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await q.receive({ timeout: 1000 }));
  assert.deepEqual(got.map((m) => `${m.data}${m.priority}`), ['b5', 'd5', 'c3', 'a1', 'e0']);
  t.diagnostic('priority order kept across languages');
});

test('a receive waiting on the event loop wakes for a C sender', { skip: missing('cc') }, async () => {
  const bin = await compileC('mq_posix_send');
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 8, maxMessageSize: 64 });
  const p = q.receive({ timeout: 5000 });
  await run(bin, [q.name, '7:from C']);
  assert.deepEqual(await p, { data: Buffer.from('from C'), priority: 7 });
});

test('Python (ctypes over librt) receives what ipckit sent, in priority order', { skip: missing('python3') }, async () => {
  await using q = await MessageQueue.create(uniqueName(), { maxMessages: 8, maxMessageSize: 64 });
  await q.send('low', { priority: 1 });
  await q.send('high', { priority: 9 });
  await q.send('mid', { priority: 4 });
  const py = `
import ctypes, ctypes.util, os, sys
rt = ctypes.CDLL(ctypes.util.find_library('rt') or 'librt.so.1', use_errno=True)
rt.mq_open.restype = ctypes.c_int
rt.mq_receive.restype = ctypes.c_ssize_t
rt.mq_receive.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint)]
q = rt.mq_open(sys.argv[1].encode(), os.O_RDONLY | os.O_NONBLOCK)
assert q >= 0, ctypes.get_errno()
buf = ctypes.create_string_buffer(64)
prio = ctypes.c_uint()
for _ in range(3):
    n = rt.mq_receive(q, buf, 64, ctypes.byref(prio))
    assert n >= 0, ctypes.get_errno()
    print(buf.raw[:n].decode(), prio.value)
`;
  const r = await run('python3', ['-c', py, q.name]);
  assert.equal(r.stderr, '');
  assert.deepEqual(r.stdout.trim().split('\n'), ['high 9', 'mid 4', 'low 1']);
  assert.equal(q.attributes().currentMessages, 0);
});

test('a C receiver selects the typed messages ipckit sent by type, and ipcs -q shows the counts', { skip: missing('cc', 'ipcs') }, async () => {
  const bin = await compileC('mq_sysv_recv');
  const key = uniqueKey();
  await using q = await SystemVMessageQueue.create(key);
  for (const [t, d] of [[2, 'two'], [1, 'one'], [3, 'three'], [2, 'two again']] as const) await q.send(t, d);
  const ipcs = await run('ipcs', ['-q']);
  const row = ipcs.stdout.split('\n').find((l) => l.split(/\s+/)[1] === String(q.id));
  assert.ok(row, 'ipcs lists the queue');
  const [k, id, , perms, bytes, messages] = row.trim().split(/\s+/);
  assert.deepEqual([Number(k), Number(id), perms, Number(bytes), Number(messages)], [key, q.id, '600', 3 + 3 + 5 + 9, 4]);
  const r = await run(bin, ['0x' + key.toString(16), '2', '3']);
  assert.deepEqual(r.stdout.trim().split('\n'), ['2:two', '2:two again', 'none']);
  const r2 = await run(bin, ['0x' + key.toString(16), '-3', '2']);
  assert.deepEqual(r2.stdout.trim().split('\n'), ['1:one', '3:three']);
  assert.equal(q.stat().lastReceivePid > 0 && q.stat().lastReceivePid !== process.pid, true);
});

test('ipckit selects by type what a C sender sent, keeping the type', { skip: missing('cc') }, async () => {
  const bin = await compileC('mq_sysv_send');
  const key = uniqueKey();
  await using q = await SystemVMessageQueue.create(key);
  const waiting = q.receive({ type: 40, timeout: 5000 });
  const r = await run(bin, ['0x' + key.toString(16), '10:ten', '40:forty', '2147483647:big']);
  assert.equal(r.stdout.trim(), 'sent 3');
  assert.deepEqual(await waiting, { type: 40, data: Buffer.from('forty') });
  assert.deepEqual(await q.receive({ type: -100 }), { type: 10, data: Buffer.from('ten') });
  assert.deepEqual(await q.receive(), { type: 2147483647, data: Buffer.from('big') });
});

test('an unprivileged peer (nobody) is denied a 0600 queue of either kind: EACCES', { skip: missingNobody() }, async () => {
  await using pq = await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 8 });
  await using sq = await SystemVMessageQueue.create(uniqueKey());
  const p = await run(...asNobodyCommand(process.execPath, childScript('mq-peer'), 'open-posix', pq.name));
  assert.deepEqual(JSON.parse(p.stdout), { code: 'EACCES' });
  const s = await run(...asNobodyCommand(process.execPath, childScript('mq-peer'), 'open-sysv', String(sq.key)));
  assert.deepEqual(JSON.parse(s.stdout), { code: 'EACCES' });
});

test('an unprivileged create past fs.mqueue.msg_max fails with ERR_IPC_LIMIT naming it', { skip: missingNobody() }, async (t) => {
  const name = uniqueName();
  t.after(() => MessageQueue.unlink(name));
  const msgMax = Number(fs.readFileSync('/proc/sys/fs/mqueue/msg_max', 'utf8'));
  const r = await run(...asNobodyCommand(process.execPath, childScript('mq-peer'), 'create-posix', name, String(msgMax + 1), '8'));
  assert.deepEqual(JSON.parse(r.stdout), { code: 'ERR_IPC_LIMIT', limit: 'fs.mqueue.msg_max', max: msgMax });
});

for (const kind of ['posix', 'sysv'] as const) {
  test(`${kind}: a pending receive alone keeps a process alive, and lets it end once it has its message`, async (t) => {
    const pq = kind === 'posix' ? await MessageQueue.create(uniqueName(), { maxMessages: 2, maxMessageSize: 16 }) : undefined;
    const sq = kind === 'sysv' ? await SystemVMessageQueue.create(uniqueKey()) : undefined;
    t.after(() => (pq ?? sq)!.close());
    const child = startPeer(t, process.execPath, [childScript('mq-peer'), 'receive-once', kind, pq ? pq.name : String(sq!.key)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
    while (!out.includes('\n')) await new Promise((r) => child.stdout!.once('data', r));
    assert.deepEqual(JSON.parse(out.split('\n')[0]!), { ready: true });
    if (pq) await pq.send('wake');
    else await sq!.send(1, 'wake');
    const [code] = await new Promise<[number | null]>((r) => child.once('close', (c) => r([c])));
    assert.equal(code, 0, 'ended by itself');
    assert.deepEqual(JSON.parse(out.trim().split('\n')[1]!), { data: 'wake' });
  });
}
