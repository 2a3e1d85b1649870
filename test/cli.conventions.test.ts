// CLI conventions: exit code 2 for every usage error and 1 for an operation that failed, each with one
// line on stderr and no stack; --json on send and recv carrying binary data (base64), priority and
// type; bench --only rejecting unknown modules and a default table of at most 120 columns; the tour's
// sections numbered 1..N, with --only out of range a usage error.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import readline from 'node:readline';
import { MessageQueue, SystemVMessageQueue } from '../src/index.js';
import { exited, mqExists, root, run, startPeer, uniqueKey, uniqueName } from './helpers/index.js';

const cli = path.join(root, 'dist/src/cli/main.js');
const ipckit = (args: string[], input?: string) => run(process.execPath, [cli, ...args], { input });

const usage: string[][] = [
  ['frobnicate'],
  ['ls', '--bogus'],
  ['send', 'shm//x', 'x'],
  ['send', 'tcp://127.0.0.1:99999', 'x'],
  ['send', 'mq:/a/b', 'x'],
  ['send', '--priority', '99999', 'mq:/x', 'x'],
  ['send', '--json', 'mq:/x', 'not json'],
  ['send', '--json', 'mq:/x', '{"data":"x","encoding":"hex"}'],
  ['recv', 'tcp://127.0.0.1:99999'],
  ['recv', '--count', '0', 'mq:/x'],
  ['rm', '163855'],
  ['rm'],
  ['signal', 'send', '1', 'SIGFOO'],
  ['signal', 'send', 'x', 'SIGUSR2'],
  ['signal', 'watch', 'SIGFOO'],
  ['bench', '--only', 'nosuch'],
  ['tour', '--only', '99'],
  ['tour', '--only', 'no such section'],
];

