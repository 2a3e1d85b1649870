/**
 * Shared memory (section 4 of the classic IPC survey): POSIX `shm_open(3)` objects and System V
 * `shmget(2)` segments, mapped as a real `SharedArrayBuffer`, plus the cross-process futex that blocking
 * on a word of shared memory needs.
 *
 * - `buffer` is a real SharedArrayBuffer over the mapping: typed arrays and `Atomics` work on it across
 *   processes. `arrayBuffer` is a plain ArrayBuffer over the same bytes, for bulk copies (V8 copies into
 *   it with libc memmove; into a SharedArrayBuffer with a slower relaxed byte loop).
 * - `close()` gives the pages back at once (once no semaphore, mutex or wait in the segment is in use):
 *   zero pages replace the mapping, so a view touched after `close()` reads zeros and cannot crash the
 *   process; the address range is unmapped when the last view is collected.
 * - A peer that truncates a POSIX object cannot kill us with SIGBUS: the lost pages read as zeros, and
 *   `truncated`, `buffer` and `arrayBuffer` report it (ERR_IPC_CORRUPT).
 * - V8's `Atomics.wait`/`Atomics.notify` reach only the threads of one process; `SharedMemory.wait` and
 *   `SharedMemory.notify` are the futex(2) calls that reach every process mapping the same object.
 *
 * @module
 */
import fs from 'node:fs';
import os from 'node:os';
import { native, type MappedViews, type MappingHandle, type ShmStat } from './native.js';
import { IpcError, check, closedError, errno, errnoException, invalidArgType, outOfRange, unwrap } from './errors.js';
import { posixName } from './internal/names.js';
import { checkOwner, type AdoptOptions } from './internal/owner.js';
import { disarm, guard } from './internal/lifetime.js';
import { validateInteger, validateSysvKey, validateMode, validateOptions, validateOwnership, validateWaitOptions, type WaitOptions } from './internal/validate.js';
import { openOrCreate } from './internal/open-or-create.js';
import { waitOnThread } from './internal/wait.js';

const { O_RDWR, O_CREAT, O_EXCL } = fs.constants;
const ENOENT = errno('ENOENT');
const EINVAL = errno('EINVAL');
const EIDRM = -os.constants.errno.EIDRM; // not in Node's system error map
const EAGAIN = errno('EAGAIN');
const ETIMEDOUT = errno('ETIMEDOUT');
const EOPNOTSUPP = -os.constants.errno.EOPNOTSUPP;

const IPC_PRIVATE = 0;
const IPC_CREAT = 0o1000;
const IPC_EXCL = 0o2000;

/**
 * The largest size accepted: the x86-64 user address space is 2^47 bytes, so nothing larger can be
 * mapped; the kernel (tmpfs limits, overcommit, shmmax) may refuse far less, with a system error.
 *
 * @example
 * ```ts
 * if (size > MAX_SHARED_MEMORY_SIZE) throw new RangeError('too large to map');
 * ```
 */
export const MAX_SHARED_MEMORY_SIZE = 2 ** 47;

export type { SharedSegment } from './internal/in-memory.js';
export { validateSysvKey } from './internal/validate.js';
import type { SharedSegment } from './internal/in-memory.js';

/**
 * Options of `SharedMemory.create` and `SharedMemory.openOrCreate`.
 *
 * @example
 * ```ts
 * await SharedMemory.create('/x', { size: 4096, mode: 0o640, unlinkOnClose: false });
 * ```
 */
export interface SharedMemoryCreateOptions extends AdoptOptions {
  /** Size in bytes (> 0). */
  size: number;
  /** Permission bits, exactly (the umask does not narrow them). Default 0o600. */
  mode?: number;
  /** Remove the name when this object is closed. Default true for `create`, and for `openOrCreate` when it created the object. */
  unlinkOnClose?: boolean;
  /**
   * Reserve all the pages at creation (`fallocate(2)`), so that a size tmpfs cannot hold fails now with
   * ENOSPC. With `false` the object is sparse and pages are allocated on first touch: a write into a
   * page tmpfs has no room for then kills the process with SIGBUS. Default true.
   */
  reserve?: boolean;
}

/**
 * An existing object is its owner's: they can rewrite or truncate it under us, so another user's is
 * refused (ERR_IPC_FOREIGN_OWNER) unless `allowForeignOwner`. Closes `fd` when it refuses.
 */
