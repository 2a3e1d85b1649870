/**
 * Signals: section 2 of the classic IPC survey. The kernel notifies a process that something happened
 * (kill, raise, sigqueue, timers, hardware faults) and the process ignores it, catches it, or takes the
 * default action.
 *
 * Node covers the standard signals through `process.on`, but not the realtime ones, not the value a
 * `sigqueue(3)` carries, and not who sent a signal. `signals` adds those without taking anything from
 * Node: libuv keeps the dispositions of the signals Node exposes, and the addon installs its own
 * (SA_SIGINFO) handler only on
 * - the realtime range SIGRTMIN..SIGRTMAX-1 (SIGRTMAX interrupts ipckit's waiter threads), and
 * - a standard signal the caller asked siginfo for explicitly (`{ siginfo: true }`).
 * That handler writes each delivery as a 32-byte record into a non-blocking self-pipe that the event
 * loop watches; see src/native/signal.cc for why it is async-signal-safe and keeps realtime order.
 *
 * @module
 */
import fs from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { native } from './native.js';
import { IpcError, check, errno, errnoException, invalidArgType, noSuchProcess, outOfRange } from './errors.js';
import { Readiness, READABLE, abortError, onAbort } from './internal/wait.js';
import { validateInteger, validateWaitOptions, type WaitOptions } from './internal/validate.js';

const EAGAIN = errno('EAGAIN');
const ESRCH = errno('ESRCH');
const ENOSYS = errno('ENOSYS');

export { SIGRTMIN, SIGRTMAX, signalName, signalNumber, type SignalSpec } from './internal/signal-names.js';
import { SIGRTMIN, SIGRTMAX, siCodeName, signalName, signalNumber, standardSignals, toSigno, type SignalSpec } from './internal/signal-names.js';

// ---- send ------------------------------------------------------------------------------------------

/**
 * Options of `signals.send`.
 *
 * @example
 * ```ts
 * signals.send(pid, 'SIGRTMIN+1', { value: 42 }); // sigqueue(3): the receiver sees value 42, code 'SI_QUEUE'
 * ```
 */
export interface SendOptions {
  /**
   * An integer (-2^31..2^31-1) carried with the signal: sent with sigqueue(3) as `sival_int`, so the
   * receiver sees `si_code` SI_QUEUE and the value. Without it the signal goes by kill(2) (SI_USER).
   */
  value?: number;
}

/**
 * Sends a signal: kill(2), or sigqueue(3) when a `value` is given. `pid` follows kill(2): > 0 one
 * process, 0 the caller's process group, -1 every process the caller may signal, < -1 the group -pid
 * (sigqueue reaches one process only, so a value needs pid > 0). Signal 0 checks that `pid` exists and
 * may be signalled. Failures are system errors: ESRCH (no such process), EPERM (not allowed), EAGAIN
 * (the receiver's queue of realtime signals is full, RLIMIT_SIGPENDING).
 *
 * @example
 * ```ts
 * signals.send(child.pid, 'SIGRTMIN+1', { value: 42 });
 * signals.send(-pgid, 'SIGTERM');   // a whole process group
 * ```
 */
export function send(pid: number, sig: SignalSpec, opts: SendOptions = {}): void {
  validateInteger('pid', pid, -(2 ** 31), 2 ** 31 - 1);
  const signo = toSigno(sig, true);
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  if (opts.value === undefined) {
    const rc = native.kill(pid, signo);
    if (rc === ESRCH) throw noSuchProcess(rc, 'kill', pid);
    check(rc, 'kill');
    return;
  }
  const value = validateInteger('options.value', opts.value, -(2 ** 31), 2 ** 31 - 1);
  if (pid <= 0) throw outOfRange('pid', '> 0 when a value is sent (sigqueue(3) reaches one process)', pid);
  const rc = native.sigqueue(pid, signo, value);
  if (rc === ESRCH) throw noSuchProcess(rc, 'sigqueue', pid);
  check(rc, 'sigqueue');
}

// ---- watch -----------------------------------------------------------------------------------------

