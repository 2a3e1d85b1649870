// `ipckit ls` and `ipckit rm` tell the whole story: a channel segment's doorbells are shown with it and
// removed with it, objects the user cannot open are listed with what stat says and a note, and rm takes
// the ipcrm forms (-q/-m/-s ID, -Q/-M/-S KEY). Objects are made by real processes (a recv SIGKILLed
// before its peer came, the library in this process), and the tables are read back afterwards. Ring
// servers are listed with each connected client's pid, found in /proc: the listening socket in
// /proc/net/unix, who holds it in /proc/PID/fd, and the memfd segment both ends of a connection map.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { listen, MessageQueue, SharedMemory, SystemVMessageQueue, SystemVSemaphoreSet, SystemVSharedMemory } from '../src/index.js';
import { asNobodyCommand, childScript, firstLine, missingMqueueMount, missingNobody, mqExists, root, run, startPeer, uniqueKey, uniqueName } from './helpers/index.js';

const cli = path.join(root, 'dist/src/cli/main.js');
const ipckit = (args: string[]) => run(process.execPath, [cli, ...args]);

function shmLeftovers(name: string): string[] {
  const base = name.slice(1);
  return fs.readdirSync('/dev/shm').filter((f) => f === base || f.startsWith(`${base}.`));
}

/**
 * A shm: channel segment and its two doorbell FIFOs as ipckit before layout 2 left them when a listener
 * was SIGKILLed before any peer came (today's shm: leaves nothing: its segment is a sealed memfd).
 */
async function abandonedSegment(t: test.TestContext): Promise<string> {
  const name = uniqueName('inv');
  t.after(() => {
    for (const f of shmLeftovers(name)) fs.rmSync(`/dev/shm/${f}`, { force: true });
  });
  (await SharedMemory.create(name, { size: 4096, unlinkOnClose: false })).close();
  for (const side of ['l', 'c']) {
    const made = await run('mkfifo', ['-m', '600', `/dev/shm${name}.${process.pid}.bell-${side}`]);
    assert.equal(made.code, 0, made.stderr);
  }
  assert.equal(shmLeftovers(name).length, 3, 'the segment and its two doorbells');
  return name;
}

