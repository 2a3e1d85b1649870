// Issue 12, item 7: a UnixServer survives running out of descriptors. A child under RLIMIT_NOFILE 64
// (prlimit) serves with a 'connection' handler and no 'error' listener; the test connects more clients
// than it can hold: it reports EMFILE ('acceptError'), does not crash, and once it has descriptors again
// it accepts every client still waiting in the backlog.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { UnixSocket } from '../src/index.js';
import { childScript, missing, startPeer, tmpDir } from './helpers/index.js';

const CLIENTS = 120;

test('UnixServer under EMFILE backs off, reports acceptError, never crashes, then accepts the rest', { skip: missing('prlimit') }, async (t) => {
  const sock = path.join(tmpDir(t), 'emfile.sock');
  const child = startPeer(t, 'prlimit', ['--nofile=64:64', process.execPath, childScript('emfile-server'), sock], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 30_000,
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buf = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) lines.push(buf.slice(0, i));
    for (const w of waiters.splice(0)) w();
  });
  let exited: string | undefined;
  child.once('exit', (code, sig) => {
    exited = `exited ${code ?? sig}: ${stderr}`;
    for (const w of waiters.splice(0)) w();
  });
  const until = async (ok: () => boolean, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!ok()) {
      if (exited) assert.fail(`the server ${exited} while waiting for ${what}`);
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last lines: ${lines.slice(-3).join(' | ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  const total = () => Number(lines.filter((l) => l.startsWith('total ')).pop()?.slice(6) ?? 0);
  await until(() => lines.includes('ready'), 'ready');

  const clients: UnixSocket[] = [];
  t.after(() => Promise.all(clients.map((c) => c.close())));
  for (let i = 0; i < CLIENTS; i++) clients.push(await UnixSocket.connect({ path: sock }));
  await until(() => lines.some((l) => l.startsWith('emfile ')), 'the EMFILE report');
  assert.match(lines.find((l) => l.startsWith('emfile '))!, /^emfile (EMFILE|ENFILE)$/);
  const before = total();
  assert.ok(before < CLIENTS, `it held ${before} of ${CLIENTS}: the limit was reached`);
  // Let the server go: it closes what it holds, and must then take every client left in the backlog.
  clients[0]!.write('release');
  await until(() => lines.includes('released'), 'the release');
  await until(() => total() >= CLIENTS, `all ${CLIENTS} accepted`);
  t.diagnostic(`accepted ${before} before EMFILE, ${total()} in all; the server is still running: ${exited === undefined}`);
  assert.equal(exited, undefined);
});