/**
 * One delivery.
 *
 * @example
 * ```ts
 * for await (const ev of signals.watch('SIGRTMIN+1')) console.log(ev.signal, ev.pid, ev.value, ev.code);
 * ```
 */
export interface SignalEvent {
  /** Canonical name: 'SIGUSR2', 'SIGRTMIN+3'. */
  signal: string;
  /** Its number (12 for SIGUSR2). */
  signo: number;
  /** The sender's pid (si_pid), when the signal came from a process (kill, sigqueue, tgkill, mq_notify). */
  pid?: number;
  /** The sender's real uid (si_uid), with `pid`. */
  uid?: number;
  /** The sigqueue(3) value (si_value.sival_int), when the signal carries one (SI_QUEUE, SI_TIMER, SI_MESGQ). */
  value?: number;
  /** Where it came from (si_code): 'SI_USER' (kill), 'SI_QUEUE' (sigqueue), 'SI_TKILL', 'SI_KERNEL', ... */
  code?: string;
}

/**
 * Options of `signals.watch`.
 *
 * @example
 * ```ts
 * using w = signals.watch('SIGTERM', { siginfo: true, ref: true, signal: AbortSignal.timeout(60_000) });
 * ```
 */
export interface WatchOptions {
  /** Stops the watcher; iteration then rejects with an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Take standard signals from the kernel with their siginfo (sender pid, uid, si_code) instead of
   * Node's `process.on` (which gives none). Realtime signals always come with siginfo. Default false.
   */
  siginfo?: boolean;
  /** Keep the process alive while this watcher is open. Default false, like `process.on('SIGINT')`. */
  ref?: boolean;
}

// Signals nobody may watch, and why (signal(7); DESIGN.md "The event loop is sacred").
function reservedReason(signo: number): string | undefined {
  if (signo === standardSignals.SIGKILL || signo === standardSignals.SIGSTOP) return 'it cannot be caught, blocked or ignored (signal(7))';
  if (signo === SIGRTMAX) return "ipckit's waiter threads are interrupted with it (src/native/waiter.cc)";
  if (signo > 31 && signo < SIGRTMIN) return 'glibc reserves it for its threads implementation (nptl(7))';
  for (const s of ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP', 'SIGSYS']) {
    if (signo === standardSignals[s]) {
      return 'it reports a fault of the thread that raised it: a handler that returns runs the faulting ' +
        'instruction again, and V8 handles SIGSEGV itself (WebAssembly bounds checks)';
    }
  }
  return undefined;
}

// Standard signals that may be watched through Node only, never with our own handler.
function nodeOnlyReason(signo: number): string | undefined {
  if (signo === standardSignals.SIGCHLD) return 'libuv reaps child processes on it (child_process would stop noticing exits)';
  if (signo === standardSignals.SIGPIPE) return 'Node ignores it so that a write to a closed pipe fails with EPIPE';
  if (signo === standardSignals.SIGPROF) return "V8's sampling profiler runs on it";
  return undefined;
}

function reserved(signo: number, why: string): IpcError {
  const name = signalName(signo);
  return new IpcError('ERR_IPC_SIGNAL_RESERVED', `${name} cannot be watched: ${why}`, { signal: name, signo });
}

const isRealtime = (signo: number) => signo >= SIGRTMIN && signo <= SIGRTMAX;

interface Entry {
  mode: 'siginfo' | 'node';
  watchers: Set<SignalWatcher>;
  listener?: () => void;
}

const SENDER_CODES = new Set([0, -1, -3, -6]); // si_pid/si_uid are the sender's (sigaction(2))
const VALUE_CODES = new Set([-1, -2, -3]); // si_value is set

const RECORD = 32;

/**
 * The process-wide side: one self-pipe, one readiness watch on it, one entry per watched signal.
 * Dispositions belong to the process, so this is a singleton and only the main thread may use it.
 */
class Hub {
  readonly entries = new Map<number, Entry>();
  #fd = -1;
  #readiness: Readiness | undefined;
  #pumping = false;
  readonly #onReadable = (): void => this.#drain();
  #buf = Buffer.alloc(64 * 1024);
  #refed = new Set<SignalWatcher>();

