// The CLI owns what it makes until it exits, however it exits: SIGINT, SIGTERM and SIGHUP sent to the
// real process, a real `| head` closing the pipe, a stream peer (socat) that ends without a newline, and
// names already taken. Afterwards nothing is left in /dev/shm, among the POSIX queues (mq_open, not
// /dev/mqueue) or in the System V tables.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { MessageQueue, SystemVMessageQueue, connect } from '../src/index.js';
import { exited, missing, missingMqueueMount, mqExists, output, root, run, startPeer, tmpDir, uniqueKey, uniqueName } from './helpers/index.js';

const cli = path.join(root, 'dist/src/cli/main.js');
const ipckit = (args: string[], input?: string) => run(process.execPath, [cli, ...args], { input });

/** The System V queue ids the kernel lists now (/proc/sysvipc/msg). */
function sysvQueues(): { key: number; id: number }[] {
  const lines = fs.readFileSync('/proc/sysvipc/msg', 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => {
    const f = l.trim().split(/\s+/);
    return { key: Number(f[0]) >>> 0, id: Number(f[1]) };
  });
}

/** /dev/shm entries of a segment name: the segment and its NAME.PID.bell-l/-c doorbells. */
function shmLeftovers(name: string): string[] {
  const base = name.slice(1);
  return fs.readdirSync('/dev/shm').filter((f) => f === base || f.startsWith(`${base}.`));
}

