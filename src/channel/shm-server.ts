// Shared-memory ring channels whose segments cannot outlive their processes (docs/ring-format.md, "The
// handshake"). A rendezvous over an AF_UNIX seqpacket socket hands each connection its own ring pair:
//
//   listener                                        connector
//   memfd (MFD_CLOEXEC|MFD_ALLOW_SEALING), sized, fallocated, sealed SHRINK|GROW|SEAL, rings initialised
//   eventfd L (the listener's doorbell), eventfd C (the connector's)
//   ── hello { "IPKH", version, capacity } + SCM_RIGHTS [memfd, L, C] ──▶
//                                                   F_GET_SEALS must show the three seals, size exact,
//                                                   headers valid; else ERR_IPC_CORRUPT and close
//   ◀── ack { "IPKA", version } ──
//
// From then on messages move through the rings with no syscall; a side that parks waits in uv_poll on
// its own eventfd and the other side writes that eventfd only when the sleep flag says it parked. The
// socket stays open and silent for the life of the channel: when it reads end-of-file the peer's process
// has closed it, on purpose (the rings' closed flags say so first) or by dying. That is the only source
// of ERR_IPC_PEER_DEAD: no pid is read from shared memory, nothing polls. Nothing has a name in /dev/shm;
// the memory goes when the last mapping does.
import { IpcError, closedError, invalidArgType, outOfRange } from '../errors.js';
import { EventFd, SealedMemory } from '../memfd.js';
import { UnixServer, UnixSocket, type AllowRule, type Credentials } from '../socket.js';
import type { WaitOptions } from '../internal/validate.js';
import { bounded, waitUntil } from '../internal/wait.js';
import { checkRing, initRing, maxPayload, MAX_CAPACITY, MIN_CAPACITY, ringBytes, RingConsumer, RingProducer, type Parker, type RingOptions, type RingWaitOptions } from './ring.js';
import { Channel } from './channel.js';
import { codecFor, type CodecName } from './codec.js';
import { parseEndpoint, type Endpoint } from './endpoint.js';
import { isPeerGone, registerAdapter, type Transport, type TransportOptions } from './transport.js';
import { untilClosed } from '../internal/lifetime.js';

// ---- the segment (docs/ring-format.md) -----------------------------------------------------------

export const SEGMENT_MAGIC = 0x434b5049; // "IPKC"
/** Version 2: a sealed memfd passed over a socket (version 1 was a named POSIX object with pid fields). */
export const SEGMENT_VERSION = 2;
/** Bytes of the segment header before the first ring (docs/ring-format.md). */
export const SEGMENT_HEADER = 64;
const I_MAGIC = 0;
const I_VERSION = 1;
const I_CAPACITY = 2;
const I_RINGS = 3;

export const HELLO_MAGIC = 0x484b5049; // "IPKH"
export const ACK_MAGIC = 0x414b5049; // "IPKA"
export const HANDSHAKE_VERSION = 1;
const HELLO_BYTES = 16;

/** Default capacity of each ring of a one-peer channel (shm:, fork): 4 MiB (messages up to 2 MiB − 8 bytes). */
export const DEFAULT_CAPACITY = 4 << 20;
/**
 * Default capacity of each ring of a RingServer's client: 256 KiB (messages up to 128 KiB − 8 bytes). A
 * server may hold many pairs, and a pair's pages are reserved up front and given back only when its
 * mapping is collected.
 */
export const SERVER_DEFAULT_CAPACITY = 256 << 10;

/** Bytes of a channel segment whose rings hold `capacity` data bytes each. */
export function segmentBytes(capacity: number): number {
  return SEGMENT_HEADER + 2 * ringBytes(capacity);
}

function validCapacity(c: number): boolean {
  return Number.isInteger(c) && c >= MIN_CAPACITY && c <= MAX_CAPACITY && (c & (c - 1)) === 0;
}