function adoptFd(fd: number, name: string, opts: AdoptOptions): void {
  try {
    checkOwner(`shared memory ${name}`, fs.fstatSync(fd).uid, opts, { path: name });
  } catch (err) {
    native.close(fd);
    throw err;
  }
}

/**
 * Options of `SharedMemory.open`.
 *
 * @example
 * ```ts
 * await SharedMemory.open('/x', { unlinkOnClose: true }); // the last user cleans up
 * ```
 */
export interface SharedMemoryOpenOptions extends AdoptOptions {
  /** Remove the name when this object is closed. Default false. */
  unlinkOnClose?: boolean;
}

/**
 * The result of `SharedMemory.wait`, as `Atomics.wait`'s.
 *
 * @example
 * ```ts
 * const r: FutexWaitResult = await SharedMemory.wait(word, 0, 0, { timeout: 100 });
 * ```
 */
export type FutexWaitResult = 'ok' | 'not-equal' | 'timed-out';

/** fallocate(2) the whole object; a filesystem that cannot (EOPNOTSUPP) keeps it sparse. */
function reserve(fd: number, size: number, name: string): void {
  const rc = native.fallocate(fd, size);
  if (rc < 0 && rc !== EOPNOTSUPP) throw errnoException(rc, 'fallocate', name);
}

function validateSize(size: unknown): number {
  return validateInteger('options.size', size, 1, MAX_SHARED_MEMORY_SIZE);
}


/**
 * The views of one mapping and what close() and truncation do to them. A mapping is released at
 * close() (zero pages replace it, once no semaphore, mutex or wait in it is in use): views kept from
 * before read zeros from then on, and writes through them reach nothing. A peer that truncates the
 * object makes the pages past the new end zero pages too (instead of SIGBUS), and every call through
 * ipckit then reports ERR_IPC_CORRUPT.
 */
class Views {
  #sab: SharedArrayBuffer | undefined;
  #ab: ArrayBuffer | undefined;
  #h: MappingHandle | undefined;
  readonly #what: string;

  constructor([sab, ab, h]: MappedViews, what: string) {
    this.#sab = sab;
    this.#ab = ab;
    this.#h = h;
    this.#what = what;
  }

  get truncated(): boolean {
    return this.#h !== undefined && native.mappingTruncated(this.#h);
  }