test('ls shows a segment\'s doorbell FIFOs under it, and rm shm:/name removes all three', async (t) => {
  const name = await abandonedSegment(t);
  const json = JSON.parse((await ipckit(['ls', '--json', '--kind', 'posix-shm'])).stdout);
  const seg = json.objects.find((o: { name: string }) => o.name === name);
  assert.equal(seg.doorbells.length, 2);
  for (const d of seg.doorbells) assert.match(d.path, new RegExp(`^/dev/shm${name}\\.\\d+\\.bell-[lc]$`));
  const human = (await ipckit(['ls'])).stdout;
  assert.match(human, new RegExp(`shm:${name} +posix-shm`));
  assert.match(human, new RegExp(`\\n  \\+ ${name.slice(1)}\\.\\d+\\.bell-l +doorbell +- +root +0600 +- +FIFO`));
  const rm = await ipckit(['rm', `shm:${name}`]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(shmLeftovers(name), []);
});

test('doorbells whose segment was removed by another tool are listed with a note, and rm removes them', async (t) => {
  const name = await abandonedSegment(t);
  assert.equal(await SharedMemory.unlink(name), true);
  const ls = await ipckit(['ls']);
  assert.match(ls.stdout, new RegExp(`shm:${name} \\(no segment\\) \\+ ${name.slice(1)}\\.\\d+\\.bell-c`));
  assert.match(ls.stderr, new RegExp(`note: doorbell FIFOs without their segment: .*ipckit rm shm:${name}`));
  const rm = await ipckit(['rm', '--json', `shm:${name}`]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.deepEqual(JSON.parse(rm.stdout), { removed: [`shm:${name}`], missing: [], failed: [] });
  assert.deepEqual(shmLeftovers(name), []);
});

/**
 * System V entries the kernel lists now, as `${table}:${id}`. A removed segment that a process still has
 * attached (this one) stays listed until detached, with its key reset to IPC_PRIVATE: it counts as gone.
 */
function sysv(): Set<string> {
  const out = new Set<string>();
  for (const table of ['msg', 'shm', 'sem']) {
    for (const l of fs.readFileSync(`/proc/sysvipc/${table}`, 'utf8').trim().split('\n').slice(1)) {
      const [key, id] = l.trim().split(/\s+/);
      if (table !== 'shm' || Number(key) !== 0) out.add(`${table}:${id}`);
    }
  }
  return out;
}

test('rm takes the ipcrm forms: -q/-m/-s ID and -Q/-M/-S KEY', async (t) => {
  const made = [
    await SystemVMessageQueue.create(uniqueKey()),
    await SystemVSharedMemory.create(uniqueKey(), { size: 4096 }),
    await SystemVSemaphoreSet.create(uniqueKey(), { count: 1 }),
    await SystemVMessageQueue.create(uniqueKey()),
    await SystemVSharedMemory.create(uniqueKey(), { size: 4096 }),
    await SystemVSemaphoreSet.create(uniqueKey(), { count: 1 }),
  ];
  t.after(() => Promise.all(made.map((o) => o.close())));
  const [q, m, s, qk, mk, sk] = made as [SystemVMessageQueue, SystemVSharedMemory, SystemVSemaphoreSet, SystemVMessageQueue, SystemVSharedMemory, SystemVSemaphoreSet];
  const hex = (k: number) => `0x${k.toString(16)}`;
  const rm = await ipckit(['rm', '-q', String(q.id), '-m', String(m.id), '-s', String(s.id), '-Q', hex(qk.key), '-M', String(mk.key), '-S', hex(sk.key)]);
  assert.equal(rm.code, 0, rm.stderr);
  const left = sysv();
  for (const [table, o] of [['msg', q], ['shm', m], ['sem', s], ['msg', qk], ['shm', mk], ['sem', sk]] as const) {
    assert.ok(!left.has(`${table}:${o.id}`), `${table} id ${o.id} removed`);
  }
});

test('rm of something that is not an object name is a usage error (2), says what it expected, and removes nothing', async (t) => {
  const name = uniqueName('inv');
  const q = await MessageQueue.create(name, { maxMessages: 1, maxMessageSize: 16 });
  t.after(() => q.close());
  const r = await ipckit(['rm', `mq:${name}`, '163855']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /rm 163855: .*expected shm:\/name.*\(a System V id\? rm -q 163855, -m 163855 or -s 163855, as with ipcrm\)/);
  assert.equal(mqExists(name), true, 'the valid argument before it was not acted on');
  assert.equal((await ipckit(['rm'])).code, 2, 'nothing to remove');
  assert.equal((await ipckit(['rm', '-q', 'x'])).code, 2);
});

test('ls as nobody lists a root queue it cannot open, with owner and mode from stat and a note', { skip: missingNobody() || missingMqueueMount() }, async (t) => {
  const name = uniqueName('inv');
  const q = await MessageQueue.create(name, { maxMessages: 1, maxMessageSize: 16 });
  t.after(() => q.close());
  const [cmd, args] = asNobodyCommand(process.execPath, cli, 'ls', '--json', '--kind', 'posix-mq');
  const r = await run(cmd, args);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const obj = json.objects.find((o: { name: string }) => o.name === name);
  assert.ok(obj, 'listed although nobody cannot open it');
  assert.deepEqual([obj.owner, obj.mode, obj.ref], ['root', 0o600, `mq:${name}`]);
  assert.match(obj.note, /not inspected: EACCES/);
  assert.ok(json.notes.some((n: string) => /could not be opened by this user/.test(n)), json.notes.join('\n'));
  const [hcmd, hargs] = asNobodyCommand(process.execPath, cli, 'ls', '--kind', 'posix-mq');
  const human = await run(hcmd, hargs);
  assert.match(human.stdout, new RegExp(`mq:${name} +posix-mq +- +root +0600 +\\? +not inspected`));
  assert.match(human.stderr, /note: \d+ POSIX message queues? could not be opened by this user/);
});

interface Listed {
  ref: string;
  pid?: number;
  connections: number;
  clients: { pid?: number; memfd?: number; note?: string }[];
  note?: string;
}

test('ls lists a ring server in another process with the pids of its two client processes; --kind ring-server filters', async (t) => {
  const url = `shm+unix:@ipckit-test-ls-${process.pid}`;
  const srv = startPeer(t, process.execPath, [childScript('shm-server-peer'), url]);
  assert.equal(await firstLine(srv), 'ready');
  const clients = [0, 1].map(() => startPeer(t, process.execPath, [childScript('ring-client'), url]));
  for (const c of clients) assert.equal(await firstLine(c), 'ready');

  const [all, kind, otherKind, humanRun] = await Promise.all([
    ipckit(['ls', '--json']),
    ipckit(['ls', '--json', '--kind', 'ring-server']),
    ipckit(['ls', '--json', '--kind', 'posix-shm']),
    ipckit(['ls', '--kind', 'ring-server']),
  ]);
  assert.equal(all.code, 0, all.stderr);
  const json = JSON.parse(all.stdout);
  const entry = (json.ringServers as Listed[]).find((s) => s.ref === url);
  assert.ok(entry, `listed: ${JSON.stringify(json.ringServers)}`);
  assert.equal(entry.pid, srv.pid);
  assert.equal(entry.connections, 2);
  assert.deepEqual(entry.clients.map((c) => c.pid).sort(), clients.map((c) => c.pid).sort());
  assert.equal(new Set(entry.clients.map((c) => c.memfd)).size, 2, 'a segment of its own per connection');
  assert.equal(entry.note, undefined);

  const only = JSON.parse(kind.stdout);
  assert.deepEqual(only.objects, [], 'no other kind');
  assert.deepEqual((only.ringServers as Listed[]).find((s) => s.ref === url)?.clients.length, 2);
  const other = JSON.parse(otherKind.stdout);
  assert.deepEqual(other.ringServers, [], 'another kind hides ring servers');

  const human = humanRun.stdout;
  assert.match(human, new RegExp(`shm\\+unix:@ipckit-test-ls-${process.pid} \\(pid ${srv.pid} node\\) +ring-server +- +root +- +- +2 clients`));
  for (const c of clients) assert.match(human, new RegExp(`\\n  \\+ client pid ${c.pid} node +ring-client`));

  // A client SIGKILLed: the server closes its channel and unmaps the segment, and ls stops listing it.
  clients[0]!.kill('SIGKILL');
  let left: Listed | undefined;
  for (let i = 0; i < 100; i++) {
    left = (JSON.parse((await ipckit(['ls', '--json', '--kind', 'ring-server'])).stdout).ringServers as Listed[]).find((s) => s.ref === url);
    if (left?.clients.length === 1) break;
  }
  assert.deepEqual(left?.clients.map((c) => c.pid), [clients[1]!.pid]);
});

test('ls as nobody: a root ring server is listed from /proc/net/unix with what is known, and a note says why', { skip: missingNobody() }, async (t) => {
  const name = uniqueName('ls');
  const ch = await listen(`shm:${name}`);
  t.after(() => ch.close());
  const [cmd, args] = asNobodyCommand(process.execPath, cli, 'ls', '--json', '--kind', 'ring-server');
  const [r, asRoot] = await Promise.all([run(cmd, args), ipckit(['ls', '--json', '--kind', 'ring-server'])]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  const entry = (json.ringServers as Listed[]).find((s) => s.ref === `shm:${name}`);
  assert.ok(entry, `listed: ${r.stdout}`);
  assert.equal(entry.pid, undefined, 'nobody cannot read root\'s /proc/PID/fd');
  assert.match(entry.note!, /cannot inspect \(EACCES/);
  assert.ok(json.notes.some((n: string) => /could not be inspected by this user \(EACCES/.test(n)), json.notes.join('\n'));
  // As root the same listener has its pid.
  const mine = (JSON.parse(asRoot.stdout).ringServers as Listed[]).find((s) => s.ref === `shm:${name}`);
  assert.equal(mine?.pid, process.pid);
});