  add(w: SignalWatcher, signos: number[], siginfo: boolean): void {
    // Decide everything first, so that a refusal installs nothing.
    const plan: { signo: number; mode: 'siginfo' | 'node' | 'join' }[] = [];
    for (const signo of signos) {
      const why = reservedReason(signo);
      if (why) throw reserved(signo, why);
      const existing = this.entries.get(signo);
      if (isRealtime(signo)) {
        plan.push({ signo, mode: existing ? 'join' : 'siginfo' });
        continue;
      }
      if (siginfo) {
        const nodeOnly = nodeOnlyReason(signo);
        if (nodeOnly) throw reserved(signo, `with siginfo, because ${nodeOnly}; watch it without { siginfo }`);
        if (existing?.mode === 'siginfo') plan.push({ signo, mode: 'join' });
        else if (process.listenerCount(signalName(signo)) > 0) {
          throw reserved(signo, 'with siginfo, because process.on listeners are installed for it (Node would stop seeing it)');
        } else plan.push({ signo, mode: 'siginfo' });
      } else {
        // A signal already taken with siginfo feeds plain watchers too (with more fields than they asked for).
        plan.push({ signo, mode: existing ? 'join' : 'node' });
      }
    }
    const done: number[] = [];
    try {
      for (const { signo, mode } of plan) {
        if (mode === 'join') this.entries.get(signo)!.watchers.add(w);
        else if (mode === 'siginfo') {
          this.#ensurePipe();
          clearTimeout(restoring.get(signo)); // our handler is still installed: take it over again
          restoring.delete(signo);
          check(native.sigWatch(signo), 'sigaction');
          steer(signo);
          this.entries.set(signo, { mode, watchers: new Set([w]) });
        } else {
          const name = signalName(signo);
          const entry: Entry = { mode, watchers: new Set([w]) };
          entry.listener = () => this.#deliver(entry, { signal: name, signo });
          process.on(name as NodeJS.Signals, entry.listener);
          this.entries.set(signo, entry);
        }
        done.push(signo);
      }
    } catch (err) {
      this.remove(w, done);
      throw err;
    }
    if (w.refed) this.#refed.add(w);
    this.#update();
    if (signos.includes(standardSignals.SIGUSR1!)) {
      process.emitWarning(
        'SIGUSR1 is reserved by Node.js to start the inspector: while it is watched, `kill -USR1` no longer opens the debugger',
        { code: 'IPCKIT_SIGUSR1' },
      );
    }
  }

  remove(w: SignalWatcher, signos: number[]): void {
    // Hand out what is already in the pipe first: it was delivered while the watchers were open.
    if (this.#fd >= 0) this.#drain();
    for (const signo of signos) {
      const entry = this.entries.get(signo);
      if (!entry?.watchers.delete(w) || entry.watchers.size > 0) continue;
      this.entries.delete(signo);
      if (entry.mode === 'siginfo') {
        restore(signo);
      } else process.off(signalName(signo) as NodeJS.Signals, entry.listener!);
    }
    this.#refed.delete(w);
    this.#update();
  }

  #ensurePipe(): void {
    if (this.#fd >= 0) return;
    this.#fd = check(native.sigPipe(), 'pipe2');
    this.#readiness = new Readiness(this.#fd, 'signal pipe');
    this.#readiness.unref();
  }

  // The pump runs while a siginfo signal is watched, or while a watcher wants the process kept alive
  // (Node's own signal handles never keep it alive, so the pipe's poll handle does that job).
  #update(): void {
    let siginfo = false;
    for (const e of this.entries.values()) if (e.mode === 'siginfo') siginfo = true;
    const want = siginfo || this.#refed.size > 0;
    if (want && !this.#pumping) {
      this.#ensurePipe();
      // A persistent interest, not a wait per delivery: the poll handle stays armed, so a delivery
      // costs one read(2), no epoll_ctl and no promise before the watchers see it.
      this.#readiness!.listen(READABLE, this.#onReadable);
      this.#pumping = true;
    } else if (!want && this.#pumping) {
      this.#readiness!.listen(0);
      this.#pumping = false;
    }
    if (this.#refed.size > 0) this.#readiness?.ref();
    else this.#readiness?.unref();
  }

  #drain(): void {
    const buf = this.#buf;
    for (;;) {
      const n = native.sigRead(this.#fd, buf);
      if (n === EAGAIN || n === 0) break;
      if (n < 0) throw errnoException(n, 'read');
      // Records are written atomically and read in multiples of their size, so n is a multiple of 32.
      for (let off = 0; off + RECORD <= n; off += RECORD) this.#record(buf, off);
      if (n < buf.length) break;
    }
    for (const [signo, entry] of this.entries) {
      if (entry.mode !== 'siginfo') continue;
      const lost = native.sigDropped(signo);
      if (lost === 0) continue;
      for (const w of entry.watchers) w._dropped(lost);
      process.emitWarning(`${lost} deliveries of ${signalName(signo)} were lost: the signal pipe was full`, {
        code: 'IPCKIT_SIGNALS_DROPPED',
      });
    }
  }

  #record(buf: Buffer, off: number): void {
    const signo = buf.readInt32LE(off);
    const entry = this.entries.get(signo);
    if (!entry || entry.mode !== 'siginfo') return; // a late delivery after its watchers went
    const code = buf.readInt32LE(off + 4);
    const ev: SignalEvent = { signal: signalName(signo), signo, code: siCodeName(code) };
    if (SENDER_CODES.has(code)) {
      ev.pid = buf.readInt32LE(off + 8);
      ev.uid = buf.readUInt32LE(off + 12);
    }
    if (VALUE_CODES.has(code)) ev.value = buf.readInt32LE(off + 16);
    this.#deliver(entry, ev);
  }

