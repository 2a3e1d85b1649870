// The shape semaphores and mutexes accept as their home: any mapped segment (public as SharedSegment).

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
  readonly buffer: SharedArrayBuffer;
  readonly size: number;
  readonly closed: boolean;
}
