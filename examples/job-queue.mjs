// A job queue over a POSIX message queue: one producer, two worker processes. The kernel hands out
// the most urgent job first (priority 0..32767, FIFO within one priority), whichever worker asks.
//
//   node examples/job-queue.mjs [/queue-name]
//
// The producer creates the queue (exclusive, mode 0600) and owns it: close() unlinks the name. Workers
// open it by name. A "stop" message at priority 0, below every job, tells each worker that the jobs
// queued before it are done.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MessageQueue } from 'ipckit';

const URGENT = 9;
const NORMAL = 1;
const STOP = 0;

if (process.argv[2] === '--worker') {
  // A worker: take jobs until the stop message. Every wait is bounded, so a lost producer cannot
  // leave a worker hanging.
  const [, , , name, id] = process.argv;
  const queue = await MessageQueue.open(name, { access: 'read' });
  try {
    for (;;) {
      const { data, priority } = await queue.receive({ timeout: 10_000 });
      if (priority === STOP) break;
      const job = JSON.parse(String(data));
      console.log(`worker ${id}: ${job.task} (priority ${priority})`);
      await sleep(100); // the work
    }
  } finally {
    queue.close();
  }
} else {
  const name = process.argv[2] ?? `/ipckit-example-jobs-${process.pid}`;
  const workers = 2;
  // Small limits: without CAP_SYS_RESOURCE a queue holds at most fs.mqueue.msg_max (10) messages.
  const queue = await MessageQueue.create(name, { maxMessages: 10, maxMessageSize: 256 });
  try {
    // Queue the jobs before any worker runs, so the order they come out in is the kernel's doing.
    const jobs = [
      { task: 'resize thumbnails', priority: NORMAL },
      { task: 'send invoice', priority: NORMAL },
      { task: 'page the on-call engineer', priority: URGENT },
      { task: 'rebuild search index', priority: NORMAL },
      { task: 'revoke leaked token', priority: URGENT },
    ];
    for (const { task, priority } of jobs) await queue.send(JSON.stringify({ task }), { priority, timeout: 5000 });
    for (let i = 0; i < workers; i++) await queue.send('', { priority: STOP, timeout: 5000 });

    const script = fileURLToPath(import.meta.url);
    const children = [];
    for (let id = 1; id <= workers; id++) children.push(fork(script, ['--worker', name, String(id)]));
    const codes = await Promise.all(children.map(async (child) => (await once(child, 'exit'))[0]));
    if (codes.some((code) => code !== 0)) throw new Error(`a worker failed: exit codes ${codes.join(', ')}`);
    console.log(`all ${jobs.length} jobs done`);
  } finally {
    queue.close(); // unlinks the name: this process created it
  }
  console.log(`queue ${name} removed`);
}
