// Anonymous pipes: both ends as streams, handed to children, half-duplex, big writes with backpressure,
// EOF and EPIPE semantics, and interop with Python's os.pipe.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { pipe, pipeCapacity } from '../src/index.js';
import { exited, run, missing, startPeer } from './helpers/index.js';

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

test('pipe() gives a read end and a write end with distinct fds', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  assert.ok(reader.fd > 2 && writer.fd > 2 && reader.fd !== writer.fd);
  writer.end('hello');
  assert.equal(String(await readAll(reader)), 'hello');
});

test('the pipe is half-duplex: the read end is not writable, even through its fd', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  assert.equal('write' in reader, false);
  assert.throws(() => fs.writeSync(reader.fd, 'x'), { code: 'EBADF' });
  assert.throws(() => fs.readSync(writer.fd, Buffer.alloc(1)), { code: 'EBADF' });
});

test('a child writes into our pipe through spawn stdio, and EOF comes when its copy closes', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => reader.close());
  const child = startPeer(t, 'sh', ['-c', 'echo one; echo two >&3'], { stdio: ['ignore', writer, 'inherit', writer] });
  await writer.close(); // ours; the child holds its own copies
  assert.equal(String(await readAll(reader)), 'one\ntwo\n');
  assert.equal((await exited(child)).code, 0);
});

test('a child reads from our pipe as its stdin, and the fd it gets is blocking', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => writer.close());
  // A non-blocking stdin makes `cat` fail with EAGAIN: the lazily attached stream must not have set it.
  const child = startPeer(t, 'sh', ['-c', 'cat; echo " rc=$?"'], { stdio: [reader, 'pipe', 'inherit'] });
  await reader.close();
  writer.end('through cat');
  assert.equal(String(await readAll(child.stdout!)), 'through cat rc=0\n');
});

test('the pipe ends are close-on-exec: a child that is not given them does not hold them open', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => reader.close());
  const child = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await writer.close();
  // If `sleep` had inherited the write end, this would wait 30 s for EOF.
  assert.equal((await readAll(reader)).length, 0);
});

test('16 MiB written in one go arrive intact, with backpressure', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  const data = randomBytes(16 * 1024 * 1024);
  const accepted = writer.write(data);
  assert.equal(accepted, false, 'write() reports backpressure for more than the high-water mark');
  writer.end();
  const got = await readAll(reader);
  assert.equal(got.length, data.length);
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
});

test('a write after the reader is gone is an EPIPE error event, never a crash', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => writer.destroy());
  await reader.close();
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
    writer.on('error', resolve);
    writer.write('nobody listens');
  });
  assert.equal(err.code, 'EPIPE');
});

test('closing twice is a no-op, and the fd reads -1 after close', async () => {
  const { reader, writer } = pipe();
  await writer.close();
  await writer.close();
  await reader.close();
  await reader.close();
  assert.equal(reader.fd, -1);
  assert.equal(writer.fd, -1);
});

test('pipeCapacity reads and grows the kernel buffer', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  assert.equal(pipeCapacity(writer), 65536);
  assert.ok(pipeCapacity(writer, 1 << 20) >= 1 << 20);
  assert.ok(pipeCapacity(reader) >= 1 << 20, 'both ends share one buffer');
});

test('interop: Python writes into our pipe (os.write on an inherited fd)', { skip: missing('python3') }, async (t) => {
  const { reader, writer } = pipe();
  t.after(() => reader.close());
  const child = startPeer(t, 'python3', ['-c', 'import os; os.write(3, b"from python"); os.close(3)'], {
    stdio: ['ignore', 'inherit', 'inherit', writer],
  });
  await writer.close();
  assert.equal(String(await readAll(reader)), 'from python');
  assert.equal((await exited(child)).code, 0);
});

test("interop: a pipe made by Python's os.pipe is read by ipckit in a Node child", { skip: missing('python3') }, async () => {
  const script = `
import os, subprocess, sys
r, w = os.pipe()
child = subprocess.Popen([sys.argv[1], '--input-type=module', '-e', '''
import { PipeReader } from ${JSON.stringify(new URL('../src/index.js', import.meta.url).href)};
const r = new PipeReader(Number(process.argv[1]));
let s = ''; for await (const c of r) s += c; console.log('got:' + s);
''', str(r)], pass_fds=[r])
os.close(r)
os.write(w, b"made by python")
os.close(w)
sys.exit(child.wait())
`;
  const r = await run('python3', ['-c', script, process.execPath]);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'got:made by python\n');
});
