// FIFOs: creation mode and exclusivity, opening without pool threads, cancellable writers, persistent
// readers, refusal of paths that are not FIFOs, and interop with the shell and Python.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Fifo } from '../src/index.js';
import { exited, run, tmpDir, missing, startPeer } from './helpers/index.js';

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let s = '';
  for await (const c of stream) s += c;
  return s;
}

test('create() makes a FIFO with mode 0600 exactly, whatever the umask', async (t) => {
  const p = path.join(tmpDir(t), 'f');
  const old = process.umask(0o077);
  t.after(() => process.umask(old));
  await using _fifo = await Fifo.create(p);
  const st = fs.statSync(p);
  assert.ok(st.isFIFO());
  assert.equal(st.mode & 0o7777, 0o600);
  await using _other = await Fifo.create(path.join(path.dirname(p), 'g'), { mode: 0o640 });
  assert.equal(fs.statSync(path.join(path.dirname(p), 'g')).mode & 0o7777, 0o640);
});

test('a writer that comes while create() sets the mode finds no reader: it waits for the real one, nothing it writes is dropped', async (t) => {
  // `recv fifo: --count 2` with `echo first > p` as soon as p exists hung under load: create() held the
  // FIFO open O_RDWR while it set the mode, the echo's open completed against that descriptor, and the
  // pipe with "first" in it was freed when create() closed it. The writer here comes inside that window
  // (while create() looks at its descriptor), without blocking: a reader there would let it in (no ENXIO).
  const p = path.join(tmpDir(t), 'f');
  const fstatSync = fs.fstatSync;
  let early: string | undefined;
  t.mock.method(fs, 'fstatSync', (...args: Parameters<typeof fs.fstatSync>) => {
    if (early === undefined) {
      try {
        const w = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        fs.writeSync(w, 'first\n');
        fs.closeSync(w);
        early = 'written, then dropped with the pipe';
      } catch (err) {
        early = (err as NodeJS.ErrnoException).code;
      }
    }
    return fstatSync(...args);
  });
  const fifo = await Fifo.create(p, { mode: 0o640 });
  t.mock.restoreAll();
  t.after(() => fifo.close());
  assert.equal(early, 'ENXIO');
  assert.equal(fs.statSync(p).mode & 0o7777, 0o640);
  // And a blocking writer that starts before the reader opens reaches it.
  const sh = startPeer(t, 'sh', ['-c', `echo first > '${p}'`], { stdio: 'inherit' });
  assert.equal(await readAll(await fifo.openReader()), 'first\n');
  assert.equal((await exited(sh)).code, 0);
});

test('create() is exclusive: EEXIST when the path exists', async (t) => {
  const p = path.join(tmpDir(t), 'f');
  await using _fifo = await Fifo.create(p);
  await assert.rejects(Fifo.create(p), { code: 'EEXIST', syscall: 'mkfifo', path: p, errno: -17 });
});

test('close() removes the FIFO it created; openOrCreate() of an existing one does not', async (t) => {
  const p = path.join(tmpDir(t), 'f');
  const fifo = await Fifo.create(p);
  const again = await Fifo.openOrCreate(p);
  await again.close();
  assert.ok(fs.existsSync(p), 'openOrCreate did not own the existing FIFO');
  await fifo.close();
  await fifo.close();
  assert.equal(fs.existsSync(p), false);
  assert.equal(await Fifo.unlink(p), false);
  await assert.rejects(fifo.openReader(), { code: 'ERR_IPC_CLOSED' }); // a Promise-returning method rejects, never throws
});

test('a shell `echo > fifo` reaches an ipckit reader, which sees EOF when the writer closes', async (t) => {
  const p = path.join(tmpDir(t), 'f');
  await using fifo = await Fifo.create(p);
  const reader = await fifo.openReader();
  const sh = startPeer(t, 'sh', ['-c', `echo hello from sh > '${p}'`], { stdio: 'inherit' });
  assert.equal(await readAll(reader), 'hello from sh\n');
  assert.equal((await exited(sh)).code, 0);
});

test('an ipckit writer waits for a reader (shell mkfifo + cat), then writes', async (t) => {
  const p = path.join(tmpDir(t), 'f');
  assert.equal((await run('mkfifo', [p])).code, 0);
  t.after(() => Fifo.unlink(p));
  const opening = Fifo.openWriter(p, { timeout: 10_000 });
  const cat = startPeer(t, 'cat', [p], { stdio: ['ignore', 'pipe', 'inherit'] });
  const writer = await opening;
  writer.end('to cat');
  assert.equal(await readAll(cat.stdout!), 'to cat');
  await writer.close();
});

