// ipckit ls: every IPC object on the machine, like ipcs(1) but complete. A shm: channel segment's
// doorbell FIFOs are shown under it (and `rm` removes them with it); ring servers are shown with each
// connected client's pid (found in /proc: their sockets and the memfd segments both ends map); objects
// this user can see but not open are listed with what stat(2) says, and a note says why the rest is missing.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { listIpcObjects, listRingServers, type IpcObject, type RingServerEntry } from '../index.js';
import { allDoorbells } from './doorbells.js';
import { bytes, table } from './output.js';

const KINDS = ['posix-shm', 'posix-sem', 'posix-mq', 'sysv-msg', 'sysv-shm', 'sysv-sem'] as const;

interface Doorbell {
  path: string;
  owner: string;
  mode: number;
}

type Listed = IpcObject & { doorbells?: Doorbell[] };

function doorbell(path: string, owner: (uid: number) => string): Doorbell | undefined {
  try {
    const st = fs.lstatSync(path);
    return { path, owner: owner(st.uid), mode: st.mode & 0o7777 };
  } catch {
    return undefined;
  }
}

export function lsCommand(): Command {
  return new Command('ls')
    .description('list every IPC object on the machine: POSIX shm (with a channel\'s doorbells), semaphores and queues; System V msg, shm, sem; ring servers and their clients\' pids')
    .option('--json', 'print JSON: {"objects", "ringServers", "notes", "limits"}')
    .addOption(new Option('--kind <kind>', 'only this kind').choices([...KINDS, 'posix', 'sysv', 'ring-server']))
    .action((opts: { json?: boolean; kind?: string }) => {
      const { objects, notes, limits } = listIpcObjects();
      const rings = !opts.kind || opts.kind === 'ring-server' ? listRingServers() : { ringServers: [], notes: [] };
      notes.push(...rings.notes);
      const owners = new Map(objects.map((o) => [o.uid, o.owner]));
      const owner = (uid: number) => owners.get(uid) ?? String(uid);
      const bells = allDoorbells();
      const shown: Listed[] = objects.filter((o) => !opts.kind || o.kind === opts.kind || o.kind.startsWith(`${opts.kind}-`));
      for (const o of shown) {
        if (o.kind !== 'posix-shm' || !bells.has(o.name!)) continue;
        o.doorbells = bells.get(o.name!)!.map((p) => doorbell(p, owner)).filter((d): d is Doorbell => d !== undefined);
        bells.delete(o.name!);
      }
      // Doorbells whose segment is gone (removed by a tool that does not know them): still `rm shm:/NAME`.
      const orphans = opts.kind && opts.kind !== 'posix' && opts.kind !== 'posix-shm' ? new Map() : bells;
      if (orphans.size) notes.push(`doorbell FIFOs without their segment: ${[...orphans.keys()].map((n) => `ipckit rm shm:${n}`).join(', ')} removes them`);
      if (opts.json) {
        const orphaned = [...orphans.entries()].map(([name, paths]) => ({ name, ref: `shm:${name}`, doorbells: paths.map((p: string) => doorbell(p, owner)) }));
        process.stdout.write(JSON.stringify({ objects: shown, ...(orphaned.length ? { orphanedDoorbells: orphaned } : {}), ringServers: rings.ringServers, notes, limits }, null, 2) + '\n');
        return;
      }
      const rows: string[][] = [];
      for (const o of shown) {
        rows.push(row(o));
        for (const d of o.doorbells ?? []) rows.push([`  + ${d.path.slice('/dev/shm/'.length)}`, 'doorbell', '-', d.owner, octal(d.mode), '-', 'FIFO']);
      }
      for (const [name, paths] of orphans) {
        for (const p of paths) {
          const d = doorbell(p, owner);
          if (d) rows.push([`shm:${name} (no segment) + ${p.slice('/dev/shm/'.length)}`, 'doorbell', '-', d.owner, octal(d.mode), '-', 'FIFO']);
        }
      }
      for (const r of rings.ringServers) rows.push(...ringRows(r));
      if (rows.length === 0) process.stdout.write('no IPC objects\n');
      else process.stdout.write(table(rows, ['OBJECT', 'KIND', 'KEY', 'OWNER', 'MODE', 'SIZE', 'COUNT']) + '\n');
      const { posix, systemV } = limits.messageQueues;
      const n = (v: number | undefined) => (v === undefined ? '?' : String(v));
      process.stdout.write(
        `\nlimits: POSIX queues ${n(posix.msgMax)} messages x ${n(posix.msgsizeMax)} B max (fs.mqueue), ${n(posix.queuesMax)} queues; ` +
          `System V messages ${n(systemV.msgmax)} B, queues ${n(systemV.msgmnb)} B (kernel.msgmax/msgmnb)\n`,
      );
      for (const s of rings.ringServers) {
        if (s.note) process.stderr.write(`note: ${s.ref}: ${s.note}\n`);
        for (const c of s.clients) if (c.note) process.stderr.write(`note: ${s.ref}: ${c.note}\n`);
      }
      for (const note of notes) process.stderr.write(`note: ${note}\n`);
    });
}

/** A ring server's row (its pid after the endpoint), then one row per client. */
function ringRows(s: RingServerEntry): string[][] {
  const who = s.pid === undefined ? 'pid ?' : `pid ${s.pid} ${s.command}`;
  const out = [[`${s.ref} (${who})`, s.kind, '-', s.owner ?? '?', s.mode === undefined ? '-' : octal(s.mode), '-', `${s.clients.length} client${s.clients.length === 1 ? "" : "s"}`]];
  for (const c of s.clients) {
    out.push([c.pid === undefined ? '  + client pid ?' : `  + client pid ${c.pid} ${c.command}`, 'ring-client', '-', c.owner ?? '?', '-', '-', c.note ? 'not inspected' : `memfd ${c.memfd}`]);
  }
  return out;
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function row(o: IpcObject): string[] {
  return [
    o.ref,
    o.kind,
    o.key === undefined ? '-' : `0x${o.key.toString(16).padStart(8, '0')}`,
    o.owner,
    octal(o.mode),
    o.note !== undefined ? '?' : o.kind === 'sysv-sem' ? '-' : bytes(o.size),
    o.note !== undefined ? 'not inspected' : o.count === undefined ? '-' : `${o.count} ${o.countOf}`,
  ];
}
