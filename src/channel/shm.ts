// shm:/name — a channel over two shared-memory rings in one POSIX shared memory object (ring.ts, and
// docs/ring-format.md for the segment and the handshake). Both directions; the listener creates the
// object (exclusive, 0600) and the connector attaches and unlinks the name, so nothing stays in /dev/shm.
// Parking is the cross-process futex (SharedMemory.wait/notify on a waiter thread); a message costs no
// syscall and no native call unless the other side sleeps.
import { IpcError, type IpcErrorCode } from '../errors.js';
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

export interface ShmChannelOptions extends RingOptions {
  /** Data bytes of each ring (a power of two, 64..2^30). Default 4 MiB. */
  capacity?: number;
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
    const rx = new RingConsumer({ shared: sab, plain: shm.arrayBuffer, offset: r0, parker: processParker }, ro);
    const tx = new RingProducer({ shared: sab, plain: shm.arrayBuffer, offset: r1, parker: processParker }, ro);
    rx.attach();
    tx.attach();
    // Last: a connector that sees the magic sees everything above (seq-cst store, docs/ring-format.md).
    Atomics.store(head, I_MAGIC, SEGMENT_MAGIC | 0);
    return { tx, rx, shm };
  } catch (err) {
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
    const tx = new RingProducer({ shared: sab, plain: shm.arrayBuffer, offset: r0, parker: processParker }, ro);
    const rx = new RingConsumer({ shared: sab, plain: shm.arrayBuffer, offset: r1, parker: processParker }, ro);
    tx.attach();
    rx.attach();
    // Established: the name has done its job. Unlinking now leaves nothing in /dev/shm whatever happens
    // to either process from here on.
    await SharedMemory.unlink(name).catch(() => false);
    if (listener > 0 && !pidAlive(listener)) throw fail('ERR_IPC_PEER_DEAD', `the listener (pid ${listener}) is gone`, { pid: listener });
    return { tx, rx, shm };
  } catch (err) {
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
