// When `recv` (or anything that creates) finds its name taken, say what holds it and how to remove it,
// instead of a bare "EEXIST: file already exists, shm_open '/x'". What holds a name is read from what the
// kernel publishes: /dev/shm, /proc/sysvipc (through listIpcObjects), /proc/net/{unix,tcp,udp} for
// sockets, and /proc/PID/{fd,maps} for the processes that have an object open or mapped (complete for
// root; an unprivileged user sees only its own processes, which the explanation then says).
import fs from 'node:fs';
import { listIpcObjects, parseEndpoint, type IpcObject } from '../index.js';
import { programName } from '../inventory.js';
import { doorbellsOf } from './doorbells.js';
import { bytes } from './output.js';

interface Holder {
  pid: number;
  comm: string;
  how: string;
}

function pids(): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => p !== process.pid);
  } catch {
    return [];
  }
}

/** Processes with a descriptor whose link reads one of `links` (a path, "socket:[inode]", an mq name). */
function fdHolders(links: Set<string>, how: string): Holder[] {
  const out: Holder[] = [];
  if (links.size === 0) return out;
  for (const pid of pids()) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (links.has(link)) {
        out.push({ pid, comm: programName(pid), how });
        break;
      }
    }
  }
  return out;
}

/** Processes that have `file` mapped (a shared memory segment). */
function mapHolders(file: string): Holder[] {
  const out: Holder[] = [];
  for (const pid of pids()) {
    let maps: string;
    try {
      maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    } catch {
      continue;
    }
    if (maps.split('\n').some((l) => l.endsWith(` ${file}`))) out.push({ pid, comm: programName(pid), how: 'has it mapped' });
  }
  return out;
}

function describeHolders(holders: Holder[], nobody: string): string[] {
  const seen = new Map<number, Holder>();
  for (const h of holders) if (!seen.has(h.pid)) seen.set(h.pid, h);
  if (seen.size === 0) {
    const partial = process.getuid?.() === 0 ? '' : ' (of the processes you may inspect)';
    return [`  no process${partial} has it open: it was left behind, most likely by a process that was killed`];
  }
  return [...seen.values()].map((h) => `  held by pid ${h.pid} (${h.comm}), which ${h.how}`);
}

function modeOf(st: { mode: number }): string {
  return (st.mode & 0o7777).toString(8).padStart(4, '0');
}

function ownerOf(uid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (Number(f[2]) === uid) return f[0]!;
    }
  } catch {}
  return String(uid);
}

function shm(name: string): string[] {
  const file = `/dev/shm/${name.slice(1)}`;
  const lines: string[] = [];
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {}
  const bells = doorbellsOf(name);
  lines.push(
    st
      ? `shm:${name} is taken: ${file} exists (owner ${ownerOf(st.uid)}, mode ${modeOf(st)}, ${bytes(st.size)})` +
          (bells.length ? `, with ${bells.length} doorbell FIFO${bells.length > 1 ? 's' : ''} (${bells.map((b) => b.slice(9)).join(', ')})` : '')
      : `shm:${name} is taken`,
  );
  lines.push(...describeHolders([...mapHolders(file), ...fdHolders(new Set([file, ...bells]), 'has it open')], file));
  lines.push(`  remove it with: ipckit rm shm:${name}${bells.length ? ' (its doorbells go with it)' : ''}`);
  return lines;
}

function shmListener(name: string): string[] {
  const address = `@ipckit-shm:${name}`;
  const inodes = socketInodes(['unix'], (f) => f[7] === address, 6);
  return [
    `shm:${name} is taken: another listener has the name (its rendezvous socket ${address} is bound)`,
    ...describeHolders(fdHolders(inodes, 'listens on it'), address),
    '  an shm: name is free again the moment its listener exits, however it exits: stop that process, or pick another name',
  ];
}

function mq(name: string): string[] {
  const obj = listIpcObjects().objects.find((o) => o.kind === 'posix-mq' && o.name === name);
  const lines = [
    obj
      ? `mq:${name} is taken: a POSIX message queue (owner ${obj.owner}, mode ${modeOf(obj)}, ${bytes(obj.size)} queued)`
      : `mq:${name} is taken: a POSIX message queue of that name exists`,
  ];
  lines.push(...describeHolders(fdHolders(new Set([name]), 'has it open'), name));
  lines.push(`  remove it with: ipckit rm mq:${name}`);
  return lines;
}

