// Issue 12, item 5: connectionless channels (unix+dgram:, sysvmq:, mq:) have one connector. Four
// connectors racing for one listener: exactly one carries the channel and every message of it arrives,
// in order; the three others are refused at connect with ERR_IPC_BUSY before they send anything, so no
// message is lost unsaid, and no other connector's goodbye can end the listener's stream.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { connect, listen, UnixSocket } from '../src/index.js';
import { tmpDir, uniqueKey, uniqueName } from './helpers/index.js';

const CONNECTORS = 4;
const N = 500;

const transports: Array<{ name: string; url: (dir: string) => string; opts?: Record<string, unknown> }> = [
  { name: 'unix+dgram: (path)', url: (dir) => `unix+dgram:${path.join(dir, 'd.sock')}` },
  { name: 'unix+dgram: (abstract)', url: () => `unix+dgram:@${uniqueName('fanin').slice(1)}` },
  { name: 'sysvmq:', url: () => `sysvmq:0x${uniqueKey().toString(16)}` },
  { name: 'mq:', url: () => `mq:${uniqueName('fanin')}`, opts: { maxMessages: 8, maxMessageSize: 64 } },
];

for (const tr of transports) {
  test(`${tr.name} ${CONNECTORS} connectors × ${N} messages: one carries the channel, the others get ERR_IPC_BUSY, nothing lost`, async (t) => {
    const url = tr.url(tmpDir(t));
    await using l = await listen(url, tr.opts ?? {});
    const received: string[] = [];
    const reading = (async () => {
      for await (const m of l) received.push(String(m));
    })();
    const outcomes = await Promise.allSettled(
      Array.from({ length: CONNECTORS }, async (_, j) => {
        const c = await connect(url, { timeout: 5000 });
        let sent = 0;
        try {
          for (let i = 0; i < N; i++, sent++) await c.send(`${j}:${i}`);
        } finally {
          await c.close();
        }
        return { j, sent };
      }),
    );
    await reading;
    const carried = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(carried.length, 1, JSON.stringify(outcomes));
    for (const r of refused) assert.equal((r as PromiseRejectedResult).reason.code, 'ERR_IPC_BUSY', String((r as PromiseRejectedResult).reason));
    const { j, sent } = (carried[0] as PromiseFulfilledResult<{ j: number; sent: number }>).value;
    assert.equal(sent, N);
    assert.deepEqual(received, Array.from({ length: N }, (_, i) => `${j}:${i}`), 'every message of the carrier, in order, nothing else');
    assert.equal(await l.receive({ timeout: 100 }), undefined, 'the stream ended with the carrier goodbye');
  });

  test(`${tr.name} a connector arriving after the channel has its peer is refused at connect`, async (t) => {
    const url = tr.url(tmpDir(t));
    await using l = await listen(url, tr.opts ?? {});
    await using first = await connect(url, { timeout: 5000 });
    await first.send('one');
    assert.equal(String(await l.receive({ timeout: 5000 })), 'one');
    await assert.rejects(connect(url, { timeout: 5000 }), { code: 'ERR_IPC_BUSY' });
    await first.send('two');
    assert.equal(String(await l.receive({ timeout: 5000 })), 'two', 'the refused connector changed nothing');
  });
}

test('unix+dgram: a bare socket (not an ipckit connector) sending to a listener that has its peer gets EPERM from the kernel', async (t) => {
  const url = `unix+dgram:${path.join(tmpDir(t), 'd.sock')}`;
  await using l = await listen(url);
  await using c = await connect(url, { timeout: 5000 });
  await c.send('mine');
  assert.equal(String(await l.receive({ timeout: 5000 })), 'mine');
  const [bare, other] = UnixSocket.pair('dgram');
  t.after(() => Promise.all([bare.close(), other.close()]));
  await assert.rejects(bare.send(Buffer.from([0, 0x78]), { to: l.endpoint.url.slice('unix+dgram:'.length) }), { code: 'EPERM' });
});