test('writers waiting for readers hold no pool thread, and each is cancellable', async (t) => {
  const dir = tmpDir(t);
  const ac = new AbortController();
  const waits: Promise<unknown>[] = [];
  for (let i = 0; i < 8; i++) {
    const p = path.join(dir, `f${i}`);
    const fifo = await Fifo.create(p);
    t.after(() => fifo.close());
    waits.push(Fifo.openWriter(p, { signal: ac.signal }));
  }
  // Eight blocking opens would occupy libuv's four pool threads and starve fs (node#23220).
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, () => fs.promises.stat(dir)));
  assert.ok(performance.now() - t0 < 1000);
  ac.abort();
  for (const w of waits) await assert.rejects(w, { name: 'AbortError', code: 'ABORT_ERR' });
});

test('a writer waiting for a reader times out with ERR_IPC_TIMEOUT', async (t) => {
  const p = path.join(tmpDir(t), 'f');
  await using _fifo = await Fifo.create(p);
  await assert.rejects(Fifo.openWriter(p, { timeout: 30 }), { code: 'ERR_IPC_TIMEOUT' });
});

test('a writer times out on time while the FIFO keeps changing (each chmod an inotify event)', async (t) => {
  // Every chmod is an inotify event that wakes the waiting writer: the timeout must still count from
  // the start of the wait, not from the last event.
  const p = path.join(tmpDir(t), 'f');
  await using _fifo = await Fifo.create(p);
  let mode = 0o600;
  const touch = setInterval(() => fs.chmodSync(p, (mode ^= 0o020)), 20);
  t.after(() => clearInterval(touch));
  const t0 = performance.now();
  let limit: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    Fifo.openWriter(p, { timeout: 150 }).then(() => 'opened', (err: NodeJS.ErrnoException) => err.code),
    new Promise((resolve) => (limit = setTimeout(resolve, 3000, 'still waiting after 3 s'))),
  ]);
  clearTimeout(limit);
  assert.equal(outcome, 'ERR_IPC_TIMEOUT');
  assert.ok(performance.now() - t0 < 2000);
});

test('a persistent reader stays open across successive writers', async (t) => {
  const p = path.join(tmpDir(t), 'f');
  await using fifo = await Fifo.create(p);
  const reader = await fifo.openReader({ persistent: true });
  t.after(() => reader.close());
  const it = reader[Symbol.asyncIterator]();
  let text = '';
  for (const word of ['first', 'second', 'third']) {
    const r = await run('sh', ['-c', `echo ${word} > '${p}'`]);
    assert.equal(r.code, 0, 'each writer finds the reader and closes after writing');
    while (!text.endsWith(`${word}\n`)) {
      const { value, done } = await it.next();
      assert.equal(done, false, 'no EOF between writers');
      text += value;
    }
  }
  assert.equal(text, 'first\nsecond\nthird\n');
});

test('a path that exists but is not a FIFO gets ERR_IPC_NOT_FIFO and is left untouched', async (t) => {
  const p = path.join(tmpDir(t), 'regular');
  fs.writeFileSync(p, 'precious');
  await assert.rejects(Fifo.openReader(p), { code: 'ERR_IPC_NOT_FIFO' });
  await assert.rejects(Fifo.openWriter(p, { timeout: 100 }), { code: 'ERR_IPC_NOT_FIFO' });
  await assert.rejects(Fifo.unlink(p), { code: 'ERR_IPC_NOT_FIFO' });
  await assert.rejects(Fifo.openOrCreate(p), { code: 'ERR_IPC_NOT_FIFO' });
  assert.equal(fs.readFileSync(p, 'utf8'), 'precious');
});

test('bad paths are refused before any syscall', async () => {
  await assert.rejects(Fifo.create(''), { code: 'ERR_IPC_NAME_INVALID' });
  await assert.rejects(Fifo.create('/tmp/a\0b'), { code: 'ERR_IPC_NAME_INVALID' });
  await assert.rejects(Fifo.create(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(Fifo.create('/tmp/x', { mode: 0o10000 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(Fifo.openReader('/nonexistent/ipckit/fifo'), { code: 'ENOENT' });
  await assert.rejects(Fifo.openWriter('/tmp/x', { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
});

test("interop: Python's os.mkfifo FIFO, written by ipckit and read by Python", { skip: missing('python3') }, async (t) => {
  const p = path.join(tmpDir(t), 'py.fifo');
  const py = startPeer(t, 'python3', ['-c', `import os,sys; os.mkfifo(sys.argv[1], 0o600); print("ready", flush=True); print(open(sys.argv[1]).read(), end="")`, p], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => Fifo.unlink(p));
  const out: string[] = [];
  py.stdout!.setEncoding('utf8').on('data', (d) => out.push(d));
  await new Promise<void>((resolve) => py.stdout!.once('data', () => resolve()));
  const writer = await Fifo.openWriter(p, { timeout: 10_000 });
  writer.end('hello python');
  await writer.close();
  assert.equal((await exited(py)).code, 0);
  assert.equal(out.join(''), 'ready\nhello python');
});
