// The public API's contract, as a conformance suite: one table of every class, the same assertions run
// over each row (DESIGN.md "Lifetime and ownership", STYLE.md "Naming").
//   1. lifetime: idempotent close(), [Symbol.asyncDispose] (and [Symbol.dispose] when close() is
//      synchronous), `closed`, use after close → ERR_IPC_CLOSED, pending waits → ERR_IPC_CLOSED on close,
//      and a leak guard that closes what a garbage-collected object held;
//   2. creation verbs and ownership: create (exclusive, 0600), open, openOrCreate, unlink → false when
//      absent, `unlinkOnClose` (the creator owns, an opener does not);
//   3. waits: `{ signal, timeout }` validated the same way everywhere, AbortError, ERR_IPC_TIMEOUT;
//   4. names and arguments refused before any syscall.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { setImmediate as tick } from 'node:timers/promises';
import {
  Fifo,
  MessageQueue,
  Mutex,
  Semaphore,
  SharedMemory,
  SystemVMessageQueue,
  SystemVSemaphoreSet,
  SystemVSharedMemory,
  UnixServer,
  UnixSocket,
  pipe,
  pipeCapacity,
  readFrames,
  signals,
  writeFrame,
} from '../src/index.js';
import { mqExists, mqMode, tmpDir, uniqueKey, uniqueName } from './helpers/index.js';

// ---- 1. lifetime ----------------------------------------------------------------------------------

interface Subject {
  obj: { close(): unknown; readonly closed: boolean; [Symbol.asyncDispose](): Promise<void> };
  /** An operation that must fail with ERR_IPC_CLOSED (thrown, or rejected if it returns a Promise). */
  use: () => unknown;
  /** A wait that stays pending until the object is closed (absent: the class has no wait of its own). */
  wait?: () => Promise<unknown>;
  /** How a pending wait ends on close, when it is not ERR_IPC_CLOSED by design. */
  waitEnds?: (p: Promise<unknown>) => Promise<void>;
  /** A descriptor the leak guard must close. */
  fd?: number;
  /** Everything else the subject needed (peers, segments, names); must not reference `obj`. */
  cleanup: () => unknown;
}

interface LifetimeRow {
  name: string;
  make: (t: TestContext) => Promise<Subject>;
  /** close() is synchronous (so [Symbol.dispose] must exist), or returns a Promise (so it must not). */
  syncClose: boolean;
  /** What a garbage-collected unclosed object releases: 'fd', 'handle', or why there is no guard. */
  guard: 'fd' | 'handle' | { none: string };
  /** Use after close is not ERR_IPC_CLOSED by design: how it behaves instead. */
  useAfterClose?: (s: Subject) => Promise<void>;
}

/**
 * A cleanup made outside the maker's scope. Closures made in one scope share its context, so a cleanup
 * written as an arrow beside `use` would keep the object alive, and the leak-guard test could never
 * see it collected.
 */
function call<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): () => unknown {
  return () => fn(...args);
}

async function closeAll(...objs: { close(): unknown }[]): Promise<void> {
  for (const o of objs) await o.close();
}

const shmFor = async (): Promise<SharedMemory> => SharedMemory.create(uniqueName('api'), { size: 4096 });

