// `ipckit signal send|watch` through the public API: one line per delivery, --json, --count.
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import readline from 'node:readline';
import { signals } from '../src/index.js';
import { childScript, compileC, firstLine, startPeer, missing } from './helpers/index.js';

function cli(t: test.TestContext, args: string[]) {
  return startPeer(t, process.execPath, [childScript('signal-cli'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function stderrLine(child: ReturnType<typeof cli>): Promise<string> {
  const rl = readline.createInterface({ input: child.stderr! });
  const [line] = (await once(rl, 'line')) as [string];
  rl.close();
  return line;
}

test('signal watch --json --count 2 prints the deliveries with sender and value, then exits', async (t) => {
  const child = cli(t, ['watch', 'SIGRTMIN+1', 'USR2', '--siginfo', '--json', '--count', '2']);
  assert.equal(await stderrLine(child), `watching SIGRTMIN+1 SIGUSR2 in pid ${child.pid}`);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  signals.send(child.pid!, 'SIGRTMIN+1', { value: 42 });
  signals.send(child.pid!, 'SIGUSR2');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.sort((a, b) => a.signo - b.signo),
    [
      { signal: 'SIGUSR2', signo: 12, code: 'SI_USER', pid: process.pid, uid: 0 },
      { signal: 'SIGRTMIN+1', signo: 35, code: 'SI_QUEUE', pid: process.pid, uid: 0, value: 42 },
    ],
  );
});

test('signal watch prints one human line per delivery', async (t) => {
  const child = cli(t, ['watch', '35', '--count', '1']);
  await stderrLine(child);
  signals.send(child.pid!, 35, { value: -3 });
  assert.equal(await firstLine(child), `SIGRTMIN+1   pid=${process.pid} uid=0 value=-3 code=SI_QUEUE`);
});

test('signal send --value reaches a C program\'s sigwaitinfo; a failed send exits 1, a usage error 2', { skip: missing('cc') }, async (t) => {
  const bin = await compileC('signal_sigwait');
  const peer = startPeer(t, bin, ['36', '1']);
  const closed = once(peer, 'close');
  let out = '';
  peer.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  while (!out.includes('\n')) await once(peer.stdout!, 'data');
  assert.equal(out, `ready ${peer.pid}\n`);
  const sender = cli(t, ['send', String(peer.pid), 'SIGRTMIN+2', '--value', '1234']);
  const [code] = await once(sender, 'exit');
  assert.equal(code, 0);
  await closed;
  assert.equal(out, `ready ${peer.pid}\n36 -1 ${sender.pid} 0 1234\n`);
  const bad = cli(t, ['send', String(2 ** 30), 'SIGUSR2']);
  let err = '';
  bad.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const [badCode] = await once(bad, 'exit');
  assert.equal(badCode, 1);
  assert.match(err, /ESRCH/);
  const usage = cli(t, ['send', 'not-a-pid', 'SIGUSR2']);
  const [usageCode] = await once(usage, 'exit');
  assert.equal(usageCode, 2);
});
