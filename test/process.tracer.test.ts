// Tracer: PTRACE_SEIZE on a dedicated thread; signal-delivery stops with siginfo (deliver, suppress,
// replace), group stops and continues, the exit while the process exists; detach leaves it running,
// and so does the death of the tracing process. Real tracees: a C program compiled here, sh, sleep.
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import { Tracer, pipe, type TraceEvent } from '../src/index.js';
import {
  asNobodyCommand,
  childScript,
  compileC,
  firstLine,
  missing,
  missingNobody,
  run,
  startPeer,
  startNonChild,
} from './helpers/index.js';

const noCc = missing('cc');

/** The one-letter state of /proc/PID/stat ('R', 'S', 'T' stopped, 't' tracing stop, 'Z'), or 'gone'. */
function procState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0]!;
  } catch {
    return 'gone';
  }
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {} // gone already
}
const NO_SUCH_PID = 2 ** 30;

async function next(t: Tracer): Promise<TraceEvent> {
  const r = await t.next({ timeout: 10_000 });
  assert.equal(r.done, false, 'an event, not the end');
  return r.value as TraceEvent;
}

/** A traced spawn of the C target whose stdout comes back line by line. */
async function spawnTarget(t: { after(fn: () => unknown): void }, args: string[]) {
  const bin = await compileC('trace_target');
  const { reader, writer } = pipe();
  const tracer = await Tracer.spawn(bin, args, { stdio: ['ignore', writer.fd, 'inherit'] });
  writer.destroy(); // the child has its own copy
  t.after(async () => {
    if (tracer.state !== 'exited') {
      try {
        process.kill(tracer.pid, 'SIGKILL');
      } catch {}
      await tracer.exited({ timeout: 10_000 }).catch(() => {});
    }
    reader.destroy();
  });
  reader.setEncoding('utf8');
  let buf = '';
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  reader.on('data', (d: string) => {
    buf += d;
    for (let i; (i = buf.indexOf('\n')) >= 0; ) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  const line = () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise<string>((r) => waiting.push(r)));
  return { tracer, line, pending: () => lines };
}

test('a SIGSEGV at a known address is reported with that si_addr; suppressed, it faults again', { skip: noCc }, async (t) => {
  const { tracer, line } = await spawnTarget(t, ['segv']);
  const addr = BigInt((await line()).split(' ')[1]!);
  const first = await next(tracer);
  assert.equal(first.type, 'signal');
  if (first.type !== 'signal') return;
  assert.equal(first.signal, 'SIGSEGV');
  assert.equal(first.code, 'SEGV_ACCERR');
  assert.equal(first.addr, addr);
  assert.equal(first.pid, undefined, 'a fault has no sender');
  assert.equal(procState(tracer.pid), 't', 'held in a signal-delivery stop');
  first.suppress();
  const second = await next(tracer);
  assert.equal(second.type === 'signal' && second.addr, addr, 'the write ran again and faulted again');
  if (second.type === 'signal') second.deliver();
  const exit = await next(tracer);
  assert.equal(exit.type, 'exit');
  if (exit.type === 'exit') {
    assert.equal(exit.signal, 'SIGSEGV');
    assert.equal(exit.live, true, 'reported while the process still exists');
    assert.notEqual(procState(tracer.pid), 'gone');
  }
  assert.equal((await tracer.next()).done, true);
  assert.deepEqual(await tracer.exited(), { code: null, signal: 'SIGSEGV', core: false });
  assert.equal(procState(tracer.pid), 'gone', 'reaped by the tracer thread');
});

test('a suppressed signal is not delivered and a delivered one is; the sender is in the siginfo', { skip: noCc }, async (t) => {
  const { tracer, line } = await spawnTarget(t, ['count']);
  assert.equal(await line(), 'ready');
  process.kill(tracer.pid, 'SIGUSR1');
  const a = await next(tracer);
  assert.equal(a.type === 'signal' && a.signal, 'SIGUSR1');
  if (a.type !== 'signal') return;
  assert.equal(a.code, 'SI_USER');
  assert.equal(a.pid, process.pid);
  assert.equal(a.uid, process.getuid!());
  a.suppress();
  process.kill(tracer.pid, 'SIGUSR1');
  const b = await next(tracer);
  if (b.type === 'signal') b.deliver();
  assert.equal(await line(), 'got SIGUSR1 1', 'one of the two arrived');
  process.kill(tracer.pid, 'SIGUSR1');
  const c = await next(tracer);
  if (c.type === 'signal') c.replace('SIGTERM');
  const exit = await next(tracer);
  assert.equal(exit.type === 'exit' && exit.signal, 'SIGTERM', 'the replacement was delivered instead');
  assert.deepEqual(await tracer.exited(), { code: null, signal: 'SIGTERM', core: false });
});

test('SIGSTOP and SIGCONT from a shell kill: the signals, the group stop and the continue', { skip: noCc }, async (t) => {
  const { tracer, line } = await spawnTarget(t, ['exit', '9']);
  await line();
  await line(); // addr, ready
  await run('sh', ['-c', `kill -STOP ${tracer.pid}`]);
  const stop = await next(tracer);
  assert.equal(stop.type === 'signal' && stop.signal, 'SIGSTOP');
  assert.deepEqual(await next(tracer), { type: 'stopped', tid: tracer.pid, signal: 'SIGSTOP' });
  assert.equal(tracer.state, 'stopped');
  assert.equal(procState(tracer.pid), 't', 'stopped (under PTRACE_LISTEN)');
  await run('sh', ['-c', `kill -CONT ${tracer.pid}`]);
  assert.deepEqual(await next(tracer), { type: 'continued', tid: tracer.pid });
  const cont = await next(tracer);
  assert.equal(cont.type === 'signal' && cont.signal, 'SIGCONT');
  process.kill(tracer.pid, 'SIGUSR2');
  assert.equal((await next(tracer)).type, 'signal');
  const exit = await next(tracer);
  assert.equal(exit.type === 'exit' && exit.code, 9);
  assert.deepEqual(await tracer.exited(), { code: 9, signal: null, core: false });
});

test('detach leaves the tracee running, also one held at a signal; a spawned one is still reaped', { skip: noCc }, async (t) => {
  const { tracer, line } = await spawnTarget(t, ['count']);
  assert.equal(await line(), 'ready');
  await tracer.detach({ timeout: 10_000 });
  assert.equal(tracer.state, 'detached');
  assert.match(procState(tracer.pid), /^[RS]$/);
  const fresh = await Tracer.spawn('sleep', ['30'], { stdio: 'ignore' });
  t.after(() => kill(fresh.pid, 'SIGKILL'));
  process.kill(fresh.pid, 'SIGCONT');
  const held = await next(fresh);
  assert.equal(held.type === 'signal' && held.signal, 'SIGCONT');
  assert.equal(procState(fresh.pid), 't');
  await fresh.close();
  await fresh.close(); // idempotent
  assert.match(procState(fresh.pid), /^[RS]$/);
  // A spawned tracee is still reaped by its thread after detach: its status comes through.
  process.kill(fresh.pid, 'SIGTERM');
  assert.deepEqual(await fresh.exited({ timeout: 10_000 }), { code: null, signal: 'SIGTERM', core: false });
  process.kill(tracer.pid, 'SIGUSR1');
  assert.equal(await line(), 'got SIGUSR1 1', 'signals reach the detached process untraced');
});

test('a traced process is never left stopped when the tracing Node process is SIGKILLed', { skip: noCc }, async (t) => {
  const bin = await compileC('trace_target');
  const target = startPeer(t, bin, ['count'], { stdio: ['ignore', 'pipe', 'inherit'] });
  assert.equal(await firstLine(target), 'ready');
  const tracerProc = startPeer(t, process.execPath, [childScript('tracer-child'), 'hold', String(target.pid)]);
  assert.equal(await firstLine(tracerProc), 'attached');
  target.kill('SIGUSR1');
  assert.equal(await firstLine(tracerProc), 'held SIGUSR1');
  assert.equal(procState(target.pid!), 't', 'held by the tracer');
  tracerProc.kill('SIGKILL');
  await once(tracerProc, 'exit');
  // The kernel detaches a dead tracer's tracees (exit_ptrace) before the tracer's exit is reported, and
  // resumes them. The signal the tracer held is lost: it had been taken off the tracee's queue.
  assert.match(procState(target.pid!), /^[RS]$/);
  const got = firstLine(target);
  target.kill('SIGUSR1');
  assert.equal(await got, 'got SIGUSR1 1', 'running, untraced');
});

test('with exitKill the kernel kills the tracee when the tracing process dies', { skip: noCc }, async (t) => {
  const target = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  const tracerProc = startPeer(t, process.execPath, [childScript('tracer-child'), 'hold', String(target.pid), 'exitkill']);
  assert.equal(await firstLine(tracerProc), 'attached');
  const died = once(target, 'exit');
  tracerProc.kill('SIGKILL');
  assert.deepEqual(await died, [null, 'SIGKILL']);
});

test('an unprivileged tracer gets EPERM naming the rule: another uid', { skip: missingNobody() }, async (t) => {
  const target = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  const r = await run(...asNobodyCommand(process.execPath, childScript('tracer-child'), 'attach', String(target.pid)));
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { code: string; reason: string; syscall: string; message: string };
  assert.equal(out.code, 'EPERM', r.stderr);
  assert.equal(out.syscall, 'ptrace');
  assert.equal(out.reason, 'uid');
  assert.match(out.message, new RegExp(`process ${target.pid} runs as uid 0 and this process as uid 65534`));
});

test('EPERM for a process already traced names its tracer; ESRCH names the pid', async (t) => {
  const pid = await startNonChild(t);
  await using first = await Tracer.attach(pid);
  await assert.rejects(Tracer.attach(pid), (err: NodeJS.ErrnoException & { reason: string }) => {
    assert.equal(err.code, 'EPERM');
    assert.equal(err.reason, 'traced');
    assert.match(err.message, /already traced by this process/);
    return true;
  });
  assert.equal(first.state, 'running');
  await assert.rejects(Tracer.attach(NO_SUCH_PID), (err: NodeJS.ErrnoException) => {
    assert.equal(err.code, 'ESRCH');
    assert.match(err.message, new RegExp(String(NO_SUCH_PID)));
    return true;
  });
  await assert.rejects(Tracer.attach(process.pid), { code: 'EPERM', reason: 'self' });
});

test('a child of child_process cannot be attached (libuv would take its stops); spawn errors are Node-shaped', async (t) => {
  const child = startPeer(t, 'sleep', ['30'], { stdio: 'ignore' });
  await assert.rejects(Tracer.attach(child.pid!), { code: 'ERR_IPC_UNSUPPORTED' });
  await assert.rejects(Tracer.spawn('ipckit-no-such-program-x'), { code: 'ENOENT', syscall: 'spawn' });
  await assert.rejects(Tracer.spawn('/dev/null'), { code: 'EACCES', syscall: 'execve' });
  await assert.rejects(Tracer.spawn('sleep', ['1'], { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('100 tracees started, traced and ended leave no zombies, descriptors or threads behind', async () => {
  const count = (dir: string) => fs.readdirSync(dir).length;
  const warm = await Tracer.spawn('true', [], { stdio: 'ignore' });
  await warm.exited({ timeout: 10_000 });
  const fds = count('/proc/self/fd');
  const threads = count('/proc/self/task');
  for (let i = 0; i < 100; i++) {
    const tr = await Tracer.spawn('sleep', ['30'], { stdio: 'ignore' });
    if (i % 2 === 0) process.kill(tr.pid, 'SIGKILL');
    else {
      process.kill(tr.pid, 'SIGTERM');
      const ev = await tr.next({ timeout: 10_000 });
      assert.equal(ev.value?.type, 'signal');
    }
    await tr.exited({ timeout: 10_000 });
  }
  const zombies = fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state === 'Z' && Number(ppid) === process.pid;
      } catch {
        return false;
      }
    });
  assert.deepEqual(zombies, []);
  assert.ok(count('/proc/self/fd') <= fds, `descriptors: ${count('/proc/self/fd')} after, ${fds} before`);
  // Each tracer thread exits right after posting the end: give them a moment to be gone.
  for (let i = 0; i < 200 && count('/proc/self/task') > threads; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(count('/proc/self/task') <= threads, `threads: ${count('/proc/self/task')} after, ${threads} before`);
});

test('with { fork: true } each fork is reported and the new process runs untraced', async () => {
  const tr = await Tracer.spawn('sh', ['-c', 'sh -c "exit 4"; exit $(( $? + 1 ))'], { fork: true, stdio: 'ignore' });
  const seen: TraceEvent[] = [];
  for await (const ev of tr) {
    seen.push(ev);
    if (ev.type === 'signal') ev.deliver();
  }
  const forks = seen.filter((e) => e.type === 'fork');
  assert.equal(forks.length, 1, JSON.stringify(seen, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  assert.ok(forks[0]!.type === 'fork' && forks[0]!.child > 0);
  assert.ok(seen.some((e) => e.type === 'signal' && e.signal === 'SIGCHLD'), 'the child ran and ended');
  assert.deepEqual(await tr.exited(), { code: 5, signal: null, core: false });
});

test('a wait for the exit that times out says so, naming the pid', async (t) => {
  const tracer = await Tracer.spawn('sleep', ['30']);
  t.after(async () => {
    process.kill(tracer.pid, 'SIGKILL');
    await tracer.exited({ timeout: 10_000 }).catch(() => {});
    await tracer.close();
  });
  await assert.rejects(tracer.exited({ timeout: 50 }), { code: 'ERR_IPC_TIMEOUT', message: `waiting for process ${tracer.pid} to exit timed out after 50 ms` });
});