function corrupt(what: string, props: Record<string, unknown> = {}): IpcError {
  return new IpcError('ERR_IPC_CORRUPT', `ring handshake: ${what}`, props);
}

// ---- one end: rings, doorbells, the socket ----------------------------------------------------------

/**
 * Parking on eventfds watched by the event loop, and the kernel's word on the peer's life. One per end of
 * a pair, owned by its RingPair (released once, by RingPair.close).
 */
class Link implements Parker {
  readonly flag = 2;
  readonly #own: EventFd;
  readonly #peer: EventFd;
  readonly #sock: UnixSocket;
  readonly #what: string;
  #dead: IpcError | undefined;
  #closed = false;

  constructor(own: EventFd, peer: EventFd, sock: UnixSocket, what: string) {
    this.#own = own;
    this.#peer = peer;
    this.#sock = sock;
    this.#what = what;
    // The socket carries nothing after the handshake: read it only to learn of its end. It does not keep
    // the process alive (a pending ring wait does, through the eventfd's poll).
    const gone = () => this.#gone();
    sock.on('data', (m: { fds?: { close(): void }[] }) => {
      for (const f of m.fds ?? []) f.close(); // a peer that sends more is ignored
    });
    sock.once('end', gone);
    sock.once('error', gone);
    sock.once('close', gone);
    sock.unref();
  }

  /** The peer's death as the kernel reported it, or undefined. */
  readonly dead = (): IpcError | undefined => this.#dead;

  #gone(): void {
    if (this.#closed || this.#dead) return;
    this.#dead = new IpcError('ERR_IPC_PEER_DEAD', `the peer of ${this.#what} went away (its socket closed)`);
    // Wake our own parked waits: they see the death (or the peer's closed flags, if it closed on purpose).
    this.#own.signal();
    this.#sock.destroy();
  }

