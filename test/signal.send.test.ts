// signals.send and signal names: kill(2) and sigqueue(3) as a C program's sigwaitinfo(2) sees them,
// process groups, and the system errors of a refused send.
import test from 'node:test';
import assert from 'node:assert/strict';
import readline from 'node:readline';
import { signals } from '../src/index.js';
import { asNobodyCommand, childScript, compileC, exited, firstLine, startPeer, run as runPeer, missingNobody, missing } from './helpers/index.js';


const SI_USER = 0;
const SI_QUEUE = -1;
const NO_SUCH_PID = 2 ** 30; // above any pid_max (at most 2^22)

interface Seen {
  signo: number;
  code: number;
  pid: number;
  uid: number;
  value: number;
}

/** Starts the C sigwaitinfo peer; resolves once it has blocked SIG and says so. */
async function sigwaitPeer(t: test.TestContext, sig: number, count: number, opts: { detached?: boolean } = {}) {
  const bin = await compileC('signal_sigwait');
  const child = startPeer(t, bin, [String(sig), String(count)], { detached: opts.detached ?? false });
  const ready = await firstLine(child);
  assert.equal(ready, `ready ${child.pid}`);
  const rl = readline.createInterface({ input: child.stdout! });
  const it = rl[Symbol.asyncIterator]();
  const next = async (): Promise<Seen> => {
    const { value } = await it.next();
    const [signo, code, pid, uid, v] = (value as string).split(' ').map(Number) as [number, number, number, number, number];
    return { signo, code, pid, uid, value: v };
  };
  return { child, next };
}

test('realtime names follow glibc: SIGRTMIN is 34, SIGRTMAX 64, and names round-trip', () => {
  assert.equal(signals.SIGRTMIN, 34);
  assert.equal(signals.SIGRTMAX, 64);
  assert.equal(signals.number('SIGRTMIN+3'), 37);
  assert.equal(signals.number('rtmax-1'), 63);
  assert.equal(signals.number('USR2'), 12);
  assert.equal(signals.number(15), 15);
  for (let n = 1; n <= signals.SIGRTMAX; n++) {
    if (n === 32 || n === 33) continue; // glibc's own: nameless
    assert.equal(signals.number(signals.name(n)), n, `signal ${n} (${signals.name(n)})`);
  }
  assert.equal(signals.name(34), 'SIGRTMIN');
  assert.equal(signals.name(49), 'SIGRTMIN+15');
  assert.equal(signals.name(50), 'SIGRTMAX-14');
  assert.equal(signals.name(6), 'SIGABRT');
  assert.equal(signals.name(29), 'SIGIO');
});

test('bash names the realtime signals the same way (kill -l)', async () => {
  const r = await runPeer('bash', ['-c', 'for n in 34 35 49 50 63 64; do kill -l $n; done']);
  const names = r.stdout.trim().split('\n').map((s) => 'SIG' + s);
  assert.deepEqual(names, [34, 35, 49, 50, 63, 64].map((n) => signals.name(n)));
});

test('unknown signal names and numbers out of range are refused before any syscall', () => {
  assert.throws(() => signals.number('SIGNOPE'), { code: 'ERR_UNKNOWN_SIGNAL' });
  assert.throws(() => signals.number('SIGRTMIN-1'), { code: 'ERR_UNKNOWN_SIGNAL' });
  assert.throws(() => signals.number('SIGRTMIN+31'), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => signals.number(65), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => signals.number(1.5), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => signals.send(process.pid, {} as never), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => signals.send('1' as never, 'SIGUSR2'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => signals.send(process.pid, 'SIGUSR2', { value: 2 ** 31 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => signals.send(0, 'SIGRTMIN+1', { value: 1 }), { code: 'ERR_OUT_OF_RANGE' });
});

test('a C program\'s sigwaitinfo sees the values ipckit sigqueues, with SI_QUEUE, our pid and uid', { skip: missing('cc') }, async (t) => {
  const sig = signals.number('SIGRTMIN+4');
  const peer = await sigwaitPeer(t, sig, 4);
  const values = [0, -5, 2 ** 31 - 1, -(2 ** 31)];
  for (const value of values) signals.send(peer.child.pid!, 'SIGRTMIN+4', { value });
  for (const value of values) {
    assert.deepEqual(await peer.next(), { signo: sig, code: SI_QUEUE, pid: process.pid, uid: process.getuid!(), value });
  }
  assert.deepEqual(await exited(peer.child), { code: 0, signal: null });
});

test('without a value the signal goes by kill(2): the peer sees SI_USER', { skip: missing('cc') }, async (t) => {
  const sig = signals.number('SIGUSR2');
  const peer = await sigwaitPeer(t, sig, 1);
  signals.send(peer.child.pid!, sig);
  const seen = await peer.next();
  assert.equal(seen.code, SI_USER);
  assert.equal(seen.pid, process.pid);
});

test('pid -PGID reaches a whole process group (kill(2))', { skip: missing('cc') }, async (t) => {
  const sig = signals.number('SIGRTMIN+2');
  // detached: the peer leads a new session and process group whose id is its pid.
  const peer = await sigwaitPeer(t, sig, 1, { detached: true });
  signals.send(-peer.child.pid!, 'SIGRTMIN+2');
  const seen = await peer.next();
  assert.equal(seen.signo, sig);
  assert.equal(seen.code, SI_USER);
});

test('signal 0 checks for existence: ESRCH for a pid that names no process', () => {
  signals.send(process.pid, 0);
  assert.throws(() => signals.send(NO_SUCH_PID, 0), { code: 'ESRCH', syscall: 'kill', errno: -3 });
  assert.throws(() => signals.send(NO_SUCH_PID, 'SIGRTMIN', { value: 1 }), { code: 'ESRCH', syscall: 'sigqueue' });
});

test('an unprivileged sender gets EPERM for a process it does not own', { skip: missingNobody() }, async () => {
  // The child runs as nobody and tries to signal us (root): kill(2) refuses with EPERM.
  const r = await runPeer(...asNobodyCommand(process.execPath, childScript('signal-sender'), String(process.pid)));
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), { kill: 'EPERM', sigqueue: 'EPERM', syscall: 'sigqueue' });
});