  #deliver(entry: Entry, ev: SignalEvent): void {
    for (const w of entry.watchers) w._push(ev);
  }
}

/** The signal masks of this process's threads other than the main one, from /proc (proc(5)). */
function* otherThreads(): Generator<{ tid: number; blocked: bigint; pending: bigint }> {
  for (const name of fs.readdirSync('/proc/self/task')) {
    const tid = Number(name);
    if (tid === process.pid) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/self/task/${name}/status`, 'utf8');
    } catch {
      continue; // the thread has exited
    }
    const field = (f: string) => BigInt('0x' + (new RegExp(`^${f}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'));
    yield { tid, blocked: field('SigBlk'), pending: field('SigPnd') };
  }
}

/**
 * Makes every thread but the main one block `signo`, so that deliveries are handled by the main thread
 * alone, one after the other, in the kernel's order (two threads in the handler at once could write
 * their records in either order). Threads cannot change each other's masks, so each thread that does
 * not block it yet gets a thread-directed "steering" signal whose handler blocks it there
 * (src/native/signal.cc). A thread started later takes at most one delivery (which may overtake another)
 * before its handler steers it too.
 */
function steer(signo: number): void {
  const bit = 1n << BigInt(signo - 1);
  for (const { tid, blocked } of otherThreads()) {
    if ((blocked & bit) === 0n) native.sigSteer(tid, signo); // ESRCH: the thread exited meanwhile
  }
}

/** A steering signal still pending in some thread: restoring SIG_DFL now would let it kill the process. */
function steeringPending(signo: number): boolean {
  const bit = 1n << BigInt(signo - 1);
  for (const { pending } of otherThreads()) if ((pending & bit) !== 0n) return true;
  return false;
}

// Restores deferred until the steering signals of a watch have been taken (normally at once: the
// threads were woken by them). A thread that blocks the signal with a steering signal pending would
// hold it forever: after a second of that, ipckit keeps its own handler, which ignores steering.
const restoring = new Map<number, NodeJS.Timeout>();

function restore(signo: number, attempt = 0): void {
  restoring.delete(signo);
  if (steeringPending(signo)) {
    if (attempt < 1000) restoring.set(signo, setTimeout(() => restore(signo, attempt + 1), 1).unref());
    return;
  }
  check(native.sigUnwatch(signo), 'sigaction');
  native.sigDropped(signo);
}

let hub: Hub | undefined;