  async wait(i32: Int32Array, index: number, expected: number, timeoutMs: number): Promise<'ok' | 'not-equal' | 'timed-out'> {
    if (this.#closed) return 'ok';
    if (Atomics.load(i32, index) !== expected) return 'not-equal';
    try {
      await this.#own.wait(timeoutMs === Infinity ? {} : { timeout: Math.max(1, Math.ceil(timeoutMs)) });
      return 'ok';
    } catch (err) {
      const code = (err as IpcError).code;
      if (code === 'ERR_IPC_TIMEOUT') return 'timed-out';
      if (code === 'ERR_IPC_CLOSED') return 'ok'; // closed under the wait: the caller sees why
      throw err;
    }
  }

  wakePeer(): void {
    if (!this.#closed) this.#peer.signal();
  }

  wakeSelf(): void {
    if (!this.#closed) this.#own.signal();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock.destroy();
    this.#own.close();
    this.#peer.close();
  }
}

/**
 * Both rings of one end of a channel, as the handshake made them: the synchronous fast path
 * (`tx.trySend`, `rx.tryReceive`, `rx.peek`/`release`) beneath the Channel.
 *
 * @example
 * ```ts
 * const pair = await connectRingPair('shm+unix:/run/app.sock');
 * while (!pair.tx.trySend(Buffer.from('ping')));
 * console.log(await pair.rx.receive());
 * await pair.close();
 * ```
 */
export class RingPair {
  /** The ring this side sends on. */
  readonly tx: RingProducer;
  /** The ring this side receives from. */
  readonly rx: RingConsumer;
  /** The peer's credentials (SO_PEERCRED) as of the connection. */
  readonly peer: Credentials;
  readonly #link: Link;
  readonly #mem: SealedMemory;
  #closed = false;

  /** @internal made by the handshake */
  constructor(tx: RingProducer, rx: RingConsumer, link: Link, peer: Credentials, mem: SealedMemory) {
    this.tx = tx;
    this.rx = rx;
    this.#link = link;
    this.peer = peer;
    this.#mem = mem;
  }

  /** ERR_IPC_PEER_DEAD once the kernel reported the peer gone without closing; else undefined. */
  get peerDead(): IpcError | undefined {
    return this.#link.dead();
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Closes both rings (the peer sees the end), then the doorbells and the socket, and gives the
   * segment's pages back (a view of the rings kept past this reads zeros). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.tx.close();
    this.rx.close();
    this.#link.close();
    this.#mem.unmap();
  }

  /** Alias of `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Options of a ring pair's end.
 *
 * @example
 * ```ts
 * const opts: RingPairOptions = { capacity: 1 << 20, spinMicros: 20 };
 * ```
 */
export interface RingPairOptions extends RingOptions, WaitOptions {
  /** Data bytes of each ring (a power of two, 64..2^30), chosen by the listener. Default 4 MiB (a RingServer's clients: 256 KiB). */
  capacity?: number;
}

function pairOptions(o: RingPairOptions, what: string): RingOptions {
  return { maxMessageSize: o.maxMessageSize, spinMicros: o.spinMicros, what };
}

function credentials(sock: UnixSocket): Credentials {
  try {
    return sock.peerCredentials();
  } catch {
    return { pid: 0, uid: -1, gid: -1 };
  }
}

/**
 * The listener's half of the handshake on a connected seqpacket socket (which the pair then owns): makes
 * the segment and the doorbells, sends them, waits for the ack.
 */
export async function offerRingPair(sock: UnixSocket, opts: RingPairOptions = {}, what = 'shared-memory ring channel'): Promise<RingPair> {
  const capacity = opts.capacity ?? DEFAULT_CAPACITY;
  if (!validCapacity(capacity)) throw outOfRange('options.capacity', `a power of two >= ${MIN_CAPACITY} and <= ${MAX_CAPACITY}`, capacity);
  let own: EventFd | undefined;
  let peer: EventFd | undefined;
  let mem: SealedMemory | undefined;
  let link: Link | undefined;
  try {
    mem = SealedMemory.create(segmentBytes(capacity));
    const sab = mem.shared;
    const r0 = SEGMENT_HEADER;
    const r1 = SEGMENT_HEADER + ringBytes(capacity);
    initRing(sab, r0, capacity);
    initRing(sab, r1, capacity);
    const head = new Int32Array(sab, 0, SEGMENT_HEADER / 4);
    head[I_VERSION] = SEGMENT_VERSION;
    head[I_CAPACITY] = capacity;
    head[I_RINGS] = 2;
    Atomics.store(head, I_MAGIC, SEGMENT_MAGIC | 0);
    own = EventFd.create();
    peer = EventFd.create();
    const hello = Buffer.alloc(HELLO_BYTES);
    hello.writeUInt32LE(HELLO_MAGIC, 0);
    hello.writeUInt32LE(HANDSHAKE_VERSION, 4);
    hello.writeUInt32LE(capacity, 8);
    await sock.send(hello, { fds: [mem.fd, own.fd, peer.fd], signal: opts.signal, timeout: opts.timeout });
    // The connector has its own copies now; ours of the memfd is no longer needed (the mapping stays).
    mem.closeFd();
    const ack = await sock.receive({ signal: opts.signal, timeout: opts.timeout ?? 10_000 });
    if (ack === null) throw new IpcError('ERR_IPC_PEER_DEAD', `${what}: the connector left during the handshake`);
    for (const f of ack.fds) f.close();
    if (ack.data.byteLength < 8 || ack.data.readUInt32LE(0) !== ACK_MAGIC) throw corrupt('bad acknowledgement from the connector');
    const ro = pairOptions(opts, what);
    link = new Link(own, peer, sock, what);
    const mk = { shared: sab, plain: mem.plain, parker: link, peer: link.dead };
    // Each side bounded by its own ring's slot: the peer could have rewritten a header since it was made.
    const slot = ringBytes(capacity);
    const rx = new RingConsumer({ ...mk, offset: r0, bytes: slot }, ro);
    const tx = new RingProducer({ ...mk, offset: r1, bytes: slot }, ro);
    if (rx.capacity !== capacity || tx.capacity !== capacity) throw corrupt('the connector rewrote a ring\'s capacity');
    return new RingPair(tx, rx, link, credentials(sock), mem);
  } catch (err) {
    mem?.unmap();
    link?.close(); // it closes the doorbells too, and stops listening to the socket's end
    own?.close();
    peer?.close();
    sock.destroy();
    if (isPeerGone(err)) throw new IpcError('ERR_IPC_PEER_DEAD', `${what}: the connector left during the handshake`, {}, { cause: err });
    throw err;
  }
}

/** The connector's half of the handshake on a connected seqpacket socket (which the pair then owns). */
export async function joinRingPair(sock: UnixSocket, opts: RingPairOptions = {}, what = 'shared-memory ring channel'): Promise<RingPair> {
  const fds: { take(): number; close(): void }[] = [];
  let own: EventFd | undefined;
  let peer: EventFd | undefined;
  let mapped: SealedMemory | undefined;
  let link: Link | undefined;
  try {
    const hello = await sock.receive({ signal: opts.signal, timeout: opts.timeout ?? 10_000 });
    if (hello === null) {
      throw new IpcError('ERR_IPC_PEER_DEAD', `${what}: the listener closed the connection before the handshake (refused by its allow rule, or it is not a ring server)`);
    }
    fds.push(...hello.fds);
    const d = hello.data;
    if (d.byteLength < HELLO_BYTES || d.readUInt32LE(0) !== HELLO_MAGIC) throw corrupt('not a ring server hello');
    const version = d.readUInt32LE(4);
    if (version !== HANDSHAKE_VERSION) throw new IpcError('ERR_IPC_UNSUPPORTED', `ring handshake version ${version} (this is ${HANDSHAKE_VERSION})`, { version });
    const capacity = d.readUInt32LE(8);
    if (!validCapacity(capacity)) throw corrupt(`bad capacity ${capacity}`, { capacity });
    if (hello.fds.length !== 3 || hello.fdsTruncated) throw corrupt(`expected 3 descriptors, got ${hello.fds.length}`);
    const [memFd, listenerBell, connectorBell] = fds.splice(0).map((f) => f.take()) as [number, number, number];
    // Each adoption closes its descriptor when it refuses it; all three are adopted (or closed) whatever
    // the others do, so that none leaks.
    const adopt = <R>(f: () => R): R | Error => {
      try {
        return f();
      } catch (err) {
        return err as Error;
      }
    };
    const o = adopt(() => EventFd.fromFd(connectorBell));
    const p = adopt(() => EventFd.fromFd(listenerBell));
    // Refused when not sealed: a peer that could truncate the segment could kill us with SIGBUS.
    const m = adopt(() => SealedMemory.fromFd(memFd, (size) => size === segmentBytes(capacity)));
    if (!(o instanceof Error)) own = o;
    if (!(p instanceof Error)) peer = p;
    if (!(m instanceof Error)) m.closeFd(); // the mapping stays
    for (const r of [m, o, p]) if (r instanceof Error) throw r;
    const mem = (mapped = m as SealedMemory);
    const sab = mem.shared;
    const head = new Int32Array(sab, 0, SEGMENT_HEADER / 4);
    const magic = Atomics.load(head, I_MAGIC) >>> 0;
    if (magic !== SEGMENT_MAGIC) throw corrupt('not a channel segment', { magic });
    const sv = Atomics.load(head, I_VERSION);
    if (sv !== SEGMENT_VERSION) throw new IpcError('ERR_IPC_UNSUPPORTED', `segment layout version ${sv}`, { version: sv });
    if (Atomics.load(head, I_CAPACITY) >>> 0 !== capacity) throw corrupt('segment capacity differs from the hello');
    const r0 = SEGMENT_HEADER;
    const r1 = SEGMENT_HEADER + ringBytes(capacity);
    const slot = ringBytes(capacity);
    if (checkRing(sab, r0, slot) !== capacity || checkRing(sab, r1, slot) !== capacity) throw corrupt('ring capacities differ from the segment\'s');
    const ack = Buffer.alloc(8);
    ack.writeUInt32LE(ACK_MAGIC, 0);
    ack.writeUInt32LE(HANDSHAKE_VERSION, 4);
    await sock.send(ack, { signal: opts.signal, timeout: opts.timeout });
    const ro = pairOptions(opts, what);
    link = new Link(own!, peer!, sock, what);
    const mk = { shared: sab, plain: mem.plain, parker: link, peer: link.dead };
    const tx = new RingProducer({ ...mk, offset: r0, bytes: slot }, ro);
    const rx = new RingConsumer({ ...mk, offset: r1, bytes: slot }, ro);
    if (rx.capacity !== capacity || tx.capacity !== capacity) throw corrupt('the listener rewrote a ring\'s capacity');
    return new RingPair(tx, rx, link, credentials(sock), mem);
  } catch (err) {
    for (const f of fds) f.close();
    link?.close();
    mapped?.unmap();
    own?.close();
    peer?.close();
    sock.destroy();
    if (isPeerGone(err)) throw new IpcError('ERR_IPC_PEER_DEAD', `${what}: the listener left during the handshake`, {}, { cause: err });
    throw err;
  }
}

// ---- addresses ----------------------------------------------------------------------------------

/** Where a ring server listens: a socket path, or an abstract name. */
export interface RingAddress {
  /** A socket path. */
  path?: string;
  /** A Linux abstract name, without the leading NUL. */
  abstract?: string;
}

function addressOf(ep: { path: string; abstract: boolean }): RingAddress {
  return ep.abstract ? { abstract: ep.path } : { path: ep.path };
}

function toEndpoint(url: string): Endpoint & { transport: 'shm+unix' } {
  const ep = parseEndpoint(url);
  if (ep.transport !== 'shm+unix') throw new IpcError('ERR_IPC_NAME_INVALID', `not a shm+unix: endpoint: ${JSON.stringify(url)}`, { url });
  return ep;
}

/**
 * Who may connect when `allow` is not given: abstract names have no file permissions, so only processes
 * of our effective uid (and root); a path is guarded by its 0600 mode as well.
 */
function defaultAllow(): AllowRule {
  const me = process.geteuid?.() ?? 0;
  return (peer) => peer.uid === me || peer.uid === 0;
}

/**
 * Connects to a ring server and completes the handshake: the raw ring pair (for the fast path).
 *
 * @example
 * ```ts
 * await using pair = await connectRingPair('shm+unix:@my-app', { timeout: 5000 });
 * ```
 */
export async function connectRingPair(url: string, opts: RingPairOptions = {}): Promise<RingPair> {
  const ep = toEndpoint(url);
  const sock = await UnixSocket.connect({ ...addressOf(ep), type: 'seqpacket' });
  return joinRingPair(sock, opts, `channel ${url}`);
}

// ---- the server ---------------------------------------------------------------------------------

/**
 * Options of `RingServer.listen`.
 *
 * @example
 * ```ts
 * const o: RingServerOptions = { codec: 'json', capacity: 1 << 16, allow: { uid: 1000 } };
 * ```
 */
export interface RingServerOptions extends RingPairOptions {
  /** The codec of every client's channel: `'raw'` (the default), `'json'`, `'msgpack'` or `'v8'`. */
  codec?: CodecName;
  /** Peers allowed to connect (SO_PEERCRED at accept). Default: our effective uid, and root. */
  allow?: AllowRule;
  /** Mode of a socket file (default 0o600). */
  mode?: number;
  /** listen(2) backlog (default 511, like Node). */
  backlog?: number;
  /** How long a connecting peer has to acknowledge the handshake, in ms (default 5000). */
  handshakeTimeout?: number;
  /**
   * Spin before parking, per receive or send of a client's channel, in µs. Default 0 for a server: a
   * spinning wait holds the event loop every other client needs (set it for one latency-critical client).
   */
  spinMicros?: number;
}

/**
 * A listener that serves any number of clients, each on its own ring pair in its own sealed memfd
 * (`shm+unix:/path` or `shm+unix:@name`). Accepting is an async iterator of Channels.
 *
 * @example
 * ```ts
 * await using server = await RingServer.listen('shm+unix:/tmp/app.sock', { codec: 'json' });
 * for await (const ch of server) {
 *   (async () => { for await (const m of ch) await ch.send(m); await ch.close(); })(); // echo each client
 * }
 * ```
 */
export class RingServer<T = unknown> implements AsyncDisposable, AsyncIterable<Channel<T>> {
  /** The URL it listens on (`shm+unix:/path` or `shm+unix:@name`). */
  readonly url: string;
  readonly #ep: Endpoint & { transport: 'shm+unix' };
  readonly #server: UnixServer;
  readonly #opts: RingServerOptions;
  readonly #ready: RingPair[] = [];
  readonly #waiters: { resolve: (p: RingPair) => void; reject: (e: Error) => void }[] = [];
  readonly #handshakes = new Set<Promise<void>>();
  #closed = false;
  #error: Error | undefined;

  private constructor(ep: Endpoint & { transport: 'shm+unix' }, server: UnixServer, opts: RingServerOptions) {
    this.url = ep.url;
    this.#ep = ep;
    this.#server = server;
    this.#opts = opts;
    void this.#acceptLoop();
  }

  /** Binds and listens (0600 socket file; a live one at the path is EADDRINUSE). */
  static async listen<T = unknown>(url: string, opts: RingServerOptions = {}): Promise<RingServer<T>> {
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const ep = toEndpoint(url);
    if (opts.capacity !== undefined && !validCapacity(opts.capacity)) {
      throw outOfRange('options.capacity', `a power of two >= ${MIN_CAPACITY} and <= ${MAX_CAPACITY}`, opts.capacity);
    }
    codecFor(opts.codec ?? 'raw');
    const server = await UnixServer.listen({ ...addressOf(ep), type: 'seqpacket', allow: opts.allow ?? defaultAllow(), mode: opts.mode, backlog: opts.backlog });
    return new RingServer<T>(ep, server, opts);
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Clients whose handshake is under way. */
  get pending(): number {
    return this.#handshakes.size;
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let sock: UnixSocket;
      try {
        sock = await this.#server.accept();
      } catch (err) {
        if (this.#closed) return;
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EMFILE' || code === 'ENFILE' || code === 'ENOBUFS' || code === 'ENOMEM') {
          // Out of descriptors or memory for now (a client may be hoarding them): back off, go on accepting.
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        this.#fail(err as Error);
        return;
      }
      if (this.#closed) {
        sock.destroy();
        return;
      }
      const what = `channel ${this.url}`;
      const h = offerRingPair(sock, { ...this.#opts, capacity: this.#opts.capacity ?? SERVER_DEFAULT_CAPACITY, spinMicros: this.#opts.spinMicros ?? 0, signal: undefined, timeout: this.#opts.handshakeTimeout ?? 5000 }, what).then(
        (pair) => {
          if (this.#closed) return void pair.close();
          const w = this.#waiters.shift();
          if (w) w.resolve(pair);
          else this.#ready.push(pair);
        },
        () => {
          // A peer that left or lied during the handshake costs us nothing more: its socket is closed.
        },
      );
      this.#handshakes.add(h);
      void h.finally(() => this.#handshakes.delete(h));
    }
  }

  #fail(err: Error): void {
    this.#error = err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  /** The next client's ring pair (handshake done). Honours `{ signal, timeout }`. */
  acceptPair(opts: WaitOptions = {}): Promise<RingPair> {
    if (this.#closed) return Promise.reject(closedError(`ring server ${this.url}`, 'accept'));
    const p = this.#ready.shift();
    if (p) return Promise.resolve(p);
    if (this.#error) return Promise.reject(this.#error);
    return waitUntil<RingPair>(opts, `ring server ${this.url} accept`, (resolve, reject) => {
      const w = { resolve, reject };
      this.#waiters.push(w);
      return () => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
    });
  }

  /** The next client as a Channel (with the server's codec). */
  async accept(opts: WaitOptions = {}): Promise<Channel<T>> {
    const pair = await this.acceptPair(opts);
    return new Channel<T>(this.#ep, 'listen', new RingTransport(pair), codecFor(this.#opts.codec ?? 'raw'));
  }

  /** Clients as `accept()` gives them, until the server closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Channel<T>> {
    yield* untilClosed(() => this.accept());
  }

  /** Stops accepting (unlinks the socket path) and closes clients not yet accepted. Accepted channels stay. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#server.close();
    for (const p of this.#ready.splice(0)) await p.close();
    const err = closedError(`ring server ${this.url}`, 'accept');
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  /** Alias of `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// ---- the Channel transport ----------------------------------------------------------------------

/** A Channel's transport over one ring pair. */
export class RingTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly #p: RingPair;

  constructor(p: RingPair) {
    this.#p = p;
    this.maxMessageSize = Math.min(p.tx.maxMessageSize, p.rx.maxMessageSize);
  }

  send(bytes: Uint8Array, opts?: RingWaitOptions): Promise<void> {
    // A send after the kernel reported the peer gone fails, even if the ring still has room.
    const dead = this.#p.peerDead;
    if (dead && !this.#p.rx.ended) return Promise.reject(dead);
    return this.#p.tx.send(bytes, opts);
  }

  receive(opts?: RingWaitOptions): Promise<Uint8Array | null> {
    if (this.#spun) {
      // tryReceive() just spun for this message: park at once.
      this.#spun = false;
      return this.#p.rx.receive(opts?.spinMicros === undefined ? { ...opts, spinMicros: 0 } : opts);
    }
    return this.#p.rx.receive(opts);
  }

  #spun = false;

  /** The Channel's fast path: a message now (spinning up to spinMicros for it), null at the end, else undefined. */
  tryReceive(): Uint8Array | null | undefined {
    const rx = this.#p.rx;
    const m = rx.receiveSpinning();
    if (m !== null) return m;
    if (rx.ended) return null;
    this.#spun = true;
    return undefined;
  }

  sendMany(messages: readonly Uint8Array[], opts?: RingWaitOptions): Promise<void> {
    const dead = this.#p.peerDead;
    if (dead && !this.#p.rx.ended) return Promise.reject(dead);
    return this.#p.tx.sendMany(messages, opts);
  }

  receiveMany(max: number, opts?: RingWaitOptions): Promise<Uint8Array[]> {
    const out: Buffer[] = [];
    try {
      this.#drain(out, max);
    } catch (err) {
      return out.length > 0 ? Promise.resolve(out) : Promise.reject(err);
    }
    if (out.length > 0 || this.#p.rx.ended) return Promise.resolve(out);
    return this.receive(opts).then((m) => {
      if (m === null) return out;
      out.push(m as Buffer);
      try {
        this.#drain(out, max);
      } catch {
        // the ring broke after these: they are returned, and the next receive throws it (it is kept)
      }
      return out;
    });
  }

  /** What the ring holds now, up to `max` in all, without spinning (tryReceiveMany, not receiveSpinning). */
  #drain(out: Buffer[], max: number): void {
    this.#p.rx.tryReceiveMany(out, max - out.length);
  }

  close(): Promise<void> {
    return this.#p.close();
  }
}

/** Ring options from a Channel's options (connect/listen/fork), with the capacity grown to fit an explicit limit. */
export function ringOptions(opts: TransportOptions): RingPairOptions {
  const o: RingPairOptions = { maxMessageSize: opts.maxMessageSize, signal: opts.signal as AbortSignal | undefined, timeout: opts.timeout as number | undefined };
  if (opts.capacity !== undefined) o.capacity = opts.capacity as number;
  // One peer: spin before parking by default (50 µs; a RingServer of many clients defaults to 0).
  o.spinMicros = opts.spinMicros === undefined ? 50 : (opts.spinMicros as number);
  if (o.capacity === undefined && opts.explicitMax === true && opts.maxMessageSize > maxPayload(DEFAULT_CAPACITY)) {
    let cap = DEFAULT_CAPACITY;
    while (maxPayload(cap) < opts.maxMessageSize && cap < MAX_CAPACITY) cap *= 2;
    o.capacity = cap;
  }
  return o;
}

/**
 * A listening end carried by its first client (`listen('shm+unix:…')`): the server stops accepting once
 * that client's handshake completes. Sends and receives before then wait for it.
 */
export class FirstClientTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly #server: RingServer;
  readonly #first: Promise<RingTransport>;
  #t: RingTransport | undefined;
  #closing: Promise<void> | undefined;

  constructor(server: RingServer, maxMessageSize: number) {
    this.#server = server;
    this.maxMessageSize = maxMessageSize;
    this.#first = server.acceptPair().then((p) => {
      this.#t = new RingTransport(p);
      void server.close();
      return this.#t;
    });
    this.#first.catch(() => {});
  }

  send(bytes: Uint8Array, opts?: RingWaitOptions): Promise<void> {
    return this.#t ? this.#t.send(bytes, opts) : this.#first.then((t) => t.send(bytes, opts));
  }

  sendMany(messages: readonly Uint8Array[], opts?: RingWaitOptions): Promise<void> {
    return this.#t ? this.#t.sendMany(messages, opts) : this.#first.then((t) => t.sendMany(messages, opts));
  }

  tryReceive(): Uint8Array | null | undefined {
    return this.#t?.tryReceive();
  }

  async receiveMany(max: number, opts: WaitOptions = {}): Promise<Uint8Array[]> {
    if (this.#t) return this.#t.receiveMany(max, opts);
    // Before the first client: one message, the wait for the client bounded by opts (as receive()).
    const m = await this.receive(opts);
    return m === null ? [] : [m];
  }

  async receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    if (this.#t) return this.#t.receive(opts);
    if (opts.signal === undefined && opts.timeout === undefined) return (await this.#first).receive(opts);
    // The wait for the first client is bounded by this receive's own { signal, timeout }.
    const t0 = performance.now();
    const t = await bounded(this.#first, opts, `${this.#server.url}: waiting for a peer`);
    const left = opts.timeout === undefined ? undefined : Math.max(0, opts.timeout - (performance.now() - t0));
    return t.receive({ signal: opts.signal, timeout: left });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#server.close();
      await this.#t?.close();
    })();
    return this.#closing;
  }
}

registerAdapter('shm+unix', {
  options: ['capacity', 'spinMicros', 'allow', 'mode'],
  async listen(ep, opts) {
    const ro = ringOptions(opts);
    ro.capacity ??= DEFAULT_CAPACITY; // one peer: the one-pair default, not a server's
    const server = await RingServer.listen(ep.url, { ...ro, signal: undefined, timeout: undefined, allow: opts.allow as AllowRule | undefined, mode: opts.mode as number | undefined });
    return new FirstClientTransport(server, Math.min(opts.maxMessageSize, maxPayload(ro.capacity)));
  },
  async connect(ep, opts) {
    return new RingTransport(await connectRingPair(ep.url, ringOptions(opts)));
  },
});