const lifetimeRows: LifetimeRow[] = [
  {
    name: 'Fifo',
    syncClose: false,
    guard: { none: 'a Fifo holds no descriptor, only a path, and a guard never removes names (lifetime.ts)' },
    async make(t) {
      const p = path.join(tmpDir(t), 'f');
      const fifo = await Fifo.create(p);
      return { obj: fifo, use: () => fifo.openReader(), wait: () => fifo.openWriter(), cleanup: call(Fifo.unlink, p) };
    },
  },
  {
    name: 'PipeReader',
    syncClose: false,
    guard: 'fd',
    async make() {
      const { reader, writer } = pipe();
      return { obj: reader, use: () => pipeCapacity(reader), fd: reader.fd, cleanup: call(closeAll, writer) };
    },
  },
  {
    name: 'PipeWriter',
    syncClose: false,
    guard: 'fd',
    async make() {
      const { reader, writer } = pipe();
      return { obj: writer, use: () => pipeCapacity(writer), fd: writer.fd, cleanup: call(closeAll, reader) };
    },
  },
  {
    name: 'SignalWatcher',
    syncClose: true,
    guard: { none: 'the process-wide hub holds every open watcher: an unclosed one is never collected, it keeps watching' },
    async make() {
      const w = signals.watch('SIGRTMIN+5');
      return {
        obj: w,
        use: () => w.next(),
        wait: () => w.next(),
        // An async iterator's protocol: after close (= return()), next() is { done: true }, so that
        // `for await` ends cleanly; a pending next() is settled the same way.
        waitEnds: async (p) => assert.deepEqual(await p, { value: undefined, done: true }),
        cleanup: () => undefined,
      };
    },
    useAfterClose: async (s) => assert.deepEqual(await s.use(), { value: undefined, done: true }),
  },
  {
    name: 'MessageQueue',
    syncClose: true,
    guard: 'fd',
    async make() {
      const name = uniqueName('api');
      const q = await MessageQueue.create(name, { maxMessages: 1, maxMessageSize: 16, unlinkOnClose: false });
      return { obj: q, use: () => q.send('x'), wait: () => q.receive(), fd: q.fd, cleanup: call(MessageQueue.unlink, name) };
    },
  },
  {
    name: 'SystemVMessageQueue',
    syncClose: true,
    guard: { none: 'no descriptor or mapping: the queue is a kernel id, and a guard never removes it' },
    async make() {
      const q = await SystemVMessageQueue.create('private', { unlinkOnClose: false });
      const id = q.id;
      return { obj: q, use: () => q.send(1, 'x'), wait: () => q.receive(), cleanup: call(SystemVMessageQueue.removeId, id) };
    },
  },
  {
    name: 'SharedMemory',
    syncClose: true,
    guard: 'fd',
    async make() {
      const name = uniqueName('api');
      const shm = await SharedMemory.create(name, { size: 4096, unlinkOnClose: false });
      return { obj: shm, use: () => shm.buffer, fd: shm.fd, cleanup: call(SharedMemory.unlink, name) };
    },
  },
  {
    name: 'SystemVSharedMemory',
    syncClose: true,
    guard: { none: 'the attachment goes with the last view (shmdt when V8 frees it), never by a guard' },
    async make() {
      const seg = await SystemVSharedMemory.create('private', { size: 4096, unlinkOnClose: false });
      const id = seg.id;
      return { obj: seg, use: () => seg.stat(), cleanup: call(SystemVSharedMemory.removeId, id) };
    },
  },
  {
    name: 'Semaphore (named)',
    syncClose: true,
    guard: 'handle',
    async make() {
      const name = uniqueName('api');
      const sem = await Semaphore.create(name, { value: 0, unlinkOnClose: false });
      return { obj: sem, use: () => sem.post(), wait: () => sem.wait(), cleanup: call(Semaphore.unlink, name) };
    },
  },
  {
    name: 'Semaphore (in shared memory)',
    syncClose: true,
    guard: 'handle',
    async make() {
      const shm = await shmFor();
      const sem = Semaphore.inSharedMemory(shm, 0, { value: 0 });
      return { obj: sem, use: () => sem.tryWait(), wait: () => sem.wait(), cleanup: call(closeAll, shm) };
    },
  },
  {
    name: 'SystemVSemaphoreSet',
    syncClose: true,
    guard: { none: 'no descriptor or mapping: the set is a kernel id, and a guard never removes it' },
    async make() {
      // Owned (removed on close): the pending op races our own IPC_RMID, and must still end ERR_IPC_CLOSED.
      const set = await SystemVSemaphoreSet.create('private', { count: 1 });
      const id = set.id;
      return { obj: set, use: () => set.op([{ index: 0, delta: 1 }]), wait: () => set.op([{ index: 0, delta: -1 }]), cleanup: call(SystemVSemaphoreSet.removeId, id) };
    },
  },
  {
    name: 'Mutex',
    syncClose: true,
    guard: 'handle',
    async make() {
      const shm = await shmFor();
      const owner = Mutex.inSharedMemory(shm, 0, { init: true });
      await owner.lock();
      const m = Mutex.inSharedMemory(shm, 0);
      return {
        obj: m,
        use: () => m.tryLock(),
        wait: () => m.lock(),
        cleanup: call(closeAll, owner, shm), // owner.close() unlocks
      };
    },
  },
  {
    name: 'UnixServer',
    syncClose: false,
    guard: 'fd',
    async make(t) {
      const p = path.join(tmpDir(t), 's');
      const server = await UnixServer.listen({ path: p });
      return { obj: server, use: () => server.accept(), wait: () => server.accept(), fd: server.fd, cleanup: call(UnixServer.unlink, p) };
    },
  },
  {
    name: 'UnixSocket',
    syncClose: false,
    guard: 'fd',
    async make() {
      const [a, b] = UnixSocket.pair('seqpacket');
      return { obj: a, use: () => a.send('x'), wait: () => a.receive(), fd: a.fd, cleanup: call(closeAll, b) };
    },
  },
];

