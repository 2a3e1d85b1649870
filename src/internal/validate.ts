// Argument validation shared by every module, Node's way (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE).
import { invalidArgType, outOfRange } from '../errors.js';

export function validateInteger(name: string, value: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

export function validateString(name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value);
  return value;
}

export function validateFunction(name: string, value: unknown): void {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
}

/** Bytes of a message: a Uint8Array (Buffer included), or a string taken as UTF-8. */
export function toBytes(name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, DataView or ArrayBuffer', value);
}

/**
 * `{ signal, timeout }` of every wait.
 *
 * @example
 * ```ts
 * await q.receive({ signal: AbortSignal.timeout(5000) });
 * await sem.wait({ timeout: 1000 });   // ERR_IPC_TIMEOUT after a second
 * ```
 */
export interface WaitOptions {
  /** Abort the wait; it rejects with an `AbortError`. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds; it rejects with `ERR_IPC_TIMEOUT`. */
  timeout?: number;
}

export function validateWaitOptions(opts: WaitOptions | undefined): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  const { signal, timeout } = opts;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  if (timeout !== undefined) {
    if (typeof timeout !== 'number') throw invalidArgType('options.timeout', 'of type number', timeout);
    if (!(timeout >= 0) || timeout > 2 ** 31 - 1) throw outOfRange('options.timeout', '>= 0 and <= 2147483647', timeout);
  }
}

export function validateMode(name: string, mode: unknown): number {
  return validateInteger(name, mode, 0, 0o7777);
}

/**
 * Whether an object removes its name (or System V id) when it closes: `unlinkOnClose`, the one spelling
 * for every module; `removeOnClose` is the old System V spelling, still accepted. `created` is whether
 * this call made the object: the creator owns it by default, an opener never does (DESIGN.md).
 */
export function validateOwnership(opts: { unlinkOnClose?: unknown; removeOnClose?: unknown } | undefined, created: boolean): boolean {
  const v = opts?.unlinkOnClose ?? opts?.removeOnClose;
  if (v === undefined) return created;
  if (typeof v !== 'boolean') {
    throw invalidArgType(opts?.unlinkOnClose !== undefined ? 'options.unlinkOnClose' : 'options.removeOnClose', 'of type boolean', v);
  }
  return v;
}

/** An options argument: absent, or an object (a string or null there is misuse, not "no options"). */
export function validateOptions(opts: unknown, name = 'options'): void {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw invalidArgType(name, 'of type object', opts);
}

/** IPC_PRIVATE, spelled 'private' by callers. */
const IPC_PRIVATE = 0;

/**
 * A System V IPC key: a non-zero integer (0 is IPC_PRIVATE, spelled 'private'), e.g. from `ftok`.
 *
 * @example
 * ```ts
 * validateSysvKey('private'); // 0 (IPC_PRIVATE)
 * validateSysvKey(0xdeadbeef); // 0xdeadbeef: keys read unsigned everywhere, as ipcs(1) prints them
 * ```
 */
export function validateSysvKey(key: unknown): number {
  if (key === 'private') return IPC_PRIVATE;
  if (typeof key !== 'number') throw invalidArgType('key', "of type number or 'private'", key);
  if (!Number.isInteger(key) || key === 0 || key < -(2 ** 31) || key > 2 ** 32 - 1) {
    throw outOfRange('key', "a non-zero integer >= -2147483648 and <= 4294967295 (or 'private')", key);
  }
  // key_t is a signed 32-bit int; either reading of its bits is accepted, and ipckit reports keys
  // unsigned everywhere (as ipcs prints them). Native casts back to key_t.
  return key >>> 0;
}
