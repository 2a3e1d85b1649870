// ipckit rm: remove IPC objects, like ipcrm(1), for POSIX and System V objects.
import { Command } from 'commander';
import { removeIpcObject } from '../index.js';
import { CliError, describeError } from './output.js';

export function rmCommand(): Command {
  return new Command('rm')
    .description('remove IPC objects (as `ipckit ls` names them: shm:/name, sem:/name, mq:/name, sysvmq:0xKEY, sysvmq:id=N, sysvshm:..., sysvsem:...)')
    .argument('<object...>', 'objects to remove')
    .option('-f, --force', 'no error for objects that do not exist')
    .action(async (refs: string[], opts: { force?: boolean }) => {
      let failed = 0;
      for (const ref of refs) {
        try {
          const removed = await removeIpcObject(ref);
          if (!removed && !opts.force) {
            process.stderr.write(`ipckit rm: ${ref}: no such object\n`);
            failed++;
          }
        } catch (err) {
          process.stderr.write(`ipckit rm: ${ref}: ${describeError(err)}\n`);
          failed++;
        }
      }
      if (failed) throw new CliError('', 1);
    });
}
