// The ring format as documented (docs/ring-format.md) between Node and a C peer written from the
// document, across processes: every size across the wrap, both sleeping and waking paths, and the end.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { listen } from '../src/index.js';
import { compileC, firstLine, startPeer, uniqueName, exited, missing } from './helpers/index.js';
import { DeathLatency, killAndAwaitDeath, mark } from './helpers/death.js';

test('a C peer speaking docs/ring-format.md echoes messages of every size across many wraps', { skip: missing('cc') }, async (t) => {
  const bin = await compileC('ring_peer');
  const name = uniqueName('ring');
  const ch = await listen<Buffer>(`shm:${name}`, { capacity: 4096, spinMicros: 0 });
  t.after(() => ch.close());
  const peer = startPeer(t, bin, [`@ipckit-shm:${name}`]);
  assert.equal(await firstLine(peer), 'ready');
  for (let i = 0; i < 500; i++) {
    const m = randomBytes((i * 37) % 2041);
    await ch.send(m);
    const back = await ch.receive({ timeout: 5000 });
    assert.ok(back!.equals(Buffer.from(m).reverse()), `message ${i} (${m.length} bytes) reversed by C`);
  }
  // Several in flight: the C side runs out of room and parks on its eventfd; so do we.
  const many = Array.from({ length: 64 }, (_, i) => randomBytes(100 + i * 13));
  const receiving = (async () => {
    for (const m of many) assert.ok((await ch.receive({ timeout: 5000 }))!.equals(Buffer.from(m).reverse()));
  })();
  for (const m of many) await ch.send(m);
  await receiving;
  await ch.close();
  assert.deepEqual(await exited(peer), { code: 0, signal: null });
});

test('a C peer that is SIGKILLed is noticed within 50 ms (ERR_IPC_PEER_DEAD)', { skip: missing('cc') }, async (t) => {
  const bin = await compileC('ring_peer');
  const name = uniqueName('ring');
  const ch = await listen<Buffer>(`shm:${name}`, { capacity: 4096 });
  t.after(() => ch.close());
  const peer = startPeer(t, bin, [`@ipckit-shm:${name}`]);
  assert.equal(await firstLine(peer), 'ready');
  await ch.send(Buffer.from('abc'));
  assert.equal(String(await ch.receive({ timeout: 5000 })), 'cba');
  const pending = ch.receive({ timeout: 5000 });
  const death = killAndAwaitDeath(peer);
  await assert.rejects(pending, { code: 'ERR_IPC_PEER_DEAD' });
  const noticed = mark();
  await exited(peer);
  const deaths = new DeathLatency('C peer SIGKILLed, Node listener notices');
  deaths.add(death, noticed);
  t.diagnostic(deaths.check());
});
