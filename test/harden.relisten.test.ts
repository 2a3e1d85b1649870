// Issue 12, item 11: after a listener is killed, listening again on its endpoint recovers, the way
// UnixServer replaces a socket nobody listens on: mq: (the listener's lock on its queue is gone),
// sysvmq: (its SEM_UNDO liveness token went down), unix: (connecting to the socket file is refused).
// A live listener's endpoint, and a queue that is not a channel's, are left alone (EEXIST/EADDRINUSE).
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { connect, listen, MessageQueue, SystemVMessageQueue } from '../src/index.js';
import { run, tmpDir, uniqueKey, uniqueName } from './helpers/index.js';

const index = new URL('../src/index.js', import.meta.url).href;

/** A child that listens on `url` and is SIGKILLed before it can clean anything up. */
async function killedListener(url: string): Promise<void> {
  const code = `const { listen } = await import(${JSON.stringify(index)}); await listen(${JSON.stringify(url)}); process.kill(process.pid, 'SIGKILL');`;
  const r = await run(process.execPath, ['--input-type=module', '-e', code], { timeout: 20_000 });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
}

const cases: Array<{ name: string; url: (dir: string) => string; busy: string }> = [
  { name: 'mq:', url: () => `mq:${uniqueName('relisten')}`, busy: 'EEXIST' },
  { name: 'sysvmq:', url: () => `sysvmq:0x${uniqueKey().toString(16)}`, busy: 'EEXIST' },
  { name: 'unix:', url: (d) => `unix:${path.join(d, 'r.sock')}`, busy: 'EADDRINUSE' },
];

for (const c of cases) {
  test(`${c.name} listen again after the listener was SIGKILLed recovers; a live listener is left alone`, async (t) => {
    const url = c.url(tmpDir(t));
    await killedListener(url);
    await using l = await listen(url);
    await assert.rejects(listen(url), { code: c.busy });
    await using ch = await connect(url, { timeout: 5000 });
    await ch.send('after the crash');
    assert.equal(String(await l.receive({ timeout: 5000 })), 'after the crash');
  });
}

test('a queue of ours that no channel listener made is not replaced (EEXIST)', async (t) => {
  const name = uniqueName('plain');
  await using _q = await MessageQueue.create(name, { maxMessages: 2, maxMessageSize: 8 });
  await assert.rejects(listen(`mq:${name}`), { code: 'EEXIST' });
  const key = uniqueKey();
  await using _s = await SystemVMessageQueue.create(key);
  await assert.rejects(listen(`sysvmq:0x${key.toString(16)}`), { code: 'EEXIST' });
  assert.equal(_s.stat().messages, 0, 'left as it was');
  t.diagnostic('plain queues kept');
});
