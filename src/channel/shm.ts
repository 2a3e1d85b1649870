// shm:/name — a channel over two shared-memory rings in one POSIX shared memory object (ring.ts, and
// docs/ring-format.md for the segment and the handshake). Both directions; the listener creates the
// object (exclusive, 0600) and the connector attaches and unlinks the name, so nothing stays in /dev/shm.
// Parking is on doorbell FIFOs watched by the event loop when both sides are ipckit (BellParker below),
// else the cross-process futex (SharedMemory.wait/notify on a waiter thread); a message costs no syscall
// and no native call unless the other side sleeps.
import fs from 'node:fs';
import { IpcError, type IpcErrorCode } from '../errors.js';
import { native } from '../native.js';
import { Readiness, READABLE } from '../internal/wait.js';
import type { WaitOptions } from '../internal/validate.js';
import { SharedMemory } from '../shared-memory.js';
import {
  checkRing,
  initRing,
  maxPayload,
  MAX_CAPACITY,
  MIN_CAPACITY,
  pidAlive,
  ringBytes,
  RingConsumer,
  RingProducer,
  type Parker,
  type RingOptions,
} from './ring.js';
import { registerAdapter, type Transport, type TransportOptions } from './transport.js';
import { outOfRange } from '../errors.js';

export const SEGMENT_MAGIC = 0x434b5049; // "IPKC"
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER = 64;
const I_MAGIC = 0;
const I_VERSION = 1;
const I_CAPACITY = 2;
const I_RINGS = 3;
const I_LISTENER_PID = 4;
const I_CONNECTOR_PID = 5;
const I_BELLS = 6; // byte 24: 1 = the listener made doorbell FIFOs (docs/ring-format.md, "Doorbells")
const I_BELLS_ACK = 7; // byte 28: 1 = the connector opened them: both sides may park on them

/** Default capacity of each ring: 4 MiB (messages up to 2 MiB − 8 bytes). */
export const DEFAULT_CAPACITY = 4 << 20;

export function segmentBytes(capacity: number): number {
  return SEGMENT_HEADER + 2 * ringBytes(capacity);
}

/** The futex that reaches other processes. */
export const processParker: Parker = {
  wait: (i32, index, expected, timeoutMs) => SharedMemory.wait(i32, index, expected, { timeout: timeoutMs }),
  notify: (i32, index) => {
    SharedMemory.notify(i32, index, 1);
  },
};