/** Starts `ipckit recv ARGS` and waits for its "listening on ADDRESS" line on stderr. */
async function startRecv(t: TestContext, args: string[]) {
  const child = startPeer(t, process.execPath, [cli, 'recv', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  const rl = readline.createInterface({ input: child.stderr! });
  const lines: string[] = [];
  const address = await new Promise<string>((resolve, reject) => {
    rl.on('line', (l) => {
      lines.push(l);
      const m = /^listening on (.+)$/.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code, sig) => reject(new Error(`recv exited (${code ?? sig}) before listening: ${lines.join('\n')}`)));
  });
  return { child, address, stdout: () => out, stderr: () => lines.join('\n') };
}

interface Case {
  url: (t: TestContext) => string;
  signal: NodeJS.Signals;
  /** What must be gone afterwards. */
  gone: (url: string) => boolean;
}

const cases: Record<string, Case> = {
  'mq:': {
    url: () => `mq:${uniqueName('life')}`,
    signal: 'SIGINT',
    gone: (url) => !mqExists(url.slice(3)),
  },
  'sysvmq:': {
    url: () => `sysvmq:0x${uniqueKey().toString(16)}`,
    signal: 'SIGTERM',
    gone: (url) => !sysvQueues().some((q) => q.key === Number(url.slice(7))),
  },
  'unix:': {
    url: (t) => `unix:${path.join(tmpDir(t), 's.sock')}`,
    signal: 'SIGHUP',
    gone: (url) => !fs.existsSync(url.slice(5)),
  },
  'unix+dgram:': {
    url: (t) => `unix+dgram:${path.join(tmpDir(t), 'd.sock')}`,
    signal: 'SIGINT',
    gone: (url) => !fs.existsSync(url.slice(11)),
  },
  'fifo:': {
    url: (t) => `fifo:${path.join(tmpDir(t), 'in.fifo')}`,
    signal: 'SIGTERM',
    gone: (url) => !fs.existsSync(url.slice(5)),
  },
  'shm: (its abstract rendezvous socket; nothing in /dev/shm)': {
    url: () => `shm:${uniqueName('life')}`,
    signal: 'SIGINT',
    gone: (url) => shmLeftovers(url.slice(4)).length === 0 && !fs.readFileSync('/proc/net/unix', 'utf8').includes(`@ipckit-shm:${url.slice(4)}\n`),
  },
};

for (const [what, c] of Object.entries(cases)) {
  test(`recv ${what} killed by ${c.signal} removes what it made and dies by that signal`, async (t) => {
    const url = c.url(t);
    const recv = await startRecv(t, [url]);
    assert.equal(c.gone(url), false, 'the endpoint exists while recv listens');
    recv.child.kill(c.signal);
    const { code, signal } = await exited(recv.child);
    assert.deepEqual({ code, signal }, { code: null, signal: c.signal }, recv.stderr());
    assert.ok(c.gone(url), `nothing of ${url} is left`);
  });
}

test('recv tcp://127.0.0.1:0 says which port the kernel chose, and that port receives', async (t) => {
  const recv = await startRecv(t, ['tcp://127.0.0.1:0', '--count', '1']);
  const m = /^tcp:\/\/127\.0\.0\.1:(\d+)$/.exec(recv.address);
  assert.ok(m && Number(m[1]) > 0, recv.address);
  assert.equal((await ipckit(['send', recv.address, 'to the chosen port'])).code, 0);
  assert.equal((await exited(recv.child)).code, 0);
  assert.equal(recv.stdout(), 'to the chosen port\n');
});

test('recv mq: | head -1 prints one message, ends quietly like cat (SIGPIPE, 141) and removes the queue', async (t) => {
  const name = uniqueName('head');
  const errFile = path.join(tmpDir(t), 'err');
  // The group says when head has gone; only then is the second message sent, and its write meets EPIPE.
  const sh = startPeer(t, 'bash', ['-c', `"$0" "$1" recv "mq:$2" 2>"$3" | { head -1; echo 'head gone'; }; echo "status \${PIPESTATUS[0]}"`, process.execPath, cli, name, errFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const headGone = new Promise<void>((resolve) =>
    sh.stdout!.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('head gone\n')) resolve();
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!mqExists(name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const q = await MessageQueue.open(name, { access: 'write' });
  await q.send('first');
  await headGone;
  await q.send('second');
  await q.close();
  assert.equal((await exited(sh)).code, 0);
  assert.equal(out, 'first\nhead gone\nstatus 141\n');
  assert.equal(fs.readFileSync(errFile, 'utf8'), `listening on mq:${name}\n`, 'no EPIPE message, no stack');
  assert.equal(mqExists(name), false);
});

test('tour | head, ended by EPIPE in the middle of a section, leaves no queue, no System V queue and no child', async (t) => {
  // Line 13 of the message-queue section names the System V queue; the tour writes on after head exits.
  const sh = startPeer(t, 'bash', ['-c', `"$0" "$1" tour --only 'message queues' | head -13; echo "status \${PIPESTATUS[0]}"`, process.execPath, cli], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  sh.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  assert.equal((await exited(sh)).code, 0);
  const pid = Number(/\(pid (\d+)\)/.exec(out)?.[1]);
  const id = Number(/msgget\(2\), id (\d+)/.exec(out)?.[1]);
  assert.ok(pid > 0 && id >= 0, out);
  assert.match(out, /status 141\n$/);
  assert.equal(mqExists(`/ipckit-tour-${pid}`), false, 'the POSIX queue is gone');
  assert.ok(!sysvQueues().some((q) => q.id === id), `System V queue ${id} is gone`);
  const children = fs.readdirSync('/proc').filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`sysv-worker\0${id}`);
    } catch {
      return false;
    }
  });
  assert.deepEqual(children, [], 'the worker process is gone');
});

test('tour killed by SIGTERM while a child holds a mutex: segment removed, children gone, status SIGTERM', async (t) => {
  const tour = startPeer(t, process.execPath, [cli, 'tour', '--only', 'shared memory'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const holding = new Promise<void>((resolve) => {
    tour.stdout!.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (/holds the mutex/.test(out)) resolve();
    });
  });
  await holding;
  const name = /object (\/ipckit-tour-\d+)/.exec(out)![1]!;
  tour.kill('SIGTERM');
  assert.deepEqual(await exited(tour), { code: null, signal: 'SIGTERM' }, out);
  assert.deepEqual(shmLeftovers(name), []);
  // The holder was SIGKILLed by the tour on its way out: gone, or a zombie until whoever inherited it
  // reaps it (a container's init may never do so).
  const holder = Number(/pid (\d+) holds the mutex/.exec(out)![1]);
  const alive = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${holder}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + 5000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(alive(), false, `the mutex holder ${holder} is gone`);
});

test('a stream that ends without a newline: the last line is printed and counts (socat)', { skip: missing('socat') }, async (t) => {
  const p = path.join(tmpDir(t), 'partial.sock');
  const recv = await startRecv(t, [`unix:${p}`, '--count', '1']);
  const socat = await run('socat', ['-', `UNIX-CONNECT:${p}`], { input: 'abc' });
  assert.equal(socat.code, 0, socat.stderr);
  assert.equal((await exited(recv.child)).code, 0);
  assert.equal(recv.stdout(), 'abc');
  assert.equal(fs.existsSync(p), false);
});

test('recv --json on a stream: one object per line, the partial last one included, with the peer credentials (socat)', { skip: missing('socat') }, async (t) => {
  const p = path.join(tmpDir(t), 'raw.sock');
  const recv = await startRecv(t, [`unix:${p}`, '--json', '--count', '2']);
  assert.equal((await run('socat', ['-', `UNIX-CONNECT:${p}`], { input: 'one\ntwo' })).code, 0);
  assert.equal((await exited(recv.child)).code, 0);
  const lines = recv.stdout().trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.data), ['one', 'two']);
  assert.equal(typeof lines[0].sender.pid, 'number', 'the peer credentials of the connection');
});

