/**
 * A robust process-shared mutex inside shared memory (section 5 of the classic IPC survey, beside the
 * semaphores): when its owner dies holding it, even by SIGKILL, the kernel releases it and the next
 * locker is told `ownerDied: true`.
 *
 * It is a futex word of ipckit's own on the kernel's robust-futex ABI, not a pthread mutex: glibc keeps
 * its robust list inside the mutex, where a peer can rewrite the pointers its unlock follows. Here the
 * list's bookkeeping is private; the word and the one `next` field the kernel reads are the only shared
 * state, and ipckit never follows anything read from them (docs/semaphores.md, "Mutex layout").
 *
 * @module
 */
import { native, type NativeHandle } from './native.js';
import { IpcError, check, closedError, errno, errnoException, invalidArgType, timeoutError, unwrap } from './errors.js';
import { disarm, guard } from './internal/lifetime.js';
import { placeIn, type SharedSegment } from './internal/in-memory.js';
import { validateWaitOptions, type WaitOptions } from './internal/validate.js';
import { Waits, waitOnThread } from './internal/wait.js';

const EBUSY = errno('EBUSY');
const EINVAL = errno('EINVAL');
const EPERM = errno('EPERM');
const ETIMEDOUT = errno('ETIMEDOUT');
const EUCLEAN = -117; // Linux (x86-64, arm64); not in Node's system error map
const layout = native.mutexLayout;

/**
 * Options of `Mutex.inSharedMemory`.
 *
 * @example
 * ```ts
 * Mutex.inSharedMemory(shm, 64, { init: true }); // creator
 * Mutex.inSharedMemory(shm, 64);                 // others
 * ```
 */
export interface MutexInMemoryOptions {
  /**
   * Initialise the mutex there. Exactly one process does, before the others attach. Default false:
   * attach to a mutex another process initialised (checked by its tag).
   */
  init?: boolean;
}

/**
 * What `lock()` and `tryLock()` report.
 *
 * @example
 * ```ts
 * const { ownerDied }: LockResult = await mutex.lock();
 * ```
 */
export interface LockResult {
  /**
   * The previous owner died holding the lock (FUTEX_OWNER_DIED): the mutex is consistent again and
   * yours, but the data it protects may be half-updated. Repair it before unlocking.
   */
  ownerDied: boolean;
}

/** Mutexes held by this process, kept reachable: the kernel's robust list points into their mapping. */
const held = new Set<Mutex>();

function corrupt(what: string): IpcError {
  return new IpcError('ERR_IPC_CORRUPT', `the mutex lock word ${what} (overwritten by another process?)`);
}

/**
 * A mutex in shared memory, process-shared and robust: when its owner dies holding it (even by SIGKILL)
 * the kernel releases it and the next locker is told `ownerDied: true`. A worker thread that ends
 * holding it releases it the same way.
 *
 * The fast path (`tryLock`, `unlock`, a `lock` that finds it free) runs on the calling thread; a `lock`
 * that must wait sleeps on a waiter thread, never on the event loop. Within one process, concurrent
 * `lock()` calls queue like an async mutex.
 *
 * @example
 * ```ts
 * const shm = await SharedMemory.create('/state', { size: 4096 });
 * const mutex = Mutex.inSharedMemory(shm, 0, { init: true });
 * const { ownerDied } = await mutex.lock({ timeout: 1000 });
 * try { if (ownerDied) repair(); update(); } finally { mutex.unlock(); }
 * ```
 */
export class Mutex implements AsyncDisposable, Disposable {
  /** Bytes a mutex takes in shared memory (16). */
  static readonly SIZE: number = layout.size;
  /** Alignment of a mutex in shared memory (8). */
  static readonly ALIGN: number = layout.align;

  #h: NativeHandle | undefined;
  #locked = false;
  #waits = new Waits('Mutex');
  #guard: object;

  private constructor(h: NativeHandle) {
    this.#h = h;
    this.#guard = guard(this, 'ipckit Mutex', () => native.mutexClose(h));
  }

