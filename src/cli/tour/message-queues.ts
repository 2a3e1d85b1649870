// `ipckit tour`, section 3: message queues, POSIX and System V, between real processes. This file is
// also its own child process (run with `child <mode> <target>`), so the tour needs no script beside
// the package.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageQueue, SystemVMessageQueue } from '../../index.js';
import { own, ownChild } from '../lifetime.js';
import type { TourOutput, TourSection } from './section.js';

const self = fileURLToPath(import.meta.url);

function child(mode: string, target: string): ChildProcess {
  return ownChild(spawn(process.execPath, [self, 'child', mode, target], { stdio: ['ignore', 'pipe', 'inherit'] }));
}

function exit(c: ChildProcess): Promise<number | string | null> {
  return new Promise((resolve) => c.once('exit', (code, sig) => resolve(code ?? sig)));
}

async function runChild(mode: string, target: string): Promise<void> {
  if (mode === 'posix-send') {
    // Sends in an order the priorities will undo.
    const q = await MessageQueue.open(target, { access: 'write' });
    for (const [text, priority] of [['routine report', 1], ['disk almost full', 7], ['hello', 0], ['fire in rack 4', 30]] as const) {
      await q.send(text, { priority });
    }
    q.close();
  } else if (mode === 'sysv-worker') {
    // Takes only type-2 messages (jobs), answers with type 3 (results); type 1 (logs) stays queued.
    const q = SystemVMessageQueue.fromId(Number(target));
    for (;;) {
      const m = await q.receive({ type: 2, timeout: 10_000 });
      if (m.data.length === 0) break;
      await q.send(3, `${m.data} → ${String(m.data).toUpperCase()} (by pid ${process.pid})`);
    }
    q.close();
  }
}

export const section: TourSection = {
  title: 'Message queues: POSIX priorities and System V types',
  order: 3,
  async run(out: TourOutput): Promise<void> {
    const name = `/ipckit-tour-${process.pid}`;
    await using q = await MessageQueue.create(name, { maxMessages: 8, maxMessageSize: 256 });
    own(`mq:${name}`, () => q.close());
    out.step(`A POSIX message queue ${name} (mq_overview(7)): 8 messages of up to 256 bytes, kept by the kernel.`);
    out.step('A child process sends four messages with priorities 1, 7, 0 and 30, then exits.');
    const code = await exit(child('posix-send', name));
    if (code !== 0) throw new Error(`the sender failed: ${code}`);
    out.detail(`the sender is gone; the queue holds ${q.attributes().currentMessages} messages (the queue outlives its writers)`);
    out.step('This process receives them: the kernel hands out the highest priority first.');
    for (let m = q.tryReceive(); m; m = q.tryReceive()) out.detail(`priority ${String(m.priority).padStart(2)}: ${m.data}`);

    const sq = await SystemVMessageQueue.create('private');
    own(`sysvmq:id=${sq.id}`, () => sq.close());
    try {
      out.step(`A System V queue (msgget(2), id ${sq.id}) carries typed messages: 1 = log, 2 = job, 3 = result.`);
      const worker = child('sysv-worker', String(sq.id));
      await sq.send(1, 'log: starting');
      for (const job of ['alpha', 'beta', 'gamma']) await sq.send(2, job);
      await sq.send(1, 'log: all jobs queued');
      out.step('A worker process asks msgrcv for type 2 only; this process waits for type 3 (on a waiter thread, not the event loop).');
      for (let i = 0; i < 3; i++) out.detail(String((await sq.receive({ type: 3, timeout: 10_000 })).data));
      await sq.send(2, Buffer.alloc(0));
      await exit(worker);
      const st = sq.stat();
      out.detail(`left in the queue: ${st.messages} messages, ${st.bytes} bytes (the logs nobody asked for); last receiver pid ${st.lastReceivePid}`);
      const logs = [sq.tryReceive({ type: 1 }), sq.tryReceive({ type: 1 })].map((m) => String(m?.data));
      out.detail(`type 1, read now: ${logs.join(' | ')}`);
    } finally {
      sq.close();
    }
  },
};

if (process.argv[1] === self && process.argv[2] === 'child') {
  await runChild(process.argv[3]!, process.argv[4]!);
}
