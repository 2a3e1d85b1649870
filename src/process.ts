/**
 * Process management: the fifth purpose of IPC in the classic survey. A process that wants full control
 * of another's execution, as a debugger does, learns of its state changes as they happen and intercepts
 * the signals on their way to it.
 *
 * - `processes.watch(target)`: the state changes of a process (`stopped`, `continued`, `exited`).
 *   For a child, `waitid(P_PIDFD, …, WSTOPPED | WCONTINUED | WEXITED | WNOWAIT)`, run on the event loop
 *   whenever SIGCHLD arrives: WNOWAIT leaves every state waitable, so child_process still reaps the
 *   child and its `exit` event fires with the right code. For any other process the kernel reports
 *   only the exit (the pidfd becomes readable), with its status from PIDFD_GET_INFO on Linux 6.15+;
 *   stops and continues of a process that is not a child come only through a tracer (`{ trace: true }`).
 * - `Tracer`: ptrace(2) with PTRACE_SEIZE, one native thread per tracee making every ptrace call
 *   (src/native/process.cc). Events: signal-delivery stops with their siginfo (the caller delivers,
 *   suppresses or replaces the signal), group stops and continues (PTRACE_LISTEN), the exit while the
 *   process still exists (PTRACE_EVENT_EXIT), exec. `detach()` and `close()` leave the tracee running.
 *
 * Registers and memory are out of scope: see docs/process-management.md for why.
 *
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { native, type TraceSiginfo } from './native.js';
import { IpcError, check, closedError, errno, errnoException, invalidArgType, noSuchProcess } from './errors.js';
import { Readiness, READABLE, abortError, onAbort, waitUntil } from './internal/wait.js';
import { validateInteger, validateOptions, validateWaitOptions, type WaitOptions } from './internal/validate.js';
import { siCodeName, signalName, signalNumber, type SignalSpec } from './internal/signal-names.js';

const C = native.processConstants;
const ECHILD = errno('ECHILD');
const ENOSYS = errno('ENOSYS');
const EPERM = errno('EPERM');
const ESRCH = errno('ESRCH');
const ENODATA = errno('ENODATA');

// ---- exit statuses ---------------------------------------------------------------------------------

/**
 * How a process ended: `code` when it exited, `signal` when a signal killed it (`core` when it dumped
 * core). Both null when the kernel would not say (a process that is not a child, before Linux 6.15).
 *
 * @example
 * ```ts
 * const { code, signal, core } = await tracer.exited();
 * ```
 */
export interface ExitStatus {
  /** The exit code, when it exited (null when a signal killed it, or the kernel would not say). */
  code: number | null;
  /** The signal that killed it (`'SIGKILL'`), or null. */
  signal: string | null;
  /** Whether it dumped core. */
  core: boolean;
}

/** A wait(2) status word as code / signal / core. */
function fromWaitStatus(st: number): ExitStatus {
  const sig = st & 0x7f;
  if (sig === 0) return { code: (st >> 8) & 0xff, signal: null, core: false };
  return { code: null, signal: signalName(sig), core: (st & 0x80) !== 0 };
}

const UNKNOWN_EXIT: ExitStatus = { code: null, signal: null, core: false };

// ---- a small event queue -----------------------------------------------------------------------------

type Waiter<T> = { resolve: (r: IteratorResult<T>) => void; reject: (e: Error) => void };

/** Events in order; readers wait with { signal, timeout }; end() finishes, fail() rejects readers. */
class EventQueue<T> {
  #items: T[] = [];
  #waiting: Waiter<T>[] = [];
  #done = false;
  #error: Error | undefined;
  readonly #what: string;
  onHandOut: ((item: T) => void) | undefined;

  constructor(what: string) {
    this.#what = what;
  }

  get done(): boolean {
    return this.#done && this.#items.length === 0;
  }

  push(item: T): void {
    if (this.#done) return;
    const w = this.#waiting.shift();
    if (w) {
      this.onHandOut?.(item);
      w.resolve({ value: item, done: false });
    } else this.#items.push(item);
  }

  end(): void {
    this.#done = true;
    if (this.#items.length === 0) for (const w of this.#waiting.splice(0)) w.resolve({ value: undefined, done: true });
  }

  fail(err: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#items = [];
    const waiting = this.#waiting.splice(0);
    if (waiting.length === 0) this.#error = err;
    for (const w of waiting) w.reject(err);
  }

  next(opts: WaitOptions = {}): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) {
      this.onHandOut?.(item);
      if (this.#done && this.#items.length === 0) this.end();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#error) {
      const err = this.#error;
      this.#error = undefined;
      return Promise.reject(err);
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return waitUntil<IteratorResult<T>>(opts, this.#what, (resolve, reject) => {
      const w: Waiter<T> = { resolve, reject };
      this.#waiting.push(w);
      return () => {
        const i = this.#waiting.indexOf(w);
        if (i >= 0) this.#waiting.splice(i, 1);
      };
    });
  }
}

// ---- watch -------------------------------------------------------------------------------------------

/**
 * A state change of a watched process.
 *
 * @example
 * ```ts
 * for await (const ev of processes.watch(child)) {
 *   if (ev.type === 'stopped') console.log('stopped by', ev.signal);
 *   else if (ev.type === 'exited') console.log('exited', ev.code ?? ev.signal);
 * }
 * ```
 */
export type ProcessEvent =
  | {
      /** Stopped by a signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU). */
      type: 'stopped';
      /** The process. */
      pid: number;
      /** The signal that stopped it. */
      signal: string;
    }
  | {
      /** Continued (SIGCONT). */
      type: 'continued';
      /** The process. */
      pid: number;
    }
  | ({
      /** Exited or killed: the last event. */
      type: 'exited';
      /** The process. */
      pid: number;
    } & ExitStatus);

/**
 * Options of `processes.watch`.
 *
 * @example
 * ```ts
 * processes.watch(pid, { trace: true, signal: AbortSignal.timeout(60_000) });
 * ```
 */
export interface ProcessWatchOptions {
  /** Stops watching; iteration then rejects with an `AbortError`. */
  signal?: AbortSignal;
  /**
   * For a process that is not a child of this one: attach a tracer (PTRACE_SEIZE, every signal
   * delivered at once) to see its stops and continues and its exit status. Without it only the exit is
   * seen. Ignored for children, whose stops the kernel reports to their parent anyway. Default false.
   */
  trace?: boolean;
  /** Keep the process alive while watching. Default true. */
  ref?: boolean;
}

// One SIGCHLD listener for every child watcher (Node's signal handles never keep the loop alive).
const childWatchers = new Set<ProcessWatcher>();
const onSigchld = () => {
  for (const w of childWatchers) w._poll();
};

/**
 * The state changes of one process, as an async iterable: created by `processes.watch()`. It ends after
 * the `exited` event; `close()` (or `break`) stops watching and never touches the process.
 *
 * @example
 * ```ts
 * await using w = processes.watch(child);
 * const { value } = await w.next();   // { type: 'stopped', pid, signal: 'SIGSTOP' }
 * ```
 */
export class ProcessWatcher implements AsyncIterableIterator<ProcessEvent>, AsyncDisposable {
  /** The watched process. */
  readonly pid: number;
  /** 'child' (waitid on a pidfd), 'pidfd' (exit only) or 'trace' (a tracer). */
  readonly mode: 'child' | 'pidfd' | 'trace';
  readonly #queue: EventQueue<ProcessEvent>;
  readonly #child: ChildProcess | undefined;
  #fd = -1;
  #readiness: Readiness | undefined;
  #state: 'initial' | 'running' | 'stopped' | 'exited' = 'initial';
  #tracer: Tracer | undefined;
  #closed = false;
  #stopListening: (() => void) | undefined;
  #loop: AbortController | undefined;
  #ready: Promise<void> = Promise.resolve();

