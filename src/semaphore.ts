/**
 * Semaphores (section 5 of the classic IPC survey): POSIX named semaphores (`sem_open(3)`), unnamed
 * process-shared semaphores inside shared memory (`sem_init(3)`), System V semaphore sets
 * (`semget(2)`, `semop(2)`). The robust mutex is in mutex.ts.
 *
 * Every blocking wait runs on a waiter thread (never libuv's threadpool) and takes
 * `{ signal, timeout }`; closing an object rejects its pending waits with ERR_IPC_CLOSED.
 *
 * @module
 */
import fs from 'node:fs';
import { native, type NativeHandle, type SemStat } from './native.js';
import { IpcError, check, closedError, errno, errnoException, invalidArgType, outOfRange, timeoutError, unwrap } from './errors.js';
import { posixName } from './internal/names.js';
import { disarm, guard } from './internal/lifetime.js';
import { openOrCreate } from './internal/open-or-create.js';
import { validateInteger, validateSysvKey, validateMode, validateOptions, validateOwnership, validateWaitOptions, type WaitOptions } from './internal/validate.js';
import { Waits, waitOnThread } from './internal/wait.js';
import { placeIn, type SharedSegment } from './internal/in-memory.js';

const { O_CREAT, O_EXCL } = fs.constants;
const ENOENT = errno('ENOENT');
const EAGAIN = errno('EAGAIN');
const EINVAL = errno('EINVAL');
const EIDRM = errno('EIDRM');
const ETIMEDOUT = errno('ETIMEDOUT');
const layout = native.semaphoreLayout;
const { GETVAL, GETPID, GETNCNT, GETZCNT, SEM_UNDO, IPC_NOWAIT } = layout.sysv;
const IPC_CREAT = 0o1000;
const IPC_EXCL = 0o2000;
/** SEM_VALUE_MAX of sem_post(3) on Linux. */
const SEM_VALUE_MAX = 2 ** 31 - 1;
/** SEMVMX: the largest value of a System V semaphore. */
const SEMVMX = 32767;


// ---- POSIX semaphores --------------------------------------------------------------------------

/**
 * Options of `Semaphore.create` and `Semaphore.openOrCreate`.
 *
 * @example
 * ```ts
 * await Semaphore.create('/slots', { value: 4, mode: 0o660 });
 * ```
 */
export interface SemaphoreCreateOptions {
  /** Initial value, 0..2^31-1. Default 0. */
  value?: number;
  /** Permission bits, exactly (the umask does not narrow them). Default 0o600. */
  mode?: number;
  /** Remove the name when this object is closed. Default true for `create`, and for `openOrCreate` when it created it. */
  unlinkOnClose?: boolean;
}

/**
 * Options of `Semaphore.inSharedMemory`.
 *
 * @example
 * ```ts
 * Semaphore.inSharedMemory(shm, 0, { value: 1 }); // creator
 * Semaphore.inSharedMemory(shm, 0);               // others
 * ```
 */
export interface SemaphoreInMemoryOptions {
  /**
   * Initialise the semaphore there (`sem_init(3)`, pshared). Exactly one process does, before the
   * others attach; re-initialising a semaphore in use is undefined behaviour. Default: true when
   * `value` is given, false otherwise (attach to one another process initialised).
   */
  init?: boolean;
  /** Initial value when initialising. Default 0. */
  value?: number;
}

/**
 * A POSIX semaphore: named (`sem_open(3)`, `/dev/shm/sem.<name>`) or unnamed inside shared memory
 * (`sem_init(3)` with pshared).
 *
 * @example
 * ```ts
 * await using sem = await Semaphore.create('/jobs', { value: 0 });
 * // another process: (await Semaphore.open('/jobs')).post();
 * await sem.wait({ timeout: 5000 });
 * ```
 */
export class Semaphore implements AsyncDisposable, Disposable {
  /** Bytes a semaphore takes in shared memory (sizeof(sem_t)). */
  static readonly SIZE = layout.semaphore;
  /** Alignment of a semaphore in shared memory (alignof(sem_t)). */
  static readonly ALIGN = layout.semaphoreAlign;

  /** The name, for a named semaphore. */
  readonly name: string | undefined;
  #h: NativeHandle | undefined;
  #unlinkOnClose: boolean;
  #waits: Waits;
  #guard: object;

  #ino: number | undefined;

