// Issue 12, item 4: adopting an existing object checks its owner. A POSIX or System V queue, a FIFO, or
// a FIFO behind a symlink made by another user (nobody, here) is refused with ERR_IPC_FOREIGN_OWNER
// unless `allowForeignOwner: true`; channel listeners over AF_UNIX sockets take `allow` like UnixServer.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { connect, listen, Fifo, MessageQueue, SystemVMessageQueue } from '../src/index.js';
import { asNobodyCommand, childScript, missingNobody, run, uniqueKey, uniqueName } from './helpers/index.js';

const NOBODY = 65534;

async function asNobody(...args: string[]): Promise<unknown> {
  const r = await run(...asNobodyCommand(process.execPath, childScript('foreign-owner'), ...args), { timeout: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/** A directory nobody can write (sticky, like /tmp), under /tmp since TMPDIR may be 0700. */
function sharedDir(t: TestContext): string {
  const dir = fs.mkdtempSync('/tmp/ipckit-owner-');
  fs.chmodSync(dir, 0o1777);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const foreign = { code: 'ERR_IPC_FOREIGN_OWNER', uid: NOBODY };

test("a POSIX queue made by nobody is refused by open() and connect('mq:'), unless allowed", { skip: missingNobody() }, async (t) => {
  const name = uniqueName('owner');
  t.after(() => MessageQueue.unlink(name));
  assert.deepEqual(await asNobody('posix', name), { ok: true });
  await assert.rejects(MessageQueue.open(name), foreign);
  await assert.rejects(MessageQueue.open(name, { access: 'write' }), foreign);
  await assert.rejects(MessageQueue.openOrCreate(name), foreign);
  await assert.rejects(connect(`mq:${name}`), foreign);
  await assert.rejects(MessageQueue.open(name, { allowForeignOwner: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
  const q = await MessageQueue.open(name, { allowForeignOwner: true });
  q.close();
  const ch = await connect(`mq:${name}`, { allowForeignOwner: true });
  await ch.close();
});

test("a System V queue made by nobody is refused by open() and connect('sysvmq:'), unless allowed", { skip: missingNobody() }, async (t) => {
  const key = uniqueKey();
  assert.deepEqual(await asNobody('sysv', String(key)), { ok: true });
  t.after(async () => (await SystemVMessageQueue.open(key, { allowForeignOwner: true })).remove());
  await assert.rejects(SystemVMessageQueue.open(key), { ...foreign, key });
  await assert.rejects(SystemVMessageQueue.openOrCreate(key), foreign);
  await assert.rejects(connect(`sysvmq:0x${key.toString(16)}`), foreign);
  const q = await SystemVMessageQueue.open(key, { allowForeignOwner: true });
  assert.equal(q.stat().uid, NOBODY);
  q.close();
});

test("a FIFO made by nobody is refused by listen('fifo:'), connect('fifo:') and Fifo.open*, unless allowed", { skip: missingNobody() }, async (t) => {
  const dir = sharedDir(t);
  const p = path.join(dir, 'squatted');
  assert.deepEqual(await asNobody('fifo', p), { ok: true });
  assert.equal(fs.statSync(p).uid, NOBODY);
  await assert.rejects(listen(`fifo:${p}`), { ...foreign, path: p });
  await assert.rejects(Fifo.openReader(p), foreign);
  await assert.rejects(Fifo.openWriter(p, { timeout: 100 }), foreign);
  await assert.rejects(Fifo.openOrCreate(p), foreign);
  await assert.rejects(connect(`fifo:${p}`, { timeout: 100 }), foreign);
  // Allowed: the listener reads what a writer sends, as before.
  await using ch = await listen(`fifo:${p}`, { allowForeignOwner: true });
  await using w = await connect(`fifo:${p}`, { allowForeignOwner: true, timeout: 5000 });
  await w.send('hello');
  assert.equal(String(await ch.receive({ timeout: 5000 })), 'hello');
});

test("a FIFO reached through nobody's symlink is refused, whoever owns the FIFO", { skip: missingNobody() }, async (t) => {
  const dir = sharedDir(t);
  // Nobody's FIFO behind nobody's symlink.
  const theirs = path.join(dir, 'theirs');
  assert.deepEqual(await asNobody('fifo', theirs), { ok: true });
  const link1 = path.join(dir, 'link1');
  assert.deepEqual(await asNobody('symlink', theirs, link1), { ok: true });
  await assert.rejects(listen(`fifo:${link1}`), foreign);
  await assert.rejects(Fifo.openReader(link1), foreign);
  // Our own FIFO, but nobody's symlink chose it for us: refused too.
  const mineDir = fs.mkdtempSync(path.join(dir, 'root-'));
  await using _mine = await Fifo.create(path.join(mineDir, 'mine'));
  fs.chmodSync(mineDir, 0o755);
  const link2 = path.join(dir, 'link2');
  assert.deepEqual(await asNobody('symlink', path.join(mineDir, 'mine'), link2), { ok: true });
  assert.equal(fs.lstatSync(link2).uid, NOBODY);
  await assert.rejects(Fifo.openReader(link2), foreign);
  // Our own symlink to our own FIFO is fine.
  const link3 = path.join(mineDir, 'link3');
  fs.symlinkSync(path.join(mineDir, 'mine'), link3);
  const r = await Fifo.openReader(link3);
  await r.close();
});

for (const scheme of ['unix', 'unix+seqpacket', 'unix+dgram'] as const) {
  test(`listen('${scheme}:') takes allow: nobody is refused, the allowed peer carries the channel`, { skip: missingNobody() }, async (t) => {
    const dir = sharedDir(t);
    const url = `${scheme}:${path.join(dir, 'app.sock')}`;
    // Mode 0666 so that nobody reaches the socket at all: `allow` is what stops it.
    await using ch = await listen(url, { allow: { uid: process.getuid!() }, mode: 0o666 });
    const nobody = await asNobody('client', url);
    // Stream and seqpacket: closed before a byte is read; dgram: nothing comes back.
    assert.ok(['ERR_IPC_PEER_DEAD', 'ERR_IPC_TIMEOUT'].includes((nobody as { code: string }).code), JSON.stringify(nobody));
    await using c = await connect(url, { timeout: 5000 });
    await c.send('from root');
    assert.equal(String(await ch.receive({ timeout: 5000 })), 'from root', "nobody's message was never delivered");
  });
}

test('allow is validated like UnixServer', async (t) => {
  const dir = fs.mkdtempSync('/tmp/ipckit-owner-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(listen(`unix:${path.join(dir, 'x.sock')}`, { allow: 'root' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
});