/**
 * The deliveries of one or more signals, as an async iterable. Created by `signals.watch()`; closing it
 * (or breaking out of `for await`) stops watching, and the last watcher of a signal restores the
 * disposition that was in force before. Every watcher of a signal sees every delivery.
 *
 * There is no finalisation guard: the process-wide hub holds every open watcher, so an unclosed watcher
 * is never garbage-collected; it is simply still watching.
 *
 * @example
 * ```ts
 * const w = signals.watch('SIGRTMIN+1', { ref: true });
 * const { value } = await w.next();            // one delivery
 * console.log(value.pid, value.value, w.dropped);
 * w.close();                                   // the previous disposition is back
 * ```
 */
export class SignalWatcher implements AsyncIterableIterator<SignalEvent>, Disposable, AsyncDisposable {
  /** Canonical names of the watched signals. */
  readonly signals: readonly string[];
  /** @internal */
  readonly refed: boolean;
  readonly #signos: number[];
  #queue: SignalEvent[] = [];
  #head = 0;
  #waiting: { resolve: (r: IteratorResult<SignalEvent>) => void; reject: (e: Error) => void }[] = [];
  #closed = false;
  #error: Error | undefined;
  #dropped = 0;
  #stopListening: (() => void) | undefined;

  /** @internal Use `signals.watch()`. */
  constructor(signos: number[], opts: WatchOptions) {
    this.#signos = signos;
    this.signals = signos.map(signalName);
    this.refed = opts.ref === true;
    const { signal } = opts;
    if (signal?.aborted) {
      this.#closed = true;
      this.#error = abortError(signal);
      return;
    }
    hub ??= new Hub();
    hub.add(this, signos, opts.siginfo === true);
    this.#stopListening = onAbort(signal, () => this.#fail(abortError(signal!)));
  }

  /** Deliveries lost because the signal pipe was full (the event loop stalled for a long burst). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether `close()` was called (or the watcher ended). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The next delivery; `{ done: true }` once closed. */
  next(): Promise<IteratorResult<SignalEvent>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#error) {
      const err = this.#error;
      this.#error = undefined;
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Called by `break` in `for await`: closes the watcher. */
  async return(): Promise<IteratorResult<SignalEvent>> {
    this.close();
    return { value: undefined, done: true };
  }

  /** The watcher is its own iterator: `for await (const ev of watcher)`. */
  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops watching (idempotent); pending `next()` calls resolve `{ done: true }`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    for (const w of this.#waiting.splice(0)) w.resolve({ value: undefined, done: true });
  }

