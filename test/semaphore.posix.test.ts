// POSIX named semaphores: creation verbs, waits on waiter threads (abort, timeout, close), and real peers
// (child Node processes and C programs using sem_open/sem_post/sem_wait directly).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Semaphore } from '../src/index.js';
import { native } from '../src/native.js';
import { asNobodyCommand, childScript, compileC, exited, firstLine, startPeer, uniqueName, missing, missingNobody } from './helpers/index.js';
import { exec } from './fixtures/shm-helpers.js';

function semPath(name: string): string {
  return `/dev/shm/sem.${name.slice(1)}`;
}

async function named(t: test.TestContext, value = 0): Promise<Semaphore> {
  const name = uniqueName('sem');
  t.after(() => Semaphore.unlink(name));
  const sem = await Semaphore.create(name, { value });
  t.after(() => sem.close());
  return sem;
}

test('create makes /dev/shm/sem.<name> with mode 0600 and the initial value', async (t) => {
  const sem = await named(t, 3);
  assert.equal(fs.statSync(semPath(sem.name!)).mode & 0o7777, 0o600);
  assert.equal(sem.value, 3);
  assert.equal(sem.tryWait(), true);
  assert.equal(sem.value, 2);
  sem.post();
  assert.equal(sem.value, 3);
});

test('tryWait is false at 0; wait resolves when another process posts', async (t) => {
  const sem = await named(t);
  assert.equal(sem.tryWait(), false);
  const waiting = sem.wait({ timeout: 10_000 });
  const r = await exec(process.execPath, [childScript('sem-peer'), 'post', sem.name!]);
  assert.equal(r.code, 0, r.stderr);
  await waiting;
  assert.equal(sem.value, 0, 'the post was consumed by our wait');
});

test('a post here releases a waiting child process', async (t) => {
  const sem = await named(t);
  const child = startPeer(t, process.execPath, [childScript('sem-peer'), 'wait', sem.name!]);
  assert.equal(await firstLine(child), 'ready');
  sem.post();
  assert.equal((await exited(child)).code, 0);
});

test('a C program posting with sem_post releases an ipckit waiter', { skip: missing('cc') }, async (t) => {
  const sem = await named(t);
  const bin = await compileC('sem_post');
  const waits = [sem.wait({ timeout: 10_000 }), sem.wait({ timeout: 10_000 })];
  const r = await exec(bin, [sem.name!, '2']);
  assert.equal(r.code, 0, r.stderr);
  await Promise.all(waits);
  assert.equal(sem.value, 0);
});