for (const argv of usage) {
  test(`usage error, exit 2: ipckit ${argv.join(' ')}`, async () => {
    const r = await ipckit(argv);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^(ipckit: |error: )/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('failed operations exit 1 with one line and no stack', async () => {
  const cases = [
    ['send', `mq:${uniqueName('conv')}`, 'nobody listens'], // ENOENT
    ['signal', 'send', '4194304', 'SIGUSR2'], // ESRCH: above any pid_max
    ['rm', `mq:${uniqueName('conv')}`], // no such object
  ];
  for (const argv of cases) {
    const r = await ipckit(argv);
    assert.equal(r.code, 1, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^ipckit( rm)?: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  // Messages name what they are about: the pid that names no process, and the port range.
  assert.match((await ipckit(['signal', 'send', '4194304', 'SIGUSR2'])).stderr, /^ipckit: ESRCH: no such process, kill \(no process 4194304\)\n$/);
  assert.match((await ipckit(['signal', 'send', '--value', '1', '4194304', 'SIGUSR2'])).stderr, /sigqueue \(no process 4194304\)/);
  assert.match((await ipckit(['send', 'tcp://127.0.0.1:99999', 'x'])).stderr, /port 99999 is out of range \(0 to 65535/);
  // An oversize datagram is the code a udp:// Channel gives, not the kernel's EMSGSIZE.
  const big = await ipckit(['send', 'udp://127.0.0.1:9'], 'x'.repeat(70_000));
  assert.equal(big.code, 1);
  assert.match(big.stderr, /^ipckit: ERR_IPC_MESSAGE_TOO_LARGE: datagram of 70000 bytes exceeds the limit of 65507 bytes/);
  const bench = await ipckit(['bench', '--only', 'nosuch']);
  assert.match(bench.stderr, /unknown module nosuch; there are (\w+, )+growth/);
  const tour = await ipckit(['tour', '--only', '99']);
  assert.match(tour.stderr, /no such section; there are \d+: 1 Pipes/);
});

/** Starts `ipckit recv ARGS`, resolves once it listens. */
async function recv(t: test.TestContext, args: string[]) {
  const child = startPeer(t, process.execPath, [cli, 'recv', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  const rl = readline.createInterface({ input: child.stderr! });
  await new Promise<void>((resolve, reject) => {
    rl.on('line', (l) => l.startsWith('listening on') && resolve());
    child.once('exit', (c) => reject(new Error(`recv exited ${c}`)));
  });
  return { child, out: () => out };
}

test('send --json reads what recv --json prints: binary as base64, priorities kept (mq:)', async (t) => {
  const name = uniqueName('conv');
  const r = await recv(t, [`mq:${name}`, '--json', '--count', '2']);
  const input = [
    JSON.stringify({ data: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64', priority: 2 }),
    JSON.stringify({ data: 'urgent', encoding: 'utf8', priority: 9 }),
  ].join('\n');
  // Both are queued before recv takes one, so the priorities decide the order.
  const q = await MessageQueue.open(name, { access: 'read' });
  const s = await ipckit(['send', `mq:${name}`, '--json'], input);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(s.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
    { to: `mq:${name}`, bytes: 4, priority: 2 },
    { to: `mq:${name}`, bytes: 6, priority: 9 },
  ]);
  await q.close();
  assert.equal((await exited(r.child)).code, 0);
  const got = r.out().trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(
    got.sort((a, b) => a.priority - b.priority),
    [
      { data: 'AAEC/w==', encoding: 'base64', bytes: 4, priority: 2 },
      { data: 'urgent', encoding: 'utf8', bytes: 6, priority: 9 },
    ],
  );
  assert.equal(await MessageQueue.unlink(name), false, 'recv removed the queue it made');
});

test('send --json with a type, recv --json shows it (sysvmq:)', async (t) => {
  const key = uniqueKey();
  const q = await SystemVMessageQueue.create(key);
  t.after(() => q.close());
  const url = `sysvmq:0x${key.toString(16)}`;
  const s = await ipckit(['send', url, '--json', JSON.stringify({ data: 'job', type: 7 })]);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(JSON.parse(s.stdout), { to: url, bytes: 3, type: 7 });
  const r = await ipckit(['recv', url, '--json', '--count', '1']);
  assert.deepEqual(JSON.parse(r.stdout), { data: 'job', encoding: 'utf8', bytes: 3, type: 7 });
});

test('recv --json | send --json relays as messages arrive, binary payloads intact (mq: to sysvmq:)', async (t) => {
  const name = uniqueName('relay');
  const key = uniqueKey();
  const q = await SystemVMessageQueue.create(key);
  t.after(() => q.close());
  const sh = startPeer(t, 'bash', ['-c', `"$0" "$1" recv "mq:$2" --json --count 2 2>/dev/null | "$0" "$1" send "$3" --json >/dev/null`, process.execPath, cli, name, `sysvmq:0x${key.toString(16)}`], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (!mqExists(name) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const mq = await MessageQueue.open(name, { access: 'write' });
  await mq.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  // The first is relayed before the second is sent: send does not wait for the end of its input.
  assert.deepEqual((await q.receive({ timeout: 10_000 })).data, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  await mq.send('second');
  await mq.close();
  assert.equal(String((await q.receive({ timeout: 10_000 })).data), 'second');
  assert.equal((await exited(sh)).code, 0);
});

test('signal send --json says what was sent', async () => {
  const r = await ipckit(['signal', 'send', String(process.pid), '0', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { pid: process.pid, signal: '0', number: 0 });
});

test('the bench table fits 120 columns and labels its targets "targets"; --wide keeps every column', async () => {
  const bench = await import('../bench/index.js');
  const { compactTable } = await import('../src/cli/bench.js');
  type Row = import('../bench/lib.js').BenchRow;
  const row = (label: string, size: number, extra: Partial<Row>): Row => ({ mechanism: 'shm-ring', impl: 'ipckit', label, size, kind: 'rtt', cores: 'a:0 b:1', ...extra });
  const sweep: Row[] = [1, 4, 16, 64].flatMap((x) =>
    ['Channel unix:', 'Channel tcp://127.0.0.1', 'Channel shm:'].map((label) => row(label, 64, { kind: 'throughput', msgs_per_s: 123456 * x, p99_us: 1234.5 * x, sweep: { name: 'pairs', x, rss_per_idle_channel_kb: 12, rss_per_channel_kb: 3456 } })),
  );
  const run = {
    rows: [
      row('ipckit ring, spinning (tryReceive/trySend)', 64, { p50_us: 1.2, p99_us: 3.4, p999_us: 9.9, spread: { metric: 'p50_us', min: 1.1, max: 1.35, values: [1.1, 1.2, 1.35] } }),
      row('C spin ping-pong (MAP_SHARED)', 64, { p50_us: 0.4, p99_us: 0.9, impl: 'c' }),
      row('child_process.send (json)', 64, { p50_us: 48, p99_us: 90, impl: 'node', mechanism: 'node-ipc' }),
      row('ipckit ring, both sides parked (doorbell FIFOs on the event loop), a label long enough to be cut', 1 << 20, { p50_us: 51.5, p99_us: 123456, msgs_per_s: 1234567, mb_per_s: 4567, note: 'a note long enough that it has to be wrapped onto a second line of the table, because it goes on and on well past one hundred and twenty columns' }),
      ...sweep,
    ],
    skipped: [{ module: 'shm', reason: 'not in this build' }],
    verified: [{ module: 'ring', checks: ['C peer: 1 MiB, FNV-1a agrees', 'Node peer: 1 MiB, FNV-1a agrees'] }],
    unverified: ['signal'],
    curves: [],
    machine: { cpus: 2, node: process.version, kernel: 'x', date: new Date(0).toISOString(), quick: false, repeat: 3 },
  };
  const compact = compactTable(run, bench);
  for (const line of compact.split('\n')) assert.ok(line.length <= 120, `${line.length} columns: ${line}`);
  assert.match(compact, /\ntargets:\n  ring spinning 64 B round trip/);
  assert.doesNotMatch(compact, /issue/);
  assert.match(compact, /ipckit ring, both sides parked .*…/, 'a long label is cut');
  assert.match(compact, /1\.10–1\.35/, 'the spread of repeated runs');
  assert.match(compact, /growth by pairs: aggregate msg\/s +1 pairs +4 pairs/, 'the growth sweeps, x across');
  assert.match(compact, /verified first/);
  const wide = bench.table(run);
  assert.ok(wide.split('\n').some((l) => l.length > 120), 'the wide table has every column');
  assert.match(wide, /\ntargets:\n/);
  assert.doesNotMatch(wide, /issue/);
});

test('tour --help numbers its sections 1..N, the last of the survey\'s followed by Channels', async () => {
  const r = await ipckit(['tour', '--help']);
  const text = r.stdout.replace(/\s+/g, ' ');
  const menu = /by number or by a word of its title \((.+?)\)/.exec(text)?.[1];
  assert.ok(menu, text);
  const numbers = [...menu.matchAll(/(\d+) [A-Z]/g)].map((m) => Number(m[1]));
  assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, i) => i + 1));
  assert.match(menu, /\d+ Channels: one API over every transport/);
});

test('tour --json prints one JSON object per line', async () => {
  const r = await run(process.execPath, [cli, 'tour', '--json', '--only', 'signals'], { timeout: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].sections, 1);
  assert.equal(lines[1].title, 'Signals');
  assert.ok(lines.some((l) => typeof l.step === 'string') && lines.some((l) => typeof l.detail === 'string'));
  assert.deepEqual(lines.at(-1), { done: true });
});

test('--allow-foreign-owner: send and recv refuse a queue or FIFO another user owns (exit 1, naming the flag) and use it with the flag', async (t) => {
  const fs = await import('node:fs');
  const name = uniqueName('cli');
  const q = await MessageQueue.create(name, { maxMessages: 4, maxMessageSize: 64 });
  t.after(() => q.close());
  fs.fchownSync(q.fd, 65534, 65534); // now nobody's, as if nobody had made it (fchown(2) of the queue descriptor)
  const refused = await ipckit(['send', `mq:${name}`, 'x']);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /ERR_IPC_FOREIGN_OWNER.*--allow-foreign-owner/);
  assert.equal((await ipckit(['send', `mq:${name}`, 'adopted', '--allow-foreign-owner'])).code, 0);
  const recvRefused = await ipckit(['recv', `mq:${name}`, '--count', '1']);
  assert.equal(recvRefused.code, 1);
  assert.match(recvRefused.stderr, /--allow-foreign-owner/);
  const r = await ipckit(['recv', `mq:${name}`, '--count', '1', '--allow-foreign-owner']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'adopted\n');
  assert.ok(mqExists(name), 'recv did not remove a queue it did not create');

  const dir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'ipckit-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'nobodys.fifo');
  assert.equal((await run('mkfifo', ['-m', '0600', fifo])).code, 0);
  fs.chownSync(fifo, 65534, 65534);
  const fifoRefused = await ipckit(['recv', `fifo:${fifo}`, '--count', '1', '--timeout', '5000']);
  assert.equal(fifoRefused.code, 1);
  assert.match(fifoRefused.stderr, /ERR_IPC_FOREIGN_OWNER.*--allow-foreign-owner/);
  const recv = startPeer(t, process.execPath, [cli, 'recv', `fifo:${fifo}`, '--count', '1', '--allow-foreign-owner'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  recv.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  assert.equal((await ipckit(['send', `fifo:${fifo}`, 'through nobody\'s fifo', '--allow-foreign-owner', '--timeout', '10000'])).code, 0);
  assert.equal((await exited(recv)).code, 0);
  assert.equal(out, "through nobody's fifo\n");
  assert.ok(fs.existsSync(fifo), 'the FIFO it did not create stays');
});