  /** Alias of `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** @internal */
  _push(ev: SignalEvent): void {
    if (this.#closed) return;
    const w = this.#waiting.shift();
    if (w) w.resolve({ value: ev, done: false });
    else this.#queue.push(ev);
  }

  /** @internal */
  _dropped(n: number): void {
    this.#dropped += n;
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    this.#queue = [];
    this.#head = 0;
    const waiting = this.#waiting.splice(0);
    if (waiting.length === 0) this.#error = err;
    for (const w of waiting) w.reject(err);
  }

  #detach(): void {
    this.#stopListening?.();
    this.#stopListening = undefined;
    hub?.remove(this, this.#signos);
  }
}

/**
 * Watches signals: an async iterable of `{ signal, signo, pid, uid, value, code }`.
 *
 * - Realtime signals (SIGRTMIN..SIGRTMAX-1) come from the kernel with their siginfo and are not
 *   coalesced: 1000 sigqueue'd values arrive as 1000 events, in the order they were sent.
 * - Standard signals go through Node's own `process.on` (no sender, no value; several deliveries while
 *   one is pending merge into one, signal(7)), unless `{ siginfo: true }` asks for the kernel's siginfo.
 * - SIGKILL, SIGSTOP, SIGRTMAX, the fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS)
 *   throw ERR_IPC_SIGNAL_RESERVED; SIGCHLD, SIGPIPE and SIGPROF only through Node. Watching SIGUSR1
 *   warns (IPCKIT_SIGUSR1): it is the inspector's signal.
 *
 * The watcher does not keep the process alive unless `{ ref: true }`. Main thread only: dispositions
 * are process-wide, and a worker's watch throws ERR_IPC_UNSUPPORTED.
 *
 * @example
 * ```ts
 * using w = signals.watch(['SIGRTMIN+1', 'SIGUSR2'], { siginfo: true, ref: true });
 * for await (const ev of w) console.log(ev.signal, 'from', ev.pid, 'uid', ev.uid, 'value', ev.value);
 * ```
 */
export function watch(sigs: SignalSpec | readonly SignalSpec[], opts: WatchOptions = {}): SignalWatcher {
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  validateWaitOptions({ signal: opts.signal });
  if (opts.siginfo !== undefined && typeof opts.siginfo !== 'boolean') {
    throw invalidArgType('options.siginfo', 'of type boolean', opts.siginfo);
  }
  if (opts.ref !== undefined && typeof opts.ref !== 'boolean') throw invalidArgType('options.ref', 'of type boolean', opts.ref);
  const list = Array.isArray(sigs) ? sigs : [sigs as SignalSpec];
  if (list.length === 0) throw outOfRange('signals', 'at least one signal', sigs);
  const signos = [...new Set(list.map((s) => signalNumber(s)))];
  if (!isMainThread) {
    throw new IpcError('ERR_IPC_UNSUPPORTED', 'signals.watch() works on the main thread only: dispositions belong to the whole process');
  }
  return new SignalWatcher(signos, opts);
}

// ---- exited ----------------------------------------------------------------------------------------

/**
 * Resolves when process `pid` exits: any process, not only a child (pidfd_open(2), watched by the event
 * loop; no thread, no polling). It does not reap a child: Node's child_process still sees the exit. A
 * pid that names no process rejects with ESRCH; a kernel without pidfd (before 5.3) with
 * ERR_IPC_UNSUPPORTED. Honours `{ signal, timeout }`.
 *
 * @example
 * ```ts
 * await signals.exited(Number(await fs.readFile('/run/daemon.pid', 'utf8')), { timeout: 5000 });
 * ```
 */
export async function exited(pid: number, opts: WaitOptions = {}): Promise<void> {
  validateInteger('pid', pid, 1, 2 ** 31 - 1);
  validateWaitOptions(opts);
  const fd = native.pidfdOpen(pid);
  if (fd === ENOSYS) throw new IpcError('ERR_IPC_UNSUPPORTED', 'pidfd_open(2) is not available (Linux >= 5.3 needed)');
  if (fd === ESRCH) throw noSuchProcess(fd, 'pidfd_open', pid);
  check(fd, 'pidfd_open');
  // A pidfd becomes readable when the process terminates (pidfd_open(2)); it is level-triggered, so a
  // process that died before the poll started is still seen.
  // Named for what the caller waits for: a timeout reads "waiting for process N to exit timed out after 5000 ms".
  const ready = new Readiness(fd, `waiting for process ${pid} to exit`);
  try {
    await ready.wait(READABLE, opts);
  } finally {
    ready.close(); // the poll handle goes before the fd it watches
    native.close(fd);
  }
}

/**
 * Signals: send (kill / sigqueue), watch with siginfo, and wait for any process to exit.
 *
 * @example
 * ```ts
 * import { signals } from 'ipckit';
 * const w = signals.watch('SIGRTMIN+1');
 * signals.send(process.pid, 'SIGRTMIN+1', { value: 7 });
 * const { value: ev } = await w.next();   // { signal: 'SIGRTMIN+1', pid: process.pid, value: 7, code: 'SI_QUEUE', ... }
 * w.close();
 * ```
 *
 * @namespace
 */
export const signals = Object.freeze({
  /** Sends a signal: `kill(2)`, or `sigqueue(3)` with `{ value }`; a negative pid is a process group. */
  send,
  /** Watches signals: a {@link SignalWatcher}, async iterable of {@link SignalEvent}s. */
  watch,
  /** Resolves when a process exits, learnt from a pidfd; takes `{ signal, timeout }`. */
  exited,
  /** A signal's number: `signals.number('USR2')` is 12. */
  number: signalNumber,
  /** A signal's canonical name: `signals.name(37)` is `'SIGRTMIN+3'`. */
  name: signalName,
  SIGRTMIN,
  SIGRTMAX,
});
