// Receive slabs: what a receive call puts into memory is handed to the caller as a view of that memory,
// not copied again per message, and that memory is never written again. The cost of a large receive is
// then the kernel's one copy into memory the caller owns from then on; a copy out of a shared scratch
// buffer into freshly allocated memory would add a memcpy and the allocation (page faults included:
// about as much as the copy itself at 64 KiB) for every message.
//
// Ownership: bytes below `#off` belong to views already handed out and are never written again; bytes
// from `#off` on are free for the next receive. A receive writes its records into `free()`, then the
// caller takes each record with `view()` (it becomes the caller's, the slab moves past it) or `copy()`
// (small records: a copy from Node's pool, so that a small message kept for long does not pin a whole
// slab), and `commit()` moves the free region past the last view. A slab whose free region is smaller
// than a receive needs is left to the views that still use it (garbage collected with the last of
// them), and a new one is taken, of at least twice that need: a slab only as large as the room a
// receive must offer (mq_receive offers mq_msgsize) would hold one view, and each record of 4 KiB
// would cost an allocation of the whole room (1 MiB a message at an mq_msgsize of 1 MiB).
//
// All of a receive's records must be taken before anything of it reaches user code: a callback that
// receives again (on any object sharing the slab) would write over records not yet taken.

import { markAsUntransferable } from 'node:worker_threads';

/** Records smaller than this are copied out (Node's pool serves them; they pin no slab). */
export const COPY_BELOW = 4096;

export class ReceiveSlab {
  readonly #size: number;
  #buf: Buffer | undefined;
  #off = 0;
  #used = 0;

  /** `size`: the bytes of each slab (at least twice the `free()` headroom asked for). */
  constructor(size: number) {
    this.#size = size;
  }

  /**
   * The free region for one receive, at least `headroom` bytes long (a new slab when the current one
   * has less left). Offsets given to `view` and `copy` are relative to its start.
   */
  free(headroom: number): Buffer {
    if (this.#buf === undefined || this.#buf.length - this.#off < headroom) {
      // Not pooled, and uninitialised: the kernel writes every byte before anybody reads it.
      this.#buf = Buffer.allocUnsafeSlow(Math.max(this.#size, 2 * headroom));
      // Like Node's Buffer pool: transferring one message's ArrayBuffer to a worker would detach the
      // others' (and the free region).
      markAsUntransferable(this.#buf.buffer);
      this.#off = 0;
    }
    this.#used = 0;
    return this.#buf.subarray(this.#off);
  }

  /** Record bytes [start, start + len) of the last `free()` region: a view (large) or a copy (small). */
  take(start: number, len: number): Buffer {
    return len < COPY_BELOW ? this.copy(start, len) : this.view(start, len);
  }

  /** Record bytes [start, start + len) as a view: the caller's from now on, never written again. */
  view(start: number, len: number): Buffer {
    const from = this.#off + start;
    const end = start + len;
    if (end > this.#used) this.#used = end;
    return this.#buf!.subarray(from, from + len);
  }

  /** Record bytes [start, start + len) as a copy; the slab keeps that room for the next receive. */
  copy(start: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    const from = this.#off + start;
    this.#buf!.copy(out, 0, from, from + len);
    return out;
  }

  /** The records are taken: the free region starts after the last view, 8-byte aligned. */
  commit(): void {
    this.#off = Math.min(this.#buf!.length, this.#off + ((this.#used + 7) & ~7));
    this.#used = 0;
  }
}

// ---- short copies out of shared memory ------------------------------------------------------------

/** Records of at most this many bytes are copied out by words into the copy pool (see copyWords). */
export const WORD_COPY_MAX = 256;
/** Bytes of each copy pool: small enough that a few short messages kept for long pin little. */
const POOL_BYTES = 16 * 1024;

let pool: ArrayBuffer | undefined;
let pool32: Int32Array | undefined;
let poolOff = 0;

/**
 * A copy of `len` (at most WORD_COPY_MAX) bytes at word index `word` of `src`, in a Buffer of its own:
 * for short records read out of a ring, where Buffer.allocUnsafe plus a set() from a subarray cost two
 * allocations and a builtin call, several times the copy itself. The bytes land in a pool of this
 * module's own (like Node's Buffer pool: each Buffer is a view of it, a kept Buffer pins at most
 * POOL_BYTES, and the pool is untransferable), copied by whole words: the last word may take up to
 * three bytes past `len`, so `src` must hold them (a ring's records are padded to 8 bytes), and they
 * fall in this Buffer's own 8-byte slot of the pool, never in another's.
 */
export function copyWords(src: Int32Array, word: number, len: number): Buffer {
  const slot = (len + 7) & ~7;
  if (pool === undefined || poolOff + slot > POOL_BYTES) {
    pool = new ArrayBuffer(POOL_BYTES);
    markAsUntransferable(pool);
    pool32 = new Int32Array(pool);
    poolOff = 0;
  }
  const at = poolOff;
  poolOff += slot;
  const d = pool32!;
  const w = at >> 2;
  const words = (len + 3) >> 2;
  for (let i = 0; i < words; i++) d[w + i] = src[word + i]!;
  return Buffer.from(pool!, at, len);
}
