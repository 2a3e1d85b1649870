// The two ways ipckit waits, both off the event loop's critical path and off libuv's threadpool:
// - waitOnThread: a call that exists only as a blocking call runs on a waiter thread (waiter.cc);
// - Readiness: an fd the kernel reports readiness on is watched by the event loop (fd_watch.cc).
// Both honour { signal, timeout }. A timeout is a single timer armed for the wait, never a poll, unless
// the call takes a deadline itself (then the kernel ends it). Every wait of ipckit is given up here, by
// arm/waitUntil: one abort listener and one timer, both gone when the wait settles; a close rejects the
// waits of its object with ERR_IPC_CLOSED (Waits, or the object's own list of waiters).
import { native, type FdWatcher } from '../native.js';
import { AbortError, IpcError, closedError, errno, errnoException, timeoutError } from '../errors.js';
import type { WaitOptions } from './validate.js';

const ECANCELED = errno('ECANCELED');
const noop = (): void => {};

/**
 * The waits armed on a Waits object's close signal: one listener of its own calls them, so a wait costs a
 * Set add and delete instead of an EventTarget listener added and removed (microseconds each, on every
 * semaphore or queue wait that sleeps).
 */
const armedOn = new WeakMap<AbortSignal, Set<() => void>>();

// ---- { signal, timeout }: the one place a wait is given up ----------------------------------------

/** The rejection of a wait whose signal fired: an AbortError with the signal's reason as its cause. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/**
 * Runs `fn` once when `signal` aborts, for a wait that reacts to the abort itself (wakes a parked
 * thread, fails a watcher) instead of only rejecting. Returns the listener's removal (idempotent). A
 * signal already aborted never fires: check `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return noop;
  const listener = (): void => fn();
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * Arms `{ signal, timeout }` for one wait. `giveUp(err)` runs at most once: with an AbortError when the
 * signal fires (at once, before `arm` returns, if it has already), or with ERR_IPC_TIMEOUT naming `what`
 * when `timeout` ms have passed. The returned disarm removes the listener and clears the timer
 * (idempotent); giving up disarms first. Most waits want `waitUntil`, which disarms when they settle.
 */
export function arm({ signal, timeout }: WaitOptions, what: string, giveUp: (err: Error) => void): () => void {
  if (!signal && timeout === undefined) return noop;
  let armed = true;
  let timer: NodeJS.Timeout | undefined;
  const set = signal && armedOn.get(signal); // a Waits close signal: its own list, no EventTarget listener
  const disarm = (): void => {
    if (!armed) return;
    armed = false;
    if (timer !== undefined) clearTimeout(timer);
    if (set) set.delete(aborted);
    else signal?.removeEventListener('abort', aborted);
  };
  const aborted = (): void => {
    disarm();
    giveUp(abortError(signal!));
  };
  if (signal?.aborted) {
    aborted();
    return disarm;
  }
  if (set) set.add(aborted);
  else signal?.addEventListener('abort', aborted, { once: true });
  if (timeout !== undefined) {
    timer = setTimeout(() => {
      disarm();
      giveUp(timeoutError(what, timeout));
    }, timeout);
  }
  return disarm;
}

/**
 * A wait settled by `start`, through the `resolve` and `reject` it is handed (a wake-up, an error, a
 * close that rejects with ERR_IPC_CLOSED), or given up on `{ signal, timeout }`: AbortError, or
 * ERR_IPC_TIMEOUT naming `what`. `start` runs at once and may return a cleanup (taking the waiter off
 * a list); whichever way the wait settles, the listener, the timer and that cleanup go first, exactly
 * once, and later calls of `resolve`/`reject` do nothing. A signal already aborted rejects without
 * calling `start`; a `start` that throws rejects with what it threw (and undoes what it did itself).
 */
export function waitUntil<T>(
  opts: WaitOptions,
  what: string,
  start: (resolve: (value: T) => void, reject: (err: Error) => void) => (() => void) | void,
): Promise<T> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((res, rej) => {
    let settled = false;
    let cleanup: (() => void) | void;
    let disarm = noop;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      disarm();
      cleanup?.();
      return true;
    };
    const resolve = (value: T): void => {
      if (finish()) res(value);
    };
    const reject = (err: Error): void => {
      if (finish()) rej(err);
    };
    disarm = arm(opts, what, reject);
    try {
      cleanup = start(resolve, reject);
    } catch (err) {
      reject(err as Error);
      return;
    }
    if (settled) cleanup?.(); // settled inside start, before its cleanup was known
  });
}

