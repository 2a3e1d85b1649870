// The shared-memory ring (DESIGN.md "The shared-memory ring"; the layout byte by byte is in
// docs/ring-format.md). One ring carries one direction: a single producer and a single consumer.
//
// The fast path is pure JS over the SharedArrayBuffer: a send is a few Atomics and one copy, a receive
// the same, with no syscall and no native call. Payload bytes are copied through a plain (non-shared)
// ArrayBuffer view of the same mapping where there is one: V8 copies into a SharedArrayBuffer with a
// relaxed byte loop, into a plain ArrayBuffer with libc memmove (DESIGN.md measured ~28 vs ~44 GB/s).
//
// Ordering. Each side keeps its own position in a local variable and publishes it with a seq-cst
// Atomics.store after the bytes it covers are written (producer) or copied out (consumer); the other side
// reads it with Atomics.load before touching those bytes. Record headers and payloads are plain stores:
// the one seq-cst store of the position orders them all, so a batch (tryWrite ... flush) costs one.
//
// Parking. The side that is about to sleep stores its "sleeping" flag, re-reads the other side's position
// (and closed flag), and only then parks, on the flag word itself with its own flag value as the futex's
// expected value; the other side stores its position (or its closed flag), then reads the sleep flag, and
// if it is set changes it to RUNG by compare-and-swap and wakes the sleeper. With seq-cst on both sides
// one of the two always sees the other (Dekker). Parking on the flag word, not on the position, is what
// makes the wake-up impossible to lose with a futex: a waker that read the flag during an earlier park
// and rings late lands its RUNG on the current one, and a futex wake sent before the wait is queued is
// gone; but the wait then finds the flag no longer equal to its value and returns at once, where a wait
// on the position (unchanged) slept with the flag at RUNG, so that the next waker saw "rung already" and
// stayed silent (the two-thread test lost a wake-up that way, Node 24 under load). A close goes through
// the flag too, for the same reason. The producer rings (a syscall) only when the consumer really sleeps.
//
// Trust. The other side may be buggy, hostile or dead. Every position and length read from shared memory
// is checked before use (ERR_IPC_CORRUPT, never an out-of-bounds access or a hang). Whether the peer is
// alive is never read from shared memory: the owner of the ring pair learns it from the kernel (the
// rendezvous socket closing, see shm-server.ts) and passes it in as `RingMemory.peer`, and its parker
// wakes this side's parked waits when that happens, so a wait needs no polling slices.
import { closedError, IpcError, outOfRange, timeoutError } from '../errors.js';
import { tooLarge } from '../internal/framing.js';
import { markAsUntransferable } from 'node:worker_threads';
import { copyWords, WORD_COPY_MAX } from '../internal/slab.js';
import type { WaitOptions } from '../internal/validate.js';
import { abortError, onAbort } from '../internal/wait.js';

// ---- layout (docs/ring-format.md) ----------------------------------------------------------------

/** "IPKR" in memory order: the first four bytes of a ring header. */
export const RING_MAGIC = 0x524b5049;
/** The ring layout version in the header; a ring of another version is refused (ERR_IPC_UNSUPPORTED). */
export const RING_VERSION = 1;
/**
 * Bytes of a ring header: four 64-byte cache lines (identity; the producer's position; the consumer's
 * position; the two sleep flags, written only when a side parks, so that reading them on every message
 * does not pull a line the other core keeps writing).
 */
export const RING_HEADER = 256;
/** The smallest data area of a ring, in bytes. */
export const MIN_CAPACITY = 64;
/** The largest data area of a ring, in bytes (1 GiB). */
export const MAX_CAPACITY = 1 << 30;
/** A record's header: u32 payload length, u32 reserved (zero). */
export const RECORD_HEADER = 8;
/** A record length of 0xFFFFFFFF is the wrap marker: the rest of the data area up to its end is padding. */
export const WRAP = 0xffffffff;
/** A sleep flag's value once the waker rang it (docs/ring-format.md, "Waiting"). */
export const RUNG = 3;
/** Records of at least this many bytes may wrap early to reuse cache-hot memory (see tryWrite). */
const LARGE_RECORD = 64 * 1024;

// Byte offsets inside a ring header.
export const OFF_MAGIC = 0;
export const OFF_VERSION = 4;
export const OFF_CAPACITY = 8;
export const OFF_PRODUCER_CLOSED = 24;
export const OFF_CONSUMER_CLOSED = 28;
export const OFF_HEAD = 64; // producer line
export const OFF_TAIL = 128; // consumer line
export const OFF_CONSUMER_SLEEPING = 192; // flags line
export const OFF_PRODUCER_WAITING = 196;

/** The largest payload a ring of `capacity` bytes always accepts (half of it, less a record header). */
export function maxPayload(capacity: number): number {
  return capacity / 2 - RECORD_HEADER;
}

/** Bytes one ring of `capacity` occupies (header and data area). */
export function ringBytes(capacity: number): number {
  return RING_HEADER + capacity;
}

function corrupt(what: string, props: Record<string, unknown>): IpcError {
  return new IpcError('ERR_IPC_CORRUPT', `shared-memory ring: ${what}`, props);
}

// ---- waiting -------------------------------------------------------------------------------------

