// Objects that live inside a shared memory segment (an unnamed semaphore, a mutex): what a segment must
// offer them, and the check of the place they are put at.
import { closedError, invalidArgType, outOfRange } from '../errors.js';
import { validateInteger } from './validate.js';

/**
 * What semaphores and mutexes can live in: any mapped segment.
 *
 * @example
 * ```ts
 * function counter(segment: SharedSegment): Int32Array {
 *   return new Int32Array(segment.buffer, 0, 1);
 * }
 * ```
 */
export interface SharedSegment {
  /** The mapped bytes, shared with every process that maps the segment. */
  readonly buffer: SharedArrayBuffer;
  /** Size in bytes. */
  readonly size: number;
  /** Whether the segment was closed (unmapped): nothing may use `buffer` then. */
  readonly closed: boolean;
}

/**
 * Checks a place for an object of `size` bytes in a segment: an integer offset, aligned for the type,
 * with room for the object, in a segment that is open. A wrong offset here would be silent memory
 * corruption, so it is refused before any native call.
 */
export function placeIn(segment: unknown, offset: unknown, size: number, align: number, what: string): SharedArrayBuffer {
  if (typeof segment !== 'object' || segment === null || !('buffer' in segment)) {
    throw invalidArgType('segment', 'a SharedMemory or SystemVSharedMemory', segment);
  }
  const seg = segment as SharedSegment;
  if (seg.closed) throw closedError('segment', `${what}.inSharedMemory`);
  const buffer = seg.buffer;
  if (!(buffer instanceof SharedArrayBuffer)) throw invalidArgType('segment', 'a SharedMemory or SystemVSharedMemory', segment);
  const off = validateInteger('offset', offset, 0, Number.MAX_SAFE_INTEGER);
  if (off % align !== 0) throw outOfRange('offset', `a multiple of ${align} (the alignment of a ${what})`, offset);
  if (off + size > buffer.byteLength) {
    throw outOfRange('offset', `<= ${buffer.byteLength - size} (a ${what} takes ${size} bytes of this ${buffer.byteLength}-byte segment)`, offset);
  }
  return buffer;
}
