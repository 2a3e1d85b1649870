// Issue 12, item 3: permissions are set on descriptors, never through a path. Created FIFOs and socket
// files get exactly their mode whatever the umask, and an attacker who swaps the new node for a symlink
// between its creation and the mode change (rename(2) in the directory, by a C peer spinning on it)
// never makes us change the mode of the symlink's target.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Fifo, UnixServer, UnixSocket } from '../src/index.js';
import { compileC, firstLine, missing, startPeer, tmpDir } from './helpers/index.js';

function mode(p: string): number {
  return fs.lstatSync(p).mode & 0o7777;
}

function withUmask(t: TestContext, mask: number): void {
  const old = process.umask(mask);
  t.after(() => process.umask(old));
}

test('under umask 000 a FIFO and socket files get their mode exactly, 0600 by default', async (t) => {
  const dir = tmpDir(t);
  withUmask(t, 0);
  await using _f1 = await Fifo.create(path.join(dir, 'f1'));
  await using _f2 = await Fifo.create(path.join(dir, 'f2'), { mode: 0o640 });
  await using _f3 = await Fifo.openOrCreate(path.join(dir, 'f3'));
  await using _s1 = await UnixServer.listen({ path: path.join(dir, 's1') });
  await using _s2 = await UnixServer.listen({ path: path.join(dir, 's2'), type: 'seqpacket', mode: 0o660 });
  await using _s3 = await UnixSocket.create({ path: path.join(dir, 's3') });
  assert.equal(mode(path.join(dir, 'f1')), 0o600);
  assert.equal(mode(path.join(dir, 'f2')), 0o640);
  assert.equal(mode(path.join(dir, 'f3')), 0o600);
  assert.equal(mode(path.join(dir, 's1')), 0o600);
  assert.equal(mode(path.join(dir, 's2')), 0o660);
  assert.equal(mode(path.join(dir, 's3')), 0o600);
});

const TRIES = 20_000;
const ENOUGH_SWAPS = 30;

/**
 * Creates `make()` at `node` again and again while the peer swaps it for a symlink to a 0600 file,
 * until the swap won ENOUGH_SWAPS times or TRIES ran out; the target's mode must never change.
 */
async function race(t: TestContext, kind: 'fifo' | 'sock', make: (p: string) => Promise<{ close(): Promise<void> }>) {
  const dir = tmpDir(t);
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, 'root only\n', { mode: 0o600 });
  fs.chmodSync(target, 0o600); // the test's own file, made before the peer runs
  const node = path.join(dir, 'node');
  const peer = startPeer(t, await compileC('swap-symlink'), [node, target, kind], { timeout: 30_000 });
  assert.equal(await firstLine(peer), 'ready');
  // A umask that narrows the asked-for 0666: the mode has to be widened after creation (the window).
  withUmask(t, 0o077);
  let made = 0;
  let refused = 0;
  let swapped = 0;
  let tries = 0;
  while (tries < TRIES && swapped < ENOUGH_SWAPS) {
    tries++;
    fs.rmSync(node, { force: true });
    try {
      const obj = await make(node);
      made++;
      if (fs.lstatSync(node, { throwIfNoEntry: false })?.isSymbolicLink()) swapped++;
      await obj.close();
    } catch {
      refused++;
      if (fs.lstatSync(node, { throwIfNoEntry: false })?.isSymbolicLink()) swapped++;
    }
    assert.equal(mode(target), 0o600, `after try ${tries} the symlink's target changed mode`);
  }
  peer.kill('SIGKILL');
  t.diagnostic(`${kind}: ${tries} tries, ${made} made, ${refused} refused, ${swapped} swapped by the peer; target mode ${mode(target).toString(8)}`);
  // The race was run for real: the peer won the swap at least once, or this proves nothing.
  assert.ok(swapped > 0, `the peer never swapped the node in ${tries} tries`);
}

test('Fifo.create never chmods the target of a symlink swapped in after mkfifo', { skip: missing('cc') }, async (t) => {
  await race(t, 'fifo', (p) => Fifo.create(p, { mode: 0o666, unlinkOnClose: false }));
});

test('UnixServer.listen never chmods the target of a symlink swapped in after bind', { skip: missing('cc') }, async (t) => {
  await race(t, 'sock', (p) => UnixServer.listen({ path: p, mode: 0o666 }));
});

test('a symlink at the path of a created socket or FIFO is refused, its target untouched', async (t) => {
  const dir = tmpDir(t);
  const target = path.join(dir, 'target');
  fs.writeFileSync(target, 'x', { mode: 0o600 });
  fs.symlinkSync(target, path.join(dir, 'l'));
  await assert.rejects(Fifo.create(path.join(dir, 'l'), { mode: 0o666 }), { code: 'EEXIST' });
  await assert.rejects(UnixServer.listen({ path: path.join(dir, 'l'), mode: 0o666 }), { code: 'EADDRINUSE' });
  assert.equal(mode(target), 0o600);
  assert.ok(fs.lstatSync(path.join(dir, 'l')).isSymbolicLink());
});
