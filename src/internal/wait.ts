// The two ways ipckit waits, both off the event loop's critical path and off libuv's threadpool:
// - waitOnThread: a call that exists only as a blocking call runs on a waiter thread (waiter.cc);
// - Readiness: an fd the kernel reports readiness on is watched by the event loop (fd_watch.cc).
// Both honour { signal, timeout }. A timeout is a single timer armed for the wait, never a poll.
import { native, type FdWatcher } from '../native.js';
import { AbortError, IpcError, closedError, errno, errnoException, timeoutError } from '../errors.js';
import type { WaitOptions } from './validate.js';

const ECANCELED = errno('ECANCELED');

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
 * ERR_IPC_TIMEOUT.
 */
export function waitOnThread(
  start: (cb: (rc: number, payload: Buffer | undefined, aux: number) => void) => number,
  opts: WaitOptions = {},
  what = 'wait',
): Promise<ThreadResult> {
  const { signal, timeout } = opts;
  if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    let why: 'abort' | 'timeout' | undefined;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      why ??= 'abort';
      native.waiterCancel(id);
    };
    const id = start((rc, payload, aux) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (rc === ECANCELED && why === 'abort') reject(new AbortError(undefined, { cause: signal?.reason }));
      else if (rc === ECANCELED && why === 'timeout') reject(timeoutError(what, timeout!));
      else resolve({ rc, payload, aux });
    });
    // A wait id is > 0. A starter that could not start the wait (a closed handle, a bad region, no
    // thread) returns -errno and will never call back: settle now, or the promise would never settle.
    if (!(id > 0)) {
      reject(typeof id === 'number' && id < 0 ? errnoException(id, what) : new TypeError(`${what}: the native wait starter returned ${String(id)}`));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        why ??= 'timeout';
        native.waiterCancel(id);
      }, timeout);
    }
  });
}

/**
 * Pending waits of one object: each gets a signal that also fires when the object closes, so that
 * close() rejects them with ERR_IPC_CLOSED (and their threads are released).
 */
export class Waits {
  #closer = new AbortController();
  readonly #what: string;
  constructor(what: string) {
    this.#what = what;
  }
  signal(user: AbortSignal | undefined): AbortSignal {
    return user ? AbortSignal.any([user, this.#closer.signal]) : this.#closer.signal;
  }
  /** Maps the rejection of a wait interrupted by close() to ERR_IPC_CLOSED. */
  rethrow(err: unknown, op: string): never {
    if (this.#closer.signal.aborted && err instanceof AbortError) throw closedError(this.#what, op);
    throw err;
  }
  close(): void {
    this.#closer.abort();
  }
}

export const READABLE = 1;
export const WRITABLE = 2;
export const DISCONNECT = 4;

interface Pending {
  events: number;
  resolve: (events: number) => void;
  reject: (err: Error) => void;
  cleanup: () => void;
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
    const { signal, timeout } = opts;
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise<number>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        p.cleanup();
        reject(new AbortError(undefined, { cause: signal!.reason }));
      };
      const p: Pending = {
        events,
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.#pending.delete(p);
          this.#update();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          p.cleanup();
          reject(timeoutError(this.#what, timeout));
        }, timeout);
      }
      this.#pending.add(p);
      try {
        this.#update();
      } catch (err) {
        p.cleanup();
        reject(err as Error);
      }
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
    for (const p of [...this.#pending]) {
      p.cleanup();
      p.reject(closedError(this.#what, 'wait'));
    }
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
      if (status < 0 || (events & p.events) !== 0 || (events & DISCONNECT) !== 0) {
        p.cleanup();
        p.resolve(status < 0 ? p.events : events);
      }
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

  wait({ signal, timeout }: WaitOptions = {}): Promise<void> {
    if (this.#waiter) return Promise.reject(new IpcError('ERR_IPC_UNSUPPORTED', `${this.#what}: only one receive() may wait at a time`));
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(new AbortError(undefined, { cause: signal!.reason }));
      const settle = (err?: Error) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.#waiter === settle) this.#waiter = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.#waiter = settle;
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== undefined) timer = setTimeout(() => settle(timeoutError(this.#what, timeout)), timeout);
    });
  }

  /** Settles the waiting receive, if any: resolved, or rejected with `err`. */
  wake(err?: Error): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(err);
  }
}
