// signals.watch: realtime signals with full siginfo and no coalescing, standard signals through Node or
// with siginfo on request, the refused ones, and the dispositions and process lifetime it leaves alone.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { signals, type SignalEvent, type SignalWatcher } from '../src/index.js';
import { childScript, compileC, firstLine, root, startPeer, run as runPeer, missing } from './helpers/index.js';


/** The next n events; fails (instead of hanging) if they do not come within 10 s. */
async function take(w: SignalWatcher, n: number): Promise<SignalEvent[]> {
  const out: SignalEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${out.length} of ${n} events within 10 s`)), 10_000);
  });
  try {
    while (out.length < n) {
      const r = await Promise.race([w.next(), deadline]);
      assert.equal(r.done, false, 'the watcher is still open');
      out.push(r.value);
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

test('1000 values sigqueued by a C program arrive as 1000 events, in order, with its pid and uid', { skip: missing('cc') }, async (t) => {
  using w = signals.watch('SIGRTMIN+1', { ref: true });
  const bin = await compileC('signal_sigqueue');
  const sender = runPeer(bin, [String(process.pid), String(signals.number('SIGRTMIN+1')), '1000', '7']);
  const events = await take(w, 1000);
  const r = await sender;
  assert.equal(r.code, 0, r.stderr);
  const [pid, uid] = r.stdout.trim().split(' ').map(Number);
  assert.deepEqual(
    events.map((e) => e.value),
    Array.from({ length: 1000 }, (_, i) => 7 + i),
  );
  for (const e of events) {
    assert.equal(e.signal, 'SIGRTMIN+1');
    assert.equal(e.code, 'SI_QUEUE');
    assert.equal(e.pid, pid);
    assert.equal(e.uid, uid);
  }
  assert.equal(w.dropped, 0);
});

test('shell kill: bash\'s `kill -s` gives SI_USER and the shell\'s pid; util-linux `kill -q` a value', async (t) => {
  using w = signals.watch(['SIGRTMIN+2', 'SIGRTMAX-3'], { ref: true });
  const bash = await runPeer('bash', ['-c', `kill -s SIGRTMIN+2 ${process.pid}; echo $$`]);
  const [ev1] = await take(w, 1);
  assert.deepEqual(ev1, { signal: 'SIGRTMIN+2', signo: 36, code: 'SI_USER', pid: Number(bash.stdout), uid: 0 });
  // (util-linux 2.38 refuses realtime names together with --queue, hence the number.)
  const kill = startPeer(t, '/usr/bin/kill', ['-s', '61', '-q', '17', String(process.pid)]);
  const [ev2] = await take(w, 1);
  assert.deepEqual(ev2, { signal: 'SIGRTMAX-3', signo: 61, code: 'SI_QUEUE', pid: kill.pid, uid: 0, value: 17 });
});

// A standard signal with no process.on listener of Node's own in this process. Node 24's test runner
// starts each test file with --report-signal=SIGUSR2 and a diagnostic-report listener on it, which
// (rightly) makes ipckit refuse { siginfo: true } there; SIGURG is ignored by default, so a stray one
// harms nothing.
const FREE = (['SIGUSR2', 'SIGURG'] as const).find((s) => process.listenerCount(s) === 0)!;
const FREE_NO = os.constants.signals[FREE];

test('a standard signal goes through Node by default: no sender, and process.on sees it too', async () => {
  let nodeSaw = 0;
  const listener = () => nodeSaw++;
  process.on(FREE, listener);
  try {
    using w = signals.watch(FREE, { ref: true });
    assert.equal(process.listenerCount(FREE), 2);
    process.kill(process.pid, FREE);
    assert.deepEqual(await take(w, 1), [{ signal: FREE, signo: FREE_NO }]);
    assert.equal(nodeSaw, 1);
  } finally {
    process.off(FREE, listener);
  }
  assert.equal(process.listenerCount(FREE), 0, 'the watcher removed its own listener');
});

test('{ siginfo: true } on a standard signal gives the sender; refused while Node has listeners for it', async () => {
  {
    using w = signals.watch(FREE, { siginfo: true, ref: true });
    const bash = await runPeer('bash', ['-c', `kill -${FREE.slice(3)} ${process.pid}; echo $$`]);
    assert.deepEqual(await take(w, 1), [{ signal: FREE, signo: FREE_NO, code: 'SI_USER', pid: Number(bash.stdout), uid: 0 }]);
    // A plain watcher of a signal already taken with siginfo shares that stream.
    using plain = signals.watch(FREE, { ref: true });
    process.kill(process.pid, FREE);
    assert.equal((await take(plain, 1))[0]!.pid, process.pid);
    assert.equal((await take(w, 1))[0]!.code, 'SI_USER');
  }
  const listener = () => {};
  process.on('SIGHUP', listener);
  try {
    assert.throws(() => signals.watch('SIGHUP', { siginfo: true }), { code: 'ERR_IPC_SIGNAL_RESERVED' });
  } finally {
    process.off('SIGHUP', listener);
  }
});

test('signals that cannot or must not be watched are refused with ERR_IPC_SIGNAL_RESERVED', () => {
  for (const sig of ['SIGKILL', 'SIGSTOP', 'SIGRTMAX', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 32, 33]) {
    assert.throws(() => signals.watch(sig), { code: 'ERR_IPC_SIGNAL_RESERVED' }, String(sig));
  }
  for (const sig of ['SIGCHLD', 'SIGPIPE', 'SIGPROF']) {
    assert.throws(() => signals.watch(sig, { siginfo: true }), { code: 'ERR_IPC_SIGNAL_RESERVED' }, sig);
  }
  // A refusal installs nothing, not even the signals listed before the refused one.
  assert.throws(() => signals.watch(['SIGRTMIN+9', 'SIGKILL']), { code: 'ERR_IPC_SIGNAL_RESERVED' });
  const r = spawnSync('true');
  assert.equal(r.status, 0);
  assert.throws(() => signals.watch([]), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => signals.watch('SIGRTMIN', { ref: 1 as never }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('SIGCHLD can still be watched through Node: a child\'s exit is seen, and child_process still works', async (t) => {
  using w = signals.watch('SIGCHLD', { ref: true });
  const child = startPeer(t, 'true', [], { stdio: 'ignore' });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, 'libuv still reaped the child');
  assert.equal((await take(w, 1))[0]!.signal, 'SIGCHLD');
});

test('SIGUSR1 is Node\'s inspector signal: a plain Node process opens the debugger, a watcher warns and keeps it shut', async (t) => {
  // The trap: SIGUSR1 to a Node process starts its inspector (port 0: any free port).
  const plain = startPeer(t, process.execPath, ['--inspect-port=0', '-e', 'console.log("ready"); setTimeout(() => {}, 20000)'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await firstLine(plain);
  let stderr = '';
  plain.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
  signals.send(plain.pid!, 'SIGUSR1');
  while (!stderr.includes('Debugger listening')) await once(plain.stderr!, 'data');
  plain.kill('SIGKILL');

  // Watched, it is one more signal with a sender; the warning says what is given up.
  const child = startPeer(t, process.execPath, [childScript('signal-child'), 'usr1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  const out: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(...d.trim().split('\n')));
  while (!out.includes('ready')) await once(child.stdout!, 'data');
  signals.send(child.pid!, 'SIGUSR1');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.deepEqual(out.sort(), [`got SIGUSR1 from ${process.pid}`, 'ready', 'warning IPCKIT_SIGUSR1']);
  assert.doesNotMatch(err, /Debugger listening/);
});

test('the last watcher restores the previous disposition: default, or ignored as inherited', async () => {
  const dflt = await runPeer(process.execPath, [childScript('signal-child'), 'restore', 'SIGRTMIN+5']);
  assert.deepEqual(JSON.parse(dflt.stdout), { before: 'default', during: 'caught', after: 'default' });
  // An ignored signal stays ignored across exec (execve(2)): bash hands Node an ignored SIGRTMIN+5.
  const ign = await runPeer('bash', ['-c', `trap '' RTMIN+5; exec "$0" "$@"`, process.execPath, childScript('signal-child'), 'restore', 'SIGRTMIN+5']);
  assert.equal(ign.stderr, '');
  assert.deepEqual(JSON.parse(ign.stdout), { before: 'ignored', during: 'caught', after: 'ignored' });
  const usr2 = await runPeer(process.execPath, [childScript('signal-child'), 'restore', 'SIGUSR2']);
  assert.deepEqual(JSON.parse(usr2.stdout), { before: 'default', during: 'caught', after: 'default' });
});

test('two watchers of one signal both see every delivery; closing one leaves the other watching', async () => {
  const a = signals.watch('SIGRTMIN+3', { ref: true });
  const b = signals.watch(['SIGRTMIN+3', 'SIGRTMIN+4'], { ref: true });
  signals.send(process.pid, 'SIGRTMIN+3', { value: 1 });
  assert.equal((await take(a, 1))[0]!.value, 1);
  assert.equal((await take(b, 1))[0]!.value, 1);
  a.close();
  a.close();
  assert.equal(a.closed, true);
  assert.deepEqual(await a.next(), { value: undefined, done: true });
  signals.send(process.pid, 'SIGRTMIN+3', { value: 2 });
  signals.send(process.pid, 'SIGRTMIN+4', { value: 3 });
  assert.deepEqual((await take(b, 2)).map((e) => e.value), [2, 3]);
  // break in for await closes the watcher.
  signals.send(process.pid, 'SIGRTMIN+4', { value: 4 });
  for await (const ev of b) {
    assert.equal(ev.value, 4);
    break;
  }
  assert.equal(b.closed, true);
});

test('an AbortSignal stops the watcher: a pending next() rejects with AbortError', async () => {
  const ac = new AbortController();
  const w = signals.watch('SIGRTMIN+7', { signal: ac.signal, ref: true });
  const pending = w.next();
  ac.abort();
  await assert.rejects(pending, { name: 'AbortError', code: 'ABORT_ERR' });
  assert.equal(w.closed, true);
  const early = signals.watch('SIGRTMIN+7', { signal: AbortSignal.abort() });
  await assert.rejects(early.next(), { name: 'AbortError' });
});

test('a watcher does not keep the process alive, unless { ref: true }', async (t) => {
  const unref = await runPeer(process.execPath, [childScript('signal-child'), 'unref'], { timeout: 10_000 });
  assert.equal(unref.code, 0);
  assert.equal(unref.stdout, 'watching\n');
  const child = startPeer(t, process.execPath, [childScript('signal-child'), 'ref']);
  assert.equal(await firstLine(child), 'ready');
  const out: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => out.push(d));
  signals.send(child.pid!, 'SIGRTMIN+1', { value: 99 });
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.equal(out.join(''), 'got 99\n');
});

test('a full signal pipe drops and counts deliveries instead of blocking the handler', { skip: missing('cc') }, async () => {
  using w = signals.watch('SIGRTMIN+8', { ref: true });
  const warned = once(process, 'warning');
  const bin = await compileC('signal_sigqueue');
  // spawnSync holds the event loop while 40000 values arrive: the 1 MiB pipe holds 32768 records.
  const r = spawnSync(bin, [String(process.pid), String(signals.number('SIGRTMIN+8')), '40000'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [warning] = (await warned) as [Error & { code: string }];
  assert.equal(warning.code, 'IPCKIT_SIGNALS_DROPPED');
  assert.ok(w.dropped > 0);
  const events = await take(w, 40000 - w.dropped);
  assert.deepEqual(
    events.map((e) => e.value),
    Array.from({ length: events.length }, (_, i) => i),
    'what fitted arrived in order',
  );
});

test('watch() is refused in a worker thread: dispositions belong to the whole process', async () => {
  const url = pathToFileURL(path.join(root, 'dist/src/index.js')).href;
  const worker = new Worker(
    `import(${JSON.stringify(url)}).then(({ signals }) => {
       try { signals.watch('SIGRTMIN+1'); require('worker_threads').parentPort.postMessage('watched'); }
       catch (err) { require('worker_threads').parentPort.postMessage(err.code); }
     });`,
    { eval: true },
  );
  const [msg] = await once(worker, 'message');
  assert.equal(msg, 'ERR_IPC_UNSUPPORTED');
  await worker.terminate();
});