  /** Throws ERR_IPC_CLOSED once closed, ERR_IPC_CORRUPT once truncated. */
  check(op: string): void {
    if (!this.#h) throw closedError(this.#what, op);
    if (native.mappingTruncated(this.#h)) {
      throw new IpcError('ERR_IPC_CORRUPT', `${this.#what} was truncated by another process: the pages past its new end read as zeros`);
    }
  }

  get buffer(): SharedArrayBuffer {
    this.check('buffer');
    return this.#sab!;
  }

  get arrayBuffer(): ArrayBuffer {
    this.check('arrayBuffer');
    return this.#ab!;
  }

  close(): void {
    const h = this.#h;
    if (!h) return;
    this.#h = this.#sab = this.#ab = undefined;
    native.mappingClose(h);
  }
}

/**
 * A POSIX shared memory object (`shm_open(3)`, `/dev/shm/<name>`), mapped read-write.
 *
 * @example
 * ```ts
 * await using shm = await SharedMemory.create('/demo', { size: 4096 });
 * const counter = new Int32Array(shm.buffer, 0, 1);
 * Atomics.add(counter, 0, 1);                    // visible to every process that maps /demo
 * await SharedMemory.wait(counter, 0, 1, { timeout: 1000 }); // until another process changes it
 * ```
 */
export class SharedMemory implements AsyncDisposable, Disposable, SharedSegment {
  /** The name, with its leading '/'. */
  readonly name: string;
  /** Size in bytes, from fstat(2) when the object was opened. */
  readonly size: number;
  #fd: number;
  #views: Views;
  #unlinkOnClose: boolean;
  #guard: object | undefined;

  private constructor(name: string, fd: number, size: number, views: MappedViews, unlinkOnClose: boolean) {
    this.name = name;
    this.#fd = fd;
    this.size = size;
    this.#views = new Views(views, `SharedMemory ${name}`);
    this.#unlinkOnClose = unlinkOnClose;
    // Only the fd needs closing: the mapping goes with the last view (and never the name, lifetime.ts).
    this.#guard = guard(this, `ipckit SharedMemory ${name}`, () => native.close(fd));
  }

  /**
   * Creates the object (exclusive: EEXIST if the name exists), sizes it and maps it.
   *
   * @example
   * ```ts
   * const shm = await SharedMemory.create('/frames', { size: 1 << 20, mode: 0o640 });
   * ```
   */
  static async create(name: string, opts: SharedMemoryCreateOptions): Promise<SharedMemory> {
    name = posixName('shared memory', name);
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const size = validateSize(opts.size);
    const mode = validateMode('options.mode', opts.mode ?? 0o600);
    validateOwnership(opts, true);
    const fd = check(native.shmOpen(name, O_RDWR | O_CREAT | O_EXCL, mode), 'shm_open', name);
    return SharedMemory.#finishCreate(name, fd, size, mode, validateOwnership(opts, true), opts.reserve ?? true);
  }

  /**
   * Opens an existing object (ENOENT if there is none) and maps all of it, as sized by its creator.
   * An object of size 0 (its creator has not sized it yet) fails with EINVAL.
   *
   * @example
   * ```ts
   * const shm = await SharedMemory.open('/frames');   // e.g. made by Python's multiprocessing.shared_memory
   * console.log(shm.size, new Uint8Array(shm.buffer, 0, 8));
   * ```
   */
  static async open(name: string, opts: SharedMemoryOpenOptions = {}): Promise<SharedMemory> {
    name = posixName('shared memory', name);
    validateOptions(opts);
    validateOwnership(opts, false);
    const fd = check(native.shmOpen(name, O_RDWR, 0), 'shm_open', name);
    adoptFd(fd, name, opts);
    return SharedMemory.#finishOpen(name, fd, validateOwnership(opts, false));
  }

  /**
   * Opens the object, creating it with `size` if there is none. An existing object keeps its own size;
   * one that exists with size 0 (its creator is between shm_open and ftruncate) is given `size`.
   *
   * @example
   * ```ts
   * const shm = await SharedMemory.openOrCreate('/state', { size: 4096 });
   * ```
   */
  static async openOrCreate(name: string, opts: SharedMemoryCreateOptions): Promise<SharedMemory> {
    name = posixName('shared memory', name);
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const size = validateSize(opts.size);
    const mode = validateMode('options.mode', opts.mode ?? 0o600);
    validateOwnership(opts, true);
    return openOrCreate(
      () => {
        const fd = native.shmOpen(name, O_RDWR | O_CREAT | O_EXCL, mode);
        return fd < 0 ? fd : SharedMemory.#finishCreate(name, fd, size, mode, validateOwnership(opts, true), opts.reserve ?? true);
      },
      () => {
        const fd = native.shmOpen(name, O_RDWR, 0);
        if (fd < 0) return fd;
        adoptFd(fd, name, opts);
        try {
          if (fs.fstatSync(fd).size === 0) {
            fs.ftruncateSync(fd, size);
            if (opts.reserve ?? true) reserve(fd, size, name);
          }
        } catch (err) {
          native.close(fd);
          throw err;
        }
        return SharedMemory.#finishOpen(name, fd, validateOwnership(opts, false));
      },
      'shm_open',
      name,
    );
  }

  /**
   * Removes the name (`shm_unlink(3)`); `false` if there was none. Processes that have it mapped keep
   * their mapping.
   *
   * @example
   * ```ts
   * await SharedMemory.unlink('/frames');
   * ```
   */
  static async unlink(name: string): Promise<boolean> {
    name = posixName('shared memory', name);
    const rc = native.shmUnlink(name);
    if (rc === ENOENT) return false;
    check(rc, 'shm_unlink', name);
    return true;
  }

  static #finishCreate(name: string, fd: number, size: number, mode: number, unlinkOnClose: boolean, reserveAll: boolean): SharedMemory {
    try {
      // shm_open applied the umask, which only removes bits: the object was never more open than asked.
      fs.fchmodSync(fd, mode);
      fs.ftruncateSync(fd, size);
      if (reserveAll) reserve(fd, size, name);
      const views = unwrap(native.mmapShared(fd, size), 'mmap', name);
      return new SharedMemory(name, fd, size, views, unlinkOnClose);
    } catch (err) {
      // We created the name: remove it before closing the fd, so a failed create leaves nothing behind.
      native.shmUnlink(name);
      native.close(fd);
      throw err;
    }
  }

  static #finishOpen(name: string, fd: number, unlinkOnClose: boolean): SharedMemory {
    try {
      const size = fs.fstatSync(fd).size;
      // mmap(2) of length 0 is EINVAL; say so before the call, with the name.
      if (size === 0) throw errnoException(EINVAL, 'mmap', name);
      const views = unwrap(native.mmapShared(fd, size), 'mmap', name);
      return new SharedMemory(name, fd, size, views, unlinkOnClose);
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }

  /**
   * A real SharedArrayBuffer over the whole object: typed arrays and Atomics work across processes.
   * ERR_IPC_CLOSED after close(); ERR_IPC_CORRUPT once the object was truncated under us.
   */
  get buffer(): SharedArrayBuffer {
    return this.#views.buffer;
  }

  /** A plain ArrayBuffer over the same bytes, for bulk copies (faster than copying into `buffer`). */
  get arrayBuffer(): ArrayBuffer {
    return this.#views.arrayBuffer;
  }

  /**
   * Whether another process truncated the object under this mapping: an access past its new end found
   * no page (SIGBUS), and ipckit mapped zero pages there instead of letting the process die.
   */
  get truncated(): boolean {
    return this.#views.truncated;
  }

  /** The descriptor (FD_CLOEXEC), e.g. to pass to another process over a Unix socket; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Releases this object (idempotent): removes the name first if this object owns it, gives the pages
   * back (at once, or when the last semaphore, mutex or wait in the segment is done), then closes the
   * fd. Views obtained before never fault: they read zeros from then on.
   */
  close(): void {
    if (this.#fd < 0) return;
    disarm(this.#guard);
    const fd = this.#fd;
    this.#fd = -1;
    this.#views.close();
    try {
      if (this.#unlinkOnClose) this.#unlinkIfStillOurs(fd);
    } finally {
      native.close(fd);
    }
  }

  /**
   * Unlinks the name only if it still names our object: another process may have unlinked it and made a
   * new object under the same name, which is not ours to remove. (A tiny race remains between the
   * check and the unlink; shm has no unlinkat-by-fd.)
   */
  #unlinkIfStillOurs(fd: number): void {
    let mine: fs.Stats, named: fs.Stats;
    try {
      mine = fs.fstatSync(fd);
      named = fs.statSync(`/dev/shm${this.name}`);
    } catch {
      return; // gone already
    }
    if (mine.ino === named.ino && mine.dev === named.dev) native.shmUnlink(this.name);
  }

  /** Alias of `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /**
   * Waits until `i32[index]` is notified, across processes (futex(2) `FUTEX_WAIT`, not process-private),
   * on a waiter thread. Resolves like `Atomics.wait`: `'not-equal'` at once if `i32[index] !== expected`,
   * `'ok'` when woken, `'timed-out'` after `timeout` ms (the timeout resolves, it does not reject). An
   * abort rejects with `AbortError`. Wake-ups may be spurious: re-check the value in a loop.
   *
   * @example
   * ```ts
   * const flag = new Int32Array(shm.buffer, 0, 1);
   * while (Atomics.load(flag, 0) === 0) await SharedMemory.wait(flag, 0, 0, { timeout: 5000 });
   * ```
   */
  static async wait(i32: Int32Array, index: number, expected: number, opts: WaitOptions = {}): Promise<FutexWaitResult> {
    validateFutexWord(i32, index);
    if (typeof expected !== 'number') throw invalidArgType('expected', 'of type number', expected);
    if (!Number.isInteger(expected) || expected < -(2 ** 31) || expected > 2 ** 32 - 1) {
      throw outOfRange('expected', 'an integer >= -2147483648 and <= 4294967295', expected);
    }
    validateWaitOptions(opts);
    const value = expected | 0;
    if (Atomics.load(i32, index) !== value) return 'not-equal';
    if (opts.timeout === 0) return 'timed-out';
    const sab = i32.buffer as SharedArrayBuffer;
    const { rc } = await waitOnThread(
      (cb) => native.futexWait(sab, i32.byteOffset + index * 4, value >>> 0, opts.timeout ?? -1, cb),
      { signal: opts.signal },
      'SharedMemory.wait',
    );
    if (rc === 0) return 'ok';
    if (rc === EAGAIN) return 'not-equal';
    if (rc === ETIMEDOUT) return 'timed-out';
    throw errnoException(rc, 'futex');
  }

  /**
   * Wakes up to `count` waiters (default: all) of `i32[index]` in every process (futex(2) `FUTEX_WAKE`);
   * returns how many were woken. Does not wake `Atomics.wait` (V8 keeps its own waiter list).
   *
   * @example
   * ```ts
   * Atomics.store(flag, 0, 1);
   * SharedMemory.notify(flag, 0);
   * ```
   */
  static notify(i32: Int32Array, index: number, count = Infinity): number {
    validateFutexWord(i32, index);
    if (count !== Infinity) validateInteger('count', count, 0);
    const sab = i32.buffer as SharedArrayBuffer;
    return check(native.futexWake(sab, i32.byteOffset + index * 4, count === Infinity ? 2 ** 31 - 1 : count), 'futex');
  }
}

function validateFutexWord(i32: unknown, index: unknown): asserts i32 is Int32Array {
  if (!(i32 instanceof Int32Array) || !(i32.buffer instanceof SharedArrayBuffer)) {
    throw invalidArgType('i32', 'an instance of Int32Array over a SharedArrayBuffer', i32);
  }
  validateInteger('index', index, 0, i32.length - 1);
}

// ---- System V ------------------------------------------------------------------------------------

/**
 * Options of `SystemVSharedMemory.create` and `openOrCreate`.
 *
 * @example
 * ```ts
 * await SystemVSharedMemory.create(0x1234, { size: 65536, mode: 0o660 });
 * ```
 */
export interface SystemVSharedMemoryCreateOptions extends AdoptOptions {
  /** Size in bytes (> 0). */
  size: number;
  /** Permission bits. Default 0o600. */
  mode?: number;
  /** Mark the segment for removal (IPC_RMID) on close. Default true when this call created it. */
  unlinkOnClose?: boolean;
  /** @deprecated The old spelling of `unlinkOnClose` (one name in every module now). */
  removeOnClose?: boolean;
}

/**
 * `shmctl(IPC_STAT)` of a segment. Times are seconds since the epoch (0: never).
 *
 * @example
 * ```ts
 * const { attaches, cpid, lpid }: SystemVSharedMemoryStat = seg.stat();
 * ```
 */
export interface SystemVSharedMemoryStat extends ShmStat {}

/**
 * A System V shared memory segment (`shmget(2)`, `shmat(2)`), listed by `ipcs -m`.
 *
 * @example
 * ```ts
 * await using seg = await SystemVSharedMemory.create('private', { size: 4096 });
 * new Uint8Array(seg.buffer).set([1, 2, 3]);
 * console.log(seg.id, seg.stat().attaches);
 * ```
 */
export class SystemVSharedMemory implements AsyncDisposable, Disposable, SharedSegment {
  /** The segment's id (as shown by `ipcs -m`). */
  readonly id: number;
  /** The key it was created or opened with (0 for 'private'). */
  readonly key: number;
  /** Size in bytes (shm_segsz). */
  readonly size: number;
  #views: Views;
  #removeOnClose: boolean;
  #closed = false;

  private constructor(id: number, key: number, size: number, views: MappedViews, removeOnClose: boolean) {
    this.id = id;
    this.key = key;
    this.size = size;
    this.#views = new Views(views, `SystemVSharedMemory ${id}`);
    this.#removeOnClose = removeOnClose;
  }

  /**
   * Creates a segment (exclusive for a key: EEXIST if it exists) and attaches it.
   *
   * @example
   * ```ts
   * const seg = await SystemVSharedMemory.create(ftok('/tmp', 1), { size: 65536 });
   * ```
   */
  static async create(key: number | 'private', opts: SystemVSharedMemoryCreateOptions): Promise<SystemVSharedMemory> {
    const k = validateSysvKey(key);
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const size = validateSize(opts.size);
    const mode = validateMode('options.mode', opts.mode ?? 0o600) & 0o777;
    validateOwnership(opts, true);
    const id = check(native.shmget(k, size, IPC_CREAT | IPC_EXCL | mode), 'shmget');
    return SystemVSharedMemory.#attach(id, k, size, validateOwnership(opts, true), true);
  }

  /**
   * Attaches an existing segment by key (ENOENT if there is none).
   *
   * @example
   * ```ts
   * const seg = await SystemVSharedMemory.open(0x1234);
   * ```
   */
  static async open(key: number, opts: AdoptOptions = {}): Promise<SystemVSharedMemory> {
    const k = validateSysvKey(key);
    if (k === IPC_PRIVATE) throw outOfRange('key', "a non-zero integer ('private' segments cannot be opened by key)", key);
    const id = check(native.shmget(k, 0, 0), 'shmget');
    const st = SystemVSharedMemory.#stat(id);
    checkOwner(`System V shared memory key 0x${(k >>> 0).toString(16)}`, st.uid, opts, { key: k });
    return SystemVSharedMemory.#attach(id, k, st.size, false, false);
  }

  /**
   * Attaches the segment of `key`, creating it with `size` if there is none.
   *
   * @example
   * ```ts
   * const seg = await SystemVSharedMemory.openOrCreate(0x1234, { size: 4096 });
   * ```
   */
  static async openOrCreate(key: number, opts: SystemVSharedMemoryCreateOptions): Promise<SystemVSharedMemory> {
    const k = validateSysvKey(key);
    if (k === IPC_PRIVATE) throw outOfRange('key', "a non-zero integer (use create('private'))", key);
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const size = validateSize(opts.size);
    const mode = validateMode('options.mode', opts.mode ?? 0o600) & 0o777;
    validateOwnership(opts, true);
    return openOrCreate(
      () => {
        const id = native.shmget(k, size, IPC_CREAT | IPC_EXCL | mode);
        return id < 0 ? id : SystemVSharedMemory.#attach(id, k, size, validateOwnership(opts, true), true);
      },
      () => {
        const id = native.shmget(k, 0, 0);
        if (id < 0) return id;
        const st = SystemVSharedMemory.#stat(id);
        checkOwner(`System V shared memory key 0x${(k >>> 0).toString(16)}`, st.uid, opts, { key: k });
        return SystemVSharedMemory.#attach(id, k, st.size, validateOwnership(opts, false), false);
      },
      'shmget',
    );
  }

  /**
   * Marks the segment `id` for removal (`shmctl(IPC_RMID)`, as `ipcrm -m id`); `false` if there is no
   * such segment. It is destroyed when the last process detaches.
   *
   * @example
   * ```ts
   * SystemVSharedMemory.removeId(32769);
   * ```
   */
  static removeId(id: number): boolean {
    validateInteger('id', id, 0, 2 ** 31 - 1);
    const rc = native.shmctlRemove(id);
    if (rc === EINVAL || rc === EIDRM) return false;
    check(rc, 'shmctl');
    return true;
  }

  static #stat(id: number): ShmStat {
    const st = native.shmctlStat(id);
    if (typeof st === 'number') throw errnoException(st, 'shmctl');
    return st;
  }

  static #attach(id: number, key: number, size: number, removeOnClose: boolean, created: boolean): SystemVSharedMemory {
    const rc = native.shmat(id, size);
    if (typeof rc === 'number') {
      if (created) native.shmctlRemove(id);
      throw errnoException(rc, 'shmat');
    }
    return new SystemVSharedMemory(id, key, size, rc, removeOnClose);
  }

  /** A real SharedArrayBuffer over the segment. */
  get buffer(): SharedArrayBuffer {
    return this.#views.buffer;
  }

  /** A plain ArrayBuffer over the same bytes, for bulk copies. */
  get arrayBuffer(): ArrayBuffer {
    return this.#views.arrayBuffer;
  }

  /** Whether an access found no page under the attachment (System V segments cannot shrink: never so far). */
  get truncated(): boolean {
    return this.#views.truncated;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * `shmctl(IPC_STAT)`: size, attach count, owner, mode, creator and last pids, times.
   *
   * @example
   * ```ts
   * const { attaches, cpid } = seg.stat();
   * ```
   */
  stat(): SystemVSharedMemoryStat {
    if (this.#closed) throw closedError(`SystemVSharedMemory ${this.id}`, 'stat');
    return SystemVSharedMemory.#stat(this.id);
  }

  /**
   * Marks the segment for removal (IPC_RMID): gone from `ipcs` once every process has detached. This
   * object stays attached until closed and its views are collected.
   */
  remove(): void {
    if (this.#closed) throw closedError(`SystemVSharedMemory ${this.id}`, 'remove');
    check(native.shmctlRemove(this.id), 'shmctl');
  }

  /**
   * Releases this object (idempotent), marking the segment for removal first if it owns it, then
   * detaching it (at once, or when the last semaphore, mutex or wait in it is done): a segment marked
   * for removal is destroyed then. Views obtained before never fault: they read zeros from then on.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#removeOnClose) native.shmctlRemove(this.id);
    this.#views.close();
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
