/**
 * Every IPC object on the machine, like ipcs(1) but complete: POSIX shared memory and semaphores
 * (/dev/shm), POSIX message queues (/dev/mqueue), System V queues, segments and semaphore sets
 * (/proc/sysvipc). Used by `ipckit ls` / `ipckit rm` to find what crashed processes left behind.
 *
 * @module
 */
import fs from 'node:fs';
import { IpcError } from './errors.js';
import { SharedMemory, SystemVSharedMemory } from './shared-memory.js';
import { Semaphore, SystemVSemaphoreSet } from './semaphore.js';
import { MessageQueue, SystemVMessageQueue, limits as messageQueueLimits, type MessageQueueLimits } from './message-queue.js';

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
