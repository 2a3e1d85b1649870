// ipckit tour: the mechanisms live, between real processes, one short section each.
import { Command } from 'commander';
import type { TourSection } from './tour/section.js';
import { section as pipes } from './tour/pipes.js';
import { section as sharedMemory } from './tour/shared-memory.js';
import { section as sockets } from './tour/sockets.js';
import { section as signals } from './tour/signals.js';
import { section as messageQueues } from './tour/message-queues.js';
import { section as processes } from './tour/processes.js';

const sections: TourSection[] = [pipes, signals, messageQueues, sharedMemory, sockets, processes];

export function tourCommand(): Command {
  return new Command('tour')
    .description('show every IPC mechanism live, between real processes')
    .option('--only <n>', 'run only section n (1 pipes, 2 signals, 3 message queues, 4 shared memory and semaphores, 6 sockets)')
    .action(async (opts: { only?: string }) => {
      const chosen = [...sections].sort((a, b) => a.order - b.order).filter((s) => !opts.only || String(s.order) === opts.only);
      const w = (s: string) => process.stdout.write(s + '\n');
      w(`ipckit tour: ${chosen.length} section(s), real kernel objects, real processes (pid ${process.pid})`);
      for (const s of chosen) {
        w('');
        w(`${s.order}. ${s.title}`);
        w('-'.repeat(s.title.length + 3));
        const t0 = performance.now();
        await s.run({ step: (t) => w(`  → ${t}`), detail: (t) => w(`      ${t}`) });
        w(`  (${(performance.now() - t0).toFixed(0)} ms)`);
      }
      w('');
      w('Every object the tour made has been removed. See `ipckit ls` for what is on this machine.');
    });
}
