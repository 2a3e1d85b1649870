/**
 * Every IPC object on the machine, like ipcs(1) but complete: POSIX shared memory and semaphores
 * (/dev/shm), POSIX message queues (/dev/mqueue), System V queues, segments and semaphore sets
 * (/proc/sysvipc). Used by `ipckit ls` / `ipckit rm` to find what crashed processes left behind.
 *
 * @module
 */
import fs from 'node:fs';
import path from 'node:path';
import { IpcError } from './errors.js';
import { SharedMemory, SystemVSharedMemory } from './shared-memory.js';
import { Semaphore, SystemVSemaphoreSet } from './semaphore.js';
import { MessageQueue, SystemVMessageQueue, limits as messageQueueLimits, type MessageQueueLimits } from './message-queue.js';
import { RING_MEMFD_NAME } from './memfd.js';

/**
 * The six kinds of IPC object the inventory lists.
 *
 * @example
 * ```ts
 * const kinds: IpcObjectKind[] = ['posix-mq', 'sysv-msg'];
 * ```
 */
export type IpcObjectKind = 'posix-shm' | 'posix-sem' | 'posix-mq' | 'sysv-msg' | 'sysv-shm' | 'sysv-sem';

/**
 * One IPC object on the machine, as `ipckit ls` shows it.
 *
 * @example
 * ```ts
 * const stale = listIpcObjects().objects.filter((o) => o.kind === 'posix-shm' && o.owner === 'nobody');
 * ```
 */
export interface IpcObject {
  /** What kind of object: POSIX or System V, segment, semaphore or queue. */
  kind: IpcObjectKind;
  /** The argument `ipckit rm` takes for this object: `shm:/name`, `sysvmq:id=3`, ... */
  ref: string;
  /** POSIX name ('/name'). */
  name?: string;
  /** System V key and id. */
  key?: number;
  /** System V id (what `ipcrm` takes). */
  id?: number;
  /** Owner's uid. */
  uid: number;
  /** Owner's gid. */
  gid: number;
  /** User name of uid, when /etc/passwd has it. */
  owner: string;
  /** Permission bits. */
  mode: number;
  /** Bytes: segment size, bytes queued, or 0. */
  size: number;
  /** Attached processes (shm), messages queued (System V msg), semaphores in the set (sem). */
  count?: number;
  /** What `count` counts. */
  countOf?: 'attached' | 'messages' | 'semaphores';
  /** Creator / last-operation pids where the kernel tracks them. */
  pids?: Record<string, number>;
  /**
   * Set when the object could be seen but not inspected (a queue this user may not open): name, owner
   * and mode come from stat(2), `size` is 0 and unknown, and `note` says why.
   */
  note?: string;
}

/**
 * What `listIpcObjects` returns: the objects, notes for the user, and the kernel's limits.
 *
 * @example
 * ```ts
 * const { objects, notes, limits } = listIpcObjects();
 * ```
 */
export interface Inventory {
  /** Every object found, POSIX and System V. */
  objects: IpcObject[];
  /** Things worth telling the user (e.g. /dev/mqueue is not mounted). */
  notes: string[];
  /** The kernel's message-queue limits (what a create may ask for). */
  limits: {
    /** POSIX and System V queue limits, as `messageQueueLimits()` reads them. */
    messageQueues: MessageQueueLimits;
  };
}

const SHM_DIR = '/dev/shm';
const MQ_DIR = '/dev/mqueue';

function users(): Map<number, string> {
  const m = new Map<number, string>();
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2) m.set(Number(f[2]), f[0]!);
    }
  } catch {
    // No passwd file (a container): owners are shown as numbers.
  }
  return m;
}

function isMounted(dir: string, fstype: string): boolean {
  try {
    return fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((l) => {
        const f = l.split(' ');
        return f[1] === dir && f[2] === fstype;
      });
  } catch {
    return false;
  }
}

/** pids mapping each /dev/shm file, from /proc/PID/maps (visible for every process only to root). */
function shmAttachments(): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let maps: string;
    try {
      maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    for (const line of maps.split('\n')) {
      const i = line.indexOf(' /dev/shm/');
      if (i < 0) continue;
      const file = line.slice(i + 10).replace(/ \(deleted\)$/, '');
      let set = out.get(file);
      if (!set) out.set(file, (set = new Set()));
      set.add(Number(pid));
    }
  }
  return out;
}