/**
 * `p`, given up on `{ signal, timeout }` (AbortError; ERR_IPC_TIMEOUT naming `what`); `p` itself goes
 * on. For waits on something that is not a kernel call: a peer to arrive, a buffer to drain.
 */
export function bounded<T>(p: Promise<T>, opts: WaitOptions, what: string): Promise<T> {
  if (!opts.signal && opts.timeout === undefined) return p;
  return waitUntil<T>(opts, what, (resolve, reject) => void p.then(resolve, reject));
}

// ---- waits on a waiter thread -----------------------------------------------------------------------

export interface ThreadResult {
  rc: number;
  payload: Buffer | undefined;
  aux: number;
}

/**
 * Runs a blocking native call on a waiter thread. `start` submits it and returns the wait id (> 0), or
 * -errno if it could not start it: the promise then rejects with that error (code, errno, syscall).
 *
 * On abort or timeout the thread is interrupted, and the promise settles from what the call really did:
 * a call that completed before the interruption took effect resolves normally (a message received or a
 * semaphore decremented is never dropped), one that was interrupted rejects with AbortError or
 * ERR_IPC_TIMEOUT. A call that takes a deadline of its own is given the timeout and passed only the
 * signal here: the kernel ends it (-ETIMEDOUT), and no timer runs.
 */
export function waitOnThread(
  start: (cb: (rc: number, payload: Buffer | undefined, aux: number) => void) => number,
  opts: WaitOptions = {},
  what = 'wait',
): Promise<ThreadResult> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    let gaveUp: Error | undefined;
    let disarm = noop;
    const id = start((rc, payload, aux) => {
      disarm();
      if (rc === ECANCELED && gaveUp) reject(gaveUp);
      else resolve({ rc, payload, aux });
    });
    // A wait id is > 0. A starter that could not start the wait (a closed handle, a bad region, no
    // thread) returns -errno and will never call back: settle now, or the promise would never settle.
    if (!(id > 0)) {
      reject(typeof id === 'number' && id < 0 ? errnoException(id, what) : new TypeError(`${what}: the native wait starter returned ${String(id)}`));
      return;
    }
    disarm = arm(opts, what, (err) => {
      gaveUp = err;
      native.waiterCancel(id);
    });
  });
}

/**
 * Pending waits of one object: each gets a signal that also fires when the object closes, so that
 * close() rejects them with ERR_IPC_CLOSED (and their threads are released).
 *
 * An object whose close() also removes it from the kernel (a System V set or queue it owns) passes
 * `removes`: a wait may then see the removal (EIDRM, or EINVAL once the id is gone) before the
 * cancellation reaches its thread, and that too ended because the object closed.
 */
