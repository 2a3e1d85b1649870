// How long a side takes to see its peer's death, measured so that the bound speaks of ipckit and not of
// the machine. A test SIGKILLs a peer; the library can only react once the kernel has closed the victim's
// descriptors (the channel socket's end is the death), which happens at the end of the victim's exit,
// after its memory is torn down, and only once the victim gets a CPU. So:
// - `killAndAwaitDeath` SIGKILLs and then holds this thread (and its event loop, which would reap the
//   child) until the kernel shows the victim as a zombie with no thread left: its files are closed. That
//   moment, the death, is where the library's interval starts; the victim's dying (kill to death) is
//   reported beside it, with its run-queue share;
// - from the death to ERR_IPC_PEER_DEAD, part of the interval can be the noticing thread waiting on the
//   run queue (runnable, no CPU: a loaded 2-core CI machine). The kernel counts that wait per thread,
//   the second field of /proc/<pid>/schedstat (the main thread's; /proc/thread-self/schedstat for the
//   calling one), sched_info.run_delay in ns (Documentation/scheduler/sched-stats.rst). Read at the death
//   and at the error, its increase is taken out.
// The bound is asserted on what is left, the library's own latency. The zombie is seen a little after
// the close (the poll's pause, and a wake-up): a peer in another process (C, Python) can notice first.
// Such a sample's latency is 0, and the summary counts them and says by how much they were early: an
// in-process figure can be low by about as much.
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

/**
 * A moment: the wall clock (ms, `wallMs()`: within this process it differs from performance.now() by a
 * constant, so one clock serves for marks of this process and reports of another), and the noticing
 * thread's run-queue counter.
 */
export interface Mark {
  wall: number;
  queuedNs: number | undefined;
}

/**
 * A mark now, with this thread's run-queue counter or, given `pid`, that process's main thread's (a
 * noticing side in another process). Take it right at the error.
 */
export function mark(pid?: number): Mark {
  return { wall: wallMs(), queuedNs: pid === undefined ? runDelayNs() : processRunDelayNs(pid) };
}

/** A mark from another process's report: its wall clock (ms) and its run-queue counter (ns). */
export function reported(wall: number, queuedNs: number | undefined): Mark {
  return { wall, queuedNs };
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
  // Polled with a pause of 0.1 ms, not hot: a thread that spins is a CPU hog the scheduler makes wait
  // for whole time slices (seen: the zombie noticed 32 ms after a peer had seen the close), while one that
  // sleeps is woken at once, so the death is seen within about the pause.
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!zombie(pid)) {
    assert.ok(wallMs() - killed.wall < timeoutMs, `pid ${pid} not dead ${timeoutMs} ms after SIGKILL`);
    Atomics.wait(pause, 0, 0, 0.1);
  }
  const after = processRunDelayNs(pid);
  const dead = mark(noticer);
  return { killed, dead, victimQueuedMs: before === undefined || after === undefined ? 0 : Math.max(0, (after - before) / 1e6) };
}

/** One death noticed, in ms: the victim's dying, its wait on the run queue, and the interval after it. */
export interface DeathSample {
  /** Kill to death (the victim a zombie, its descriptors closed). */
  dyingMs: number;
  /** The victim's main thread on the run queue meanwhile. */
  victimQueuedMs: number;
  /** Death to ERR_IPC_PEER_DEAD (negative: noticed elsewhere before this process confirmed the death). */
  afterMs: number;
  /** The noticing thread on the run queue meanwhile. */
  queuedMs: number;
  /** What is left: the library's own latency. */
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
    const after = noticed.wall - death.dead.wall;
    const q0 = death.dead.queuedNs;
    const q1 = noticed.queuedNs;
    const queued = Math.min(Math.max(0, after), q0 === undefined || q1 === undefined ? 0 : Math.max(0, (q1 - q0) / 1e6));
    const dying = death.dead.wall - death.killed.wall;
    const s: DeathSample = {
      dyingMs: dying,
      victimQueuedMs: Math.min(death.victimQueuedMs, Math.max(0, dying)),
      afterMs: after,
      queuedMs: queued,
      ownMs: Math.max(0, after - queued),
    };
    this.samples.push(s);
    assert.ok(
      s.ownMs < this.boundMs,
      `${this.what}: ERR_IPC_PEER_DEAD ${s.ownMs.toFixed(1)} ms after the peer's death, not counting ${s.queuedMs.toFixed(1)} ms on the run queue ` +
        `(${s.afterMs.toFixed(1)} ms wall; the victim took ${s.dyingMs.toFixed(1)} ms to die, ${s.victimQueuedMs.toFixed(1)} of them queued; bound ${this.boundMs} ms)`,
    );
    return s;
  }

  /** The summary line (every sample was asserted as it came). */
  check(): string {
    assert.ok(this.samples.length > 0, `${this.what}: no death was measured`);
    const by = (k: keyof DeathSample) => this.samples.map((s) => s[k]).sort((a, b) => a - b);
    const sum = (k: keyof DeathSample) => this.samples.reduce((a, s) => a + Math.max(0, s[k]), 0);
    const share = (part: keyof DeathSample, whole: keyof DeathSample) => (sum(whole) > 0 ? `${((100 * sum(part)) / sum(whole)).toFixed(0)}%` : '0%');
    const f = (v: number[]) => `p50 ${pct(v, 50).toFixed(2)} / max ${v[v.length - 1]!.toFixed(2)} ms`;
    const early = this.samples.filter((s) => s.afterMs < 0);
    return (
      `${this.what}: ${this.samples.length} deaths; own ${f(by('ownMs'))} (bound ${this.boundMs} ms); death to error ${f(by('afterMs'))}, ` +
      `${share('queuedMs', 'afterMs')} of it on the run queue; the victim's dying ${f(by('dyingMs'))}, ${share('victimQueuedMs', 'dyingMs')} of it queued` +
      (early.length ? `; ${early.length} noticed before this process saw the death, by at most ${Math.max(...early.map((s) => -s.afterMs)).toFixed(2)} ms (own 0)` : '')
    );
  }
}
