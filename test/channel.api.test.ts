// The Channel API itself, apart from transports: endpoint URLs, codecs, argument validation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { connect, listen, parseEndpoint, transports } from '../src/index.js';

test('endpoint URLs parse to their transport and address', () => {
  assert.deepEqual(parseEndpoint('fifo:/tmp/x'), { transport: 'fifo', url: 'fifo:/tmp/x', path: '/tmp/x' });
  assert.deepEqual(parseEndpoint('mq:/jobs'), { transport: 'mq', url: 'mq:/jobs', name: '/jobs' });
  assert.deepEqual(parseEndpoint('sysvmq:0x1234'), { transport: 'sysvmq', url: 'sysvmq:0x1234', key: 0x1234 });
  assert.deepEqual(parseEndpoint('shm:/ring'), { transport: 'shm', url: 'shm:/ring', name: '/ring' });
  assert.deepEqual(parseEndpoint('unix:/run/a.sock'), { transport: 'unix', url: 'unix:/run/a.sock', path: '/run/a.sock', abstract: false });
  assert.deepEqual(parseEndpoint('unix:@bus'), { transport: 'unix', url: 'unix:@bus', path: 'bus', abstract: true });
  assert.equal(parseEndpoint('unix+dgram:/tmp/d').transport, 'unix+dgram');
  assert.equal(parseEndpoint('unix+seqpacket:@s').transport, 'unix+seqpacket');
  assert.deepEqual(parseEndpoint('tcp://127.0.0.1:7000'), { transport: 'tcp', url: 'tcp://127.0.0.1:7000', host: '127.0.0.1', port: 7000 });
  assert.deepEqual(parseEndpoint('udp://[::1]:53'), { transport: 'udp', url: 'udp://[::1]:53', host: '::1', port: 53 });
  assert.deepEqual(parseEndpoint('nats://localhost:4222/jobs.in'), { transport: 'nats', url: 'nats://localhost:4222/jobs.in', host: 'localhost', port: 4222, subject: 'jobs.in' });
});

test('malformed endpoint URLs fail with ERR_IPC_NAME_INVALID before any syscall', () => {
  for (const bad of ['nocolon', 'mq:jobs', 'mq:/a/b', 'shm:/', 'sysvmq:0', 'sysvmq:zz', 'unix:', 'unix:@', `unix:/${'x'.repeat(120)}`, 'tcp:host:1', 'tcp://h', 'tcp://h:70000', 'tcp://h:1/path', 'nats://h:1', 'nats://h:1/a.*', 'fifo:a\0b']) {
    assert.throws(() => parseEndpoint(bad), { code: 'ERR_IPC_NAME_INVALID' }, bad);
  }
  assert.throws(() => parseEndpoint('carrier-pigeon:/x'), { code: 'ERR_IPC_UNSUPPORTED' });
  assert.throws(() => parseEndpoint(42 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('every codec carries its values through a channel', async (t) => {
  const values: Record<string, unknown[]> = {
    json: [{ a: 1, b: [true, null, 'x'] }, 'text', 3.5],
    msgpack: [{ a: 1, bin: Buffer.from([1, 2, 3]) }, [1, 'two', null], 2 ** 40],
    v8: [new Map([[1, { d: new Date(0) }]]), new Set(['s']), 10n, new Uint8Array([9, 8])],
  };
  for (const [codec, list] of Object.entries(values)) {
    const rx = await listen('tcp://127.0.0.1:0', { codec: codec as 'json' });
    t.after(() => rx.close());
    const tx = await connect(rx.url, { codec: codec as 'json' });
    t.after(() => tx.close());
    for (const v of list) {
      await tx.send(v);
      const got = await rx.receive();
      if (codec === 'msgpack' && v && typeof v === 'object' && 'bin' in v) {
        assert.deepEqual(Buffer.from((got as { bin: Uint8Array }).bin), Buffer.from([1, 2, 3]));
      } else assert.deepEqual(got, v, `${codec} round trip`);
    }
  }
});

test('raw takes bytes or strings and gives Buffers; bytes a codec cannot decode are ERR_IPC_CODEC', async (t) => {
  const rx = await listen('tcp://127.0.0.1:0', { codec: 'json' });
  t.after(() => rx.close());
  const tx = await connect(rx.url, { codec: 'raw' });
  t.after(() => tx.close());
  await tx.send('{"ok":true}');
  assert.deepEqual(await rx.receive(), { ok: true });
  await tx.send(new Uint8Array([0xff, 0x00]));
  await assert.rejects(rx.receive(), { code: 'ERR_IPC_CODEC' });
  await assert.rejects(tx.send(12 as unknown as string), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('bad options fail with Node\'s argument errors', async () => {
  await assert.rejects(connect('tcp://127.0.0.1:1', { codec: 'yaml' as 'json' }), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(connect('tcp://127.0.0.1:1', { maxMessageSize: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(connect('tcp://127.0.0.1:1', { timeout: -5 }), { code: 'ERR_OUT_OF_RANGE' });
});

test('connect honours timeout and AbortSignal; a refused connection is the system error', async () => {
  await assert.rejects(connect('tcp://127.0.0.1:1'), { code: 'ECONNREFUSED' });
  await assert.rejects(connect('shm:/ipckit-never-there'), { code: 'ENOENT' });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(connect('tcp://127.0.0.1:1', { signal: ac.signal }), { name: 'AbortError' });
});

test('the transports of this build are listed', () => {
  for (const t of ['fifo', 'unix', 'tcp', 'udp', 'shm']) assert.ok(transports().includes(t as 'tcp'), t);
});

test('an option the transport does not take is ERR_INVALID_ARG_VALUE before anything is made, naming the key and what is taken', async () => {
  await assert.rejects(connect('tcp://127.0.0.1:1', { capacity: 1024 } as never), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(err.message, /'capacity' is not one tcp: takes/);
    return true;
  });
  await assert.rejects(listen(`shm:/ipckit-opt-${process.pid}`, { capactiy: 1024 } as never), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(err.message, /Its own are capacity, spinMicros, allow/);
    return true;
  });
});

test('a port out of range is named as such, not as a malformed URL', () => {
  for (const u of ['tcp://h:99999', 'udp://[::1]:70000', 'nats://h:65536/subject']) {
    assert.throws(() => parseEndpoint(u), { code: 'ERR_IPC_NAME_INVALID', message: /port \d+ is out of range \(0 to 65535/ });
  }
  assert.equal((parseEndpoint('tcp://h:65535') as { port: number }).port, 65535);
});

test('nats: a refused connection is ECONNREFUSED like every other transport, the client error as its cause', async () => {
  await assert.rejects(connect('nats://127.0.0.1:1/subject'), (err: Error & { code?: string; cause?: { code?: string } }) => {
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.cause?.code, 'CONNECTION_REFUSED');
    return true;
  });
});