  private constructor(h: NativeHandle, name: string | undefined, unlinkOnClose: boolean) {
    this.#h = h;
    this.name = name;
    this.#unlinkOnClose = unlinkOnClose;
    // Which file the name denotes now, so that close() removes only our semaphore and not a new one
    // another process made under the same name after unlinking ours (sem_open gives no descriptor to
    // compare with; the window between sem_open and this stat is the remaining race).
    if (name && unlinkOnClose) this.#ino = semaphoreIno(name);
    const what = name ? `Semaphore ${name}` : 'Semaphore';
    this.#waits = new Waits(what);
    this.#guard = guard(this, `ipckit ${what}`, () => native.handleClose(h));
  }

  /**
   * Creates a named semaphore (exclusive: EEXIST if the name exists).
   *
   * @example
   * ```ts
   * const sem = await Semaphore.create('/slots', { value: 4, mode: 0o660 });
   * ```
   */
  static async create(name: string, opts: SemaphoreCreateOptions = {}): Promise<Semaphore> {
    name = posixName('semaphore', name, 251); // NAME_MAX minus the "sem." prefix
    const { value, mode } = createOptions(opts);
    const h = unwrap(native.semOpen(name, O_CREAT | O_EXCL, mode, value), 'sem_open', name);
    return Semaphore.#created(name, h, mode, validateOwnership(opts, true));
  }

  /**
   * Opens an existing named semaphore (ENOENT if there is none).
   *
   * @example
   * ```ts
   * const sem = await Semaphore.open('/slots');
   * ```
   */
  static async open(name: string): Promise<Semaphore> {
    name = posixName('semaphore', name, 251);
    checkSemaphoreFile(name);
    return new Semaphore(unwrap(native.semOpen(name, 0, 0, 0), 'sem_open', name), name, false);
  }

  /**
   * Opens the named semaphore, creating it with `value` if there is none.
   *
   * @example
   * ```ts
   * const sem = await Semaphore.openOrCreate('/slots', { value: 4 });
   * ```
   */
  static async openOrCreate(name: string, opts: SemaphoreCreateOptions = {}): Promise<Semaphore> {
    name = posixName('semaphore', name, 251);
    const { value, mode } = createOptions(opts);
    return openOrCreate(
      () => {
        const h = native.semOpen(name, O_CREAT | O_EXCL, mode, value);
        return typeof h === 'number' ? h : Semaphore.#created(name, h, mode, validateOwnership(opts, true));
      },
      () => {
        checkSemaphoreFile(name);
        const h = native.semOpen(name, 0, 0, 0);
        return typeof h === 'number' ? h : new Semaphore(h, name, validateOwnership(opts, false));
      },
      'sem_open',
      name,
    );
  }

  /**
   * Removes a named semaphore (`sem_unlink(3)`); `false` if there was none.
   *
   * @example
   * ```ts
   * await Semaphore.unlink('/slots');
   * ```
   */
  static async unlink(name: string): Promise<boolean> {
    name = posixName('semaphore', name, 251);
    const rc = native.semUnlink(name);
    if (rc === ENOENT) return false;
    check(rc, 'sem_unlink', name);
    return true;
  }