/** A POSIX queue as ls shows it, from the stat of its file under /dev/mqueue. */
function posixQueue(file: string, st: fs.Stats, owner: string, size: number): IpcObject {
  return { kind: 'posix-mq', ref: `mq:/${file}`, name: '/' + file, uid: st.uid, gid: st.gid, owner, mode: st.mode & 0o7777, size };
}

function readSysv(table: 'msg' | 'shm' | 'sem'): Record<string, string>[] {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/sysvipc/${table}`, 'utf8');
  } catch {
    return [];
  }
  const lines = text.trim().split('\n');
  const head = lines.shift()?.trim().split(/\s+/) ?? [];
  return lines.map((l) => {
    const f = l.trim().split(/\s+/);
    return Object.fromEntries(head.map((h, i) => [h, f[i] ?? '']));
  });
}

/**
 * Lists every IPC object on the machine.
 *
 * @example
 * ```ts
 * for (const o of listIpcObjects().objects) console.log(o.ref, o.owner, o.mode.toString(8), o.size);
 * ```
 */
export function listIpcObjects(): Inventory {
  const names = users();
  const owner = (uid: number) => names.get(uid) ?? String(uid);
  const objects: IpcObject[] = [];
  const notes: string[] = [];

  const attached = shmAttachments();
  let shmEntries: string[] = [];
  try {
    shmEntries = fs.readdirSync(SHM_DIR);
  } catch {
    notes.push(`${SHM_DIR} is not readable: POSIX shared memory and semaphores cannot be listed`);
  }
  for (const file of shmEntries) {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(`${SHM_DIR}/${file}`);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const sem = file.startsWith('sem.');
    const name = '/' + (sem ? file.slice(4) : file);
    objects.push({
      kind: sem ? 'posix-sem' : 'posix-shm',
      ref: `${sem ? 'sem' : 'shm'}:${name}`,
      name,
      uid: st.uid,
      gid: st.gid,
      owner: owner(st.uid),
      mode: st.mode & 0o7777,
      size: st.size,
      count: attached.get(file)?.size ?? 0,
      countOf: 'attached',
    });
  }

  if (!isMounted(MQ_DIR, 'mqueue')) {
    notes.push(`POSIX message queues are not listed: ${MQ_DIR} is not mounted (as root: mkdir -p ${MQ_DIR} && mount -t mqueue none ${MQ_DIR})`);
  } else {
    let unreadable = 0;
    for (const file of fs.readdirSync(MQ_DIR)) {
      let st: fs.Stats | undefined;
      try {
        st = fs.statSync(`${MQ_DIR}/${file}`);
        // The file's text is "QSIZE:n NOTIFY:n SIGNO:n NOTIFY_PID:n" (mq_overview(7)).
        const info = fs.readFileSync(`${MQ_DIR}/${file}`, 'utf8');
        objects.push(posixQueue(file, st, owner(st.uid), Number(/QSIZE:(\d+)/.exec(info)?.[1] ?? 0)));
      } catch (err) {
        // Removed while we looked (ENOENT), or not ours to read: then listed with what stat told.
        if (!st || (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        unreadable++;
        objects.push({
          ...posixQueue(file, st, owner(st.uid), 0),
          note: `not inspected: ${(err as NodeJS.ErrnoException).code ?? 'error'} reading ${MQ_DIR}/${file} as uid ${process.getuid?.()}; queued bytes unknown`,
        });
      }
    }
    if (unreadable) {
      notes.push(`${unreadable} POSIX message queue${unreadable > 1 ? 's' : ''} could not be opened by this user: listed with name, owner and mode from stat only (as root, ls shows everything)`);
    }
  }

  // The columns every /proc/sysvipc table shares; each kind adds its own size, count and pids.
  const sysv = (r: Record<string, string>, kind: IpcObjectKind, scheme: string, idCol: string): IpcObject => {
    const uid = Number(r.uid);
    return {
      kind,
      ref: `${scheme}:id=${r[idCol]}`,
      key: Number(r.key) >>> 0,
      id: Number(r[idCol]),
      uid,
      gid: Number(r.gid),
      owner: owner(uid),
      mode: Number.parseInt(r.perms!, 8) & 0o777,
      size: 0,
    };
  };
  for (const r of readSysv('msg')) {
    objects.push({
      ...sysv(r, 'sysv-msg', 'sysvmq', 'msqid'),
      size: Number(r.cbytes),
      count: Number(r.qnum),
      countOf: 'messages',
      pids: { lastSend: Number(r.lspid), lastReceive: Number(r.lrpid) },
    });
  }
  for (const r of readSysv('shm')) {
    objects.push({
      ...sysv(r, 'sysv-shm', 'sysvshm', 'shmid'),
      size: Number(r.size),
      count: Number(r.nattch),
      countOf: 'attached',
      pids: { creator: Number(r.cpid), last: Number(r.lpid) },
    });
  }
  for (const r of readSysv('sem')) {
    objects.push({ ...sysv(r, 'sysv-sem', 'sysvsem', 'semid'), count: Number(r.nsems), countOf: 'semaphores' });
  }
  return { objects, notes, limits: { messageQueues: messageQueueLimits() } };
}

/**
 * A parsed `ipckit rm` argument.
 *
 * @example
 * ```ts
 * const ref: IpcObjectRef = { kind: 'posix-mq', name: '/jobs' };
 * await removeIpcObject(ref);
 * ```
 */
export interface IpcObjectRef {
  /** What kind of object. */
  kind: IpcObjectKind;
  /** POSIX objects: the name, with its leading `/`. */
  name?: string;
  /** System V objects: the key. */
  key?: number;
  /** System V objects: the id. */
  id?: number;
}

/**
 * Parses `shm:/name`, `sem:/name`, `mq:/name`, `sysvmq:0x1234` (key), `sysvmq:id=3` (id), and the same
 * for `sysvshm:` and `sysvsem:`.
 *
 * @example
 * ```ts
 * parseIpcObjectRef('sysvmq:0x1234'); // { kind: 'sysv-msg', key: 4660 }
 * ```
 */
export function parseIpcObjectRef(ref: string): IpcObjectRef {
  const m = /^(shm|sem|mq|sysvmq|sysvshm|sysvsem):(.+)$/.exec(ref);
  const bad = () =>
    new IpcError('ERR_IPC_NAME_INVALID', `cannot parse ${JSON.stringify(ref)}: expected shm:/name, sem:/name, mq:/name, sysvmq:0xKEY or sysvmq:id=N (also sysvshm:, sysvsem:)`);
  if (!m) throw bad();
  const [, scheme, rest] = m as unknown as [string, string, string];
  const posix: Record<string, IpcObjectKind> = { shm: 'posix-shm', sem: 'posix-sem', mq: 'posix-mq' };
  const sysv: Record<string, IpcObjectKind> = { sysvmq: 'sysv-msg', sysvshm: 'sysv-shm', sysvsem: 'sysv-sem' };
  if (posix[scheme]) {
    if (!rest.startsWith('/') || rest.length < 2 || rest.indexOf('/', 1) >= 0) throw bad();
    return { kind: posix[scheme]!, name: rest };
  }
  const id = /^id=(\d+)$/.exec(rest);
  if (id) return { kind: sysv[scheme]!, id: Number(id[1]) };
  const key = /^(0x[0-9a-f]+|\d+)$/i.exec(rest);
  if (key) return { kind: sysv[scheme]!, key: Number(key[1]) >>> 0 };
  throw bad();
}

type Remover = (ref: IpcObjectRef) => Promise<boolean>;

// Each kind is removed by its own module's verb: shm_unlink(3), sem_unlink(3), mq_unlink(3), or
// IPC_RMID through shmctl/semctl/msgctl.
const removers: Partial<Record<IpcObjectKind, Remover>> = {
  'posix-shm': (r) => SharedMemory.unlink(r.name!),
  'posix-sem': (r) => Semaphore.unlink(r.name!),
  'posix-mq': (r) => MessageQueue.unlink(r.name!),
  'sysv-msg': async (r) => SystemVMessageQueue.removeId(r.id!),
  'sysv-shm': async (r) => SystemVSharedMemory.removeId(r.id!),
  'sysv-sem': async (r) => SystemVSemaphoreSet.removeId(r.id!),
};

/**
 * Removes one object; `false` when it did not exist. POSIX names are unlinked (the object lives on
 * while processes still have it open, as with shm_unlink(3)); System V objects are removed at once.
 *
 * @example
 * ```ts
 * await removeIpcObject('mq:/jobs');        // false if it was not there
 * await removeIpcObject('sysvshm:id=32769');
 * ```
 */
export async function removeIpcObject(ref: string | IpcObjectRef): Promise<boolean> {
  const r = typeof ref === 'string' ? parseIpcObjectRef(ref) : ref;
  if (r.kind.startsWith('sysv-') && r.id === undefined) {
    const found = listIpcObjects().objects.find((o) => o.kind === r.kind && o.key === r.key);
    if (!found) return false;
    r.id = found.id;
  }
  const remover = removers[r.kind];
  if (!remover) throw new IpcError('ERR_IPC_UNSUPPORTED', `removing ${r.kind} objects is not supported in this build`);
  return remover(r);
}

// ---- ring servers (shm+unix:, shm:) --------------------------------------------------------------

/**
 * One process at the other end of a ring server's connection, as `ipckit ls` shows it.
 *
 * @example
 * ```ts
 * const pids = listRingServers().ringServers.flatMap((s) => s.clients.map((c) => c.pid));
 * ```
 */
export interface RingClient {
  /** The client's pid; absent when the client is in a process this user cannot inspect. */
  pid?: number;
  /** Its program's name (`programName`). */
  command?: string;
  /** Its owner's uid. */
  uid?: number;
  /** User name of uid, when /etc/passwd has it. */
  owner?: string;
  /** The inode of the connection's memfd (the same in both processes' /proc/PID/maps). */
  memfd?: number;
  /** Set when something about this client could not be found out, saying what and why. */
  note?: string;
}

/**
 * A ring server (a `RingServer`, or a `shm:` listener) found in /proc, with its connected clients.
 *
 * @example
 * ```ts
 * for (const s of listRingServers().ringServers) console.log(s.ref, s.pid, s.clients.length);
 * ```
 */
export interface RingServerEntry {
  /** What `--kind` selects it by. */
  kind: 'ring-server';
  /** The endpoint clients connect to: `shm+unix:/path`, `shm+unix:@name`, or `shm:/name`. */
  ref: string;
  /** The socket's address as /proc/net/unix shows it: a path, or `@name` for an abstract one. */
  address: string;
  /** The listening socket's inode (what /proc/PID/fd links name as `socket:[N]`). */
  socket: number;
  /** The process holding the listening socket; absent when no process this user can inspect holds it. */
  pid?: number;
  /** Its program's name (`programName`). */
  command?: string;
  /** Its owner's uid. */
  uid?: number;
  /** User name of uid, when /etc/passwd has it. */
  owner?: string;
  /** Permission bits of the socket file (path addresses only). */
  mode?: number;
  /** Accepted connections: the server's sockets for them (a client in its handshake counts too). */
  connections: number;
  /** The processes mapping a ring segment of this server's, one entry per connection. */
  clients: RingClient[];
  /** Set when this entry is incomplete or uncertain, saying why. */
  note?: string;
}

/**
 * What `listRingServers` returns.
 *
 * @example
 * ```ts
 * const { ringServers, notes }: RingServerInventory = listRingServers();
 * ```
 */
export interface RingServerInventory {
  /** Every ring server found, with its clients. */
  ringServers: RingServerEntry[];
  /** What could not be inspected, for the user. */
  notes: string[];
}

/** What /proc/net/unix says about one socket. */
interface UnixSocketRow {
  inode: number;
  listening: boolean;
  seqpacket: boolean;
  connected: boolean;
  path: string;
}

/** What one process holds, from /proc/PID/fd and /proc/PID/maps. */
interface ProcessView {
  pid: number;
  uid: number;
  sockets: Set<number>;
  /** Inodes of the ring memfds it maps or holds open. */
  memfds: Set<number>;
  /** Whether it has ipckit's addon loaded (a candidate for a ring server nobody has connected to yet). */
  ipckit: boolean;
}

// /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path"; Flags 0x10000 is __SO_ACCEPTCON (a
// listening socket), Type 5 is SOCK_SEQPACKET, St 3 is SS_CONNECTED; an abstract name reads "@name".
// An accepted socket carries its listener's address; a connecting one has none (it never bound).
function unixSockets(): Map<number, UnixSocketRow> {
  const out = new Map<number, UnixSocketRow>();
  let text = '';
  try {
    text = fs.readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 7) continue;
    const inode = Number(f[6]);
    out.set(inode, {
      inode,
      listening: (Number.parseInt(f[3]!, 16) & 0x10000) !== 0,
      seqpacket: f[4] === '0005',
      connected: f[5] === '03',
      path: f.slice(7).join(' '),
    });
  }
  return out;
}

/**
 * The name of the program process `pid` runs: argv[0]'s base name, since /proc/PID/comm is the main
 * thread's name, which a program may set (Node 24 names it 'MainThread'); comm when the command line is
 * gone (a zombie); '?' when the process is.
 */
export function programName(pid: number): string {
  try {
    const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    if (argv0) return path.basename(argv0);
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * Every process's sockets and ring memfds. A process whose /proc/PID/fd this user may not read (another
 * user's, without CAP_SYS_PTRACE) is counted in `hidden` instead.
 */
function processViews(): { views: ProcessView[]; hidden: number } {
  const memfdLink = `/memfd:${RING_MEMFD_NAME} (deleted)`;
  const views: ProcessView[] = [];
  let hidden = 0;
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return { views, hidden };
  }
  for (const p of pids) {
    const dir = `/proc/${p}`;
    let fds: string[];
    let uid: number;
    try {
      uid = fs.statSync(dir).uid;
      fds = fs.readdirSync(`${dir}/fd`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EACCES') hidden++;
      continue; // gone since the listing, or not ours to read
    }
    const view: ProcessView = { pid: Number(p), uid, sockets: new Set(), memfds: new Set(), ipckit: false };
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`${dir}/fd/${fd}`);
        if (link.startsWith('socket:[')) view.sockets.add(Number(link.slice(8, -1)));
        // A memfd still open (during a handshake): its inode is the one the mappings show.
        else if (link === memfdLink) view.memfds.add(fs.statSync(`${dir}/fd/${fd}`).ino);
      } catch {
        // closed while we looked
      }
    }
    try {
      // "address perms offset dev inode path": a ring segment stays mapped after its memfd is closed.
      for (const line of fs.readFileSync(`${dir}/maps`, 'utf8').split('\n')) {
        if (line.endsWith(memfdLink)) view.memfds.add(Number(line.split(/\s+/)[4]));
        else if (line.endsWith('/ipckit.node')) view.ipckit = true;
      }
    } catch {
      // exited meanwhile: what the fd table said stands
    }
    views.push(view);
  }
  return { views, hidden };
}

/**
 * The ring servers on the machine and the pids of their clients, found in /proc: listening seqpacket
 * sockets in /proc/net/unix, the process holding each (socket inodes in /proc/PID/fd), and the ring
 * memfds every process maps (`/memfd:ipckit-ring (deleted)` in /proc/PID/maps). Each connection has a
 * memfd of its own, mapped by exactly two processes: the server and that client.
 *
 * What /proc cannot tell is said in a note rather than guessed: clients in processes this user may not
 * inspect, a process serving several addresses (its clients cannot be told apart per address), one that
 * also has fork()/spawn() channels, a seqpacket listener nobody has connected to yet.
 *
 * @example
 * ```ts
 * const { ringServers, notes } = listRingServers();
 * for (const s of ringServers) console.log(s.ref, s.pid, s.clients.map((c) => c.pid));
 * ```
 */
export function listRingServers(): RingServerInventory {
  const names = users();
  const owner = (uid: number) => names.get(uid) ?? String(uid);
  const sockets = unixSockets();
  const { views, hidden } = processViews();
  const notes: string[] = [];
  const byPid = new Map(views.map((v) => [v.pid, v]));
  const holders = new Map<number, number[]>();
  for (const v of views) for (const m of v.memfds) holders.set(m, [...(holders.get(m) ?? []), v.pid]);
  const rows = (v: ProcessView) => [...v.sockets].map((i) => sockets.get(i)).filter((s): s is UnixSocketRow => s?.seqpacket === true && s.path !== '');
  const listening = new Map(views.map((v) => [v.pid, rows(v).filter((s) => s.listening)]));
  const accepted = new Map(views.map((v) => [v.pid, rows(v).filter((s) => s.connected)]));
  const serving = (pid: number) => (accepted.get(pid)?.length ?? 0) > 0 && (listening.get(pid)?.length ?? 0) > 0;

  // Each segment's server. Of its two holders only one serves: that one. Both serve (a server that is
  // also a client of another): the one with an accepted connection left over once its unambiguous
  // segments are counted; /proc has no other way to tell which end of the socket is whose.
  const served = new Map<number, { memfd: number; client?: number }[]>();
  const ambiguous: [number, number, number][] = [];
  for (const [m, pids] of holders) {
    if (pids.length === 1) {
      if (listening.get(pids[0]!)!.length > 0) served.set(pids[0]!, [...(served.get(pids[0]!) ?? []), { memfd: m }]);
      continue;
    }
    const [a, b] = pids as [number, number];
    if (serving(a) !== serving(b)) {
      const [srv, cli] = serving(a) ? [a, b] : [b, a];
      served.set(srv, [...(served.get(srv) ?? []), { memfd: m, client: cli }]);
    } else if (serving(a)) ambiguous.push([m, a, b]);
    // Neither serves: a fork()/spawn() channel or a shm: pair; not a server's.
  }
  const spare = (pid: number) => accepted.get(pid)!.length - (served.get(pid)?.length ?? 0);
  for (const [m, a, b] of ambiguous) {
    const srv = spare(a) > 0 || spare(b) <= 0 ? a : b;
    served.set(srv, [...(served.get(srv) ?? []), { memfd: m, client: srv === a ? b : a }]);
  }

  const servers: RingServerEntry[] = [];
  const held = new Set<number>();
  for (const v of views) {
    const segs = served.get(v.pid) ?? [];
    const conns = accepted.get(v.pid)!;
    // A listener with connections but no ring segment is a plain unix+seqpacket: server, not a ring's.
    const ring = listening.get(v.pid)!.filter((l) =>
      conns.some((c) => c.path === l.path) ? segs.length > 0 : v.ipckit || l.path.startsWith('@ipckit-shm:'),
    );
    for (const l of ring) {
      held.add(l.inode);
      const n = conns.filter((c) => c.path === l.path).length;
      const clients: RingClient[] = segs.map(({ memfd, client }) => {
        if (client !== undefined) {
          const c = byPid.get(client)!;
          return { pid: client, command: programName(client), uid: c.uid, owner: owner(c.uid), memfd };
        }
        // Only the server maps it: the client is in the same process, or in one we cannot see.
        return hidden
          ? { memfd, note: `client not found: in the server's own process, or in one of the ${hidden} processes this user cannot inspect` }
          : { pid: v.pid, command: programName(v.pid), uid: v.uid, owner: owner(v.uid), memfd };
      });
      const why: string[] = [];
      if (ring.length > 1) why.push(`process ${v.pid} serves ${ring.length} addresses: the clients listed are those of all of them (/proc does not tell which socket a segment belongs to)`);
      else {
        for (let i = clients.length; i < n; i++) {
          clients.push({ note: hidden ? `client not found: in one of the ${hidden} processes this user cannot inspect, or still in its handshake` : 'client not found: still in its handshake' });
        }
        if (clients.length > n) why.push(`${clients.length - n} segment(s) more than connections: the process also shares rings another way (fork(), spawn(), shm:), listed as clients`);
      }
      if (n === 0 && clients.length === 0) why.push('no client connected yet (an idle unix+seqpacket: listener of an ipckit process looks the same)');
      servers.push({
        kind: 'ring-server',
        ref: refOf(l.path),
        address: l.path,
        socket: l.inode,
        pid: v.pid,
        command: programName(v.pid),
        uid: v.uid,
        owner: owner(v.uid),
        ...socketMode(l.path),
        connections: n,
        clients,
        ...(why.length ? { note: why.join('; ') } : {}),
      });
    }
  }
  if (hidden) {
    // Listeners no inspectable process holds: listed from /proc/net/unix alone when the name is ipckit's.
    for (const s of sockets.values()) {
      if (!s.seqpacket || !s.listening || held.has(s.inode) || !s.path.startsWith('@ipckit-shm:')) continue;
      servers.push({
        kind: 'ring-server',
        ref: refOf(s.path),
        address: s.path,
        socket: s.inode,
        connections: [...sockets.values()].filter((c) => c.seqpacket && c.connected && c.path === s.path).length,
        clients: [],
        note: 'held by a process this user cannot inspect (EACCES on /proc/PID/fd): pid, owner and clients unknown',
      });
    }
    notes.push(
      `${hidden} process${hidden > 1 ? 'es' : ''} could not be inspected by this user (EACCES on /proc/PID/fd): ring servers they hold are not listed and their clients are not named (as root, ls shows everything)`,
    );
  }
  return { ringServers: servers, notes };
}

function refOf(address: string): string {
  return address.startsWith('@ipckit-shm:') ? `shm:${address.slice('@ipckit-shm:'.length)}` : `shm+unix:${address}`;
}

function socketMode(address: string): { mode?: number } {
  if (address.startsWith('@')) return {};
  try {
    return { mode: fs.statSync(address).mode & 0o7777 };
  } catch {
    return {};
  }
}