/** Runs `fn`; it must fail with `code`, thrown or (if it returns a Promise) rejected. */
async function fails(fn: () => unknown, code: string): Promise<void> {
  let r: unknown;
  try {
    r = fn();
  } catch (err) {
    assert.equal((err as { code?: string }).code, code);
    return;
  }
  assert.ok(r instanceof Promise, `expected ${code}, got ${String(r)}`);
  await assert.rejects(r, { code });
}

for (const row of lifetimeRows) {
  test(`lifetime: ${row.name}`, async (t) => {
    const s = await row.make(t);
    t.after(() => s.cleanup());
    const { obj } = s;
    assert.equal(typeof obj.close, 'function');
    assert.equal(typeof obj[Symbol.asyncDispose], 'function');
    assert.equal(obj.closed, false);

    const pending = s.wait?.();
    pending?.catch(() => undefined);
    await tick(); // let the wait get going (the contract holds either way)

    const r = obj.close();
    assert.equal(r instanceof Promise, !row.syncClose, row.syncClose ? 'close() is synchronous' : 'close() returns a Promise');
    await r;
    assert.equal(typeof (obj as Partial<Disposable>)[Symbol.dispose] === 'function', row.syncClose,
      '[Symbol.dispose] exactly when close() is synchronous');
    assert.equal(obj.closed, true);

    if (pending) {
      if (s.waitEnds) await s.waitEnds(pending);
      else await assert.rejects(pending, { code: 'ERR_IPC_CLOSED' });
    }

    // Idempotent, through every door.
    await obj.close();
    await obj[Symbol.asyncDispose]();
    if (row.syncClose) (obj as unknown as Disposable)[Symbol.dispose]();
    assert.equal(obj.closed, true);

    if (row.useAfterClose) await row.useAfterClose(s);
    else await fails(s.use, 'ERR_IPC_CLOSED');
  });
}

// The leak guard: an object dropped without close() is collected and what it held is released, with
// a ResourceWarning (IPCKIT_UNCLOSED).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function fdTarget(fd: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

for (const row of lifetimeRows) {
  const g = row.guard;
  if (typeof g === 'object') {
    test(`leak guard: ${row.name} has none by design (${g.none})`, () => {});
    continue;
  }
  test(`leak guard: ${row.name} unclosed and collected releases its ${g}`, async (t) => {
    let warned = 0;
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === 'IPCKIT_UNCLOSED') warned++;
    };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    // Made in a frame of its own so that nothing here keeps the object reachable.
    const { fd, target, cleanup } = await (async () => {
      const s = await row.make(t);
      return { fd: s.fd, target: s.fd === undefined ? undefined : fdTarget(s.fd), cleanup: s.cleanup };
    })();
    t.after(() => cleanup());
    if (g === 'fd') assert.ok(target, 'the descriptor is open before');
    for (let i = 0; i < 200 && warned === 0; i++) {
      gc();
      await tick();
    }
    assert.equal(warned, 1, 'collected, with a ResourceWarning');
    if (g === 'fd') assert.notEqual(fdTarget(fd!), target, 'the descriptor was closed');
  });
}

// ---- 2. creation verbs and ownership ---------------------------------------------------------------

interface Owned {
  id?: number;
  close(): unknown;
}

interface NamedRow {
  name: string;
  fresh: (t: TestContext) => string | number;
  create: (n: any, opts?: object) => Promise<Owned>;
  open?: (n: any) => Promise<Owned>;
  openOrCreate: (n: any, opts?: object) => Promise<Owned>;
  exists: (n: any) => boolean;
  mode: (n: any) => number;
  /** Removes by name (POSIX: static unlink) or, for System V, by the id of `obj`: false when absent. */
  unlink: (n: any, obj: Owned) => Promise<boolean> | boolean;
  /** What a failed open of an absent name is. */
  absent: string;
  /**
   * What removing it a second time says. System V shared memory: IPC_RMID only marks a segment that is
   * still attached (our closed object's views are not collected yet), and marking again succeeds.
   */
  secondUnlink?: boolean;
}

function keyExists(kind: 'q' | 'm' | 's', key: number): boolean {
  const file = { q: '/proc/sysvipc/msg', m: '/proc/sysvipc/shm', s: '/proc/sysvipc/sem' }[kind];
  return keyLine(file, key) !== undefined;
}

function keyLine(file: string, key: number): string[] | undefined {
  for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 3 && Number(f[0]) === (key | 0)) return f;
  }
  return undefined;
}