/**
 * How a side parks and how it is woken. One parker serves both sides (producer and consumer) of one end
 * of a ring pair; whoever made the pair owns it (the ring sides never release it).
 */
export interface Parker {
  /** The non-zero value a side stores in its sleep flag before it parks (the peer wakes it when non-zero). */
  readonly flag: number;
  /**
   * Parks until woken (by the peer or by wakeSelf), or `timeoutMs` (Infinity: no limit) passes; may return
   * early ('not-equal' when the word is no longer `expected`). `index` is the parking side's own sleep
   * flag and `expected` the value it stored there: a wake-up rung before the wait began has changed the
   * flag, so the wait must not sleep through it. Never rejects for an abort: waitFor turns an abort into
   * wakeSelf and checks the signal itself.
   */
  wait(i32: Int32Array, index: number, expected: number, timeoutMs: number): Promise<'ok' | 'not-equal' | 'timed-out'>;
  /** Wakes the peer parked on its flag at `index` (this side just rang that flag: it published what the peer waits for). */
  wakePeer(i32: Int32Array, index: number): void;
  /** Ends this side's own wait on its flag at `index` (abort, close, peer death); never reaches the peer. */
  wakeSelf(i32: Int32Array, index: number): void;
}

type WaitAsync = (
  i32: Int32Array,
  index: number,
  value: number,
  timeout: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

/**
 * Parking for threads of one process (worker_threads): V8's Atomics.waitAsync/notify. Each side parks on its
 * own sleep flag, so a notify of a word reaches exactly the side parked on it: waking the peer and waking
 * oneself are the same call on different words.
 * A pending waitAsync does not keep the event loop alive, so a referenced timer does, until the wait
 * settles. The timer must outlive the wait whatever the timing: V8 settles a timed-out waitAsync through a
 * delayed platform task that does not keep the loop alive either, and on Node 22 (seen: 6 tests of
 * ring.logic cancelled in 4 of 5 runs) a keep-alive of the wait's own length plus 10 ms fired first and
 * let the loop end with the wait still pending.
 */
export const threadParker: Parker = {
  flag: 1,
  async wait(i32, index, expected, timeoutMs) {
    const r = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync(i32, index, expected, timeoutMs);
    if (!r.async) return r.value;
    const keep = setTimeout(() => {}, 0x7fffffff);
    try {
      return await r.value;
    } finally {
      clearTimeout(keep);
    }
  },
  wakePeer(i32, index) {
    Atomics.notify(i32, index);
  },
  wakeSelf(i32, index) {
    Atomics.notify(i32, index);
  },
};

/** Where a ring lives and how its sides park: the memory of `new RingProducer` / `new RingConsumer`. */
export interface RingMemory {
  /** The SharedArrayBuffer holding the ring (Atomics go here). */
  shared: SharedArrayBuffer;
  /** A plain ArrayBuffer over the same bytes, for payload copies; defaults to `shared`. */
  plain?: ArrayBuffer | SharedArrayBuffer;
  /** Byte offset of the ring header in both buffers (a multiple of 64). */
  offset: number;
  /**
   * Bytes of this ring's own slot from `offset` (header and data area). The capacity read from the header
   * must fit in it: a peer that rewrites the header cannot point this side into the next ring's area.
   * Default: to the end of `shared`.
   */
  bytes?: number;
  /** How a waiting side sleeps and is woken (`threadParker`, or eventfd doorbells). */
  parker: Parker;
  /**
   * The peer's death as the kernel reported it (the rendezvous socket closed), or undefined while it
   * lives. Checked whenever a wait would park; the parker wakes parked waits when it changes.
   */
  peer?: () => IpcError | undefined;
}

export interface RingWaitOptions extends WaitOptions {
  /** Spin this many microseconds before parking. Default: the ring's `spinMicros`. */
  spinMicros?: number;
}

/** Options of one side of a ring. */
export interface RingOptions {
  /** Largest payload this side sends or accepts (at most maxPayload(capacity)). */
  maxMessageSize?: number;
  /** Default spin before parking, in microseconds. Default 50. */
  spinMicros?: number;
  /** What to call it in errors. */
  what?: string;
}

/** Writes a fresh ring header (the creating side does this before publishing the segment). */
export function initRing(shared: SharedArrayBuffer, offset: number, capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two in ${MIN_CAPACITY}..${MAX_CAPACITY}`);
  }
  new Uint8Array(shared, offset, RING_HEADER).fill(0);
  const i32 = new Int32Array(shared, offset, RING_HEADER / 4);
  i32[OFF_VERSION / 4] = RING_VERSION;
  i32[OFF_CAPACITY / 4] = capacity;
  Atomics.store(i32, OFF_MAGIC / 4, RING_MAGIC | 0);
}

/**
 * Reads and checks a ring header written by somebody else; returns its capacity. `bytes` is the size of
 * the ring's own slot from `offset` (default: to the end of `shared`): a capacity that runs past it is
 * ERR_IPC_CORRUPT, so a rewritten header cannot reach into a neighbouring ring.
 */
export function checkRing(shared: SharedArrayBuffer, offset: number, bytes?: number): number {
  const end = bytes === undefined ? shared.byteLength : offset + bytes;
  if (!Number.isInteger(offset) || offset < 0 || (offset & 63) !== 0 || !Number.isInteger(end) || end > shared.byteLength || offset + RING_HEADER > end) {
    throw corrupt('header out of bounds', { offset, bytes });
  }
  const i32 = new Int32Array(shared, offset, RING_HEADER / 4);
  const magic = Atomics.load(i32, OFF_MAGIC / 4) >>> 0;
  if (magic !== RING_MAGIC) throw corrupt('bad magic', { magic });
  const version = Atomics.load(i32, OFF_VERSION / 4);
  if (version !== RING_VERSION) throw new IpcError('ERR_IPC_UNSUPPORTED', `shared-memory ring layout version ${version} (this is ${RING_VERSION})`, { version });
  const cap = Atomics.load(i32, OFF_CAPACITY / 4) >>> 0;
  if (cap < MIN_CAPACITY || cap > MAX_CAPACITY || (cap & (cap - 1)) !== 0 || offset + RING_HEADER + cap > end) {
    throw corrupt('bad capacity', { capacity: cap });
  }
  return cap;
}

abstract class RingSide {
  /** Bytes of the data area (a power of two). */
  readonly capacity: number;
  /** Largest payload this side sends or accepts. */
  readonly maxMessageSize: number;
  /** Default spin before parking, in microseconds. */
  spinMicros: number;
  protected readonly what: string;
  protected readonly i32: Int32Array; // the whole header and data area, for Atomics and record headers
  protected readonly bulk: Uint8Array; // the data area through the plain view, for payload copies
  protected readonly bulk32: Int32Array; // the same, by words, for short copies without an allocation
  protected readonly parker: Parker;
  protected readonly peer: (() => IpcError | undefined) | undefined;
  protected readonly mask: number;
  protected broken: Error | undefined;
  protected closedSelf = false;

  constructor(mem: RingMemory, opts: RingOptions) {
    this.what = opts.what ?? 'shared-memory ring';
    this.capacity = checkRing(mem.shared, mem.offset, mem.bytes);
    this.mask = this.capacity - 1;
    this.i32 = new Int32Array(mem.shared, mem.offset, (RING_HEADER + this.capacity) / 4);
    this.bulk = new Uint8Array(mem.plain ?? mem.shared, mem.offset + RING_HEADER, this.capacity);
    this.bulk32 = new Int32Array(mem.plain ?? mem.shared, mem.offset + RING_HEADER, this.capacity >> 2);
    this.parker = mem.parker;
    this.peer = mem.peer;
    const max = maxPayload(this.capacity);
    this.maxMessageSize = Math.min(opts.maxMessageSize ?? max, max);
    this.spinMicros = opts.spinMicros ?? 50;
  }

  protected load(off: number): number {
    return Atomics.load(this.i32, off >> 2);
  }

  protected store(off: number, v: number): void {
    Atomics.store(this.i32, off >> 2, v | 0);
  }

  protected fail(err: Error): never {
    this.broken ??= err;
    throw err;
  }

  /**
   * Wakes the peer parked on its flag at `flagOff`, once per park: the flag
   * goes from the peer's value to RUNG by compare-and-swap, and only the side that made that change
   * rings, so a burst of sends to a parked consumer costs one wake-up syscall, not one per message.
   */
  protected ring(flagOff: number): void {
    const f = this.load(flagOff);
    if (f === 0 || f === RUNG) return;
    if (Atomics.compareExchange(this.i32, flagOff >> 2, f, RUNG) === f) this.parker.wakePeer(this.i32, flagOff >> 2);
  }

  /**
   * Spins up to `spinMicros` for `ready()`, then parks on this side's sleep flag at `flagOff` (see
   * "Parking" above). `ready()` must read the peer's position (and closed flag) with Atomics, and must
   * also be true once the peer closed its side on purpose; a peer that died without closing fails the
   * wait with ERR_IPC_PEER_DEAD.
   */
  protected async waitFor(ready: () => boolean, flagOff: number, op: string, opts: RingWaitOptions): Promise<void> {
    const { signal, timeout } = opts;
    const spinNs = (opts.spinMicros ?? this.spinMicros) * 1000;
    if (spinNs > 0) {
      // A bounded busy wait: cheaper than any wake-up (tens of µs here) when the peer answers within
      // microseconds. The clock is read once per 64 looks.
      const start = process.hrtime.bigint();
      for (let i = 1; ; i++) {
        if (ready()) return;
        if ((i & 63) === 0 && Number(process.hrtime.bigint() - start) >= spinNs) break;
      }
    }
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    const flag = flagOff >> 2;
    const mine = this.parker.flag;
    // An abort wakes this side only (the peer has nothing to do with it).
    const stopListening = onAbort(signal, () => this.parker.wakeSelf(this.i32, flag));
    try {
      for (;;) {
        if (signal?.aborted) throw abortError(signal);
        if (this.closedSelf) throw closedError(this.what, op);
        if (this.broken) throw this.broken;
        Atomics.store(this.i32, flag, mine);
        // Re-check after raising the flag: the peer may have moved just before it saw the flag.
        if (ready()) {
          Atomics.store(this.i32, flag, 0);
          return;
        }
        const dead = this.peer?.();
        if (dead) {
          Atomics.store(this.i32, flag, 0);
          this.fail(dead);
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          Atomics.store(this.i32, flag, 0);
          throw timeoutError(this.what, timeout!);
        }
        try {
          // On the flag: a ring that came before the wait began changed it (RUNG), and the wait returns.
          await this.parker.wait(this.i32, flag, mine, left);
        } finally {
          Atomics.store(this.i32, flag, 0);
        }
        if (ready()) return;
      }
    } finally {
      stopListening();
    }
  }
}

/**
 * The producing side of one ring.
 *
 * @example
 * ```ts
 * initRing(sab, 0, 1 << 16);
 * const tx = new RingProducer({ shared: sab, offset: 0, parker: threadParker });
 * tx.trySend(Buffer.from('hi')) || (await tx.send(Buffer.from('hi')));
 * ```
 */
export class RingProducer extends RingSide {
  #head: number; // our position, never re-read from shared memory
  #tail: number; // the consumer's position when last read: free space is at least what it implies
  #published: number; // the last head stored in shared memory (tryWrite runs ahead of it until flush)
  // A short send buffer the caller reuses, and a word view of it (see #write); the last one seen.
  #src: Uint8Array | undefined;
  #src32: Int32Array | undefined;
  #lastSrc: Uint8Array | undefined;
  // An outstanding loan(): the payload's offset in the data area and the bytes lent, or -1.
  #loanAt = -1;
  #loanLen = 0;

  constructor(mem: RingMemory, opts: RingOptions = {}) {
    super(mem, opts);
    this.#head = this.load(OFF_HEAD) >>> 0;
    this.#tail = this.#head;
    this.#published = this.#head;
  }

  /**
   * Free bytes (validated). The consumer's position is re-read only when the last value read does not
   * leave `need` bytes: most sends then touch nothing of the consumer's cache line.
   */
  #free(need = Infinity): number {
    let free = this.capacity - ((this.#head - this.#tail) >>> 0);
    if (free >= need) return free;
    const tail = this.load(OFF_TAIL) >>> 0;
    const used = (this.#head - tail) >>> 0;
    if (used > this.capacity || (used & 7) !== 0) this.fail(corrupt('consumer position out of range', { head: this.#head, tail }));
    this.#tail = tail;
    free = this.capacity - used;
    return free;
  }

  #checkOpen(op: string): void {
    if (this.closedSelf) throw closedError(this.what, op);
    if (this.broken) throw this.broken;
    // A plain read, not Atomics.load (a builtin call, ~20 ns, as much as the rest of a short send): an
    // aligned Int32Array read of shared memory is tear-free, and a late look at this flag only lets one
    // more message go to a consumer that was closing anyway. Publication (flush) is what orders.
    if (this.i32[OFF_CONSUMER_CLOSED >> 2] !== 0) {
      throw new IpcError('ERR_IPC_PEER_DEAD', `the consumer of ${this.what} closed`, { closed: true });
    }
  }

  /** Bytes a payload of `len` needs at the current position (with the wrap padding), or -1 if it can never fit. */
  #need(len: number): number {
    const rec = RECORD_HEADER + ((len + 7) & ~7);
    const toEnd = this.capacity - (this.#head & this.mask);
    return rec <= toEnd ? rec : toEnd + rec;
  }

  /**
   * Sends at once if there is room; false when the ring is full. Never waits, never calls native.
   * `length` sends only the first `length` bytes of `bytes` (a reusable buffer, no subarray needed).
   */
  trySend(bytes: Uint8Array, length?: number): boolean {
    if (!this.#write(bytes, length === undefined ? bytes.byteLength : length)) return false;
    this.#published = this.#head;
    this.store(OFF_HEAD, this.#head);
    // The only syscall of the send path, and only when the consumer announced it parked.
    if (this.load(OFF_CONSUMER_SLEEPING) !== 0) this.ring(OFF_CONSUMER_SLEEPING);
    return true;
  }

  /**
   * Writes a message into the ring without publishing it: the consumer sees it (and everything written
   * before it) only at the next flush() or trySend(). For bursts: one release store and one look at the
   * consumer's sleep flag per batch instead of per message. False when the ring is full (flush() first if
   * the consumer must drain what is already written).
   *
   * @example
   * ```ts
   * for (const m of batch) while (!tx.tryWrite(m)) tx.flush();
   * tx.flush();
   * ```
   */
  tryWrite(bytes: Uint8Array, length?: number): boolean {
    return this.#write(bytes, length === undefined ? bytes.byteLength : length);
  }

  /**
   * Makes room for a record of `len` payload bytes at the current position (wrap marker included) and
   * writes its header; the payload offset in the data area, or -1 if the ring is full. #head is advanced
   * past any wrap padding, not past the record (the caller does that once the payload is in).
   */
  #reserve(len: number): number {
    this.#checkOpen('send');
    if (this.#loanAt >= 0) throw new IpcError('ERR_IPC_UNSUPPORTED', `${this.what}: commit() the loan first`);
    if (len > this.maxMessageSize) throw tooLarge(len, this.maxMessageSize);
    const rec = RECORD_HEADER + ((len + 7) & ~7);
    let off = this.#head & this.mask;
    // A large record goes back to offset 0 when the consumer has caught up and the producer is past the
    // middle (a voluntary wrap, allowed by the format): the producer then keeps writing the first half of
    // the data area, which stays in cache, instead of walking all of it. Past the middle, the padding
    // leaves at least half the ring free, so one more record of any size can still be written while the
    // consumer reads this one: the two sides keep overlapping.
    if (rec >= LARGE_RECORD && off >= this.capacity >>> 1 && this.#free(this.capacity) === this.capacity) {
      this.i32[(RING_HEADER + off) >> 2] = WRAP | 0;
      this.#head = (this.#head + (this.capacity - off)) >>> 0;
      off = 0;
    }
    const need = rec <= this.capacity - off ? rec : this.capacity - off + rec;
    if (need > this.#free(need)) return -1;
    if (rec > this.capacity - off) {
      // Not enough contiguous room before the end: a wrap marker, and the record goes at the start.
      this.i32[(RING_HEADER + off) >> 2] = WRAP | 0;
      this.#head = (this.#head + (this.capacity - off)) >>> 0;
      off = 0;
    }
    const h = (RING_HEADER + off) >> 2;
    this.i32[h] = len;
    this.i32[h + 1] = 0;
    return off + RECORD_HEADER;
  }

  #write(bytes: Uint8Array, len: number): boolean {
    if (!(len >= 0 && len <= bytes.byteLength)) {
      this.#checkOpen('send');
      if (len > this.maxMessageSize) throw tooLarge(len, this.maxMessageSize);
      throw outOfRange('length', `>= 0 and <= ${bytes.byteLength}`, len);
    }
    const at = this.#reserve(len);
    if (at < 0) return false;
    const rec = RECORD_HEADER + ((len + 7) & ~7);
    if (len > 0) {
      if (len <= 256 && bytes === this.#src) {
        // The same short buffer again (a reused send buffer): copy by words through its word view, made
        // once, instead of a subarray per message for a prefix.
        const s = this.#src32!;
        const d = this.bulk32;
        const w = at >> 2; // payloads start 8-aligned
        const words = len >> 2;
        for (let i = 0; i < words; i++) d[w + i] = s[i]!;
        for (let i = words << 2; i < len; i++) this.bulk[at + i] = bytes[i]!;
      } else {
        this.bulk.set(len === bytes.byteLength ? bytes : bytes.subarray(0, len), at);
        // Seen twice in a row, short and word-aligned: worth a word view from now on.
        if (len <= 256 && bytes === this.#lastSrc && (bytes.byteOffset & 3) === 0) {
          this.#src = bytes;
          this.#src32 = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
        }
        this.#lastSrc = bytes;
      }
    }
    this.#head = (this.#head + rec) >>> 0;
    return true;
  }

  /** Publishes everything written (one seq-cst store), and wakes the consumer if it sleeps. */
  flush(): void {
    if (this.#head === this.#published) return;
    this.#published = this.#head;
    this.store(OFF_HEAD, this.#head);
    if (this.load(OFF_CONSUMER_SLEEPING) !== 0) this.ring(OFF_CONSUMER_SLEEPING);
  }

  /**
   * Sends, waiting for room (spin, then park) when the ring is full. The fast path is synchronous: a
   * message that fits costs no promise beyond the one returned.
   */
  send(bytes: Uint8Array, opts: RingWaitOptions = {}): Promise<void> {
    try {
      if (this.trySend(bytes)) return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#sendWaiting(bytes, opts);
  }

  async #sendWaiting(bytes: Uint8Array, opts: RingWaitOptions): Promise<void> {
    this.flush();
    const need = this.#need(bytes.byteLength);
    for (;;) {
      await this.waitFor(() => this.#free(need) >= need || this.load(OFF_CONSUMER_CLOSED) !== 0, OFF_PRODUCER_WAITING, 'send', opts);
      if (this.trySend(bytes)) return;
    }
  }

  /**
   * Sends several messages in order, for a producer that does not await each one: they are written with
   * tryWrite and published in bursts (one position store and at most one wake-up per 32 messages, and
   * whenever the ring fills), waiting for room (spin, then park) only when it is full. Resolves after the
   * last one is published; a rejection (abort, timeout, the consumer gone) leaves the ones before it sent.
   *
   * @example
   * ```ts
   * await tx.sendMany(chunks);
   * ```
   */
  sendMany(messages: readonly Uint8Array[], opts: RingWaitOptions = {}): Promise<void> {
    let i = 0;
    try {
      for (const n = messages.length; i < n; i++) {
        const m = messages[i]!;
        if (!this.#write(m, m.byteLength)) {
          this.flush();
          if (!this.#write(m, m.byteLength)) break;
        }
        if ((i & 31) === 31) this.flush();
      }
      this.flush();
    } catch (err) {
      try {
        this.flush();
      } catch {
        // broken: nothing more to publish
      }
      return Promise.reject(err);
    }
    return i === messages.length ? RESOLVED : this.#sendManyWaiting(messages, i, opts);
  }

  async #sendManyWaiting(messages: readonly Uint8Array[], i: number, opts: RingWaitOptions): Promise<void> {
    try {
      for (const n = messages.length; i < n; i++) {
        const m = messages[i]!;
        if (!this.#write(m, m.byteLength)) await this.#sendWaiting(m, opts);
        else if ((i & 31) === 31) this.flush();
      }
    } finally {
      if (!this.broken) this.flush();
    }
  }

  /**
   * Zero-copy send: lends a writable view of `length` bytes inside the ring, where the next message goes,
   * or null if the ring has no room for it now. Fill it, then commit() (no other send may happen before).
   * The view must not be used after commit(): the bytes belong to the consumer then.
   *
   * @example
   * ```ts
   * const view = tx.loan(1 << 20);
   * if (view) { fill(view); tx.commit(); }
   * ```
   */
  loan(length: number): Uint8Array | null {
    if (!Number.isInteger(length) || length < 0) throw outOfRange('length', 'an integer >= 0', length);
    const at = this.#reserve(length);
    if (at < 0) return null;
    this.#loanAt = at;
    this.#loanLen = length;
    return this.bulk.subarray(at, at + length);
  }

  /**
   * Publishes the message of the outstanding loan(), with its first `length` bytes (default: all that was
   * lent), and wakes the consumer if it sleeps.
   */
  commit(length?: number): void {
    const at = this.#loanAt;
    if (at < 0) throw new IpcError('ERR_IPC_UNSUPPORTED', `${this.what}: commit() without a loan()`);
    const len = length ?? this.#loanLen;
    if (!Number.isInteger(len) || len < 0 || len > this.#loanLen) throw outOfRange('length', `an integer >= 0 and <= ${this.#loanLen} (the loan)`, len);
    this.#loanAt = -1;
    this.#checkOpen('send');
    this.i32[(RING_HEADER + at - RECORD_HEADER) >> 2] = len;
    this.#head = (this.#head + RECORD_HEADER + ((len + 7) & ~7)) >>> 0;
    this.flush();
  }

  /** Ends a loan() without sending anything (the space is reused by the next send). */
  abandon(): void {
    this.#loanAt = -1;
  }

  /**
   * Marks the producer closed (the consumer drains what is left, then sees the end), wakes the consumer,
   * and ends this side's own send waiting for room (ERR_IPC_CLOSED).
   */
  close(): void {
    if (this.closedSelf) return;
    try {
      this.flush();
    } catch {
      // a broken ring: nothing more to publish
    }
    this.closedSelf = true;
    this.store(OFF_PRODUCER_CLOSED, 1);
    // Through the flag (a consumer about to park sees either "closed" or RUNG), then the doorbell anyway
    // (docs/ring-format.md, "Closing": a peer that parks without a flag still wakes).
    this.ring(OFF_CONSUMER_SLEEPING);
    this.parker.wakePeer(this.i32, OFF_CONSUMER_SLEEPING >> 2);
    this.parker.wakeSelf(this.i32, OFF_PRODUCER_WAITING >> 2);
  }
}

const RESOLVED = Promise.resolve();

// tryReceiveMany's runs: records under RUN_RECORD bytes, at most RUN_MAX of them and RUN_BYTES in all
// (what one kept message can pin), located into these scratch arrays (one thread runs at a time).
const RUN_RECORD = 4096;
const RUN_MAX = 1024;
const RUN_BYTES = 64 * 1024;
const runAt = new Int32Array(RUN_MAX);
const runLen = new Int32Array(RUN_MAX);

/**
 * The consuming side of one ring.
 *
 * @example
 * ```ts
 * const rx = new RingConsumer({ shared: sab, offset: 0, parker: threadParker });
 * for (let m; (m = await rx.receive()) !== null; ) console.log(m);
 * ```
 */
export class RingConsumer extends RingSide {
  #tail: number;
  #head: number; // the producer's position when last read (validated)
  #held = 0; // bytes of a record lent out by peek(), released by release()
  #published: number; // the last tail stored in shared memory
  readonly #lazy: number; // consumed bytes that may stay unpublished while a batch is read (see #advance)
  // The last tryReceiveInto() buffer and a word view of it (kept: the same buffer is usually reused).
  #dst: Uint8Array | undefined;
  #dst32: Int32Array | undefined;
  // The record #next() found (fields, not a tuple: no allocation per message).
  #at = 0;
  #len = 0;
  #n = 0;

  constructor(mem: RingMemory, opts: RingOptions = {}) {
    super(mem, opts);
    this.#tail = this.load(OFF_TAIL) >>> 0;
    this.#head = this.#tail;
    this.#published = this.#tail;
    this.#lazy = this.capacity >>> 2;
  }

  /** The producer closed on purpose and everything it sent has been received. */
  get ended(): boolean {
    return this.load(OFF_PRODUCER_CLOSED) !== 0 && (this.load(OFF_HEAD) >>> 0) === this.#tail;
  }

  /**
   * Locates the next record: [offset of payload in the data area, length, bytes to consume], or null if
   * the ring is empty. Everything read from shared memory is checked here.
   */
  #next(): boolean {
    if (this.closedSelf) throw closedError(this.what, 'receive');
    if (this.broken) throw this.broken;
    if (this.#held) throw new IpcError('ERR_IPC_UNSUPPORTED', `${this.what}: release() the record from peek() first`);
    // The producer's position is re-read only when everything up to the last value read was consumed.
    let head = this.#head;
    let avail = (head - this.#tail) >>> 0;
    if (avail === 0) {
      head = this.load(OFF_HEAD) >>> 0;
      avail = (head - this.#tail) >>> 0;
      if (avail === 0) return false;
      if (avail > this.capacity || (avail & 7) !== 0) this.fail(corrupt('producer position out of range', { head, tail: this.#tail }));
      this.#head = head;
    }
    let off = this.#tail & this.mask;
    let skip = 0;
    let len = this.i32[(RING_HEADER + off) >> 2]! >>> 0;
    if (len === WRAP) {
      skip = this.capacity - off;
      if (skip >= avail) this.fail(corrupt('wrap marker with no record after it', { head, tail: this.#tail }));
      avail -= skip;
      off = 0;
      len = this.i32[RING_HEADER >> 2]! >>> 0;
      if (len === WRAP) this.fail(corrupt('two wrap markers in a row', { head, tail: this.#tail }));
    }
    if (len > this.maxMessageSize) {
      if (len > maxPayload(this.capacity)) this.fail(corrupt('record length out of range', { length: len }));
      this.fail(tooLarge(len, this.maxMessageSize, { incoming: true }));
    }
    const rec = RECORD_HEADER + ((len + 7) & ~7);
    if (rec > avail || rec > this.capacity - off) this.fail(corrupt('record runs past the producer position', { length: len, head, tail: this.#tail }));
    this.#at = off + RECORD_HEADER;
    this.#len = len;
    this.#n = skip + rec;
    return true;
  }

  /**
   * Consumes `n` bytes. The position is published (a seq-cst store, and a look at the producer's flag:
   * two builtin calls, ~40 ns) once per batch, not per message: when this record was the last of those
   * the producer had published at the last look (#head), when a quarter of the ring is consumed and
   * unpublished, or when the producer's flag says it waits for room (a plain read: a hint only; missing
   * it delays the producer to the end of the batch, it cannot lose its wake-up). So the ring is never
   * seen empty, and this side never parks, with its position unpublished.
   */
  #advance(n: number): void {
    this.#publishDue((this.#tail = (this.#tail + n) >>> 0));
  }

  /** Publishes `tail` (this side's position) if it is due (see #advance). */
  #publishDue(tail: number): void {
    if (tail !== this.#head && ((tail - this.#published) >>> 0) < this.#lazy && this.i32[OFF_PRODUCER_WAITING >> 2] === 0) return;
    this.#published = tail;
    this.store(OFF_TAIL, tail);
    if (this.load(OFF_PRODUCER_WAITING) !== 0) this.ring(OFF_PRODUCER_WAITING);
  }

  /** The next message (a copy), or null if there is none now. Never waits, never calls native. */
  tryReceive(): Buffer | null {
    if (!this.#next()) return null;
    const at = this.#at;
    const len = this.#len;
    let out: Buffer;
    if (len <= WORD_COPY_MAX) out = copyWords(this.bulk32, at >> 2, len); // payloads start 8-aligned
    else {
      out = Buffer.allocUnsafe(len);
      out.set(this.bulk.subarray(at, at + len));
    }
    this.#advance(this.#n);
    return out;
  }

  /**
   * Up to `max` messages there now, appended to `out`, in order; how many. Never waits, never calls
   * native. Copies, like tryReceive(), but a run of short records lying one after the other in the ring
   * (up to RUN_BYTES) is copied out with one memcpy into a buffer of its own, each message a view of it:
   * a batch costs one copy and a Buffer object per message, not a copy per message. A kept message pins
   * at most its run. A record that fails the checks ends the batch after the messages before it (the
   * ring stays broken, so the next receive throws); it throws only if it is the first.
   */
  tryReceiveMany(out: Buffer[], max: number): number {
    let taken = 0;
    while (taken < max) {
      let found: boolean;
      try {
        found = this.#next();
      } catch (err) {
        if (taken === 0) throw err;
        break;
      }
      if (!found) break;
      if (this.#len >= RUN_RECORD) {
        // A large one: a copy of its own (it would make the run's buffer large and pin it).
        const m = Buffer.allocUnsafe(this.#len);
        m.set(this.bulk.subarray(this.#at, this.#at + this.#len));
        this.#advance(this.#n);
        out.push(m);
        taken++;
        continue;
      }
      // A run: records locate with #next() and consume privately (#tail moves, nothing is published,
      // so the producer cannot reuse their bytes) until the run ends; then one copy, then publication.
      const start = this.#at - RECORD_HEADER; // the record's own start (after the wrap, if it wrapped)
      let end = start;
      let k = 0;
      for (;;) {
        runAt[k] = this.#at - start;
        runLen[k] = this.#len;
        k++;
        end = this.#at + ((this.#len + 7) & ~7);
        this.#tail = (this.#tail + this.#n) >>> 0;
        if (taken + k >= max || k >= RUN_MAX) break;
        let more: boolean;
        try {
          more = this.#next();
        } catch {
          break; // the bad record is met again (and thrown) by the next receive
        }
        // Only a short record right after the last (no wrap between them), and the run stays short.
        if (!more || this.#len >= RUN_RECORD || this.#at - RECORD_HEADER !== end || this.#at + ((this.#len + 7) & ~7) - start > RUN_BYTES) break;
      }
      const run = Buffer.allocUnsafeSlow(end - start);
      run.set(this.bulk.subarray(start, end));
      markAsUntransferable(run.buffer); // like Node's pool: transferring one message would detach its neighbours
      for (let i = 0; i < k; i++) out.push(Buffer.from(run.buffer, runAt[i]!, runLen[i]!));
      taken += k;
      this.#publishDue(this.#tail);
    }
    return taken;
  }

  /**
   * tryReceive(), but spinning up to `spinMicros` (default: the ring's) for a message first: the next
   * message, or null if none came. Never parks, never returns a promise (the Channel's fast path).
   */
  receiveSpinning(spinMicros: number = this.spinMicros): Buffer | null {
    return this.tryReceive() ?? this.#spinReceive(spinMicros);
  }

  /**
   * Copies the next message into `dst` without allocating: its length, or -1 if there is none now.
   * A message longer than `dst` is left in the ring and throws ERR_OUT_OF_RANGE.
   *
   * @example
   * ```ts
   * const buf = Buffer.allocUnsafe(rx.maxMessageSize);
   * const n = rx.tryReceiveInto(buf);
   * if (n >= 0) handle(buf.subarray(0, n));
   * ```
   */
  tryReceiveInto(dst: Uint8Array): number {
    if (!this.#next()) return -1;
    const at = this.#at;
    const len = this.#len;
    if (len > dst.byteLength) throw outOfRange('dst.byteLength', `>= ${len} (the next message)`, dst.byteLength);
    if (len > 0) {
      if (len <= 256 && (dst.byteOffset & 3) === 0) {
        // Short and word-aligned: copy by words through a word view of dst, made once per buffer (a
        // subarray for set() would be an allocation per message, longer than the copy itself).
        if (dst !== this.#dst) {
          this.#dst = dst;
          this.#dst32 = new Int32Array(dst.buffer, dst.byteOffset, dst.byteLength >> 2);
        }
        const d = this.#dst32!;
        const src = this.bulk32;
        const w = at >> 2; // payloads start 8-aligned
        const words = len >> 2;
        for (let i = 0; i < words; i++) d[i] = src[w + i]!;
        for (let i = words << 2; i < len; i++) dst[i] = this.bulk[at + i]!;
      } else {
        dst.set(this.bulk.subarray(at, at + len));
      }
    }
    this.#advance(this.#n);
    return len;
  }

  /**
   * Zero-copy: a view of the next message inside the ring, or null if there is none. The view is valid
   * until release(), which hands its bytes back to the producer; no other receive may happen before.
   */
  peek(): Uint8Array | null {
    if (!this.#next()) return null;
    this.#held = this.#n;
    return this.bulk.subarray(this.#at, this.#at + this.#len);
  }

  /** Hands the bytes of the message from `peek()` back to the producer (a no-op if none is held). */
  release(): void {
    const n = this.#held;
    if (!n) return;
    this.#held = 0;
    this.#advance(n);
  }

  /**
   * The next message, waiting (spin, then park); null once the producer closed and all was received. A
   * message already there is returned without any wait machinery.
   */
  receive(opts: RingWaitOptions = {}): Promise<Buffer | null> {
    try {
      const m = this.tryReceive() ?? this.#spinReceive(opts.spinMicros ?? this.spinMicros);
      if (m) return Promise.resolve(m);
    } catch (err) {
      return Promise.reject(err);
    }
    // The spin is done: the wait parks at once.
    return this.#receiveWaiting(opts.spinMicros === 0 ? opts : { ...opts, spinMicros: 0 });
  }

  /**
   * The bounded spin, synchronously, before any promise machinery: a reply that comes within it costs
   * no async frame at all (most round trips between two busy processes).
   */
  #spinReceive(micros: number): Buffer | null {
    if (!(micros > 0)) return null;
    // The clock is first read after 64 looks: a reply that is nearly there costs no clock read at all.
    const ns = micros * 1000;
    let start = -1;
    for (let i = 1; ; i++) {
      if ((this.load(OFF_HEAD) >>> 0) !== this.#tail) return this.tryReceive();
      if (this.load(OFF_PRODUCER_CLOSED) !== 0) return null;
      if ((i & 63) === 0) {
        const now = performance.now() * 1e6;
        if (start < 0) start = now;
        else if (now - start >= ns) return null;
      }
    }
  }

  async #receiveWaiting(opts: RingWaitOptions): Promise<Buffer | null> {
    for (;;) {
      if (this.load(OFF_PRODUCER_CLOSED) !== 0) {
        // The producer sets "closed" after its last position store: one more look, then it is the end.
        return this.tryReceive();
      }
      await this.waitFor(() => (this.load(OFF_HEAD) >>> 0) !== this.#tail || this.load(OFF_PRODUCER_CLOSED) !== 0, OFF_CONSUMER_SLEEPING, 'receive', opts);
      const m = this.tryReceive();
      if (m) return m;
    }
  }

  /**
   * Marks the consumer closed (the producer's next send fails), wakes a producer waiting for room, and
   * ends this side's own receive (ERR_IPC_CLOSED).
   */
  close(): void {
    if (this.closedSelf) return;
    this.closedSelf = true;
    if (this.#held) this.#held = 0;
    if (this.#published !== this.#tail) this.store(OFF_TAIL, (this.#published = this.#tail));
    this.store(OFF_CONSUMER_CLOSED, 1);
    this.ring(OFF_PRODUCER_WAITING);
    this.parker.wakePeer(this.i32, OFF_PRODUCER_WAITING >> 2);
    this.parker.wakeSelf(this.i32, OFF_CONSUMER_SLEEPING >> 2);
  }
}
