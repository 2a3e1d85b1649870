// signals.exited: any process's exit through a pidfd on the event loop, without reaping children.
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import { signals } from '../src/index.js';
import { firstLine, startPeer } from './helpers/index.js';

const NO_SUCH_PID = 2 ** 30;

test('resolves when a process that is not our child exits', async (t) => {
  // sh leaves a sleep behind and exits: the sleep is re-parented (to init or a subreaper), not ours.
  const sh = startPeer(t, 'sh', ['-c', 'sleep 60 & echo $!']);
  const pid = Number(await firstLine(sh));
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone: the test killed it
    }
  });
  await once(sh, 'exit');
  assert.notEqual(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1], String(process.pid), 'not our child');
  // Still running: a short wait times out instead of resolving.
  // The message says it is the wait that timed out, not the process (issue 13).
  await assert.rejects(signals.exited(pid, { timeout: 50 }), { code: 'ERR_IPC_TIMEOUT', message: `waiting for process ${pid} to exit timed out after 50 ms` });
  const done = signals.exited(pid);
  signals.send(pid, 'SIGKILL');
  await done;
  // Dead: a zombie of its new parent, or already reaped.
  const state = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] : 'gone';
  assert.match(state, /^(Z|X|gone)$/);
});

test('a child\'s exit is seen without reaping it: child_process still gets its exit code', async (t) => {
  const child = startPeer(t, 'sh', ['-c', 'read x; exit 7'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exit = once(child, 'exit');
  const done = signals.exited(child.pid!);
  child.stdin!.end('go\n');
  await done;
  assert.deepEqual(await exit, [7, null]);
});

test('rejects with ESRCH for a pid that names no process, and validates the pid', async () => {
  await assert.rejects(signals.exited(NO_SUCH_PID), { code: 'ESRCH', syscall: 'pidfd_open' });
  await assert.rejects(signals.exited(0), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(signals.exited(-1), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(signals.exited(process.pid, { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
});

test('an AbortSignal rejects the wait with AbortError and closes the pidfd', async () => {
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  const before = fds();
  const ac = new AbortController();
  const p = signals.exited(process.pid, { signal: ac.signal });
  assert.equal(fds(), before + 1, 'one pidfd while waiting');
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  assert.equal(fds(), before);
  await assert.rejects(signals.exited(process.pid, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(fds(), before);
});