  /** @internal Use `processes.watch()`. */
  constructor(pid: number, child: ChildProcess | undefined, fd: number, mode: 'child' | 'pidfd' | 'trace', opts: ProcessWatchOptions) {
    this.pid = pid;
    this.mode = mode;
    this.#child = child;
    this.#fd = fd;
    this.#queue = new EventQueue(`watch of process ${pid}`);
    const { signal } = opts;
    this.#stopListening = onAbort(signal, () => this.#fail(abortError(signal!)));
    if (mode === 'child') {
      if (childWatchers.size === 0) process.on('SIGCHLD', onSigchld);
      childWatchers.add(this);
      this._poll(); // a child that is stopped already says so at once
    }
    if (fd < 0 && mode === 'child') this.#exitFromElsewhere(); // reaped before the watch began
    if (fd >= 0 && this.#state !== 'exited') {
      this.#readiness = new Readiness(fd, `process ${pid}`);
      if (opts.ref === false) this.#readiness.unref();
      const ac = new AbortController();
      this.#loop = ac;
      void this.#waitExit(ac.signal);
    }
    if (signal?.aborted) this.#fail(abortError(signal)); // onAbort never fires for a signal aborted already
  }

  /** @internal */
  _attachTracer(attaching: Promise<Tracer>): void {
    this.#ready = attaching.then(() => {});
    this.#ready.catch(() => {}); // also reported by next()
    void (async () => {
      try {
        const t = await attaching;
        if (this.#closed) return void (await t.close());
        this.#tracer = t;
        for await (const ev of t) {
          if (ev.type === 'stopped') this.#queue.push({ type: 'stopped', pid: this.pid, signal: ev.signal });
          else if (ev.type === 'continued') this.#queue.push({ type: 'continued', pid: this.pid });
          else if (ev.type === 'exit') {
            this.#queue.push({ type: 'exited', pid: this.pid, code: ev.code, signal: ev.signal, core: ev.core });
            this.#queue.end();
          }
        }
      } catch (err) {
        this.#fail(err as Error);
      }
    })();
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Resolves once the watch has begun: at once, or for `{ trace: true }` once the tracer is attached
   * (rejecting with the attach error, which the first `next()` also reports).
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The next state change; `{ done: true }` after `exited` or once closed. Honours `{ signal, timeout }`. */
  next(opts?: WaitOptions): Promise<IteratorResult<ProcessEvent>> {
    return this.#queue.next(opts);
  }

  /** Called by `break` in `for await`: closes the watcher. */
  async return(): Promise<IteratorResult<ProcessEvent>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** The watcher is its own iterator: `for await (const ev of watcher)`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops watching (idempotent); a tracer, if any, detaches and leaves the process running. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#release();
    this.#queue.end();
    if (this.#tracer) await this.#tracer.close();
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Called on every SIGCHLD: what waitid says now, without consuming it. */
  _poll(): void {
    if (this.#fd < 0 || this.#state === 'exited') return;
    const r = native.waitidPidfd(this.#fd, C.WNOHANG | C.WNOWAIT | C.WEXITED | C.WSTOPPED | C.WCONTINUED);
    if (r === 0) return;
    if (typeof r === 'number') {
      if (r === ECHILD) this.#exitFromElsewhere(); // child_process reaped it already
      return;
    }
    const [code, status] = r;
    if (code === C.CLD_STOPPED) {
      if (this.#state !== 'stopped') this.#queue.push({ type: 'stopped', pid: this.pid, signal: signalName(status) });
      this.#state = 'stopped';
    } else if (code === C.CLD_CONTINUED) {
      // The continued state stays waitable after it happened: report it only as the end of a stop seen.
      if (this.#state === 'stopped') this.#queue.push({ type: 'continued', pid: this.pid });
      this.#state = 'running';
    } else if (code === C.CLD_EXITED) {
      this.#exited({ code: status, signal: null, core: false });
    } else if (code === C.CLD_KILLED || code === C.CLD_DUMPED) {
      this.#exited({ code: null, signal: signalName(status), core: code === C.CLD_DUMPED });
    } else if (this.#state === 'initial') this.#state = 'running';
  }

  async #waitExit(signal: AbortSignal): Promise<void> {
    try {
      await this.#readiness!.wait(READABLE, { signal });
    } catch {
      return; // closed
    }
    if (this.mode === 'child') {
      this._poll();
      if (this.#state !== 'exited') this.#exitFromElsewhere();
    } else {
      this.#exited(await this.#exitInfo(signal));
    }
  }

  // The pidfd turns readable when the process exits, but the kernel records its status (PIDFD_INFO_EXIT,
  // 6.15+) only when its parent reaps it, which is usually a moment later: asked again on a short
  // backoff, for at most about half a second, then reported unknown (a parent that never reaps it).
  async #exitInfo(signal: AbortSignal): Promise<ExitStatus> {
    for (let delay = 1; ; delay *= 2) {
      const st = this.#fd >= 0 ? native.pidfdExitStatus(this.#fd) : -1;
      if (st >= 0) return fromWaitStatus(st);
      if (st !== ENODATA || delay > 256 || signal.aborted) return UNKNOWN_EXIT;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  // The child was reaped before waitid saw its zombie: the kernel's exit information (6.15+), else
  // child_process's own record of it.
  #exitFromElsewhere(): void {
    if (this.#state === 'exited') return;
    const st = this.#fd >= 0 ? native.pidfdExitStatus(this.#fd) : -1;
    if (st >= 0) return this.#exited(fromWaitStatus(st));
    const c = this.#child;
    if (c && (c.exitCode !== null || c.signalCode !== null)) {
      return this.#exited({ code: c.exitCode, signal: c.signalCode, core: false });
    }
    if (c) {
      this.#state = 'exited';
      c.once('exit', (code, sig) => this.#exited({ code, signal: sig, core: false }, true));
      return;
    }
    this.#exited(UNKNOWN_EXIT);
  }

  #exited(st: ExitStatus, force = false): void {
    if (this.#state === 'exited' && !force) return;
    this.#state = 'exited';
    this.#queue.push({ type: 'exited', pid: this.pid, ...st });
    this.#queue.end();
    this.#release();
  }

  #fail(err: Error): void {
    this.#queue.fail(err);
    this.#closed = true;
    this.#release();
    void this.#tracer?.close();
  }

  #release(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
    if (childWatchers.delete(this) && childWatchers.size === 0) process.off('SIGCHLD', onSigchld);
    this.#loop?.abort();
    this.#loop = undefined;
    if (this.#readiness) {
      this.#readiness.close(); // the poll handle goes before the fd it watches
      this.#readiness = undefined;
    }
    if (this.#fd >= 0) native.close(this.#fd);
    this.#fd = -1;
  }
}

function isChildProcess(v: unknown): v is ChildProcess {
  return typeof v === 'object' && v !== null && typeof (v as ChildProcess).pid !== 'undefined' && typeof (v as ChildProcess).kill === 'function';
}

function openPidfd(pid: number): number {
  const fd = native.pidfdOpen(pid);
  if (fd === ENOSYS) throw new IpcError('ERR_IPC_UNSUPPORTED', 'pidfd_open(2) is not available (Linux >= 5.3 needed)');
  if (fd === ESRCH) throw noSuchProcess(fd, 'pidfd_open', pid);
  return check(fd, 'pidfd_open');
}

/**
 * Watches a process's state changes: an async iterable of `stopped { signal }`, `continued` and
 * `exited { code | signal, core }`, ending after `exited`.
 *
 * - `target` a `ChildProcess` (or the pid of a child): stops, continues and the exit, from waitid(2)
 *   with WNOWAIT. The child is never reaped here: its `exit` event fires as usual.
 * - any other pid: the exit only (pidfd), with its status on Linux 6.15+; pass `{ trace: true }` to see
 *   stops and continues through a tracer (which needs ptrace permission; see Tracer.attach).
 *
 * @example
 * ```ts
 * import { spawn } from 'node:child_process';
 * const child = spawn('sleep', ['10']);
 * for await (const ev of processes.watch(child, { signal: AbortSignal.timeout(20_000) })) console.log(ev);
 * ```
 */
export function watch(target: number | ChildProcess, opts: ProcessWatchOptions = {}): ProcessWatcher {
  validateOptions(opts);
  validateWaitOptions({ signal: opts.signal });
  let pid: number;
  let child: ChildProcess | undefined;
  if (isChildProcess(target)) {
    child = target;
    if (target.pid === undefined) throw new IpcError('ERR_IPC_UNSUPPORTED', 'the child process has no pid (it failed to spawn)');
    pid = target.pid;
  } else pid = validateInteger('target', target, 1, 2 ** 31 - 1);
  // A ChildProcess whose exit event has fired was reaped already: its pid names nothing (ESRCH) or, by
  // now, another process. Its exit is what child_process recorded.
  if (child && (child.exitCode !== null || child.signalCode !== null)) return new ProcessWatcher(pid, child, -1, 'child', opts);
  const fd = openPidfd(pid);
  const probe = native.waitidPidfd(fd, C.WNOHANG | C.WNOWAIT | C.WEXITED | C.WSTOPPED | C.WCONTINUED);
  const isChild = probe !== ECHILD || (child !== undefined && (child.exitCode !== null || child.signalCode !== null));
  if (isChild) return new ProcessWatcher(pid, child, fd, 'child', opts);
  if (opts.trace !== true) return new ProcessWatcher(pid, child, fd, 'pidfd', opts);
  native.close(fd);
  const w = new ProcessWatcher(pid, child, -1, 'trace', opts);
  w._attachTracer(Tracer.attach(pid, { hold: false, ref: opts.ref, signal: opts.signal }));
  return w;
}

// ---- the tracer ------------------------------------------------------------------------------------

const K = { attached: 0, signal: 1, stopped: 2, continued: 3, exit: 4, exec: 5, detached: 6, ended: 7, fork: 8 } as const;

const SEGV_CODES = ['SEGV_MAPERR', 'SEGV_ACCERR', 'SEGV_BNDERR', 'SEGV_PKUERR', 'SEGV_ACCADI', 'SEGV_ADIDERR', 'SEGV_ADIPERR', 'SEGV_MTEAERR', 'SEGV_MTESERR', 'SEGV_CPERR'];
const BUS_CODES = ['BUS_ADRALN', 'BUS_ADRERR', 'BUS_OBJERR', 'BUS_MCEERR_AR', 'BUS_MCEERR_AO'];
const ILL_CODES = ['ILL_ILLOPC', 'ILL_ILLOPN', 'ILL_ILLADR', 'ILL_ILLTRP', 'ILL_PRVOPC', 'ILL_PRVREG', 'ILL_COPROC', 'ILL_BADSTK', 'ILL_BADIADDR'];
const FPE_CODES = ['FPE_INTDIV', 'FPE_INTOVF', 'FPE_FLTDIV', 'FPE_FLTOVF', 'FPE_FLTUND', 'FPE_FLTRES', 'FPE_FLTINV', 'FPE_FLTSUB', 'FPE_FLTUNK', 'FPE_CONDTRAP'];
const TRAP_CODES = ['TRAP_BRKPT', 'TRAP_TRACE', 'TRAP_BRANCH', 'TRAP_HWBKPT', 'TRAP_UNK', 'TRAP_PERF'];
const CLD_CODES = ['CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED'];
const FAULTS: Record<string, string[]> = { SIGSEGV: SEGV_CODES, SIGBUS: BUS_CODES, SIGILL: ILL_CODES, SIGFPE: FPE_CODES, SIGTRAP: TRAP_CODES };

type RawSiginfo = TraceSiginfo;

/**
 * A signal on its way to the tracee (a signal-delivery stop): the tracee is held until you call
 * `deliver()`, `suppress()` or `replace(sig)`, or read the next event (which delivers it).
 *
 * @example
 * ```ts
 * for await (const ev of tracer) {
 *   if (ev.type === 'signal' && ev.signal === 'SIGSEGV') { console.log(ev.code, ev.addr); ev.suppress(); }
 * }
 * ```
 */
export interface SignalStop {
  /** `'signal'`: a signal-delivery stop. */
  type: 'signal';
  /** The thread that stopped (the pid for a single-threaded tracee). */
  tid: number;
  /** The signal's name (`'SIGSEGV'`). */
  signal: string;
  /** Its number. */
  signo: number;
  /** si_code by name: 'SI_USER' (kill), 'SI_QUEUE', 'SI_TKILL', 'SI_KERNEL', 'SEGV_MAPERR', 'FPE_INTDIV', ... */
  code: string;
  /** The faulting address (si_addr), for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP raised by the CPU. */
  addr?: bigint;
  /** The sender (si_pid, si_uid) of a signal sent by a process (kill, sigqueue, tgkill) or of SIGCHLD. */
  pid?: number;
  /** The sender's real uid (si_uid), with `pid`. */
  uid?: number;
  /** SIGCHLD's child status (si_status). */
  status?: number;
  /** The value of a sigqueue(3) (si_value.sival_int). */
  value?: number;
  /** Whether a decision was made (or the tracer moved on). */
  readonly decided: boolean;
  /** Let the signal through (the default). */
  deliver(): void;
  /** Drop it: the tracee runs on as if it never came (a fault re-executes the faulting instruction). */
  suppress(): void;
  /** Deliver another signal in its place. */
  replace(sig: SignalSpec): void;
}

/**
 * The tracee is exiting (PTRACE_EVENT_EXIT): its status, while the process still exists (`live`)
 * and /proc/PID still shows it. `live` is false when it was killed by SIGKILL, which stops nowhere.
 *
 * @example
 * ```ts
 * if (ev.type === 'exit') console.log(ev.code ?? ev.signal, fs.readFileSync(`/proc/${ev.tid}/status`, 'utf8'));
 * ```
 */
export interface ExitStop extends ExitStatus {
  /** `'exit'`: the tracee is exiting. */
  type: 'exit';
  /** The thread that is exiting. */
  tid: number;
  /** Whether the process still exists while stopped here (false after SIGKILL). */
  live: boolean;
  /** Let it finish exiting (reading the next event does it too). */
  resume(): void;
}

/**
 * What a tracer reports.
 *
 * @example
 * ```ts
 * for await (const ev of tracer) if (ev.type === 'stopped') console.log('group stop by', ev.signal);
 * ```
 */
export type TraceEvent =
  | SignalStop
  | {
      /** A group stop (SIGSTOP, SIGTSTP, ...), held with PTRACE_LISTEN. */
      type: 'stopped';
      /** The thread that stopped. */
      tid: number;
      /** The signal that stopped it. */
      signal: string;
    }
  | {
      /** Continued (SIGCONT). */
      type: 'continued';
      /** The thread. */
      tid: number;
    }
  | {
      /** The tracee ran execve(2). */
      type: 'exec';
      /** The thread, now the thread-group leader. */
      tid: number;
      /** The thread that called execve (another thread of the group, or `tid` itself). */
      formerTid: number;
    }
  | {
      /** A fork(2) or vfork(2) of the tracee (with `{ fork: true }`); the new process runs untraced. */
      type: 'fork';
      /** The thread that forked. */
      tid: number;
      /** The new process. */
      child: number;
      /** Which call made it. */
      via: 'fork' | 'vfork';
    }
  | {
      /** A new thread of the tracee (with `{ clone: true }`); it runs untraced. */
      type: 'clone';
      /** The thread that created it. */
      tid: number;
      /** The new thread. */
      thread: number;
    }
  | ExitStop;

/**
 * Options of `Tracer.attach` and `Tracer.spawn`; `signal`/`timeout` bound the attach itself.
 *
 * @example
 * ```ts
 * await Tracer.attach(pid, { exitKill: true, timeout: 5000 });
 * ```
 */
export interface TracerOptions extends WaitOptions {
  /**
   * PTRACE_O_EXITKILL: the kernel sends the tracee SIGKILL if this process dies while tracing it.
   * Without it (the default) a tracer's death detaches and the tracee runs on.
   */
  exitKill?: boolean;
  /**
   * Hold the tracee at each signal and at its exit until you decide (default true). With false every
   * signal is delivered at once and the events are only reports.
   */
  hold?: boolean;
  /** Keep this process alive while tracing. Default true. */
  ref?: boolean;
  /** Report each fork(2)/vfork(2) of the tracee (`fork` events); the new process is not traced. */
  fork?: boolean;
  /** Report each new thread (`clone` events); it is not traced. */
  clone?: boolean;
}

/** A stdio slot of a traced spawn: 'inherit' (default), 'ignore' (/dev/null) or an fd of this process. */
export type TracerStdio = 'inherit' | 'ignore' | number;

/**
 * Options of `Tracer.spawn`.
 *
 * @example
 * ```ts
 * const { reader, writer } = pipe();
 * await Tracer.spawn('./crash', [], { stdio: ['ignore', writer.fd, 'inherit'] });
 * ```
 */
export interface TracerSpawnOptions extends TracerOptions {
  /** The working directory of the tracee (default ours). */
  cwd?: string;
  /** The environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** stdin, stdout, stderr. */
  stdio?: TracerStdio | [TracerStdio, TracerStdio, TracerStdio];
}

type PermissionReason = 'self' | 'uid' | 'yama' | 'traced' | 'capability';

function readProc(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function statusField(status: string | undefined, field: string): string[] | undefined {
  const m = status && new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(status);
  return m ? m[1]!.trim().split(/\s+/) : undefined;
}

function hasCapSysPtrace(): boolean {
  const eff = statusField(readProc('/proc/self/status'), 'CapEff')?.[0];
  return eff !== undefined && ((BigInt('0x' + eff) >> 19n) & 1n) === 1n; // CAP_SYS_PTRACE is 19
}

function isDescendant(pid: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 4096; hops++) {
    const stat = readProc(`/proc/${p}/stat`);
    if (!stat) return false;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid) return true;
    p = ppid;
  }
  return false;
}

/** Which rule of ptrace(2)'s access mode check (ptrace(2), "Ptrace access mode checking") refused. */
function whyNotPermitted(pid: number): { reason: PermissionReason; detail: string } {
  if (pid === process.pid) return { reason: 'self', detail: 'a process cannot trace itself' };
  const status = readProc(`/proc/${pid}/status`);
  const cap = hasCapSysPtrace();
  const myUid = process.getuid?.() ?? -1;
  const uids = statusField(status, 'Uid')?.slice(0, 3).map(Number);
  if (!cap && uids && uids.some((u) => u !== myUid)) {
    return {
      reason: 'uid',
      detail: `process ${pid} runs as uid ${[...new Set(uids)].join('/')} and this process as uid ${myUid}, and CAP_SYS_PTRACE is missing`,
    };
  }
  const scope = readProc('/proc/sys/kernel/yama/ptrace_scope')?.trim();
  if (scope === '3') return { reason: 'yama', detail: 'kernel.yama.ptrace_scope is 3: no process may be traced (until reboot)' };
  if (scope === '2' && !cap) return { reason: 'yama', detail: 'kernel.yama.ptrace_scope is 2: only a process with CAP_SYS_PTRACE may trace' };
  if (scope === '1' && !cap && !isDescendant(pid)) {
    return {
      reason: 'yama',
      detail: `kernel.yama.ptrace_scope is 1: only descendants may be traced (process ${pid} is not one; it may allow this one with prctl(PR_SET_PTRACER)), or CAP_SYS_PTRACE is needed`,
    };
  }
  const tracerTid = Number(statusField(status, 'TracerPid')?.[0] ?? 0);
  // TracerPid is the tracing thread; its Tgid is the process.
  const tracer = Number(statusField(readProc(`/proc/${tracerTid}/status`), 'Tgid')?.[0] ?? tracerTid);
  if (tracerTid !== 0) {
    return { reason: 'traced', detail: `process ${pid} is already traced by ${tracer === process.pid ? 'this process' : `process ${tracer}`}` };
  }
  return { reason: 'capability', detail: `CAP_SYS_PTRACE is missing (process ${pid} is not dumpable, e.g. a setuid program, or lives in another user namespace)` };
}

function attachError(rc: number, pid: number): NodeJS.ErrnoException {
  if (rc === ESRCH) return noSuchProcess(rc, 'ptrace', pid);
  const err = errnoException(rc, 'ptrace') as NodeJS.ErrnoException & { pid: number; reason?: PermissionReason };
  err.pid = pid;
  if (rc === EPERM) {
    const { reason, detail } = whyNotPermitted(pid);
    err.reason = reason;
    err.message += ` (PTRACE_SEIZE of process ${pid}: ${detail})`;
  } else err.message += ` (PTRACE_SEIZE of process ${pid})`;
  return err;
}

function resolveFile(file: string, env: NodeJS.ProcessEnv): string {
  if (file.includes('/')) return path.resolve(file);
  for (const dir of (env.PATH ?? process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.resolve(dir || '.', file);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  throw errnoException(errno('ENOENT'), 'spawn', file);
}

/**
 * A tracer: ptrace(2) with PTRACE_SEIZE on one native thread dedicated to the tracee. The tracee is not
 * stopped by attaching; each signal on its way to it stops it until you decide; group stops and
 * continues, exec and the exit are reported. `detach()` and `close()` leave it running.
 *
 * Only the thread `pid` is traced (the whole process when it is single-threaded). A process that
 * child_process spawned cannot be attached: libuv's waitpid(2) for it would take the tracer's stops.
 * Spawn it with `Tracer.spawn()` instead.
 *
 * @example
 * ```ts
 * await using t = await Tracer.spawn('./crash', []);
 * for await (const ev of t) {
 *   if (ev.type === 'signal') console.log(ev.signal, ev.code, ev.addr); // SIGSEGV SEGV_MAPERR 4096n
 *   if (ev.type === 'exit') console.log('exit', ev.code ?? ev.signal);
 * }
 * ```
 */
export class Tracer implements AsyncIterable<TraceEvent>, AsyncDisposable {
  /** The traced process. */
  readonly pid: number;
  readonly #id: number;
  readonly #hold: boolean;
  readonly #spawned: boolean;
  readonly #queue: EventQueue<TraceEvent>;
  #held: { ev: TraceEvent; handedOut: boolean; answer: (sig: number) => void } | undefined;
  #state: 'running' | 'stopped' | 'detaching' | 'detached' | 'exited' = 'running';
  #sawExit = false;
  #status: ExitStatus | undefined;
  #statusWaiters: { resolve: (s: ExitStatus) => void; reject: (e: Error) => void }[] = [];
  #detachWaiters: (() => void)[] = [];
  #detachError: NodeJS.ErrnoException | undefined;
  #kicker: NodeJS.Timeout | undefined;
  #refed: boolean;

  private constructor(pid: number, id: number, hold: boolean, spawned: boolean, refed: boolean) {
    this.pid = pid;
    this.#id = id;
    this.#hold = hold;
    this.#spawned = spawned;
    this.#refed = refed;
    this.#queue = new EventQueue(`tracer of process ${pid}`);
    this.#queue.onHandOut = (ev) => {
      if (this.#held?.ev === ev) this.#held.handedOut = true;
    };
  }

  /**
   * Attaches to a running process (PTRACE_SEIZE: it is not stopped). EPERM carries `reason`: 'uid'
   * (another user's process without CAP_SYS_PTRACE), 'yama' (kernel.yama.ptrace_scope), 'traced'
   * (another tracer has it), 'capability' (a non-dumpable process), 'self'; ESRCH names the pid.
   *
   * @example
   * ```ts
   * const t = await Tracer.attach(pid, { timeout: 5000 });
   * ```
   */
  static async attach(pid: number, opts: TracerOptions = {}): Promise<Tracer> {
    validateInteger('pid', pid, 1, 2 ** 31 - 1);
    validateOptions(opts);
    validateWaitOptions(opts);
    if (pid === process.pid) throw attachError(EPERM, pid);
    const stat = readProc(`/proc/${pid}/stat`);
    if (stat && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid && !ownTracees.has(pid)) {
      throw new IpcError(
        'ERR_IPC_UNSUPPORTED',
        `process ${pid} is a child of this process that child_process manages: libuv's waitpid(2) for it would take the tracer's stops; start it with Tracer.spawn() instead`,
        { pid },
      );
    }
    return Tracer.#start({ pid, options: Tracer.#options(opts) }, pid, false, opts);
  }

  /**
   * Starts a program under trace: fork(2) on the tracer thread, PTRACE_SEIZE before its first
   * instruction, then execve(2). The program is a child of this process (the tracer thread reaps it),
   * not a child_process: its exit comes from `exited()`. `file` is looked up in PATH.
   *
   * @example
   * ```ts
   * const t = await Tracer.spawn('sh', ['-c', 'kill -USR1 $$'], { stdio: 'ignore' });
   * ```
   */
  static async spawn(file: string, args: readonly string[] = [], opts: TracerSpawnOptions = {}): Promise<Tracer> {
    if (typeof file !== 'string' || file.length === 0) throw invalidArgType('file', 'a non-empty string', file);
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw invalidArgType('args', 'an array of strings', args);
    validateOptions(opts);
    validateWaitOptions(opts);
    const env = opts.env ?? process.env;
    const resolved = resolveFile(file, env);
    const slots = Array.isArray(opts.stdio) ? opts.stdio : [opts.stdio ?? 'inherit', opts.stdio ?? 'inherit', opts.stdio ?? 'inherit'];
    if (slots.length !== 3) throw invalidArgType('options.stdio', 'a stdio value or an array of three', opts.stdio);
    const opened: number[] = [];
    const stdio = slots.map((s, i) => {
      if (s === 'inherit' || s === undefined) return i;
      if (s === 'ignore') {
        const fd = fs.openSync('/dev/null', i === 0 ? 'r' : 'w');
        opened.push(fd);
        return fd;
      }
      return validateInteger(`options.stdio[${i}]`, s, 0, 2 ** 31 - 1);
    });
    const envp = Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`);
    try {
      return await Tracer.#start(
        { file: resolved, argv: [file, ...args], envp, cwd: opts.cwd, stdio, options: Tracer.#options(opts) | C.PTRACE_O_TRACEEXEC },
        0,
        true,
        opts,
      );
    } finally {
      for (const fd of opened) fs.closeSync(fd);
    }
  }

  static #options(opts: TracerOptions): number {
    if (opts.exitKill !== undefined && typeof opts.exitKill !== 'boolean') throw invalidArgType('options.exitKill', 'of type boolean', opts.exitKill);
    for (const k of ['fork', 'clone'] as const) {
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw invalidArgType(`options.${k}`, 'of type boolean', opts[k]);
    }
    return (
      C.PTRACE_O_TRACEEXIT |
      C.PTRACE_O_TRACEEXEC |
      (opts.exitKill ? C.PTRACE_O_EXITKILL : 0) |
      (opts.fork ? C.PTRACE_O_TRACEFORK | C.PTRACE_O_TRACEVFORK : 0) |
      (opts.clone ? C.PTRACE_O_TRACECLONE : 0)
    );
  }

  static #start(spec: object, pid: number, spawned: boolean, opts: TracerOptions & { cwd?: string }): Promise<Tracer> {
    const what = spawned ? `spawning ${(spec as { file: string }).file}` : `attaching to process ${pid}`;
    return waitUntil<Tracer>(opts, what, (resolve, reject) => {
      let tracer: Tracer | undefined;
      let settled = false;
      const id = native.tracerStart(spec, (kind, tid, a, b, si) => {
        if (kind === K.attached) {
          if (a < 0) {
            const file = (spec as { file?: string }).file;
            reject(spawned ? errnoException(a, 'execve', file) : attachError(a, pid));
            return;
          }
          const p = spawned ? b : pid;
          if (spawned) ownTracees.add(p);
          tracer = new Tracer(p, id, opts.hold !== false, spawned, opts.ref !== false);
          if (opts.ref === false) native.tracerRef(id, false);
          // Given up meanwhile (aborted, timed out): the attach succeeded on its thread all the same, so
          // detach, leaving the process as it was.
          if (settled) void tracer.close();
          else resolve(tracer);
          return;
        }
        tracer?._event(kind, tid, a, b, si as RawSiginfo | undefined);
      });
      if (id < 0) throw errnoException(id, 'pthread_create');
      return () => {
        settled = true;
      };
    });
  }

  /** 'running', 'stopped' (a group stop), 'detaching', 'detached' or 'exited'. */
  get state(): string {
    return this.#state;
  }

  /** How the tracee ended, once it has. */
  get exitStatus(): ExitStatus | undefined {
    return this.#status;
  }

  /**
   * The next event; `{ done: true }` once the tracee has exited or the tracer detached. Reading the
   * next event lets an undecided signal through. Honours `{ signal, timeout }`.
   */
  next(opts?: WaitOptions): Promise<IteratorResult<TraceEvent>> {
    validateWaitOptions(opts);
    const h = this.#held;
    if (h && h.handedOut) h.answer(-1);
    return this.#queue.next(opts);
  }

  /** Events as `next()` gives them, until the tracee exits or the tracer closes. */
  [Symbol.asyncIterator](): AsyncIterator<TraceEvent> {
    return {
      next: () => this.next(),
      return: async () => ({ value: undefined, done: true }),
    };
  }

  /**
   * Resolves with how the tracee ended. For an attached process (not a child) the status comes from
   * its exit stop; after `detach()` from such a process it rejects with ERR_IPC_CLOSED (use
   * `processes.watch(pid)` then). Honours `{ signal, timeout }`.
   */
  exited(opts: WaitOptions = {}): Promise<ExitStatus> {
    validateWaitOptions(opts);
    // Whoever waits for the end is done deciding: the stop held now, and any no reader takes while
    // this waits, let the tracee go on (signals delivered).
    const h = this.#held;
    if (h) h.answer(-1);
    if (this.#status) return Promise.resolve(this.#status);
    if (this.#state === 'detached' && !this.#spawned) return Promise.reject(closedError(`tracer of process ${this.pid}`, 'exited'));
    return waitUntil<ExitStatus>(opts, `waiting for process ${this.pid} to exit`, (resolve, reject) => {
      const w = { resolve, reject };
      this.#statusWaiters.push(w);
      this.#updateRef();
      return () => {
        const i = this.#statusWaiters.indexOf(w);
        if (i >= 0) this.#statusWaiters.splice(i, 1);
        this.#updateRef();
      };
    });
  }

  /**
   * Detaches: the tracee runs on untraced. A signal it is held at is delivered; a tracee in a group
   * stop (someone sent it SIGSTOP) stays in that stop, as it would untraced. Honours `{ signal, timeout }`
   * for the wait (the detach itself goes on).
   */
  async detach(opts: WaitOptions = {}): Promise<void> {
    validateWaitOptions(opts);
    if (this.#state === 'detached' || this.#state === 'exited') return;
    if (this.#state !== 'detaching') {
      this.#state = 'detaching';
      native.tracerDetach(this.#id);
      let delay = 1;
      const kick = () => {
        if (!native.tracerKick(this.#id)) return;
        delay = Math.min(delay * 2, 50);
        this.#kicker = setTimeout(kick, delay);
      };
      this.#kicker = setTimeout(kick, delay);
    }
    await waitUntil<void>(opts, `detach from process ${this.pid}`, (resolve) => {
      this.#detachWaiters.push(resolve);
      return () => {
        const i = this.#detachWaiters.indexOf(resolve);
        if (i >= 0) this.#detachWaiters.splice(i, 1);
      };
    });
    if (this.#detachError) throw this.#detachError;
  }

  /** Detaches if still attached (idempotent); the tracee keeps running. */
  async close(): Promise<void> {
    await this.detach();
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Let this process exit while tracing (the kernel then detaches, or kills with `exitKill`). */
  unref(): this {
    this.#refed = false;
    this.#updateRef();
    return this;
  }

  /** Undoes `unref()`: tracing keeps the process alive again (the default). */
  ref(): this {
    this.#refed = true;
    this.#updateRef();
    return this;
  }

  #updateRef(): void {
    if (this.#state === 'exited') return;
    const want = this.#state === 'detached' ? this.#statusWaiters.length > 0 : this.#refed || this.#statusWaiters.length > 0;
    native.tracerRef(this.#id, want);
  }

  /** @internal */
  _event(kind: number, tid: number, a: number, b: number, si: RawSiginfo | undefined): void {
    switch (kind) {
      case K.signal:
        return this.#signalStop(tid, a, si);
      case K.stopped:
        this.#state = 'stopped';
        return this.#queue.push({ type: 'stopped', tid, signal: signalName(a) });
      case K.continued:
        if (this.#state === 'stopped') this.#state = 'running';
        return this.#queue.push({ type: 'continued', tid });
      case K.exec:
        return this.#queue.push({ type: 'exec', tid, formerTid: a });
      case K.exit:
        return this.#exitStop(tid, fromWaitStatus(a), true);
      case K.fork:
        if (b === C.PTRACE_EVENT_CLONE) return this.#queue.push({ type: 'clone', tid, thread: a });
        return this.#queue.push({ type: 'fork', tid, child: a, via: b === C.PTRACE_EVENT_VFORK ? 'vfork' : 'fork' });
      case K.detached: {
        clearTimeout(this.#kicker);
        if (a < 0) this.#detachError = errnoException(a, 'ptrace');
        this.#state = 'detached';
        this.#held = undefined;
        this.#queue.end();
        for (const w of this.#detachWaiters.splice(0)) w();
        if (!this.#spawned) for (const w of this.#statusWaiters.splice(0)) w.reject(closedError(`tracer of process ${this.pid}`, 'exited'));
        this.#updateRef();
        return;
      }
      case K.ended: {
        clearTimeout(this.#kicker);
        ownTracees.delete(this.pid);
        const status = b === 1 ? fromWaitStatus(a) : UNKNOWN_EXIT;
        if (b === 1 || !this.#status) this.#status = b === 1 ? status : this.#status;
        if (this.#state !== 'detached' && !this.#sawExit) this.#exitStop(tid || this.pid, status, false);
        const wasDetached = this.#state === 'detached';
        this.#state = 'exited';
        this.#held = undefined;
        this.#queue.end();
        for (const w of this.#detachWaiters.splice(0)) w();
        if (this.#status) for (const w of this.#statusWaiters.splice(0)) w.resolve(this.#status);
        else if (wasDetached) for (const w of this.#statusWaiters.splice(0)) w.reject(closedError(`tracer of process ${this.pid}`, 'exited'));
        return;
      }
    }
  }

  // A stop nobody will answer: exited() waits and no next() took the event.
  #unattended(): boolean {
    return this.#statusWaiters.length > 0 && this.#held !== undefined && !this.#held.handedOut;
  }

  #hold_(ev: TraceEvent, deliverAs: number): (sig: number) => void {
    let done = false;
    const answer = (sig: number) => {
      if (done) return;
      done = true;
      if (this.#held?.ev === ev) this.#held = undefined;
      native.tracerResume(this.#id, sig < 0 ? deliverAs : sig);
    };
    this.#held = { ev, handedOut: false, answer };
    return answer;
  }

  #signalStop(tid: number, signo: number, si: RawSiginfo | undefined): void {
    const name = signalName(signo);
    let decided = false;
    const ev = { type: 'signal', tid, signal: name, signo, code: 'SI_USER' } as SignalStop & Record<string, unknown>;
    if (si) {
      const faultCodes = FAULTS[name];
      if (si.code > 0 && faultCodes) {
        ev.code = faultCodes[si.code - 1] ?? String(si.code);
        ev.addr = si.addr;
      } else if (si.code > 0 && name === 'SIGCHLD') {
        ev.code = CLD_CODES[si.code - 1] ?? String(si.code);
        ev.pid = si.pid;
        ev.uid = si.uid;
        ev.status = si.status;
      } else {
        ev.code = siCodeName(si.code);
        if (si.code <= 0) {
          ev.pid = si.pid;
          ev.uid = si.uid;
        }
        if (si.code === -1 || si.code === -2 || si.code === -3) ev.value = si.value;
      }
    }
    const answer = this.#hold_(ev, signo);
    const decide = (sig: number) => {
      if (decided) return;
      decided = true;
      answer(sig);
    };
    Object.defineProperties(ev, {
      decided: { get: () => decided, enumerable: true },
      deliver: { value: () => decide(signo) },
      suppress: { value: () => decide(0) },
      replace: { value: (sig: SignalSpec) => decide(signalNumber(sig)) },
    });
    this.#queue.push(ev);
    if (!this.#hold || this.#unattended()) decide(signo);
  }

  #exitStop(tid: number, st: ExitStatus, live: boolean): void {
    this.#sawExit = true;
    this.#status = st;
    const ev = { type: 'exit', tid, ...st, live } as ExitStop;
    const answer = live ? this.#hold_(ev, 0) : () => {};
    Object.defineProperty(ev, 'resume', { value: () => answer(0) });
    this.#queue.push(ev);
    if (!this.#hold || !live || this.#unattended()) answer(0);
  }
}

// Pids this process's tracer threads forked: its children, but not child_process's.
const ownTracees = new Set<number>();

/**
 * `spawn(file, args, { traced: true })`: the same as `Tracer.spawn` (an untraced child is child_process's job).
 *
 * @example
 * ```ts
 * const tracer = await processes.spawn('./server', ['--port', '0'], { traced: true });
 * ```
 */
export function spawn(file: string, args: readonly string[] = [], opts: TracerSpawnOptions & { traced: true }): Promise<Tracer> {
  if (opts?.traced !== true) {
    throw invalidArgType('options.traced', 'true (use child_process.spawn for a child that is not traced)', opts?.traced);
  }
  const { traced: _traced, ...rest } = opts;
  return Tracer.spawn(file, args, rest);
}

/** Live tracer threads and sessions of this environment (for leak tests). */
export function tracerStats(): { threads: number; sessions: number } {
  return native.tracerStats();
}

/**
 * Process management: watch state changes, trace signals.
 *
 * @example
 * ```ts
 * import { processes, Tracer } from 'ipckit';
 * const w = processes.watch(child);
 * const t = await processes.spawn('./crash', [], { traced: true });
 * ```
 */
export const processes = Object.freeze({
  /** Watches a process's stops, continues and exit: a {@link ProcessWatcher}. */
  watch,
  /** `spawn(file, args, { traced: true })`: the same as `Tracer.spawn`. */
  spawn,
  /** The {@link Tracer} class. */
  Tracer,
});
