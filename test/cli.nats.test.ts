// nats: receivers receive from every sender on the subject, through a real nats-server on loopback:
// the CLI's `recv` with two `send`s, and the channel's end-of-iteration rule (the last sender's goodbye).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import readline from 'node:readline';
import { connect, listen } from '../src/index.js';
import { exited, root, run, startNatsServer, startPeer } from './helpers/index.js';

const cli = path.join(root, 'dist/src/cli/main.js');

const { port, skip } = await startNatsServer(after);

let seq = 0;
const subject = () => `nats://127.0.0.1:${port}/ipckit.cli.${process.pid}.${++seq}`;

test('recv nats:// --count 2 receives one message from each of two sends', { skip }, async (t) => {
  const url = subject();
  const recv = startPeer(t, process.execPath, [cli, 'recv', url, '--count', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  recv.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  const rl = readline.createInterface({ input: recv.stderr! });
  await new Promise<void>((resolve) => rl.on('line', (l) => l.startsWith('listening on') && resolve()));
  for (const m of ['from the first sender', 'from the second sender']) {
    const r = await run(process.execPath, [cli, 'send', url, m]);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await exited(recv)).code, 0);
  assert.equal(out, 'from the first sender\nfrom the second sender\n');
});

test('a nats: listener hears every sender, answers the last one, and ends after the last goodbye', { skip }, async (t) => {
  const rx = await listen<string>(subject(), { codec: 'json' });
  t.after(() => rx.close());
  const a = await connect<string>(rx.url, { codec: 'json' });
  const b = await connect<string>(rx.url, { codec: 'json' });
  t.after(() => Promise.all([a.close(), b.close()]));
  await a.send('a1');
  assert.equal(await rx.receive({ timeout: 5000 }), 'a1');
  await b.send('b1');
  assert.equal(await rx.receive({ timeout: 5000 }), 'b1');
  await rx.send('to b');
  assert.equal(await b.receive({ timeout: 5000 }), 'to b', 'a reply goes to the sender of the last message');
  await a.send('a2');
  await a.close();
  assert.equal(await rx.receive({ timeout: 5000 }), 'a2');
  await b.send('b2');
  await b.close();
  const rest: string[] = [];
  for await (const m of rx) rest.push(m); // ends: both senders said goodbye
  assert.deepEqual(rest, ['b2']);
});

test('a persistent nats: listener outlives its senders\' goodbyes', { skip }, async (t) => {
  const rx = await listen<string>(subject(), { codec: 'json', persistent: true });
  t.after(() => rx.close());
  for (const m of ['one', 'two']) {
    const tx = await connect<string>(rx.url, { codec: 'json' });
    await tx.send(m);
    await tx.close();
    assert.equal(await rx.receive({ timeout: 5000 }), m);
  }
});
