// What `ipckit bench` makes, and how it is taken back however the bench ends (lifetime.ts owns it).
//
// The bench modules (bench/*.ts) make their objects here and in child processes: a segment in this
// process (bench/shm.ts), POSIX queues named after the child that made them (bench/mq.ts) or after this
// process (bench/growth.ts), a private System V queue made by a Node child or a C program
// (bench/mq.ts, bench/c/mq_sysv.c), FIFOs and sockets in temporary directories. A run that ends
// normally removes them module by module. A run told to end in the middle cannot wait for that, and a
// Ctrl-C from a terminal has already killed the children (the whole foreground process group gets the
// SIGINT), so nothing is left to ask. What is taken back instead:
//   - the processes: every descendant still running is stopped (SIGSTOP, repeated until the tree stops
//     growing: a stopped process cannot fork), then SIGKILLed;
//   - the objects: those of this user named `ipckit-bench-…PID…`, and the System V ones, whose pid
//     is this process or one the kernel handed out since the bench began to a process that is gone
//     now (a killed child, or one the terminal's SIGINT ended). A live process that is not ours is
//     never touched, nor is anything older than the run;
//   - the temporary directories: the modules make theirs under os.tmpdir(), which for the run (and
//     the children, which inherit the environment) is one private directory removed as a whole.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listIpcObjects, removeIpcObject, type IpcObject } from '../index.js';
import { own } from './lifetime.js';

const self = process.pid;

function lastPid(): number | undefined {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
  } catch {
    return undefined; // no /proc/sys: only this process's own objects can be attributed
  }
}

/** The state letter of a process (R, S, T, Z, ...) and its parent, or undefined when it is gone. */
function stat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may itself hold spaces and parentheses: fields start after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, ppid: Number(f[1]) };
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** Every process below this one, from the parent links in /proc. */
function descendants(): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  for (let todo = [self]; todo.length; ) {
    const next = todo.flatMap((p) => children.get(p) ?? []);
    out.push(...next);
    todo = next;
  }
  return out;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/** Stops the tree below this process until it stops growing, then kills all of it; waits (bounded) until it is gone. */
async function killDescendants(ms: number): Promise<void> {
  const stopped = new Set<number>();
  for (let round = 0; round < 16; round++) {
    const fresh = descendants().filter((p) => !stopped.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      signal(p, 'SIGSTOP');
      stopped.add(p);
    }
  }
  for (const p of stopped) signal(p, 'SIGKILL');
  const deadline = Date.now() + ms;
  while ([...stopped].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** The pid an `ipckit-bench-…` name carries (the process that made it), if it is such a name. */
function pidOfName(name: string): number | undefined {
  const m = /^\/ipckit-bench-(?:[a-z]+-)*?(\d+)(?:[-.]|$)/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The names bench/mq.ts and bench/growth.ts give POSIX queues: for unlinking where /dev/mqueue cannot be listed. */
function queueNames(pid: number): string[] {
  const names = [`/ipckit-bench-${pid}-a`, `/ipckit-bench-${pid}-b`, `/ipckit-bench-c-${pid}-a`, `/ipckit-bench-c-${pid}-b`];
  if (pid === self) for (let k = 1; k <= 64; k++) names.push(`/ipckit-bench-growth-${pid}-mq-${k}`);
  return names;
}

/** The most pids the sweep tries queue names for, without /dev/mqueue (a long run on a busy machine). */
const MAX_UNLISTED_PIDS = 1 << 15;

/** The pids handed out after `first` up to `last`, across a wrap at pid_max; at most MAX_UNLISTED_PIDS. */
function pidsSince(first: number, last: number): number[] {
  const out: number[] = [];
  const ranges: [number, number][] = last >= first ? [[first + 1, last]] : [[first + 1, Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'))], [1, last]];
  for (const [a, b] of ranges) for (let p = a; p <= b && out.length < MAX_UNLISTED_PIDS; p++) out.push(p);
  return out;
}

/**
 * Owns a bench run from here on: its children, the objects it and they make, its temporary files.
 * Returns the function that ends the ownership after a run that ended normally (every module removed
 * its own by then): it removes the temporary directory and gives the rest back.
 */
export function ownBenchRun(): () => void {
  const first = lastPid();
  const uid = process.getuid?.();
  const before = new Set(listIpcObjects().objects.filter((o) => o.kind === 'sysv-msg').map((o) => o.id));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-bench-run-'));
  const oldTmp = process.env.TMPDIR;
  // After bench/index.js is loaded: bench/lib.ts keeps its cache of compiled C programs in the real
  // temporary directory, across runs.
  process.env.TMPDIR = tmp;

  /** Whether `pid` is this process, or one started since the run began that is gone now. */
  const ours = (pid: number | undefined, last: number | undefined): boolean => {
    if (pid === self) return true;
    if (!pid || first === undefined || last === undefined) return false;
    const since = last >= first ? pid > first && pid <= last : pid > first || pid <= last;
    return since && !alive(pid);
  };

  const release = async () => {
    await killDescendants(1000);
    const last = lastPid();
    const { objects } = listIpcObjects();
    const mine = (o: IpcObject) => uid === undefined || o.uid === uid;
    const doomed: IpcObject[] = objects.filter((o) => {
      if (!mine(o)) return false;
      if (o.kind.startsWith('posix-')) return ours(pidOfName(o.name ?? ''), last);
      if (o.kind === 'sysv-shm') return ours(o.pids?.creator, last);
      if (o.kind === 'sysv-msg' && o.key === 0) {
        // msqid_ds keeps no creator: a private queue is the run's when its last sender or receiver was,
        // or when it appeared during the run and nobody has used it yet (killed between msgget and the
        // first message).
        const { lastSend = 0, lastReceive = 0 } = o.pids ?? {};
        return ours(lastSend, last) || ours(lastReceive, last) || (lastSend === 0 && lastReceive === 0 && !before.has(o.id));
      }
      return false;
    });
    for (const o of doomed) await removeIpcObject(o.ref).catch(() => false);
    // Before the sweep below, which is the one step that can outlast lifetime.ts's bound (up to 2^15 pids
    // x 4 names: over a second on an idle machine), and which ends where the bound cuts it off.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (first !== undefined && last !== undefined) {
      // Without /dev/mqueue, POSIX queues cannot be listed (and a mount elsewhere is not one ls reads):
      // the names the bench gives them are unlinked for each pid of the run, listed or not.
      const pids = [self, ...pidsSince(first, last).filter((p) => ours(p, last))];
      for (const p of pids) for (const name of queueNames(p)) await removeIpcObject({ kind: 'posix-mq', name }).catch(() => false);
    }
  };
  const disown = own('the bench run (its processes, objects and temporary files)', release);
  return () => {
    disown();
    if (oldTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = oldTmp;
    fs.rmSync(tmp, { recursive: true, force: true });
  };
}