const { O_RDWR, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
const O_CLOEXEC = 0o2000000; // Linux; fs.constants does not carry it
const ONE = new Uint8Array([1]);

/** The doorbell FIFOs of a segment: [the listener's, the connector's], next to the segment in /dev/shm. */
function bellPaths(name: string, listenerPid: number): [string, string] {
  const base = `/dev/shm/${name.slice(1)}.${listenerPid}.bell`;
  return [`${base}-l`, `${base}-c`];
}

function unlinkQuietly(path: string): void {
  try {
    fs.unlinkSync(path);
  } catch {
    // ENOENT: the peer unlinked it already
  }
}

/** Opens a doorbell FIFO read-write and non-blocking (fifo(7): never blocks, never EPIPE); -1 if it is not one. */
function openBell(path: string): number {
  const fd = native.open(path, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0);
  if (fd < 0) return -1;
  try {
    if (fs.fstatSync(fd).isFIFO()) return fd;
  } catch {
    // fall through
  }
  native.close(fd);
  return -1;
}

/** Makes both doorbells as the listener: their fds, or undefined (then both sides use the futex). */
function makeBells(paths: [string, string]): [number, number] | undefined {
  const made: string[] = [];
  const fds: number[] = [];
  for (const p of paths) {
    if (native.mkfifo(p, 0o600) < 0) break;
    made.push(p);
    const fd = openBell(p);
    if (fd < 0) break;
    fds.push(fd);
  }
  if (fds.length === 2) return [fds[0]!, fds[1]!];
  for (const fd of fds) native.close(fd);
  for (const p of made) unlinkQuietly(p);
  return undefined;
}

/**
 * Parking on doorbells: a side that parks waits for its own FIFO to become readable through uv_poll on
 * the event loop, and the other side wakes it by writing a byte. One hop (the kernel marks the fd ready,
 * the loop runs the callback) instead of the futex's two (a waiter thread wakes, then uv_async wakes the
 * loop): measured here 24–27 µs against 28 µs for the round trip. Used only once both sides said they
 * have the doorbells (I_BELLS, I_BELLS_ACK); the sleep flag then reads 2, and a side whose peer parks
 * with flag 1 (the futex, a C peer, or the listener before the connector arrived) wakes the futex.
 * Dead-peer checks are unchanged: every wait is a slice of at most peerCheckMs.
 */
class BellParker implements Parker {
  readonly #own: number;
  readonly #peer: number;
  readonly #ready: Readiness;
  readonly #acked: () => boolean;
  readonly #paths: [string, string];
  #refs = 2; // the RingProducer and the RingConsumer of one side
  #closed = false;

  constructor(own: number, peer: number, acked: () => boolean, paths: [string, string], what: string) {
    this.#own = own;
    this.#peer = peer;
    this.#acked = acked;
    this.#paths = paths;
    this.#ready = new Readiness(own, what);
  }

  flagValue(): number {
    return !this.#closed && this.#acked() ? 2 : 1;
  }

  async wait(i32: Int32Array, index: number, expected: number, timeoutMs: number, signal?: AbortSignal, flag?: number): Promise<'ok' | 'not-equal' | 'timed-out'> {
    if (flag !== 2 || this.#closed) return processParker.wait(i32, index, expected, timeoutMs);
    if (Atomics.load(i32, index) !== expected) return 'not-equal';
    // No draining before the wait: a byte written between our flag store and here is the wake-up. A
    // stale byte (rung after we had stopped waiting) only makes the next wait return early and re-check.
    try {
      await this.#ready.wait(READABLE, { signal, timeout: timeoutMs });
    } catch (err) {
      if ((err as IpcError).code === 'ERR_IPC_TIMEOUT') return 'timed-out';
      throw err;
    } finally {
      if (!this.#closed) native.drain(this.#own);
    }
    return 'ok';
  }

  notify(i32: Int32Array, index: number, flag?: number): void {
    if (flag !== 2) processParker.notify(i32, index);
    if (flag !== 1 && !this.#closed) {
      try {
        fs.writeSync(this.#peer, ONE);
      } catch {
        // EAGAIN: the FIFO is full, the bell is rung already
      }
    }
  }

  release(): void {
    if (--this.#refs > 0 || this.#closed) return;
    this.#closed = true;
    this.#ready.close();
    native.close(this.#own);
    native.close(this.#peer);
    for (const p of this.#paths) unlinkQuietly(p);
  }
}

export interface ShmChannelOptions extends RingOptions {
  /** Data bytes of each ring (a power of two, 64..2^30). Default 4 MiB. */
  capacity?: number;
  /**
   * Park on doorbell FIFOs watched by the event loop (one wake-up hop) when the peer supports them;
   * false: always the futex on a waiter thread (two hops: the thread, then the loop). Default true: on a
   * quiet machine here the doorbell round trip measured 51-52 µs p50 against 62-63 µs on the futex
   * (`ipckit bench --only ring`, three runs), p99 alike. Like the segment itself, a listener killed
   * before any peer came leaves its two FIFOs in /dev/shm (`ipckit ls`/`rm` find both).
   */
  doorbell?: boolean;
}

function fail(code: IpcErrorCode, msg: string, props: Record<string, unknown> = {}): IpcError {
  return new IpcError(code, `shm channel: ${msg}`, props);
}

/** Both rings of a channel segment, from one side. */
export interface RingPair {
  tx: RingProducer;
  rx: RingConsumer;
  shm: SharedMemory;
}

/**
 * Creates the segment and its rings as the listener: the synchronous fast path for latency-critical code
 * (`tx.trySend`, `rx.tryReceive`, `rx.peek`/`release`), beneath `listen('shm:/name')`.
 *
 * @example
 * ```ts
 * const { tx, rx, shm } = await createRingPair('/fast', { capacity: 1 << 20, spinMicros: 1000 });
 * while (!tx.trySend(Buffer.from('ping')));
 * const reply = await rx.receive();
 * tx.close(); rx.close(); shm.close();
 * ```
 */
export async function createRingPair(name: string, opts: ShmChannelOptions = {}): Promise<RingPair> {
  const capacity = opts.capacity ?? DEFAULT_CAPACITY;
  if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
    throw outOfRange('options.capacity', `a power of two >= ${MIN_CAPACITY} and <= ${MAX_CAPACITY}`, capacity);
  }
  const shm = await SharedMemory.create(name, { size: segmentBytes(capacity) });
  let parker: Parker = processParker;
  try {
    const sab = shm.buffer;
    const r0 = SEGMENT_HEADER;
    const r1 = SEGMENT_HEADER + ringBytes(capacity);
    initRing(sab, r0, capacity);
    initRing(sab, r1, capacity);
    const head = new Int32Array(sab, 0, SEGMENT_HEADER / 4);
    head[I_VERSION] = SEGMENT_VERSION;
    head[I_CAPACITY] = capacity;
    head[I_RINGS] = 2;
    head[I_LISTENER_PID] = process.pid;
    const ro = { ...opts, what: opts.what ?? `channel shm:${name}` };
    if (opts.doorbell !== false) {
      const paths = bellPaths(name, process.pid);
      const bells = makeBells(paths);
      if (bells) {
        head[I_BELLS] = 1;
        let acked = false;
        parker = new BellParker(bells[0], bells[1], () => {
          if (acked) return true;
          if (Atomics.load(head, I_BELLS_ACK) !== 1) return false;
          for (const p of paths) unlinkQuietly(p); // the connector has them open: the names are done
          return (acked = true);
        }, paths, ro.what);
      }
    }
    const rx = new RingConsumer({ shared: sab, plain: shm.arrayBuffer, offset: r0, parker }, ro);
    const tx = new RingProducer({ shared: sab, plain: shm.arrayBuffer, offset: r1, parker }, ro);
    rx.attach();
    tx.attach();
    // Last: a connector that sees the magic sees everything above (seq-cst store, docs/ring-format.md).
    Atomics.store(head, I_MAGIC, SEGMENT_MAGIC | 0);
    return { tx, rx, shm };
  } catch (err) {
    parker.release?.();
    parker.release?.();
    shm.close();
    throw err;
  }
}

/**
 * Attaches to a listener's segment as the connector, and unlinks its name.
 *
 * @example
 * ```ts
 * const { tx, rx } = await openRingPair('/fast');
 * for (let m; (m = await rx.receive()) !== null; ) await tx.send(m); // echo
 * ```
 */
export async function openRingPair(name: string, opts: ShmChannelOptions & WaitOptions = {}): Promise<RingPair> {
  const shm = await SharedMemory.open(name);
  let parker: Parker = processParker;
  try {
    const sab = shm.buffer;
    if (sab.byteLength < SEGMENT_HEADER) throw fail('ERR_IPC_CORRUPT', `${name} is too small for a channel segment`, { size: sab.byteLength });
    const head = new Int32Array(sab, 0, SEGMENT_HEADER / 4);
    // The listener stores the magic last; between its ftruncate and that store the header reads zero.
    const deadline = performance.now() + 1000;
    while (Atomics.load(head, I_MAGIC) === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    const magic = Atomics.load(head, I_MAGIC) >>> 0;
    if (magic !== SEGMENT_MAGIC) throw fail('ERR_IPC_CORRUPT', `${name} is not a channel segment`, { magic });
    const version = Atomics.load(head, I_VERSION);
    if (version !== SEGMENT_VERSION) throw fail('ERR_IPC_UNSUPPORTED', `segment layout version ${version}`, { version });
    const capacity = Atomics.load(head, I_CAPACITY) >>> 0;
    if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0 || sab.byteLength !== segmentBytes(capacity)) {
      throw fail('ERR_IPC_CORRUPT', `bad capacity ${capacity} for a segment of ${sab.byteLength} bytes`, { capacity });
    }
    const r0 = SEGMENT_HEADER;
    const r1 = SEGMENT_HEADER + ringBytes(capacity);
    if (checkRing(sab, r0) !== capacity || checkRing(sab, r1) !== capacity) throw fail('ERR_IPC_CORRUPT', 'ring capacities differ from the segment\'s');
    const prev = Atomics.compareExchange(head, I_CONNECTOR_PID, 0, process.pid);
    if (prev !== 0) throw fail('ERR_IPC_LIMIT', `${name} already has a peer (pid ${prev})`, { pid: prev });
    const listener = Atomics.load(head, I_LISTENER_PID);
    const ro = { ...opts, what: opts.what ?? `channel shm:${name}` };
    if (opts.doorbell !== false && Atomics.load(head, I_BELLS) === 1 && listener > 0) {
      const paths = bellPaths(name, listener);
      const l = openBell(paths[0]);
      const c = l >= 0 ? openBell(paths[1]) : -1;
      if (c >= 0) {
        parker = new BellParker(c, l, () => true, paths, ro.what);
        // Only now may the listener park on its bell: we can ring it.
        Atomics.store(head, I_BELLS_ACK, 1);
      } else if (l >= 0) native.close(l);
      for (const p of paths) unlinkQuietly(p);
    }
    const tx = new RingProducer({ shared: sab, plain: shm.arrayBuffer, offset: r0, parker }, ro);
    const rx = new RingConsumer({ shared: sab, plain: shm.arrayBuffer, offset: r1, parker }, ro);
    tx.attach();
    rx.attach();
    // Established: the name has done its job. Unlinking now leaves nothing in /dev/shm whatever happens
    // to either process from here on.
    await SharedMemory.unlink(name).catch(() => false);
    if (listener > 0 && !pidAlive(listener)) throw fail('ERR_IPC_PEER_DEAD', `the listener (pid ${listener}) is gone`, { pid: listener });
    return { tx, rx, shm };
  } catch (err) {
    parker.release?.();
    parker.release?.();
    shm.close();
    throw err;
  }
}

class RingTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly #p: RingPair;
  #closed = false;

  constructor(p: RingPair) {
    this.#p = p;
    this.maxMessageSize = Math.min(p.tx.maxMessageSize, p.rx.maxMessageSize);
  }

  send(bytes: Uint8Array): Promise<void> {
    // The fast path stays synchronous: no promise machinery beyond the async caller's own.
    if (this.#p.tx.trySend(bytes)) return Promise.resolve();
    return this.#p.tx.send(bytes);
  }

  receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    const m = this.#p.rx.tryReceive();
    if (m) return Promise.resolve(m);
    return this.#p.rx.receive(opts);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#p.tx.close();
    this.#p.rx.close();
    this.#p.shm.close();
  }
}

function ringOpts(opts: TransportOptions): ShmChannelOptions {
  const o: ShmChannelOptions = { maxMessageSize: opts.maxMessageSize };
  if (opts.capacity !== undefined) o.capacity = opts.capacity as number;
  if (opts.spinMicros !== undefined) o.spinMicros = opts.spinMicros as number;
  if (opts.peerCheckMs !== undefined) o.peerCheckMs = opts.peerCheckMs as number;
  if (opts.doorbell !== undefined) o.doorbell = opts.doorbell !== false;
  return o;
}

registerAdapter('shm', {
  async listen(ep, opts) {
    const o = ringOpts(opts);
    // The default capacity grows to carry a maximum message size asked for explicitly (up to 2^30).
    if (o.capacity === undefined && opts.explicitMax === true && opts.maxMessageSize > maxPayload(DEFAULT_CAPACITY)) {
      let cap = DEFAULT_CAPACITY;
      while (maxPayload(cap) < opts.maxMessageSize && cap < MAX_CAPACITY) cap *= 2;
      o.capacity = cap;
    }
    return new RingTransport(await createRingPair(ep.name, o));
  },
  async connect(ep, opts) {
    return new RingTransport(await openRingPair(ep.name, ringOpts(opts)));
  },
});