test('a segment left at the name by an older ipckit neither stops recv shm: nor is touched by it', async (t) => {
  // shm: channels meet on an abstract socket now (docs/ring-format.md): /dev/shm/NAME is not theirs.
  const name = uniqueName('taken');
  const { SharedMemory } = await import('../src/index.js');
  const index = new URL('../src/index.js', import.meta.url).href;
  const made = await run(process.execPath, ['--input-type=module', '-e', `const { SharedMemory } = await import(${JSON.stringify(index)}); (await SharedMemory.create(${JSON.stringify(name)}, { size: 4096, unlinkOnClose: false })).close();`]);
  assert.equal(made.code, 0, made.stderr);
  t.after(() => SharedMemory.unlink(name));
  const r = await ipckit(['recv', `shm:${name}`, '--timeout', '1000']);
  assert.match(r.stderr, new RegExp(`listening on shm:${name}`));
  assert.doesNotMatch(r.stderr, /is taken/);
  assert.deepEqual(shmLeftovers(name), [name.slice(1)], 'the old segment is still there, untouched');
  assert.equal((await ipckit(['rm', `shm:${name}`])).code, 0);
  assert.deepEqual(shmLeftovers(name), []);
});

test('recv --channel on a queue left behind says what it is, that nobody holds it, and how to remove it', async (t) => {
  // A queue made by a process that is gone, the way a SIGKILLed listener abandons it.
  const name = uniqueName('taken');
  const index = new URL('../src/index.js', import.meta.url).href;
  const made = await run(process.execPath, ['--input-type=module', '-e', `const { MessageQueue } = await import(${JSON.stringify(index)}); const q = await MessageQueue.create(${JSON.stringify(name)}, { maxMessages: 2, maxMessageSize: 64, unlinkOnClose: false }); await q.send('left'); await q.close();`]);
  assert.equal(made.code, 0, made.stderr);
  t.after(() => MessageQueue.unlink(name));
  const r = await ipckit(['recv', `mq:${name}`, '--channel', '--timeout', '1000']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`mq:${name} is taken: a POSIX message queue`));
  assert.match(r.stderr, /no process .*has it open: it was left behind/);
  assert.match(r.stderr, new RegExp(`remove it with: ipckit rm mq:${name}`));
  assert.equal((await ipckit(['rm', `mq:${name}`])).code, 0);
  assert.equal(mqExists(name), false);
});

test('recv shm: on a name another listener has names that listener', async (t) => {
  const name = uniqueName('taken');
  const first = await startRecv(t, [`shm:${name}`]);
  const r = await ipckit(['recv', `shm:${name}`, '--timeout', '1000']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`shm:${name} is taken: another listener has the name`));
  assert.match(r.stderr, new RegExp(`held by pid ${first.child.pid} \\(node\\), which listens on it`));
  first.child.kill('SIGINT');
  assert.equal((await exited(first.child)).signal, 'SIGINT');
});

test('recv on a System V key in use names the queue, a live process that uses it, and the rm command', async (t) => {
  const key = uniqueKey();
  const q = await SystemVMessageQueue.create(key);
  t.after(() => q.close());
  await q.send(1, 'held');
  const r = await ipckit(['recv', `sysvmq:0x${key.toString(16)}`, '--channel', '--timeout', '1000']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`is taken: System V queue id ${q.id} .*1 messages`));
  assert.match(r.stderr, new RegExp(`pid ${process.pid} \\(node\\) is alive and was its last sender`));
  assert.match(r.stderr, /remove it with: ipckit rm sysvmq:0x[0-9a-f]{8}\s+\(or: ipcrm -Q 0x/);
});

test('recv on a TCP port another process listens on names that process', async (t) => {
  const other = await startRecv(t, ['tcp://127.0.0.1:0']);
  const r = await ipckit(['recv', other.address, '--timeout', '1000']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`TCP port \\d+ is in use\\n  held by pid ${other.child.pid} \\(node\\), which listens on it`));
  other.child.kill('SIGINT');
  assert.equal((await exited(other.child)).signal, 'SIGINT');
});

