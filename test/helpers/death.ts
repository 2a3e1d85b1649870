// How long a side takes to see its peer's death, measured so that the bound speaks of ipckit and not of
// the machine. A test SIGKILLs a peer and times the interval from the kill to ERR_IPC_PEER_DEAD on the
// other side. On a loaded 2-core CI machine part of that interval is time a thread spent runnable but
// waiting for a CPU: the victim, which dies (and closes the channel socket, whose end is what the library
// reacts to) only once it runs, and the noticing thread, whose event loop runs only once it gets a CPU.
// The kernel counts that wait per thread: the second field of /proc/<pid>/schedstat (the main thread's;
// /proc/thread-self/schedstat for the calling one) is sched_info.run_delay, in ns
// (Documentation/scheduler/sched-stats.rst). The interval's run-queue share is
// - the victim's run_delay from the kill to its death, read from /proc/PID/schedstat while it is a
//   zombie (killAndAwaitDeath holds this thread, and so the event loop that would reap it, until the
//   kernel shows it as a zombie with no thread left), plus
// - the noticing thread's run_delay from that death to the error.
// The bound is asserted on the rest, the library's own latency (and the victim's teardown, which stays in
// it: only waiting is taken out); wall, own and the run-queue share are reported.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';

/**
 * The run-queue wait so far of a thread, in ns: this thread by default (`/proc/PID/schedstat` is a
 * process's main thread). undefined where schedstat is not readable (a kernel without CONFIG_SCHED_INFO).
 */
export function runDelayNs(file = '/proc/thread-self/schedstat'): number | undefined {
  try {
    const v = Number(fs.readFileSync(file, 'utf8').trim().split(/\s+/)[1]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The same for the main thread of process `pid`. */
export function processRunDelayNs(pid: number): number | undefined {
  return runDelayNs(`/proc/${pid}/schedstat`);
}

/** Wall-clock ms with sub-ms precision, comparable across processes (Date.now() has ms steps). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A moment: on this process's clock (ms), the wall clock, and the noticing thread's run-queue counter. */
export interface Mark {
  ms: number;
  wall: number;
  queuedNs: number | undefined;
}

/**
 * A mark now, with this thread's run-queue counter or, given `pid`, that process's main thread's (a
 * noticing side in another process). Take it right at the error.
 */
export function mark(pid?: number): Mark {
  return { ms: performance.now(), wall: wallMs(), queuedNs: pid === undefined ? runDelayNs() : processRunDelayNs(pid) };
}

/** A mark from another process's report: its wall clock (ms) and its run-queue counter (ns). */
export function reported(wall: number, queuedNs: number | undefined): Mark {
  return { ms: Number.NaN, wall, queuedNs };
}

/** A SIGKILL and the death it caused, as `killAndAwaitDeath` saw them. */
export interface Death {
  killed: Mark;
  /** When the kernel showed the victim dead, with the noticing thread's counter then. */
  dead: Mark;
  /** The victim's main thread's run-queue wait between the kill and its death, ms. */
  victimQueuedMs: number;
}

function zombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ...": the state follows the last ')' (a comm can hold parentheses and spaces).
    return stat[stat.lastIndexOf(')') + 2] === 'Z' && fs.readdirSync(`/proc/${pid}/task`).length === 1;
  } catch {
    return true; // reaped: gone
  }
}

/**
 * SIGKILLs a child of this process and waits, holding this thread, until the kernel has finished it (a
 * zombie whose threads are all gone, so its descriptors are closed; not reaped, since the event loop that
 * reaps is held here), then reads how long its main thread waited on the run queue meanwhile. Bounded:
 * fails after `timeoutMs`. `noticer` is the pid of the process that is to notice, when not this one.
 */
export function killAndAwaitDeath(child: ChildProcess, noticer?: number, timeoutMs = 5000): Death {
  const pid = child.pid!;
  const before = processRunDelayNs(pid);
  const killed = mark(noticer);
  assert.ok(child.kill('SIGKILL'), 'the victim was running');
  while (!zombie(pid)) {
    assert.ok(performance.now() - killed.ms < timeoutMs, `pid ${pid} not dead ${timeoutMs} ms after SIGKILL`);
  }
  const after = processRunDelayNs(pid);
  const dead = mark(noticer);
  return { killed, dead, victimQueuedMs: before === undefined || after === undefined ? 0 : Math.max(0, (after - before) / 1e6) };
}

/**
 * One death noticed: the interval from the kill to the error, the run-queue share of it (the victim's
 * until its death, the noticing thread's after), and the rest, the library's own latency.
 */
export interface DeathSample {
  wallMs: number;
  queuedMs: number;
  ownMs: number;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/**
 * The samples of one death test, asserted against the bound on the library's own latency and
 * summarised (p50 / max of each, the run queue's share of the total).
 *
 * @example
 * ```ts
 * const deaths = new DeathLatency('child SIGKILLed');
 * const death = killAndAwaitDeath(child);
 * await pending.catch(() => deaths.add(death, mark()));
 * t.diagnostic(deaths.check());
 * ```
 */
export class DeathLatency {
  readonly samples: DeathSample[] = [];

  constructor(
    readonly what: string,
    readonly boundMs = 50,
  ) {}

  /**
   * A death and the moment it was noticed (`mark()` here, or `reported()` from another process's line):
   * asserts the library's own latency against the bound, and keeps the sample for `check()`.
   */
  add(death: Death, noticed: Mark): DeathSample {
    const same = Number.isFinite(noticed.ms);
    const wall = same ? noticed.ms - death.killed.ms : noticed.wall - death.killed.wall;
    const q0 = death.dead.queuedNs;
    const q1 = noticed.queuedNs;
    // Noticed in another process before this one saw the death: nothing of its own queue to take out.
    const mine = q0 === undefined || q1 === undefined ? 0 : Math.max(0, (q1 - q0) / 1e6);
    const queued = Math.min(Math.max(0, wall), death.victimQueuedMs + mine);
    const s = { wallMs: wall, queuedMs: queued, ownMs: Math.max(0, wall - queued) };
    this.samples.push(s);
    assert.ok(
      s.ownMs < this.boundMs,
      `${this.what}: ERR_IPC_PEER_DEAD ${s.ownMs.toFixed(1)} ms after the kill, not counting ${s.queuedMs.toFixed(1)} ms on the run queue ` +
        `(${death.victimQueuedMs.toFixed(1)} the victim's, ${mine.toFixed(1)} the noticing thread's; ${s.wallMs.toFixed(1)} ms wall; bound ${this.boundMs} ms)`,
    );
    return s;
  }

  /** The summary line (every sample was asserted as it came). */
  check(): string {
    assert.ok(this.samples.length > 0, `${this.what}: no death was measured`);
    const by = (k: keyof DeathSample) => this.samples.map((s) => s[k]).sort((a, b) => a - b);
    const [own, wall, queued] = [by('ownMs'), by('wallMs'), by('queuedMs')];
    const total = wall.reduce((a, b) => a + Math.max(0, b), 0);
    const share = total > 0 ? (100 * queued.reduce((a, b) => a + b, 0)) / total : 0;
    const f = (v: number[]) => `p50 ${pct(v, 50).toFixed(2)} / max ${v[v.length - 1]!.toFixed(2)} ms`;
    return `${this.what}: ${this.samples.length} deaths; kill to error ${f(wall)}, ${share.toFixed(0)}% of it on the run queue; own ${f(own)} (bound ${this.boundMs} ms on own)`;
  }
}