// /proc/sysvipc/{msg,shm,sem}: key, id, perms (in octal) are the first three columns.
const keyMode = (file: string) => (key: number): number => parseInt(keyLine(file, key)![2]!, 8) & 0o777;

const namedRows: NamedRow[] = [
  {
    name: 'Fifo',
    fresh: (t) => path.join(tmpDir(t), 'f'),
    create: (p, o) => Fifo.create(p, o),
    openOrCreate: (p, o) => Fifo.openOrCreate(p, o),
    exists: (p) => fs.existsSync(p),
    mode: (p) => fs.statSync(p).mode & 0o777,
    unlink: (p) => Fifo.unlink(p),
    absent: 'ENOENT',
  },
  {
    name: 'MessageQueue',
    fresh: () => uniqueName('api'),
    create: (n, o) => MessageQueue.create(n, o),
    open: (n) => MessageQueue.open(n),
    openOrCreate: (n, o) => MessageQueue.openOrCreate(n, o),
    exists: (n) => mqExists(n),
    mode: (n) => mqMode(n),
    unlink: (n) => MessageQueue.unlink(n),
    absent: 'ENOENT',
  },
  {
    name: 'SharedMemory',
    fresh: () => uniqueName('api'),
    create: (n, o) => SharedMemory.create(n, { size: 4096, ...o }),
    open: (n) => SharedMemory.open(n),
    openOrCreate: (n, o) => SharedMemory.openOrCreate(n, { size: 4096, ...o }),
    exists: (n) => fs.existsSync(`/dev/shm${n}`),
    mode: (n) => fs.statSync(`/dev/shm${n}`).mode & 0o777,
    unlink: (n) => SharedMemory.unlink(n),
    absent: 'ENOENT',
  },
  {
    name: 'Semaphore',
    fresh: () => uniqueName('api'),
    create: (n, o) => Semaphore.create(n, o),
    open: (n) => Semaphore.open(n),
    openOrCreate: (n, o) => Semaphore.openOrCreate(n, o),
    exists: (n) => fs.existsSync(`/dev/shm/sem.${n.slice(1)}`),
    mode: (n) => fs.statSync(`/dev/shm/sem.${n.slice(1)}`).mode & 0o777,
    unlink: (n) => Semaphore.unlink(n),
    absent: 'ENOENT',
  },
  {
    name: 'SystemVMessageQueue',
    fresh: () => uniqueKey(),
    create: (k, o) => SystemVMessageQueue.create(k, o),
    open: (k) => SystemVMessageQueue.open(k),
    openOrCreate: (k, o) => SystemVMessageQueue.openOrCreate(k, o),
    exists: (k) => keyExists('q', k),
    mode: keyMode('/proc/sysvipc/msg'),
    unlink: (_k, q) => SystemVMessageQueue.removeId(q.id!),
    absent: 'ENOENT',
  },
  {
    name: 'SystemVSharedMemory',
    fresh: () => uniqueKey(),
    create: (k, o) => SystemVSharedMemory.create(k, { size: 4096, ...o }),
    open: (k) => SystemVSharedMemory.open(k),
    openOrCreate: (k, o) => SystemVSharedMemory.openOrCreate(k, { size: 4096, ...o }),
    // A segment marked for removal (IPC_RMID) while still attached shows key 0 (IPC_PRIVATE): gone by key.
    exists: (k) => keyExists('m', k),
    mode: keyMode('/proc/sysvipc/shm'),
    unlink: (_k, s) => SystemVSharedMemory.removeId(s.id!),
    absent: 'ENOENT',
  },
  {
    name: 'SystemVSemaphoreSet',
    fresh: () => uniqueKey(),
    create: (k, o) => SystemVSemaphoreSet.create(k, { count: 1, ...o }),
    open: (k) => SystemVSemaphoreSet.open(k),
    openOrCreate: (k, o) => SystemVSemaphoreSet.openOrCreate(k, { count: 1, ...o }),
    exists: (k) => keyExists('s', k),
    mode: keyMode('/proc/sysvipc/sem'),
    unlink: (_k, s) => SystemVSemaphoreSet.removeId(s.id!),
    absent: 'ENOENT',
  },
];

