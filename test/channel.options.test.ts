// Channel options per transport: the one table the types are made from (TRANSPORT_OPTIONS) is what
// prepare() enforces, and each adapter's own `options` list says the same.
import test from 'node:test';
import assert from 'node:assert/strict';
import { TRANSPORT_OPTIONS } from '../src/channel/index.js';
import { adapterFor } from '../src/channel/transport.js';
import { listen, parseEndpoint, transports } from '../src/index.js';

const sample: Record<string, string> = {
  fifo: 'fifo:/tmp/x',
  mq: 'mq:/x',
  sysvmq: 'sysvmq:0x1',
  shm: 'shm:/x',
  'shm+unix': 'shm+unix:@x',
  unix: 'unix:@x',
  'unix+dgram': 'unix+dgram:@x',
  'unix+seqpacket': 'unix+seqpacket:@x',
  tcp: 'tcp://127.0.0.1:1',
  udp: 'udp://127.0.0.1:1',
  nats: 'nats://127.0.0.1:1/x',
};

test('each adapter takes exactly the options the table (and so the types) give its transport', () => {
  for (const t of transports()) {
    const own = [...(adapterFor(parseEndpoint(sample[t]!)).options ?? [])].sort();
    assert.deepEqual(own, Object.keys(TRANSPORT_OPTIONS[t]).sort(), t);
  }
});

test('an option of another transport is ERR_INVALID_ARG_VALUE at run time, before anything is made', async () => {
  await assert.rejects(listen('udp://127.0.0.1:0', { capacity: 1024 } as never), { code: 'ERR_INVALID_ARG_VALUE', message: /capacity.*udp:/ });
  await assert.rejects(listen('tcp://127.0.0.1:0', { allowForeignOwner: true } as never), { code: 'ERR_INVALID_ARG_VALUE' });
});
