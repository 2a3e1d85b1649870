/**
 * One error model: syscall failures are Node-shaped system errors, library conditions are `IpcError`
 * with stable `ERR_IPC_*` codes (docs/errors.md), misuse reuses Node's `ERR_INVALID_ARG_TYPE` and
 * `ERR_OUT_OF_RANGE`. Match on `code`, never on messages.
 */
import os from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { loadAddon } from './addon.js';
import type { NativeErrno } from './native.js';

/**
 * The stable codes of `IpcError`, each documented in docs/errors.md.
 *
 * @example
 * ```ts
 * if (err instanceof IpcError && err.code === 'ERR_IPC_TIMEOUT') retry();
 * ```
 */
export type IpcErrorCode =
  | 'ERR_IPC_NAME_INVALID'
  | 'ERR_IPC_MESSAGE_TOO_LARGE'
  | 'ERR_IPC_PEER_DEAD'
  | 'ERR_IPC_CORRUPT'
  | 'ERR_IPC_CODEC'
  | 'ERR_IPC_CLOSED'
  | 'ERR_IPC_UNSUPPORTED'
  | 'ERR_IPC_TIMEOUT'
  | 'ERR_IPC_NOT_FIFO'
  | 'ERR_IPC_FOREIGN_OWNER'
  | 'ERR_IPC_BUSY'
  | 'ERR_IPC_LIMIT'
  | 'ERR_IPC_SIGNAL_RESERVED';

/**
 * A condition of ipckit itself (not a failed syscall).
 *
 * @example
 * ```ts
 * try { await q.send(big); } catch (err) {
 *   if (err instanceof IpcError && err.code === 'ERR_IPC_MESSAGE_TOO_LARGE') console.log(err.limit);
 * }
 * ```
 */
export class IpcError extends Error {
  /** Stable code to match on (docs/errors.md); the message may change. */
  readonly code: IpcErrorCode;
  [key: string]: unknown;

  constructor(code: IpcErrorCode, message: string, props?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    // `name` is the error's class name ('IpcError', 'TimeoutError'); an object's name goes in `path`.
    if (props) for (const [k, v] of Object.entries(props)) if (k !== 'name') this[k] = v;
  }

  /** `'IpcError'`, or `'TimeoutError'` for `ERR_IPC_TIMEOUT`. */
  override get name(): string {
    return code2name[this.code] ?? 'IpcError';
  }
}

const code2name: Partial<Record<IpcErrorCode, string>> = { ERR_IPC_TIMEOUT: 'TimeoutError' };

let errmap: Map<number, [string, string]> | undefined;

/**
 * [code, description] of a negative errno: Node's own table first (util.getSystemErrorMap(), libuv's
 * list), then glibc's names and texts for the errnos libuv does not list (EIDRM, ENOMSG, EOWNERDEAD,
 * ENOTRECOVERABLE, ...), so that every error carries its proper `code`.
 */
function describeErrno(rc: number): [string, string] {
  errmap ??= getSystemErrorMap();
  const known = errmap.get(rc);
  if (known) return known;
  const [name, text] = (loadAddon() as NativeErrno).errnoDescribe(-rc);
  const entry: [string, string] = [name ?? `Unknown system error ${rc}`, text];
  errmap.set(rc, entry);
  return entry;
}

/** The error name for a negative errno, e.g. -2 → 'ENOENT'. */
export function errnoName(rc: number): string {
  return describeErrno(rc)[0];
}

/** Negative errno numbers by name: Node's table, then os.constants.errno. */
export function errno(name: string): number {
  errmap ??= getSystemErrorMap();
  for (const [num, [n]] of errmap) if (n === name) return num;
  const n = (os.constants.errno as Record<string, number>)[name];
  if (n !== undefined) return -n;
  throw new Error(`unknown errno name ${name}`);
}

/**
 * A Node-shaped system error from a native `-errno` result: `code` ('EEXIST'), negative `errno`,
 * `syscall`, `path`; the message reads like Node's own: `EEXIST: file exists, shm_open '/x'`.
 *
 * @example
 * ```ts
 * throw errnoException(-17, 'shm_open', '/x'); // code 'EEXIST', errno -17, syscall 'shm_open', path '/x'
 * ```
 */
export function errnoException(rc: number, syscall: string, path?: string): NodeJS.ErrnoException {
  const [code, desc] = describeErrno(rc);
  let message = `${code}: ${desc}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  const err = new Error(message) as NodeJS.ErrnoException;
  err.errno = rc;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  Error.captureStackTrace(err, errnoException);
  return err;
}

/**
 * The system error for a call about process `pid` that failed (ESRCH, usually), naming the pid in its
 * message and as `err.pid`: `ESRCH: no such process, kill (no process 4194304)`; a negative pid of
 * kill(2) is a process group, named as one.
 *
 * @example
 * ```ts
 * if (rc === ESRCH) throw noSuchProcess(rc, 'pidfd_open', pid);
 * ```
 */
export function noSuchProcess(rc: number, syscall: string, pid: number): NodeJS.ErrnoException & { pid: number } {
  const err = errnoException(rc, syscall) as NodeJS.ErrnoException & { pid: number };
  err.message += pid < -1 ? ` (no process group ${-pid})` : ` (no process ${pid})`;
  err.pid = pid;
  return err;
}

/** Throws the system error for a negative result, returns a non-negative one. */
export function check(rc: number, syscall: string, path?: string): number {
  if (rc < 0) throw errnoException(rc, syscall, path);
  return rc;
}

/**
 * The value of a native call that returns a value (a handle, a pair of fds, an array) or `-errno`:
 * throws the system error for the latter, as `check()` does for plain numbers.
 *
 * @example
 * ```ts
 * const [r, w] = unwrap(native.pipe2(flags), 'pipe2');
 * ```
 */
export function unwrap<T extends object>(rc: T | number, syscall: string, path?: string): T {
  if (typeof rc === 'number') throw errnoException(rc, syscall, path);
  return rc;
}

/** An argument of the wrong type, Node's way. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`) as TypeError & {
    code: string;
  };
  err.code = 'ERR_INVALID_ARG_TYPE';
  return err;
}

/** An argument out of its range, Node's way. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  const err = new RangeError(
    `The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`,
  ) as RangeError & { code: string };
  err.code = 'ERR_OUT_OF_RANGE';
  return err;
}

/**
 * The rejection of an aborted wait, like Node's own (`name` 'AbortError', `code` 'ABORT_ERR').
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * const p = sem.wait({ signal: ac.signal });
 * ac.abort();
 * await p.catch((err) => assert(err instanceof AbortError && err.code === 'ABORT_ERR'));
 * ```
 */
export class AbortError extends Error {
  /** `'ABORT_ERR'`, as Node's own aborted operations. */
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, options);
  }
  /** `'AbortError'`. */
  override get name(): string {
    return 'AbortError';
  }
}

/** The rejection of a wait whose `timeout` passed. */
export function timeoutError(what: string, ms: number): IpcError {
  return new IpcError('ERR_IPC_TIMEOUT', `${what} timed out after ${ms} ms`, { timeout: ms });
}

/** Use after close(). */
export function closedError(what: string, op: string): IpcError {
  return new IpcError('ERR_IPC_CLOSED', `${what} is closed (${op})`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `type string ('${v.length > 28 ? v.slice(0, 25) + '...' : v}')`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `type ${typeof v} (${String(v)})`;
  if (typeof v === 'function') return `function ${v.name || '<anonymous>'}`;
  return `an instance of ${(v as object).constructor?.name ?? 'Object'}`;
}