function sysvmq(key: number): string[] {
  const hex = `0x${key.toString(16).padStart(8, '0')}`;
  const obj: IpcObject | undefined = listIpcObjects().objects.find((o) => o.kind === 'sysv-msg' && o.key === key);
  const lines = [
    obj
      ? `sysvmq:${hex} is taken: System V queue id ${obj.id} (owner ${obj.owner}, mode ${modeOf(obj)}, ${obj.count} messages, ${bytes(obj.size)})`
      : `sysvmq:${hex} is taken: a System V queue has that key`,
  ];
  const alive = Object.entries(obj?.pids ?? {})
    .filter(([, pid]) => pid > 0 && fs.existsSync(`/proc/${pid}`))
    .map(([what, pid]) => `  pid ${pid} (${programName(pid)}) is alive and was its ${what === 'lastSend' ? 'last sender' : 'last receiver'}`);
  lines.push(...(alive.length ? alive : ['  a System V queue belongs to no process: it stays until it is removed']));
  lines.push(`  remove it with: ipckit rm sysvmq:${hex}   (or: ipcrm -Q ${hex})`);
  return lines;
}

/** Inodes of sockets in /proc/net/TABLE whose local end matches. */
function socketInodes(tables: string[], match: (fields: string[]) => boolean, inodeCol: number): Set<string> {
  const out = new Set<string>();
  for (const t of tables) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/net/${t}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > inodeCol && match(f)) out.add(`socket:[${f[inodeCol]}]`);
    }
  }
  return out;
}

function unix(url: string, path: string, abstract: boolean): string[] {
  const shown = abstract ? `@${path}` : path;
  // /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path"; an abstract name reads "@name".
  const inodes = socketInodes(['unix'], (f) => f[7] === shown, 6);
  const lines = [`${url} is taken: a socket is bound to ${shown}`];
  if (!abstract && fs.existsSync(path) && !fs.lstatSync(path).isSocket()) {
    return [`${url} is taken: ${path} exists and is not a socket`, `  remove it with: rm ${path}   (if nothing needs it)`];
  }
  lines.push(...describeHolders(fdHolders(inodes, 'listens on it'), shown));
  lines.push(abstract ? '  an abstract name goes when its socket closes: stop that process, or pick another name' : '  stop that process, or pick another path');
  return lines;
}

function inet(url: string, proto: 'tcp' | 'udp', port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  // /proc/net/tcp: "sl local_address rem_address st ... inode"; local is HEXADDR:HEXPORT, 0A = LISTEN.
  const inodes = socketInodes([proto, `${proto}6`], (f) => f[1]?.endsWith(`:${hexPort}`) === true && (proto === 'udp' || f[3] === '0A'), 9);
  return [
    `${url} is taken: ${proto.toUpperCase()} port ${port} is in use`,
    ...describeHolders(fdHolders(inodes, proto === 'tcp' ? 'listens on it' : 'is bound to it'), String(port)),
    `  pick another port (${proto}://host:0 lets the kernel choose one), or stop that process`,
  ];
}

/**
 * What holds the name an endpoint wanted, as lines for the user; undefined when `err` is not a "taken"
 * failure (EEXIST, EADDRINUSE, a path that is not a FIFO).
 */
export function explainTaken(url: string, err: unknown): string | undefined {
  const code = (err as { code?: string })?.code;
  if (code !== 'EEXIST' && code !== 'EADDRINUSE' && code !== 'ERR_IPC_NOT_FIFO') return undefined;
  let ep: ReturnType<typeof parseEndpoint>;
  try {
    ep = parseEndpoint(url);
  } catch {
    return undefined;
  }
  const e = ep as unknown as { transport: string; name?: string; key?: number; path?: string; abstract?: boolean; port?: number };
  let lines: string[] | undefined;
  switch (e.transport) {
    case 'shm':
      // An shm: channel meets its peer on an abstract socket (src/channel/shm.ts); EEXIST is a segment of
      // the name in /dev/shm, which only an older ipckit or another program made.
      lines = code === 'EADDRINUSE' ? shmListener(e.name!) : shm(e.name!);
      break;
    case 'mq':
      lines = mq(e.name!);
      break;
    case 'sysvmq':
      lines = sysvmq(e.key!);
      break;
    case 'unix':
    case 'unix+dgram':
    case 'unix+seqpacket':
      lines = unix(url, e.path!, e.abstract === true);
      break;
    case 'tcp':
    case 'udp':
      lines = inet(url, e.transport, e.port!);
      break;
    case 'fifo':
      lines = [`${url} is taken: ${(err as Error).message}`, `  remove it with: rm ${e.path}   (if nothing needs it), or pick another path`];
      break;
  }
  return lines?.join('\n');
}