export class Waits {
  #closer = new AbortController();
  readonly #what: string;
  readonly #removes: boolean;
  constructor(what: string, { removes = false }: { removes?: boolean } = {}) {
    this.#what = what;
    this.#removes = removes;
    const armed = new Set<() => void>();
    armedOn.set(this.#closer.signal, armed);
    this.#closer.signal.addEventListener('abort', () => {
      for (const aborted of [...armed]) aborted();
    }, { once: true });
  }
  /** The caller's `{ signal, timeout }` with the close folded into the signal. */
  options(opts: WaitOptions): WaitOptions {
    return { signal: this.signal(opts.signal), timeout: opts.timeout };
  }
  signal(user: AbortSignal | undefined): AbortSignal {
    return user ? AbortSignal.any([user, this.#closer.signal]) : this.#closer.signal;
  }
  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closer.signal.aborted;
  }
  /** Maps the rejection of a wait interrupted by close() (or by the removal close() made) to ERR_IPC_CLOSED. */
  rethrow(err: unknown, op: string): never {
    if (this.closed) {
      const code = (err as { code?: unknown } | null)?.code;
      if (err instanceof AbortError || (this.#removes && (code === 'EIDRM' || code === 'EINVAL'))) throw closedError(this.#what, op);
    }
    throw err;
  }
  close(): void {
    this.#closer.abort();
  }
}

export const READABLE = 1;
export const WRITABLE = 2;
export const DISCONNECT = 4;

/** A wait of Readiness: settling it (waitUntil's resolve/reject) also takes it off the pending set. */
interface Pending {
  events: number;
  resolve: (events: number) => void;
  reject: (err: Error) => void;
}

/**
 * Readiness of one fd through the event loop. Any number of waits share one uv_poll handle (libuv allows
 * one per fd); the handle is active only while somebody waits, and keeps the loop alive only then
 * (unless unref()'d).
 */
export class Readiness {
  readonly #fd: number;
  readonly #what: string;
  #watcher: FdWatcher | undefined;
  #pending = new Set<Pending>();
  #listener: { events: number; cb: (events: number) => void } | undefined;
  #watching = 0;
  #refed = true;
  #closed = false;

  constructor(fd: number, what: string) {
    this.#fd = fd;
    this.#what = what;
  }

  /** Resolves with the ready events once any of `events` is ready (or the fd is in error/hang-up). */
  wait(events: number, opts: WaitOptions = {}): Promise<number> {
    if (this.#closed) return Promise.reject(closedError(this.#what, 'wait'));
    return waitUntil<number>(opts, this.#what, (resolve, reject) => {
      const p: Pending = { events, resolve, reject };
      this.#pending.add(p);
      const drop = (): void => {
        this.#pending.delete(p);
        this.#update();
      };
      try {
        this.#update();
      } catch (err) {
        drop();
        throw err;
      }
      return drop;
    });
  }

  /**
   * A persistent interest: `cb` runs on every readiness of `events` until `listen(0)`. For a consumer
   * that keeps reading (a socket being pumped), it saves an epoll_ctl and a promise per message. An
   * error or hang-up calls it too: the next syscall reports what happened.
   */
  listen(events: number, cb?: (events: number) => void): void {
    if (this.#closed) return;
    this.#listener = events && cb ? { events, cb } : undefined;
    this.#update();
  }

  ref(): void {
    this.#refed = true;
    this.#watcher?.ref();
  }

  unref(): void {
    this.#refed = false;
    this.#watcher?.unref();
  }

  /** Releases the poll handle and rejects pending waits; call before closing the fd. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
    for (const p of [...this.#pending]) p.reject(closedError(this.#what, 'wait'));
  }

  #update(): void {
    if (this.#closed) return;
    let want = this.#listener?.events ?? 0;
    for (const p of this.#pending) want |= p.events;
    if (want === this.#watching) return;
    if (want === 0) {
      this.#watcher?.stop();
      this.#watching = 0;
      return;
    }
    this.#watcher ??= this.#createWatcher();
    const rc = this.#watcher.start(want);
    if (rc < 0) throw errnoException(rc, 'uv_poll_start');
    this.#watching = want;
  }

  #createWatcher(): FdWatcher {
    const w = new native.FdWatcher(this.#fd, (status, events) => this.#onPoll(status, events));
    if (!this.#refed) w.unref();
    return w;
  }

  #onPoll(status: number, events: number): void {
    for (const p of [...this.#pending]) {
      // An error or hang-up wakes every waiter: the next syscall will report what happened.
      if (status < 0 || (events & p.events) !== 0 || (events & DISCONNECT) !== 0) p.resolve(status < 0 ? p.events : events);
    }
    const l = this.#listener;
    if (l && (status < 0 || (events & (l.events | DISCONNECT)) !== 0)) l.cb(status < 0 ? l.events : events);
  }
}

/**
 * One receiver waiting for something another callback reports (a message queued, a goodbye, an error):
 * `wait()` resolves on `wake()`, rejects on `wake(err)`, and honours `{ signal, timeout }`. A second
 * concurrent wait is refused: a transport that hands out messages in order has one reader at a time.
 */
export class Waker {
  readonly #what: string;
  #waiter: ((err?: Error) => void) | undefined;

  constructor(what: string) {
    this.#what = what;
  }

  get waiting(): boolean {
    return this.#waiter !== undefined;
  }

  wait(opts: WaitOptions = {}): Promise<void> {
    if (this.#waiter) return Promise.reject(new IpcError('ERR_IPC_UNSUPPORTED', `${this.#what}: only one receive() may wait at a time`));
    return waitUntil<void>(opts, this.#what, (resolve, reject) => {
      const w = (err?: Error): void => (err ? reject(err) : resolve());
      this.#waiter = w;
      return () => {
        if (this.#waiter === w) this.#waiter = undefined;
      };
    });
  }

  /** Settles the waiting receive, if any: resolved, or rejected with `err`. */
  wake(err?: Error): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(err);
  }
}