  /**
   * A mutex at `offset` in a shared memory segment: initialised there (`{ init: true }`) or attached.
   * The offset must be a multiple of `Mutex.ALIGN` with `Mutex.SIZE` bytes of room.
   *
   * @example
   * ```ts
   * const mutex = Mutex.inSharedMemory(await SharedMemory.open('/state'), 0);
   * ```
   */
  static inSharedMemory(segment: SharedSegment, offset: number, opts: MutexInMemoryOptions = {}): Mutex {
    const buffer = placeIn(segment, offset, Mutex.SIZE, Mutex.ALIGN, 'mutex');
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    if (opts.init) return new Mutex(unwrap(native.mutexInit(buffer, offset), 'set_robust_list'));
    const rc = native.mutexAttach(buffer, offset);
    if (rc === EINVAL) {
      throw new IpcError('ERR_IPC_CORRUPT', `no ipckit mutex at offset ${offset} (initialise it with { init: true })`, { offset });
    }
    return new Mutex(unwrap(rc, 'set_robust_list'));
  }


  #handle(op: string): NativeHandle {
    if (!this.#h) throw closedError('Mutex', op);
    return this.#h;
  }

  #took(rc: number): LockResult | null {
    if (rc === EBUSY) return null;
    check(rc, 'mutex_lock');
    this.#locked = true;
    held.add(this);
    return { ownerDied: rc === 1 };
  }

  /**
   * Locks the mutex, waiting without blocking the event loop. Resolves `{ ownerDied }`; rejects with
   * AbortError, ERR_IPC_TIMEOUT, ERR_IPC_CORRUPT (the word holds no state a mutex can be in), or
   * ERR_IPC_CLOSED if this object is closed meanwhile.
   *
   * @example
   * ```ts
   * const { ownerDied } = await mutex.lock({ signal });
   * ```
   */
  async lock(opts: WaitOptions = {}): Promise<LockResult> {
    const h = this.#handle('lock');
    validateWaitOptions(opts);
    const deadline = opts.timeout === undefined ? undefined : performance.now() + opts.timeout;
    let slept = false;
    for (;;) {
      const got = this.#took(native.mutexTrylock(h, slept));
      if (got) return got;
      const timeout = deadline === undefined ? undefined : Math.max(0, Math.ceil(deadline - performance.now()));
      if (timeout === 0) throw timeoutError('Mutex.lock', opts.timeout!);
      try {
        // The deadline goes to the kernel (FUTEX_WAIT_BITSET): only the signal and close() cancel the thread.
        const { rc } = await waitOnThread((cb) => native.mutexWaitFree(h, timeout ?? -1, cb), { signal: this.#waits.signal(opts.signal) }, 'Mutex.lock');
        if (rc === ETIMEDOUT) throw timeoutError('Mutex.lock', opts.timeout!);
        if (rc === EUCLEAN) throw corrupt('is in no state a mutex can be in');
        check(rc, 'futex');
      } catch (err) {
        this.#waits.rethrow(err, 'lock');
      }
      if (!this.#h) {
        // Closed after the wait consumed a wake-up meant for a locker: pass it on.
        native.mutexWake(h);
        throw closedError('Mutex', 'lock');
      }
      slept = true;
    }
  }

  /**
   * Locks the mutex if it is free: `{ ownerDied }`, or `null` if another owner holds it.
   *
   * @example
   * ```ts
   * const r = mutex.tryLock();
   * if (r) try { work(); } finally { mutex.unlock(); }
   * ```
   */
  tryLock(): LockResult | null {
    return this.#took(native.mutexTrylock(this.#handle('tryLock'), false));
  }

  /**
   * Unlocks. EPERM if this object does not hold the lock. ERR_IPC_CORRUPT if the lock word no longer
   * named this process as its owner (another process overwrote it): the lock is released here all the
   * same, and the word left as that process wrote it.
   */
  unlock(): void {
    const h = this.#handle('unlock');
    if (!this.#locked) throw errnoException(EPERM, 'mutex_unlock');
    const rc = native.mutexUnlock(h);
    if (rc !== EPERM) {
      this.#locked = false;
      held.delete(this);
    }
    if (rc === EUCLEAN) throw corrupt('no longer named this process as the owner');
    check(rc, 'mutex_unlock');
  }

  /** Whether this object holds the lock. */
  get locked(): boolean {
    return this.#locked;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#h === undefined;
  }

  /** Closes this object (idempotent): pending locks reject with ERR_IPC_CLOSED; a held lock is unlocked. */
  close(): void {
    const h = this.#h;
    if (!h) return;
    try {
      if (this.#locked) this.unlock();
    } finally {
      this.#h = undefined;
      disarm(this.#guard);
      this.#waits.close();
      native.mutexClose(h);
    }
  }

  /** Alias of `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