  static #created(name: string, h: NativeHandle, mode: number, unlinkOnClose: boolean): Semaphore {
    // sem_open applied the umask (which only removes bits); set the exact mode asked for.
    try {
      fs.chmodSync(`/dev/shm/sem.${name.slice(1)}`, mode);
    } catch (err) {
      native.semUnlink(name);
      native.handleClose(h);
      throw err;
    }
    return new Semaphore(h, name, unlinkOnClose);
  }

  /**
   * An unnamed process-shared semaphore at `offset` in a shared memory segment: initialised there
   * (`{ value }` or `{ init: true }`), or attached to one another process initialised (no options).
   * The offset must be a multiple of `Semaphore.ALIGN` with `Semaphore.SIZE` bytes of room.
   *
   * @example
   * ```ts
   * const shm = await SharedMemory.create('/work', { size: 4096 });
   * const sem = Semaphore.inSharedMemory(shm, 0, { value: 1 });   // the creator initialises
   * // another process: Semaphore.inSharedMemory(await SharedMemory.open('/work'), 0)
   * ```
   */
  static inSharedMemory(segment: SharedSegment, offset: number, opts: SemaphoreInMemoryOptions = {}): Semaphore {
    const buffer = placeIn(segment, offset, Semaphore.SIZE, Semaphore.ALIGN, 'semaphore');
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const init = opts.init ?? opts.value !== undefined;
    if (!init) return new Semaphore(unwrap(native.semAttach(buffer, offset), 'sem_attach'), undefined, false);
    const value = validateInteger('options.value', opts.value ?? 0, 0, SEM_VALUE_MAX);
    return new Semaphore(unwrap(native.semInit(buffer, offset, value), 'sem_init'), undefined, false);
  }

  #handle(op: string): NativeHandle {
    if (!this.#h) throw closedError(this.name ? `Semaphore ${this.name}` : 'Semaphore', op);
    return this.#h;
  }

  /**
   * Decrements the semaphore, waiting (on a waiter thread) while it is 0. Rejects with AbortError,
   * ERR_IPC_TIMEOUT, or ERR_IPC_CLOSED if this object is closed meanwhile. A decrement that happened is
   * never lost: if it won the race against the abort, the wait resolves.
   *
   * @example
   * ```ts
   * await sem.wait({ signal: AbortSignal.timeout(1000) });
   * try { criticalSection(); } finally { sem.post(); }
   * ```
   */
  async wait(opts: WaitOptions = {}): Promise<void> {
    const h = this.#handle('wait');
    validateWaitOptions(opts);
    const rc = native.semTrywait(h);
    if (rc === 0) return;
    if (rc !== EAGAIN) throw errnoException(rc, 'sem_trywait', this.name);
    if (opts.timeout === 0) throw timeoutError('Semaphore.wait', 0);
    let r;
    try {
      // The deadline goes to the kernel (sem_clockwait): only the signal and close() cancel the thread.
      r = await waitOnThread((cb) => native.semWait(h, opts.timeout ?? -1, cb), { signal: this.#waits.signal(opts.signal) }, 'Semaphore.wait');
    } catch (err) {
      this.#waits.rethrow(err, 'wait');
    }
    if (r.rc === ETIMEDOUT) throw timeoutError('Semaphore.wait', opts.timeout!);
    check(r.rc, 'sem_wait', this.name);
  }

  /**
   * Decrements the semaphore if it is above 0: `true`, else `false` at once.
   *
   * @example
   * ```ts
   * if (sem.tryWait()) { try { work(); } finally { sem.post(); } }
   * ```
   */
  tryWait(): boolean {
    const rc = native.semTrywait(this.#handle('tryWait'));
    if (rc === EAGAIN) return false;
    check(rc, 'sem_trywait', this.name);
    return true;
  }

  /**
   * Increments the semaphore, waking one waiter (EOVERFLOW at 2^31-1).
   *
   * @example
   * ```ts
   * sem.post();
   * ```
   */
  post(): void {
    check(native.semPost(this.#handle('post')), 'sem_post', this.name);
  }

  /** The current value (`sem_getvalue(3)`; 0 while processes wait). */
  get value(): number {
    return check(native.semGetvalue(this.#handle('value')), 'sem_getvalue', this.name);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#h === undefined;
  }

  /**
   * Closes this object (idempotent): pending waits reject with ERR_IPC_CLOSED, the name is removed if
   * this object owns it, and the semaphore is released once no waiter thread uses it.
   */
  close(): void {
    const h = this.#h;
    if (!h) return;
    this.#h = undefined;
    disarm(this.#guard);
    this.#waits.close();
    if (this.#unlinkOnClose && this.name && this.#ino !== undefined && semaphoreIno(this.name) === this.#ino) {
      native.semUnlink(this.name);
    }
    native.handleClose(h);
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

function semaphoreIno(name: string): number | undefined {
  try {
    return fs.statSync(`/dev/shm/sem.${name.slice(1)}`).ino;
  } catch {
    return undefined;
  }
}

/**
 * glibc's sem_open(3) maps sizeof(sem_t) bytes of an existing /dev/shm/sem.NAME without checking its
 * size, and the first sem_post on a shorter file is SIGBUS: anything that is not a regular file of at
 * least that size is refused before the call. (Whoever can write /dev/shm can still truncate it later,
 * as with any shared mapping.)
 */
function checkSemaphoreFile(name: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(`/dev/shm/sem.${name.slice(1)}`);
  } catch {
    return; // absent or not visible: sem_open reports it
  }
  if (!st.isFile() || st.size < Semaphore.SIZE) {
    throw new IpcError('ERR_IPC_CORRUPT', `${name} is not a semaphore (/dev/shm/sem.${name.slice(1)} is ${st.size} bytes)`, {
      path: `/dev/shm/sem.${name.slice(1)}`,
    });
  }
}

function createOptions(opts: SemaphoreCreateOptions): { value: number; mode: number } {
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  validateOwnership(opts, true);
  return {
    value: validateInteger('options.value', opts.value ?? 0, 0, SEM_VALUE_MAX),
    mode: validateMode('options.mode', opts.mode ?? 0o600),
  };
}

// ---- System V semaphore sets ---------------------------------------------------------------------

/**
 * One operation of `op()`: add `delta` to semaphore `index` (negative waits for room, 0 waits for zero).
 *
 * @example
 * ```ts
 * const take: SemaphoreOperation = { index: 0, delta: -1, undo: true };
 * ```
 */
export interface SemaphoreOperation {
  /** Which semaphore of the set, from 0. */
  index: number;
  /** What to add: positive posts, negative waits until the value allows it, 0 waits for zero. */
  delta: number;
  /** SEM_UNDO: the kernel reverts this operation when the process exits. Default: the call's `undo`. */
  undo?: boolean;
}

/**
 * Options of `SystemVSemaphoreSet.create` and `openOrCreate`.
 *
 * @example
 * ```ts
 * await SystemVSemaphoreSet.create('private', { count: 2, values: [1, 0] });
 * ```
 */
export interface SemaphoreSetCreateOptions {
  /** Number of semaphores in the set (1..SEMMSL, 32000 on Linux). */
  count: number;
  /** Initial values (0..32767), one per semaphore. Default all 0. */
  values?: number[];
  /** Permission bits. Default 0o600. */
  mode?: number;
  /** Remove the set (IPC_RMID) on close. Default true when this call created it. */
  unlinkOnClose?: boolean;
  /** @deprecated The old spelling of `unlinkOnClose` (one name in every module now). */
  removeOnClose?: boolean;
}

/**
 * Options of `SystemVSemaphoreSet.op`.
 *
 * @example
 * ```ts
 * await set.op([{ index: 0, delta: -1 }], { undo: true, timeout: 1000 });
 * ```
 */
export interface SemaphoreOpOptions extends WaitOptions {
  /** SEM_UNDO on every operation that does not say otherwise. Default false. */
  undo?: boolean;
}

/**
 * `semctl(IPC_STAT)` of a set. Times in seconds since the epoch (0: never).
 *
 * @example
 * ```ts
 * const { count, otime }: SystemVSemaphoreSetStat = set.stat();
 * ```
 */
export interface SystemVSemaphoreSetStat extends SemStat {}

/**
 * A System V semaphore set (`semget(2)`), listed by `ipcs -s`: several counters changed together,
 * atomically (`op([...])`), with SEM_UNDO so that the kernel reverts what a dead process did.
 *
 * Note the classic race of System V sets: creating a set and setting its values are two calls, so a
 * process that opens a set may see it before its creator has set the values; `stat().otime` stays 0
 * until the first `op()`.
 *
 * @example
 * ```ts
 * await using set = await SystemVSemaphoreSet.create('private', { count: 2, values: [1, 0] });
 * await set.op([{ index: 0, delta: -1 }, { index: 1, delta: +1 }], { undo: true, timeout: 1000 });
 * console.log(set.values()); // [0, 1]
 * ```
 */
export class SystemVSemaphoreSet implements AsyncDisposable, Disposable {
  /** The set's id (as shown by `ipcs -s`). */
  readonly id: number;
  /** The key it was created or opened with (0 for 'private'). */
  readonly key: number;
  /** Number of semaphores in the set. */
  readonly count: number;
  #removeOnClose: boolean;
  #closed = false;
  #waits: Waits;

  private constructor(id: number, key: number, count: number, removeOnClose: boolean) {
    this.id = id;
    this.key = key;
    this.count = count;
    this.#removeOnClose = removeOnClose;
    // close() cancels the waits, then removes the set if it owns it: a waiter thread that sees the
    // removal first (EIDRM, EINVAL) ended because we closed too.
    this.#waits = new Waits(`SystemVSemaphoreSet ${id}`, { removes: true });
  }

  /**
   * Creates a set (exclusive for a key: EEXIST if it exists) and sets its initial values.
   *
   * @example
   * ```ts
   * const set = await SystemVSemaphoreSet.create(0x5e11, { count: 3, values: [1, 1, 0] });
   * ```
   */
  static async create(key: number | 'private', opts: SemaphoreSetCreateOptions): Promise<SystemVSemaphoreSet> {
    const k = validateSysvKey(key);
    const { count, values, mode } = setOptions(opts);
    const id = check(native.semget(k, count, IPC_CREAT | IPC_EXCL | mode), 'semget');
    return SystemVSemaphoreSet.#init(id, k, count, values, validateOwnership(opts, true));
  }

  /**
   * Opens an existing set by key (ENOENT if there is none).
   *
   * @example
   * ```ts
   * const set = await SystemVSemaphoreSet.open(0x5e11);
   * ```
   */
  static async open(key: number): Promise<SystemVSemaphoreSet> {
    const k = validateSysvKey(key);
    if (k === 0) throw outOfRange('key', "a non-zero integer ('private' sets cannot be opened by key)", key);
    const id = check(native.semget(k, 0, 0), 'semget');
    return new SystemVSemaphoreSet(id, k, statOf(id).count, false);
  }

  /**
   * Opens the set of `key`, creating it if there is none (initial values only when it creates it).
   *
   * @example
   * ```ts
   * const set = await SystemVSemaphoreSet.openOrCreate(0x5e11, { count: 1, values: [1] });
   * ```
   */
  static async openOrCreate(key: number, opts: SemaphoreSetCreateOptions): Promise<SystemVSemaphoreSet> {
    const k = validateSysvKey(key);
    if (k === 0) throw outOfRange('key', "a non-zero integer (use create('private'))", key);
    const { count, values, mode } = setOptions(opts);
    return openOrCreate(
      () => {
        const id = native.semget(k, count, IPC_CREAT | IPC_EXCL | mode);
        return id < 0 ? id : SystemVSemaphoreSet.#init(id, k, count, values, validateOwnership(opts, true));
      },
      () => {
        const id = native.semget(k, 0, 0);
        return id < 0 ? id : new SystemVSemaphoreSet(id, k, statOf(id).count, validateOwnership(opts, false));
      },
      'semget',
    );
  }

  /**
   * Removes the set `id` (`semctl(IPC_RMID)`, as `ipcrm -s id`): at once, waiters fail with EIDRM.
   * `false` if there is no such set.
   *
   * @example
   * ```ts
   * SystemVSemaphoreSet.removeId(65538);
   * ```
   */
  static removeId(id: number): boolean {
    validateInteger('id', id, 0, 2 ** 31 - 1);
    const rc = native.semctlRemove(id);
    if (rc === EINVAL || rc === EIDRM) return false;
    check(rc, 'semctl');
    return true;
  }

  static #init(id: number, key: number, count: number, values: number[] | undefined, removeOnClose: boolean): SystemVSemaphoreSet {
    try {
      values?.forEach((v, i) => {
        if (v !== 0) check(native.semctlSetVal(id, i, v), 'semctl');
      });
    } catch (err) {
      native.semctlRemove(id);
      throw err;
    }
    return new SystemVSemaphoreSet(id, key, count, removeOnClose);
  }

  #assertOpen(op: string): void {
    if (this.#closed) throw closedError(`SystemVSemaphoreSet ${this.id}`, op);
  }

  #encode(ops: unknown, undo: boolean, nowait: boolean): Int32Array {
    if (!Array.isArray(ops) || ops.length === 0) throw invalidArgType('ops', 'a non-empty array of operations', ops);
    if (ops.length > 500) throw outOfRange('ops.length', '<= 500 (SEMOPM)', ops.length);
    const out = new Int32Array(ops.length * 3);
    ops.forEach((o: SemaphoreOperation, i) => {
      if (typeof o !== 'object' || o === null) throw invalidArgType(`ops[${i}]`, 'of type object', o);
      out[3 * i] = validateInteger(`ops[${i}].index`, o.index, 0, this.count - 1);
      out[3 * i + 1] = validateInteger(`ops[${i}].delta`, o.delta, -32768, 32767);
      out[3 * i + 2] = ((o.undo ?? undo) ? SEM_UNDO : 0) | (nowait ? IPC_NOWAIT : 0);
    });
    return out;
  }

  /**
   * Applies all the operations atomically, waiting (on a waiter thread) until they can all be done:
   * `semop(2)`. Rejects with AbortError, ERR_IPC_TIMEOUT, ERR_IPC_CLOSED, or EIDRM if the set is
   * removed meanwhile; an interrupted call changed nothing.
   *
   * @example
   * ```ts
   * await set.op([{ index: 0, delta: -1 }], { undo: true });   // P(), reverted if we die
   * ```
   */
  async op(ops: SemaphoreOperation[], opts: SemaphoreOpOptions = {}): Promise<void> {
    this.#assertOpen('op');
    validateWaitOptions(opts);
    const undo = !!opts.undo;
    const rc = native.semop(this.id, this.#encode(ops, undo, true));
    if (rc === 0) return;
    if (rc !== EAGAIN) throw errnoException(rc, 'semop');
    if (opts.timeout === 0) throw timeoutError('SystemVSemaphoreSet.op', 0);
    const blocking = this.#encode(ops, undo, false);
    try {
      // The deadline goes to the kernel (semtimedop): only the signal and close() cancel the thread.
      const { rc } = await waitOnThread((cb) => native.semopWait(this.id, blocking, opts.timeout ?? -1, cb), { signal: this.#waits.signal(opts.signal) }, 'SystemVSemaphoreSet.op');
      if (rc === ETIMEDOUT) throw timeoutError('SystemVSemaphoreSet.op', opts.timeout!);
      check(rc, 'semop');
    } catch (err) {
      this.#waits.rethrow(err, 'op');
    }
  }

  /**
   * Applies the operations if they can all be done now (`true`), else changes nothing (`false`).
   *
   * @example
   * ```ts
   * if (set.tryOp([{ index: 0, delta: -1 }])) { ... }
   * ```
   */
  tryOp(ops: SemaphoreOperation[], opts: { undo?: boolean } = {}): boolean {
    this.#assertOpen('tryOp');
    validateOptions(opts);
    const rc = native.semop(this.id, this.#encode(ops, !!opts?.undo, true));
    if (rc === EAGAIN) return false;
    if (rc < 0) throw errnoException(rc, 'semop');
    return true;
  }

  /** All the values (GETALL). */
  values(): number[] {
    this.#assertOpen('values');
    return unwrap(native.semctlGetAll(this.id, this.count), 'semctl');
  }

  /** The value of semaphore `index` (GETVAL). */
  value(index: number): number {
    return this.#get(index, GETVAL, 'value');
  }

  /** Sets semaphore `index` to `value` (SETVAL; clears every process's undo adjustment for it). */
  setValue(index: number, value: number): void {
    this.#assertOpen('setValue');
    validateInteger('index', index, 0, this.count - 1);
    validateInteger('value', value, 0, SEMVMX);
    check(native.semctlSetVal(this.id, index, value), 'semctl');
  }

  /** Pid of the last process that operated on semaphore `index` (GETPID). */
  lastPid(index: number): number {
    return this.#get(index, GETPID, 'lastPid');
  }

  /** How many processes wait on semaphore `index`: to decrement it (GETNCNT) and for zero (GETZCNT). */
  waiting(index: number): {
    /** Processes waiting to decrement it (GETNCNT). */
    decrement: number;
    /** Processes waiting for it to be zero (GETZCNT). */
    zero: number;
  } {
    return { decrement: this.#get(index, GETNCNT, 'waiting'), zero: this.#get(index, GETZCNT, 'waiting') };
  }

  #get(index: number, cmd: number, op: string): number {
    this.#assertOpen(op);
    validateInteger('index', index, 0, this.count - 1);
    return check(native.semctlGet(this.id, index, cmd), 'semctl');
  }

  /** `semctl(IPC_STAT)`: count, key, owner, mode, last-op and change times. */
  stat(): SystemVSemaphoreSetStat {
    this.#assertOpen('stat');
    return statOf(this.id);
  }

  /** Removes the set at once (IPC_RMID): pending `op()`s everywhere fail with EIDRM. */
  remove(): void {
    this.#assertOpen('remove');
    check(native.semctlRemove(this.id), 'semctl');
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes this object (idempotent): pending waits reject with ERR_IPC_CLOSED; removes the set if owned. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waits.close();
    if (this.#removeOnClose) native.semctlRemove(this.id);
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

function statOf(id: number): SemStat {
  const st = native.semctlStat(id);
  if (typeof st === 'number') throw errnoException(st, 'semctl');
  return st;
}

function setOptions(opts: SemaphoreSetCreateOptions): { count: number; values: number[] | undefined; mode: number } {
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  const count = validateInteger('options.count', opts.count, 1, 32000);
  validateOwnership(opts, true);
  let values: number[] | undefined;
  if (opts.values !== undefined) {
    if (!Array.isArray(opts.values) || opts.values.length !== count) {
      throw invalidArgType('options.values', `an array of ${count} numbers`, opts.values);
    }
    values = opts.values.map((v, i) => validateInteger(`options.values[${i}]`, v, 0, SEMVMX));
  }
  return { count, values, mode: validateMode('options.mode', opts.mode ?? 0o600) & 0o777 };
}