test('an ipckit post releases a C program blocked in sem_wait', { skip: missing('cc') }, async (t) => {
  const sem = await named(t);
  const bin = await compileC('sem_wait');
  const child = startPeer(t, bin, [sem.name!]);
  const lines: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => lines.push(...d.trim().split('\n')));
  const deadline = Date.now() + 10_000;
  while (!lines.includes('ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  sem.post();
  assert.equal((await exited(child)).code, 0);
  assert.deepEqual(lines, ['ready', 'acquired 0']);
});

test('timeout rejects with ERR_IPC_TIMEOUT, abort with AbortError, close with ERR_IPC_CLOSED', async (t) => {
  const sem = await named(t);
  await assert.rejects(sem.wait({ timeout: 30 }), { code: 'ERR_IPC_TIMEOUT' });
  await assert.rejects(sem.wait({ timeout: 0 }), { code: 'ERR_IPC_TIMEOUT' });
  const ac = new AbortController();
  const p = sem.wait({ signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, { name: 'AbortError' });
  const q = sem.wait();
  setTimeout(() => sem.close(), 10);
  await assert.rejects(q, { code: 'ERR_IPC_CLOSED' });
  assert.equal(native.waiterStats().pending, 0);
  assert.throws(() => sem.post(), { code: 'ERR_IPC_CLOSED' });
  assert.throws(() => sem.value, { code: 'ERR_IPC_CLOSED' });
  await assert.rejects(sem.wait(), { code: 'ERR_IPC_CLOSED' });
  sem.close();
});

test('an aborted wait never swallows a post: 200 abort/post races leave the count exact', async (t) => {
  const sem = await named(t);
  let acquired = 0;
  for (let i = 0; i < 200; i++) {
    const ac = new AbortController();
    const p = sem.wait({ signal: ac.signal }).then(
      () => 1,
      (err) => (assert.equal(err.name, 'AbortError'), 0),
    );
    if (i % 2) await new Promise(setImmediate);
    sem.post();
    ac.abort();
    acquired += await p;
  }
  assert.equal(acquired + sem.value, 200);
});

test('create EEXIST, open ENOENT, openOrCreate, unlink false when absent, unlinkOnClose', async (t) => {
  const name = uniqueName('sem');
  t.after(() => Semaphore.unlink(name));
  await assert.rejects(Semaphore.open(name), { code: 'ENOENT', syscall: 'sem_open' });
  const a = await Semaphore.openOrCreate(name, { value: 2 });
  await assert.rejects(Semaphore.create(name), { code: 'EEXIST' });
  const b = await Semaphore.openOrCreate(name, { value: 9 });
  assert.equal(b.value, 2);
  b.close();
  assert.ok(fs.existsSync(semPath(name)));
  a.close();
  assert.ok(!fs.existsSync(semPath(name)));
  assert.equal(await Semaphore.unlink(name), false);
});

test('invalid names are refused with ERR_IPC_NAME_INVALID', async () => {
  for (const name of ['/a/b', '', 'x'.repeat(252), 'a\0b']) {
    await assert.rejects(Semaphore.create(name), { code: 'ERR_IPC_NAME_INVALID' }, JSON.stringify(name));
    await assert.rejects(Semaphore.open(name), { code: 'ERR_IPC_NAME_INVALID' });
    await assert.rejects(Semaphore.unlink(name), { code: 'ERR_IPC_NAME_INVALID' });
  }
  // 251 bytes is the longest: "sem." + 251 = NAME_MAX.
  const longest = `/${'x'.repeat(251)}`;
  const sem = await Semaphore.create(longest);
  sem.close();
});

test('bad values and modes are refused before any syscall', async () => {
  const name = uniqueName('sem');
  await assert.rejects(Semaphore.create(name, { value: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(Semaphore.create(name, { value: 2 ** 31 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(Semaphore.create(name, { mode: 0o10000 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.ok(!fs.existsSync(semPath(name)));
});

test('an unprivileged peer cannot open a 0600 semaphore (EACCES), and can a 0666 one', { skip: missing('cc') || missingNobody() }, async (t) => {
  const bin = await compileC('sem_post');
  const sem = await named(t);
  const denied = await exec(...asNobodyCommand(bin, sem.name!));
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /sem_open: Permission denied/);
  const open = uniqueName('sem');
  t.after(() => Semaphore.unlink(open));
  await using shared = await Semaphore.create(open, { mode: 0o666 });
  const allowed = await exec(...asNobodyCommand(bin, open));
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(shared.value, 1);
});

test('a file under /dev/shm/sem.<name> too short to be a semaphore is refused (not a SIGBUS)', async (t) => {
  const name = uniqueName('sem');
  t.after(() => fs.rmSync(semPath(name), { force: true }));
  fs.writeFileSync(semPath(name), Buffer.alloc(8), { mode: 0o600 });
  await assert.rejects(Semaphore.open(name), { code: 'ERR_IPC_CORRUPT' });
  await assert.rejects(Semaphore.openOrCreate(name), { code: 'ERR_IPC_CORRUPT' });
});

test('unlinkOnClose leaves alone a new semaphore made under the same name by someone else', async (t) => {
  const name = uniqueName('sem');
  t.after(() => Semaphore.unlink(name));
  const first = await Semaphore.create(name, { value: 1 });
  await Semaphore.unlink(name);
  await using _second = await Semaphore.create(name, { value: 7, unlinkOnClose: false });
  first.close();
  assert.ok(fs.existsSync(semPath(name)));
  await using again = await Semaphore.open(name);
  assert.equal(again.value, 7);
});

test('a native wait that cannot start (its handle already released) rejects with EBADF instead of never settling', async (t) => {
  const { waitOnThread } = await import('../src/internal/wait.js');
  const name = uniqueName('sem');
  const h = native.semOpen(name, fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600, 0);
  t.after(() => native.semUnlink(name));
  assert.notEqual(typeof h, 'number');
  if (typeof h === 'number') return;
  native.handleClose(h);
  await assert.rejects(
    waitOnThread((cb) => native.semWait(h, -1, cb), { timeout: 5000 }, 'sem_wait'),
    { code: 'EBADF', syscall: 'sem_wait' },
  );
  // And a shared-memory futex wait given a region that is not a SharedArrayBuffer word: EINVAL.
  await assert.rejects(
    waitOnThread((cb) => native.futexWait(new SharedArrayBuffer(8), 2, 0, 10, cb), { timeout: 5000 }, 'futex'),
    { code: 'EINVAL', syscall: 'futex' },
  );
});
