// ipckit ls: every IPC object on the machine, like ipcs(1) but complete.
import { Command, Option } from 'commander';
import { listIpcObjects, type IpcObject } from '../index.js';
import { bytes, table } from './output.js';

const KINDS = ['posix-shm', 'posix-sem', 'posix-mq', 'sysv-msg', 'sysv-shm', 'sysv-sem'] as const;

export function lsCommand(): Command {
  return new Command('ls')
    .description('list every IPC object on the machine: POSIX shm, semaphores and queues; System V msg, shm, sem')
    .option('--json', 'print JSON')
    .addOption(new Option('--kind <kind>', 'only this kind').choices([...KINDS, 'posix', 'sysv']))
    .action((opts: { json?: boolean; kind?: string }) => {
      const { objects, notes, limits } = listIpcObjects();
      const shown = objects.filter((o) => !opts.kind || o.kind === opts.kind || o.kind.startsWith(`${opts.kind}-`));
      if (opts.json) {
        process.stdout.write(JSON.stringify({ objects: shown, notes, limits }, null, 2) + '\n');
        return;
      }
      if (shown.length === 0) process.stdout.write('no IPC objects\n');
      else process.stdout.write(table(shown.map(row), ['OBJECT', 'KIND', 'KEY', 'OWNER', 'MODE', 'SIZE', 'COUNT']) + '\n');
      const { posix, systemV } = limits.messageQueues;
      const n = (v: number | undefined) => (v === undefined ? '?' : String(v));
      process.stdout.write(
        `\nlimits: POSIX queues ${n(posix.msgMax)} messages x ${n(posix.msgsizeMax)} B max (fs.mqueue), ${n(posix.queuesMax)} queues; ` +
          `System V messages ${n(systemV.msgmax)} B, queues ${n(systemV.msgmnb)} B (kernel.msgmax/msgmnb)\n`,
      );
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
    });
}

function row(o: IpcObject): string[] {
  return [
    o.ref,
    o.kind,
    o.key === undefined ? '-' : `0x${o.key.toString(16).padStart(8, '0')}`,
    o.owner,
    o.mode.toString(8).padStart(4, '0'),
    o.kind === 'sysv-sem' ? '-' : bytes(o.size),
    o.count === undefined ? '-' : `${o.count} ${o.countOf}`,
  ];
}
