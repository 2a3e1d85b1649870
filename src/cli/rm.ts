// ipckit rm: remove IPC objects, like ipcrm(1), for POSIX and System V objects. It takes the names
// `ipckit ls` prints (shm:/name, mq:/name, sysvmq:0xKEY, sysvmq:id=N, ...) and the ipcrm forms users
// type: -q/-m/-s ID and -Q/-M/-S KEY. `rm shm:/name` removes a channel segment's doorbells with it.
import { Command } from 'commander';
import { parseIpcObjectRef, removeIpcObject, type IpcObjectRef } from '../index.js';
import { removeDoorbells } from './doorbells.js';
import { CliError, describeError, usageError } from './output.js';

const collect = (v: string, all: string[]) => [...all, v];

// ipcrm(1)'s options, and the ipckit name each one stands for.
const IPCRM = [
  { flags: '-q, --queue-id <id>', key: 'queueId', ref: (v: string) => `sysvmq:id=${v}`, what: 'System V message queue by id' },
  { flags: '-m, --shmem-id <id>', key: 'shmemId', ref: (v: string) => `sysvshm:id=${v}`, what: 'System V shared memory segment by id' },
  { flags: '-s, --semaphore-id <id>', key: 'semaphoreId', ref: (v: string) => `sysvsem:id=${v}`, what: 'System V semaphore set by id' },
  { flags: '-Q, --queue-key <key>', key: 'queueKey', ref: (v: string) => `sysvmq:${v}`, what: 'System V message queue by key' },
  { flags: '-M, --shmem-key <key>', key: 'shmemKey', ref: (v: string) => `sysvshm:${v}`, what: 'System V shared memory segment by key' },
  { flags: '-S, --semaphore-key <key>', key: 'semaphoreKey', ref: (v: string) => `sysvsem:${v}`, what: 'System V semaphore set by key' },
] as const;

type RmFlags = { force?: boolean; json?: boolean } & Partial<Record<(typeof IPCRM)[number]['key'], string[]>>;

function parse(ref: string): IpcObjectRef {
  try {
    return parseIpcObjectRef(ref);
  } catch (err) {
    const hint = /^\d+$/.test(ref) ? ` (a System V id? rm -q ${ref}, -m ${ref} or -s ${ref}, as with ipcrm)` : '';
    throw usageError(`rm ${ref}: ${describeError(err)}${hint}`);
  }
}

export function rmCommand(): Command {
  const cmd = new Command('rm')
    .description('remove IPC objects (as `ipckit ls` names them: shm:/name, sem:/name, mq:/name, sysvmq:0xKEY, sysvmq:id=N, sysvshm:..., sysvsem:...; or as ipcrm: -q ID, -Q KEY, ...)')
    .argument('[object...]', 'objects to remove')
    .option('-f, --force', 'no error for objects that do not exist')
    .option('--json', 'print {"removed", "missing", "failed"} as JSON');
  for (const o of IPCRM) cmd.option(o.flags, `${o.what} (as ipcrm; may repeat)`, collect, []);
  return cmd.action(async (args: string[], opts: RmFlags) => {
    const refs = [...args];
    for (const o of IPCRM) for (const v of opts[o.key] ?? []) refs.push(o.ref(v));
    if (refs.length === 0) throw usageError('rm: nothing to remove (name objects as `ipckit ls` shows them, or -q/-m/-s ID, -Q/-M/-S KEY)');
    // Every argument is checked before anything is removed: a typo removes nothing.
    const parsed = refs.map((ref) => ({ ref, r: parse(ref) }));
    const removed: string[] = [];
    const missing: string[] = [];
    const failed: { ref: string; error: string; code?: string }[] = [];
    for (const { ref, r } of parsed) {
      try {
        let gone = await removeIpcObject(r);
        if (r.kind === 'posix-shm' && removeDoorbells(r.name!) > 0) gone = true;
        if (gone) removed.push(ref);
        else missing.push(ref);
      } catch (err) {
        const code = (err as { code?: string }).code;
        failed.push({ ref, error: describeError(err), ...(code ? { code } : {}) });
      }
    }
    if (opts.json) process.stdout.write(JSON.stringify({ removed, missing, failed }) + '\n');
    else {
      if (!opts.force) for (const ref of missing) process.stderr.write(`ipckit rm: ${ref}: no such object\n`);
      for (const f of failed) process.stderr.write(`ipckit rm: ${f.ref}: ${f.error}\n`);
    }
    if (failed.length || (missing.length && !opts.force)) throw new CliError('', 1);
  });
}
