// The Python peer (python/ipckit_channel.py, standard library only) against Node: as the child of
// spawn() and as a client of a ring server, raw and json, every size across the wrap; SIGKILL either way.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { RingServer, spawn } from '../src/index.js';
import { childScript, exited, firstLine, missing, root, startPeer, killDuringTraffic } from './helpers/index.js';
import { DeathLatency, killAndAwaitDeath, reported } from './helpers/death.js';

const PY = path.join(root, 'python', 'ipckit_channel.py');
const skip = missing('python3');
const STRESS = process.env.IPCKIT_STRESS === '1';

test('a Python child of spawn() echoes raw messages of every size across many wraps', { skip }, async () => {
  const { child, channel } = await spawn<Buffer>('python3', [PY, 'echo'], { capacity: 4096, stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 400; i++) {
    const m = randomBytes((i * 37) % 2041);
    await channel.send(m);
    assert.ok((await channel.receive({ timeout: 5000 }))!.equals(m), `message ${i} (${m.length} bytes)`);
  }
  // Many in flight: both sides run out of room and park on their eventfds.
  const many = Array.from({ length: 64 }, (_, i) => randomBytes(100 + i * 13));
  const back = (async () => {
    for (const m of many) assert.ok((await channel.receive({ timeout: 5000 }))!.equals(m));
  })();
  for (const m of many) await channel.send(m);
  await back;
  await channel.close();
  assert.deepEqual(await exited(child), { code: 0, signal: null });
});

test('a Python client of a ring server speaks json both ways', { skip }, async (t) => {
  const url = `shm+unix:@ipckit-test-py-${process.pid}`;
  const server = await RingServer.listen<unknown[]>(url, { codec: 'json', capacity: 1 << 14 });
  t.after(() => server.close());
  const py = startPeer(t, 'python3', [PY, 'connect', url, 'json']);
  const ch = await server.accept({ timeout: 10_000 });
  assert.equal(await firstLine(py), 'ready');
  for (let i = 0; i < 200; i++) {
    const v = ['ünïcødé', i, { deep: [i, null, true] }, 'z'.repeat(i * 7)];
    await ch.send(v);
    assert.deepEqual(await ch.receive({ timeout: 5000 }), v);
  }
  await ch.close();
  assert.deepEqual(await exited(py), { code: 0, signal: null });
});

test(`a Python child SIGKILLed at a random moment (${STRESS ? 200 : 10} times): ERR_IPC_PEER_DEAD within 50 ms`, { skip }, async (t) => {
  const deaths = new DeathLatency('Python child SIGKILLed, Node parent notices');
  for (let i = 0; i < (STRESS ? 200 : 10); i++) {
    const { child, channel } = await spawn<Buffer>('python3', [PY, 'echo'], { capacity: 1 << 14, spinMicros: 0 });
    const { err, death, noticed } = await killDuringTraffic(child, channel, 900, 10);
    assert.equal((err as { code?: string }).code, 'ERR_IPC_PEER_DEAD', String(err));
    deaths.add(death, noticed);
    await channel.close();
  }
  t.diagnostic(deaths.check());
});

test('the Node parent SIGKILLed: the Python child\'s receive raises ERR_IPC_PEER_DEAD', { skip }, async (t) => {
  const script = `
import os, sys, time
sys.path.insert(0, ${JSON.stringify(path.dirname(PY))})
from ipckit_channel import Channel, IpcError
ch = Channel.from_parent()
ch.receive(timeout=10)
print('ready', os.getpid(), flush=True)
try:
    ch.receive(timeout=10)
    print('no error', flush=True)
except IpcError as e:
    # The wall clock and this thread's run-queue wait (schedstat's 2nd field, ns): test/helpers/death.ts.
    at = time.time() * 1000
    try:
        with open('/proc/thread-self/schedstat') as f:
            queued = f.read().split()[1]
    except OSError:
        queued = ''  # a kernel without CONFIG_SCHED_INFO, as runDelayNs() allows
    print(e.code, at, queued, flush=True)
`;
  const parent = startPeer(t, process.execPath, [childScript('python-parent'), script]);
  // The Python child inherits the test's stdout pipe through its parent: its lines come here.
  let out = '';
  const closed = new Promise<void>((resolve) => {
    parent.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    parent.stdout!.once('close', () => resolve());
  });
  for (let i = 0; i < 500 && !out.includes('\n'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.match(out, /^ready \d+\n$/);
  const python = Number(out.trim().split(' ')[1]);
  // The Python child notices: its run-queue counter is read here at the death, and by itself at the error.
  const death = killAndAwaitDeath(parent, python);
  await exited(parent);
  await closed; // the Python child exits after its report, closing the pipe's last writer
  const [code, at, queued] = out.trim().split('\n').pop()!.split(' ');
  assert.equal(code, 'ERR_IPC_PEER_DEAD');
  const deaths = new DeathLatency('Node parent SIGKILLed, Python child notices');
  deaths.add(death, reported(Number(at), queued ? Number(queued) : undefined));
  t.diagnostic(deaths.check());
});
