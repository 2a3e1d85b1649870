// processes.watch: state changes of a child (waitid on a pidfd with WNOWAIT: child_process still reaps
// it), of a process that is not a child (the exit through the pidfd), and through a tracer.
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import { processes, type ProcessEvent } from '../src/index.js';
import { firstLine, run, startPeer, startNonChild } from './helpers/index.js';

const NO_SUCH_PID = 2 ** 30;

/** The one-letter state of /proc/PID/stat ('R', 'S', 'T' stopped, 't' tracing stop, 'Z'), or 'gone'. */
function procState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0]!;
  } catch {
    return 'gone';
  }
}

async function next(w: AsyncIterator<ProcessEvent> & { next(o?: object): Promise<IteratorResult<ProcessEvent>> }): Promise<ProcessEvent> {
  const r = await w.next({ timeout: 10_000 });
  assert.equal(r.done, false, 'an event, not the end');
  return r.value as ProcessEvent;
}

test('SIGSTOP and SIGCONT from a shell kill are seen, and the child_process exit event keeps its code', async (t) => {
  const child = startPeer(t, 'sh', ['-c', 'read x; exit 7'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exit = once(child, 'exit');
  await using w = processes.watch(child);
  assert.equal(w.mode, 'child');
  await run('sh', ['-c', `kill -STOP ${child.pid}`]);
  assert.deepEqual(await next(w), { type: 'stopped', pid: child.pid, signal: 'SIGSTOP' });
  await run('sh', ['-c', `kill -CONT ${child.pid}`]);
  assert.deepEqual(await next(w), { type: 'continued', pid: child.pid });
  child.stdin!.end('go\n');
  assert.deepEqual(await next(w), { type: 'exited', pid: child.pid, code: 7, signal: null, core: false });
  assert.equal((await w.next()).done, true);
  assert.deepEqual(await exit, [7, null], 'child_process reaped it with the right code');
});

test('a child killed by a signal is reported with that signal', async (t) => {
  const child = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  const exit = once(child, 'exit');
  await using w = processes.watch(child);
  child.kill('SIGTERM');
  assert.deepEqual(await next(w), { type: 'exited', pid: child.pid, code: null, signal: 'SIGTERM', core: false });
  assert.deepEqual(await exit, [null, 'SIGTERM']);
});

test('a child already stopped when the watch starts says so at once', async (t) => {
  const child = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  const stopped = processes.watch(child);
  process.kill(child.pid!, 'SIGSTOP');
  await next(stopped); // the stop has happened
  await stopped.close();
  await using w = processes.watch(child);
  assert.deepEqual(await next(w), { type: 'stopped', pid: child.pid, signal: 'SIGSTOP' });
  child.kill('SIGKILL');
  assert.equal((await next(w)).type, 'exited');
});

test('a process that is not a child: its exit, with the status where the kernel gives it', async (t) => {
  // sh keeps its background job as its own child (wait), so the sleep is reaped by sh, not by us.
  const sh = startPeer(t, 'sh', ['-c', 'exec 3<&0; (read x <&3; exit 4) & echo $!; wait'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const pid = Number(await firstLine(sh));
  await using w = processes.watch(pid);
  assert.equal(w.mode, 'pidfd');
  sh.stdin!.end('go\n');
  const ev = await next(w);
  assert.equal(ev.type, 'exited');
  const [major, minor] = os.release().split('.').map(Number) as [number, number];
  const exitInfo = major > 6 || (major === 6 && minor >= 15); // PIDFD_INFO_EXIT
  assert.deepEqual(ev, { type: 'exited', pid, code: exitInfo ? 4 : null, signal: null, core: false });
});

test('a process that is not a child, traced: stops, continues and the exit status', async (t) => {
  const pid = await startNonChild(t);
  await using w = processes.watch(pid, { trace: true });
  assert.equal(w.mode, 'trace');
  await run('sh', ['-c', `kill -STOP ${pid}`]);
  assert.deepEqual(await next(w), { type: 'stopped', pid, signal: 'SIGSTOP' });
  await run('sh', ['-c', `kill -CONT ${pid}`]);
  assert.deepEqual(await next(w), { type: 'continued', pid });
  process.kill(pid, 'SIGTERM');
  assert.deepEqual(await next(w), { type: 'exited', pid, code: null, signal: 'SIGTERM', core: false });
});

test('an AbortSignal ends the watch with AbortError, closing the pidfd', async (t) => {
  const child = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  const before = fds();
  const ac = new AbortController();
  const w = processes.watch(child, { signal: ac.signal });
  const p = w.next();
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  assert.equal(fds(), before);
  // A signal aborted before the watch ends it as well, at once.
  const already = processes.watch(child, { signal: AbortSignal.abort('early') });
  await assert.rejects(already.next({ timeout: 5000 }), (err: Error) => err.name === 'AbortError' && err.cause === 'early');
  assert.equal(fds(), before);
  assert.equal(procState(child.pid!) !== 'gone', true, 'the child was not touched');
});

test('a wait takes a timeout, and bad targets are refused before any syscall', async (t) => {
  const child = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  await using w = processes.watch(child);
  await assert.rejects(w.next({ timeout: 20 }), { code: 'ERR_IPC_TIMEOUT' });
  assert.throws(() => processes.watch(NO_SUCH_PID), { code: 'ESRCH', syscall: 'pidfd_open' });
  assert.throws(() => processes.watch(0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => processes.watch('1' as never), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('a ChildProcess reaped before the watch began reports its exit (code or signal), not ESRCH', async (t) => {
  const coded = startPeer(t, 'sh', ['-c', 'exit 3'], { stdio: 'ignore' });
  await once(coded, 'exit'); // child_process has reaped it: its pid names nothing now
  await using a = processes.watch(coded);
  assert.deepEqual(await next(a), { type: 'exited', pid: coded.pid, code: 3, signal: null, core: false });
  assert.equal((await a.next()).done, true);
  const killed = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  killed.kill('SIGKILL');
  await once(killed, 'exit');
  await using b = processes.watch(killed);
  assert.deepEqual(await next(b), { type: 'exited', pid: killed.pid, code: null, signal: 'SIGKILL', core: false });
  assert.equal((await b.next()).done, true);
});