test('send to a channel listener, and recv --json over a channel keeps binary data as base64', async (t) => {
  const name = uniqueName('bin');
  const recv = await startRecv(t, [`shm:${name}`, '--json', '--count', '1']);
  const ch = await connect(recv.address);
  await ch.send(Buffer.from([0xff, 0x00, 0xfe]));
  await ch.close();
  assert.equal((await exited(recv.child)).code, 0);
  assert.deepEqual(JSON.parse(recv.stdout()), { data: '/wD+', encoding: 'base64', bytes: 3 });
  assert.deepEqual(shmLeftovers(name), []);
});

/**
 * The IPC objects a bench run could have made, by name: /dev/shm and /dev/mqueue (where mounted) entries
 * called ipckit-bench-…, System V objects whose creator, last sender or receiver is one of `pids`, and
 * the run's private temporary directory.
 */
function benchObjects(pids: Set<number>): string[] {
  const dirs: [string, string][] = [['shm', '/dev/shm'], ['tmp', os.tmpdir()]];
  if (!missingMqueueMount()) dirs.push(['mq', '/dev/mqueue']);
  const named = dirs.flatMap(([what, dir]) => fs.readdirSync(dir).filter((f) => f.startsWith('ipckit-bench-') && !f.startsWith('ipckit-bench-cc-')).map((f) => `${what} ${f}`));
  const sysv = ['msg', 'shm', 'sem'].flatMap((table) => {
    const [head, ...rows] = fs.readFileSync(`/proc/sysvipc/${table}`, 'utf8').trim().split('\n').map((l) => l.trim().split(/\s+/));
    const cols = ['cpid', 'lpid', 'lspid', 'lrpid'].map((c) => head!.indexOf(c)).filter((i) => i >= 0);
    return rows.filter((r) => cols.some((i) => pids.has(Number(r[i])))).map((r) => `sysv ${table} id ${r[1]}`);
  });
  return [...named, ...sysv];
}

/** The processes below `pid` now, from the parent links in /proc. */
function processTree(pid: number): Set<number> {
  const parent = new Map<number, number>();
  for (const d of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of parent) if (tree.has(pp) && !tree.has(p)) grew = tree.add(p) !== undefined;
  }
  return tree;
}

const running = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

// The shm module runs only beside its C peer: without cc it is skipped, makes no segment, and says so.
test('bench interrupted by SIGINT while its segment and peers exist: both are gone, and it dies by SIGINT (130)', { skip: missing('cc') }, async (t) => {
  const before = new Set(benchObjects(new Set()));
  const bench = startPeer(t, process.execPath, [cli, 'bench', '--only', 'shm', '--quick'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  bench.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  // The shm module makes /dev/shm/ipckit-bench-PID-spin here, then starts its two peers on it.
  const segment = `ipckit-bench-${bench.pid}-spin`;
  const watcher = fs.watch('/dev/shm');
  t.after(() => watcher.close());
  await new Promise<void>((resolve, reject) => {
    watcher.on('change', (_, f) => f === segment && resolve());
    bench.once('exit', (code, sig) => reject(new Error(`bench exited (${code ?? sig}) before making ${segment}: ${err}`)));
    if (fs.existsSync(`/dev/shm/${segment}`)) resolve();
  });
  const tree = processTree(bench.pid!);
  bench.kill('SIGINT');
  assert.deepEqual(await exited(bench), { code: null, signal: 'SIGINT' }, err);
  assert.deepEqual(benchObjects(tree).filter((o) => !before.has(o)), [], 'no segment, queue, System V object or temporary directory left');
  assert.deepEqual([...tree].filter(running), [], 'no peer left running');
  assert.doesNotMatch(err, /Error|at /, 'no stack on the way out');
});

test('bench 2>&1 | head -1: ends quietly by SIGPIPE (141) and leaves nothing', { skip: missing('cc') }, async (t) => {
  const before = new Set(benchObjects(new Set()));
  const sh = startPeer(t, 'bash', ['-c', `"$0" "$1" bench --only shm --quick --repeat 2 2>&1 | head -1; echo "status \${PIPESTATUS[0]}"`, process.execPath, cli], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = await output(sh);
  assert.match(out, /^bench +\d+ s +\[1\/1\] shm\nstatus 141\n$/);
  assert.deepEqual(benchObjects(new Set()).filter((o) => !before.has(o)), []);
});