for (const row of namedRows) {
  test(`ownership: ${row.name}: create is exclusive and 0600, the creator owns, openers do not`, async (t) => {
    const n = row.fresh(t);
    t.after(async () => {
      if (!row.exists(n)) return;
      const o = await row.open?.(n);
      await row.unlink(n, o!);
      await o?.close();
    });
    if (row.open) await assert.rejects(row.open(n), { code: row.absent });
    const a = await row.create(n);
    assert.equal(row.mode(n), 0o600, 'mode 0600 by default');
    await assert.rejects(row.create(n), { code: 'EEXIST' });
    const opened = await (row.open ?? row.openOrCreate)(n);
    await opened.close();
    const b = await row.openOrCreate(n);
    await b.close();
    assert.equal(row.exists(n), true, 'openers do not remove it');
    await a.close();
    assert.equal(row.exists(n), false, 'the creator does');
    await a.close();
  });

  test(`ownership: ${row.name}: openOrCreate owns what it created; unlinkOnClose overrides; unlink is false when absent`, async (t) => {
    const n = row.fresh(t);
    const c = await row.openOrCreate(n);
    await c.close();
    assert.equal(row.exists(n), false, 'openOrCreate that created it owns it');

    const kept = await row.create(n, { unlinkOnClose: false });
    await kept.close();
    assert.equal(row.exists(n), true, 'unlinkOnClose: false keeps it');
    assert.equal(await row.unlink(n, kept), true);
    assert.equal(row.exists(n), false);
    assert.equal(await row.unlink(n, kept), row.secondUnlink ?? false, 'false when there is nothing to remove');

    const opener = await row.create(n, { unlinkOnClose: false });
    t.after(() => row.unlink(n, opener));
    const o = await row.openOrCreate(n, { unlinkOnClose: true });
    await o.close();
    assert.equal(row.exists(n), false, 'an opener given unlinkOnClose: true removes it');

    await assert.rejects(row.create(n, { unlinkOnClose: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(row.create(n, { mode: 0o10000 }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(row.create(n, { mode: '600' }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.equal(row.exists(n), false, 'refused before any syscall');
  });
}

test('ownership: System V classes still accept the old spelling removeOnClose (deprecated alias)', async () => {
  const q = await SystemVMessageQueue.create('private', { removeOnClose: false });
  q.close();
  assert.equal(await SystemVMessageQueue.removeId(q.id), true);
  const set = await SystemVSemaphoreSet.create('private', { count: 1, removeOnClose: false });
  set.close();
  assert.equal(SystemVSemaphoreSet.removeId(set.id), true);
  await assert.rejects(SystemVSharedMemory.create('private', { size: 64, removeOnClose: 1 as never }), {
    code: 'ERR_INVALID_ARG_TYPE',
  });
});

test('ownership: UnixServer owns its socket file; UnixServer.unlink is false when absent', async (t) => {
  const p = path.join(tmpDir(t), 's');
  const s = await UnixServer.listen({ path: p });
  assert.equal(fs.statSync(p).mode & 0o777, 0o600);
  await s.close();
  assert.equal(fs.existsSync(p), false);
  assert.equal(await UnixServer.unlink(p), false);
  const kept = await UnixServer.listen({ path: p, unlinkOnClose: false });
  await kept.close();
  assert.equal(await UnixServer.unlink(p), true);
  await assert.rejects(UnixServer.listen({ path: p, unlinkOnClose: 'no' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.equal(fs.existsSync(p), false, 'refused before any syscall');
});

// ---- 3. waits ---------------------------------------------------------------------------------------

interface WaitRow {
  name: string;
  /** Sets up something that makes `wait` block until it is aborted or times out. */
  setup: (t: TestContext) => Promise<(opts: any) => Promise<unknown>>;
  /** How a timeout ends the wait, when it is not ERR_IPC_TIMEOUT by design. */
  timedOut?: (p: Promise<unknown>) => Promise<void>;
}

const waitRows: WaitRow[] = [
  {
    name: 'Fifo.openWriter (no reader)',
    async setup(t) {
      const p = path.join(tmpDir(t), 'f');
      const fifo = await Fifo.create(p);
      t.after(() => fifo.close());
      return (o) => Fifo.openWriter(p, o);
    },
  },
  {
    name: 'signals.exited (a live process)',
    async setup() {
      return (o) => signals.exited(process.pid, o);
    },
  },
  {
    name: 'MessageQueue.receive (empty)',
    async setup(t) {
      const q = await MessageQueue.create(uniqueName('api'), { maxMessages: 1, maxMessageSize: 8 });
      t.after(() => q.close());
      return (o) => q.receive(o);
    },
  },
  {
    name: 'MessageQueue.send (full)',
    async setup(t) {
      const q = await MessageQueue.create(uniqueName('api'), { maxMessages: 1, maxMessageSize: 8 });
      t.after(() => q.close());
      await q.send('full');
      return (o) => q.send('more', o);
    },
  },
  {
    name: 'SystemVMessageQueue.receive (empty)',
    async setup(t) {
      const q = await SystemVMessageQueue.create('private');
      t.after(() => q.close());
      return (o) => q.receive(o);
    },
  },
  {
    name: 'SharedMemory.wait (futex)',
    async setup(t) {
      const shm = await shmFor();
      t.after(() => shm.close());
      const word = new Int32Array(shm.buffer, 0, 1);
      return (o) => SharedMemory.wait(word, 0, 0, o);
    },
    // Like Atomics.wait: a timeout resolves 'timed-out'.
    timedOut: async (p) => assert.equal(await p, 'timed-out'),
  },
  {
    name: 'Semaphore.wait (named, 0)',
    async setup(t) {
      const sem = await Semaphore.create(uniqueName('api'));
      t.after(() => sem.close());
      return (o) => sem.wait(o);
    },
  },
  {
    name: 'Semaphore.wait (in shared memory, 0)',
    async setup(t) {
      const shm = await shmFor();
      const sem = Semaphore.inSharedMemory(shm, 0, { value: 0 });
      t.after(() => (sem.close(), shm.close()));
      return (o) => sem.wait(o);
    },
  },
  {
    name: 'SystemVSemaphoreSet.op (would go below 0)',
    async setup(t) {
      const set = await SystemVSemaphoreSet.create('private', { count: 1 });
      t.after(() => set.close());
      return (o) => set.op([{ index: 0, delta: -1 }], o);
    },
  },
  {
    name: 'Mutex.lock (held)',
    async setup(t) {
      const shm = await shmFor();
      const owner = Mutex.inSharedMemory(shm, 0, { init: true });
      await owner.lock();
      const m = Mutex.inSharedMemory(shm, 0);
      t.after(() => (m.close(), owner.close(), shm.close()));
      return (o) => m.lock(o);
    },
  },
  {
    name: 'UnixServer.accept (nobody connects)',
    async setup(t) {
      const server = await UnixServer.listen({ path: path.join(tmpDir(t), 's') });
      t.after(() => server.close());
      return (o) => server.accept(o);
    },
  },
  {
    name: 'UnixSocket.receive (nothing sent)',
    async setup(t) {
      const [a, b] = UnixSocket.pair('dgram');
      t.after(() => Promise.all([a.close(), b.close()]));
      return (o) => a.receive(o);
    },
  },
];

for (const row of waitRows) {
  test(`waits: ${row.name} takes { signal, timeout }, validated; AbortError; timeout`, async (t) => {
    const wait = await row.setup(t);
    // Misuse rejects (a Promise-returning function never throws), before anything waits.
    await assert.rejects(wait('soon'), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(wait({ timeout: '10' }), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(wait({ timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(wait({ timeout: NaN }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(wait({ signal: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
    // Aborted before, and while waiting.
    await assert.rejects(wait({ signal: AbortSignal.abort() }), { name: 'AbortError', code: 'ABORT_ERR' });
    const ac = new AbortController();
    const p = wait({ signal: ac.signal });
    await tick();
    ac.abort(new Error('enough'));
    await assert.rejects(p, (err: Error) => err.name === 'AbortError' && (err as { code?: string }).code === 'ABORT_ERR');
    // Timed out.
    const late = wait({ timeout: 20 });
    if (row.timedOut) await row.timedOut(late);
    else await assert.rejects(late, { code: 'ERR_IPC_TIMEOUT', name: 'TimeoutError' });
  });
}

// ---- 4. names and arguments, before any syscall ---------------------------------------------------

const posixNamed: [string, (n: unknown) => Promise<unknown>][] = [
  ['MessageQueue.create', (n) => MessageQueue.create(n as string)],
  ['MessageQueue.open', (n) => MessageQueue.open(n as string)],
  ['MessageQueue.openOrCreate', (n) => MessageQueue.openOrCreate(n as string)],
  ['MessageQueue.unlink', (n) => MessageQueue.unlink(n as string)],
  ['SharedMemory.create', (n) => SharedMemory.create(n as string, { size: 64 })],
  ['SharedMemory.open', (n) => SharedMemory.open(n as string)],
  ['SharedMemory.openOrCreate', (n) => SharedMemory.openOrCreate(n as string, { size: 64 })],
  ['SharedMemory.unlink', (n) => SharedMemory.unlink(n as string)],
  ['Semaphore.create', (n) => Semaphore.create(n as string)],
  ['Semaphore.open', (n) => Semaphore.open(n as string)],
  ['Semaphore.openOrCreate', (n) => Semaphore.openOrCreate(n as string)],
  ['Semaphore.unlink', (n) => Semaphore.unlink(n as string)],
];

for (const [what, call] of posixNamed) {
  test(`names: ${what} refuses bad names with ERR_IPC_NAME_INVALID, non-strings with ERR_INVALID_ARG_TYPE`, async () => {
    for (const bad of ['', '/', 'a/b', '/a/b', 'x\0y', '..', '/.', 'n'.repeat(256)]) {
      await assert.rejects(call(bad), { code: 'ERR_IPC_NAME_INVALID' }, JSON.stringify(bad));
    }
    for (const bad of [42, null, undefined, Symbol('x'), {}]) await assert.rejects(call(bad), { code: 'ERR_INVALID_ARG_TYPE' });
  });
}

const paths: [string, (p: unknown) => Promise<unknown>][] = [
  ['Fifo.create', (p) => Fifo.create(p as string)],
  ['Fifo.openOrCreate', (p) => Fifo.openOrCreate(p as string)],
  ['Fifo.unlink', (p) => Fifo.unlink(p as string)],
  ['Fifo.openReader', (p) => Fifo.openReader(p as string)],
  ['Fifo.openWriter', (p) => Fifo.openWriter(p as string)],
  ['UnixServer.listen', (p) => UnixServer.listen({ path: p as string })],
  ['UnixServer.unlink', (p) => UnixServer.unlink(p as string)],
  ['UnixSocket.connect', (p) => UnixSocket.connect({ path: p as string })],
];

for (const [what, call] of paths) {
  test(`names: ${what} refuses empty and NUL paths with ERR_IPC_NAME_INVALID, non-strings with ERR_INVALID_ARG_TYPE`, async () => {
    for (const bad of ['', '/tmp/x\0y']) await assert.rejects(call(bad), { code: 'ERR_IPC_NAME_INVALID' }, JSON.stringify(bad));
    for (const bad of [42, null, {}]) await assert.rejects(call(bad), (err: { code?: string }) => err.code === 'ERR_INVALID_ARG_TYPE' || err.code === 'ERR_IPC_NAME_INVALID');
    await assert.rejects(call(42), { code: 'ERR_INVALID_ARG_TYPE' });
  });
}

const keyed: [string, (k: unknown) => Promise<unknown>][] = [
  ['SystemVMessageQueue.create', (k) => SystemVMessageQueue.create(k as number)],
  ['SystemVMessageQueue.open', (k) => SystemVMessageQueue.open(k as number)],
  ['SystemVMessageQueue.openOrCreate', (k) => SystemVMessageQueue.openOrCreate(k as number)],
  ['SystemVSharedMemory.create', (k) => SystemVSharedMemory.create(k as number, { size: 64 })],
  ['SystemVSharedMemory.open', (k) => SystemVSharedMemory.open(k as number)],
  ['SystemVSharedMemory.openOrCreate', (k) => SystemVSharedMemory.openOrCreate(k as number, { size: 64 })],
  ['SystemVSemaphoreSet.create', (k) => SystemVSemaphoreSet.create(k as number, { count: 1 })],
  ['SystemVSemaphoreSet.open', (k) => SystemVSemaphoreSet.open(k as number)],
  ['SystemVSemaphoreSet.openOrCreate', (k) => SystemVSemaphoreSet.openOrCreate(k as number, { count: 1 })],
];

for (const [what, call] of keyed) {
  test(`keys: ${what} refuses non-numbers (ERR_INVALID_ARG_TYPE) and out-of-range keys (ERR_OUT_OF_RANGE)`, async () => {
    for (const bad of ['0x1234', null, {}, 10n]) await assert.rejects(call(bad), { code: 'ERR_INVALID_ARG_TYPE' }, String(bad));
    for (const bad of [0, 1.5, 2 ** 32, -(2 ** 31) - 1, NaN]) await assert.rejects(call(bad), { code: 'ERR_OUT_OF_RANGE' }, String(bad));
  });
}

test('keys: only create() takes "private"; open and openOrCreate of it are ERR_OUT_OF_RANGE', async () => {
  for (const [, call] of keyed.filter(([w]) => !w.endsWith('.create'))) await assert.rejects(call('private'), { code: 'ERR_OUT_OF_RANGE' });
});

test('sizes and counts: ERR_OUT_OF_RANGE / ERR_INVALID_ARG_TYPE before any syscall', async () => {
  const n = uniqueName('api');
  for (const size of [0, -1, 1.5, 2 ** 53]) await assert.rejects(SharedMemory.create(n, { size }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SharedMemory.create(n, { size: '64' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(SharedMemory.create(n, undefined as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(MessageQueue.create(n, { maxMessages: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(MessageQueue.create(n, { maxMessageSize: '8' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(Semaphore.create(n, { value: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(Semaphore.create(n, { value: 2 ** 31 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVSemaphoreSet.create('private', { count: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(SystemVSemaphoreSet.create('private', { count: 2, values: [1] }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(UnixServer.listen({ abstract: n.slice(1), backlog: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(UnixServer.listen({ abstract: n.slice(1), type: 'raw' as never }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.deepEqual(fs.readdirSync('/dev/shm').filter((f) => f.includes(n.slice(1))), [], 'nothing made in /dev/shm');
  assert.equal(mqExists(n), false, 'no queue made');
});

// An options argument is an object or absent: a string or null is misuse, refused before any syscall
// (a string used to be read as "no options" and create the object with defaults).
const withOptions: [string, (opts: unknown) => unknown][] = [
  ['Fifo.create', (o) => Fifo.create('/nonexistent-dir/f', o as never)],
  ['Fifo.openOrCreate', (o) => Fifo.openOrCreate('/nonexistent-dir/f', o as never)],
  ['Fifo.openReader', (o) => Fifo.openReader('/nonexistent-dir/f', o as never)],
  ['MessageQueue.create', (o) => MessageQueue.create(uniqueName('api'), o as never)],
  ['MessageQueue.open', (o) => MessageQueue.open(uniqueName('api'), o as never)],
  ['MessageQueue.openOrCreate', (o) => MessageQueue.openOrCreate(uniqueName('api'), o as never)],
  ['SharedMemory.create', (o) => SharedMemory.create(uniqueName('api'), o as never)],
  ['SharedMemory.open', (o) => SharedMemory.open(uniqueName('api'), o as never)],
  ['SharedMemory.openOrCreate', (o) => SharedMemory.openOrCreate(uniqueName('api'), o as never)],
  ['Semaphore.create', (o) => Semaphore.create(uniqueName('api'), o as never)],
  ['Semaphore.openOrCreate', (o) => Semaphore.openOrCreate(uniqueName('api'), o as never)],
  ['SystemVMessageQueue.create', (o) => SystemVMessageQueue.create('private', o as never)],
  ['SystemVMessageQueue.openOrCreate', (o) => SystemVMessageQueue.openOrCreate(uniqueKey(), o as never)],
  ['SystemVSharedMemory.create', (o) => SystemVSharedMemory.create('private', o as never)],
  ['SystemVSemaphoreSet.create', (o) => SystemVSemaphoreSet.create('private', o as never)],
  ['UnixServer.listen', (o) => UnixServer.listen(o as never)],
  ['UnixSocket.connect', (o) => UnixSocket.connect(o as never)],
  ['UnixSocket.create', (o) => UnixSocket.create(o as never)],
  ['UnixSocket.pair', (o) => UnixSocket.pair('stream', o as never)],
  ['signals.send', (o) => signals.send(process.pid, 0, o as never)],
  ['signals.watch', (o) => signals.watch('SIGRTMIN+5', o as never)],
];

for (const [what, call] of withOptions) {
  test(`options: ${what} refuses a non-object options argument with ERR_INVALID_ARG_TYPE`, async () => {
    for (const bad of ['x', null, 42]) await fails(() => call(bad), 'ERR_INVALID_ARG_TYPE');
  });
}

test('options: try* twins validate their options too', async (t) => {
  const q = await MessageQueue.create(uniqueName('api'), { maxMessages: 1, maxMessageSize: 16 });
  const sq = await SystemVMessageQueue.create('private');
  const set = await SystemVSemaphoreSet.create('private', { count: 1 });
  t.after(() => (q.close(), sq.close(), set.close()));
  assert.throws(() => q.trySend('x', 'high' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => sq.tryReceive('all' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => set.tryOp([{ index: 0, delta: 1 }], 'undo' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.equal(q.tryReceive(), null, 'null on EAGAIN');
  assert.equal(sq.tryReceive(), null);
  assert.equal(set.tryOp([{ index: 0, delta: -1 }]), false, 'false on EAGAIN');
});

test('pipes: pipeCapacity and writeFrame validate their arguments; writeFrame takes a string as UTF-8', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  assert.throws(() => pipeCapacity(writer, '65536' as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => pipeCapacity(writer, -1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => pipeCapacity({ fd: 1 } as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(writeFrame(writer, 42 as never), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(writeFrame(writer, 'x', { maxFrameSize: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await writeFrame(writer, 'héllo');
  await writer.close();
  const frames: string[] = [];
  for await (const f of readFrames(reader)) frames.push(String(f));
  assert.deepEqual(frames, ['héllo'], 'a string used to be written with a header of 0: a corrupt stream');
});
