// UnixSocket: one AF_UNIX socket as a Duplex. Every socket is our own non-blocking descriptor driven by
// sendmsg(2)/recvmsg(2) and event-loop readiness (`Readiness`, uv_poll): no threads, no timers. A
// `net.Socket` cannot carry ancillary data, so even stream sockets are our own `Duplex`: bytes in and out
// like `net.Socket`, and descriptors ride on `send(data, { fds })` in the same ordered write queue as
// `write()`, so they reach the peer with exactly the bytes they were sent with. Datagram and seqpacket
// sockets are object-mode `Duplex`es whose chunks are whole messages (`UnixMessage`). Descriptors that
// arrive are `ReceivedFd`s, which can become sockets again (`toUnixSocket()`), so both live here.
import fs from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { native } from '../native.js';
import { IpcError, check, closedError, errno, errnoException, invalidArgType, outOfRange, unwrap } from '../errors.js';
import { disarm, guard } from '../internal/lifetime.js';
import { Lane } from '../internal/lane.js';
import { Readiness, READABLE, WRITABLE, abortError, waitUntil } from '../internal/wait.js';
import { toBytes, validateInteger, validateOptions, validateWaitOptions, type WaitOptions } from '../internal/validate.js';
import { tooLarge } from '../internal/framing.js';
import { ReceiveSlab } from '../internal/slab.js';
import { TYPE_CODE, decodeAddress, encodeAddress, validateType, type UnixAddress, type UnixAddressLike, type UnixSocketType } from './address.js';
import { bindSocket, releaser, unlinkOwned, type Owned } from './file.js';

const K = native.socketConstants;
const EAGAIN = errno('EAGAIN');
const ENOBUFS = errno('ENOBUFS');
const EMSGSIZE = errno('EMSGSIZE');

/**
 * Most descriptors one message can carry (SCM_MAX_FD).
 *
 * @example
 * ```ts
 * await sock.send('fds', { fds: fds.slice(0, MAX_FDS_PER_MESSAGE) });
 * ```
 */
export const MAX_FDS_PER_MESSAGE = K.SCM_MAX_FD;

/**
 * The credentials of a peer process: SO_PEERCRED, or SCM_CREDENTIALS on a datagram.
 *
 * @example
 * ```ts
 * const { pid, uid, gid }: Credentials = conn.peerCredentials();
 * ```
 */
export interface Credentials {
  /** The peer's pid, as the kernel saw it when it connected (or sent). */
  pid: number;
  /** The peer's effective uid. */
  uid: number;
  /** The peer's effective gid. */
  gid: number;
}


// Every socket receives into one shared slab (internal/slab.ts): JavaScript runs one receive at a time,
// and a batch's records are all taken (large ones as views the consumer owns, small ones copied) before
// any of them reaches user code. A record of up to 512 KiB fits: the largest datagram an unprivileged
// peer can send with default limits (SO_SNDBUF up to 2 × wmem_max, minus 32).
const MAX_RECORD = 512 * 1024;
// Stream reads: up to 256 KiB each, while at least 64 KiB of the slab is left.
const STREAM_CHUNK = 256 * 1024;
const STREAM_HEADROOM = 64 * 1024;
// Records per recvmsgBatch call (each is one recvmsg; the call ends early when the socket is empty).
const BATCH = 64;
const slab = new ReceiveSlab(2 * MAX_RECORD);
const REC = K.BATCH_RECORDS;
const meta = new Int32Array(REC + 8 * BATCH);
const addrs = Buffer.alloc(K.SUN_PATH_MAX * BATCH);
const NO_FDS: ReceivedFd[] = [];
const addrScratch = Buffer.alloc(K.SUN_PATH_MAX);

// ---- received descriptors -------------------------------------------------------------------------

/**
 * A descriptor received from a peer (SCM_RIGHTS). It is yours: `close()` it, wrap it (`toSocket()`), or
 * `take()` the number and own it. One garbage-collected unclosed is closed with a warning. Node has no
 * public way to make an `fs.FileHandle` from a number: use the number with `fs.read*`/`fs.write*` or
 * `fs.createReadStream(null, { fd })` after `take()`.
 *
 * @example
 * ```ts
 * const msg = await sock.receive();
 * using file = msg.fds[0];
 * console.log(fs.readFileSync(file.fd, 'utf8'));
 * ```
 */
export class ReceivedFd implements Disposable {
  #fd: number;
  #guard: object | undefined;

  /** @internal */
  constructor(fd: number) {
    this.#fd = fd;
    this.#guard = guard(this, `received descriptor ${fd}`, () => native.close(fd));
  }

  /** The descriptor number; -1 once closed or taken. */
  get fd(): number {
    return this.#fd;
  }

  /** Whether the descriptor was closed or taken. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Hands the number over: ipckit forgets it, and you close it. */
  take(): number {
    if (this.#fd < 0) throw closedError('received descriptor', 'take');
    const fd = this.#fd;
    disarm(this.#guard);
    this.#fd = -1;
    return fd;
  }

  /** Wraps a socket or pipe descriptor as a `net.Socket` (which then owns it). */
  toSocket(opts: Omit<net.SocketConstructorOpts, 'fd'> = {}): net.Socket {
    return new net.Socket({ ...opts, fd: this.take() });
  }

  /** Wraps an AF_UNIX socket descriptor as a `UnixSocket` (which then owns it). */
  toUnixSocket(opts: UnixSocketOptions = {}): UnixSocket {
    return UnixSocket.fromFd(this.take(), opts);
  }

  /** fstat(2) of the descriptor. */
  stat(): fs.Stats {
    if (this.#fd < 0) throw closedError('received descriptor', 'stat');
    return fs.fstatSync(this.#fd);
  }

  /** Closes the descriptor (idempotent). */
  close(): void {
    if (this.#fd < 0) return;
    disarm(this.#guard);
    native.close(this.#fd);
    this.#fd = -1;
  }

  /** Alias of `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * One datagram or seqpacket record, as received.
 *
 * @example
 * ```ts
 * const { data, fds, from, credentials } = (await sock.receive())!;
 * for (const fd of fds) fd.close();
 * ```
 */
export interface UnixMessage {
  /**
   * The bytes of the message (a whole record on dgram and seqpacket sockets): yours, never written by
   * ipckit again. From 4 KiB on, a view into a receive buffer other messages share (`data.buffer` is
   * larger than the message, like Node's pooled Buffers): `Buffer.from(data)` what you keep for long.
   * Chunks read from a stream socket are such views too.
   */
  data: Buffer;
  /** Descriptors that came with it: yours to close (see `ReceivedFd`). */
  fds: ReceivedFd[];
  /** The sender's address (datagrams): a path, '@abstract', or null when it is unnamed. */
  from: string | null;
  /** The sender's credentials (datagram sockets opened with `credentials: true`, or with `allow`). */
  credentials?: Credentials;
  /** The record was longer than the receive buffer and was cut (MSG_TRUNC). */
  truncated: boolean;
  /** More descriptors came than `maxFds` allows: the kernel closed the rest (MSG_CTRUNC). */
  fdsTruncated: boolean;
}

/**
 * Who may talk to a server: fields that must match, or a predicate.
 *
 * @example
 * ```ts
 * await UnixServer.listen({ path: '/tmp/app.sock', allow: { uid: process.getuid!() } });
 * await UnixServer.listen({ path: '/tmp/app.sock', allow: (peer) => peer.gid === 27 });
 * ```
 */
export type AllowRule = Partial<Credentials> | ((peer: Credentials) => boolean);

/** Whether credentials pass a rule (no rule: everyone passes). */
export function allowed(rule: AllowRule | undefined, c: Credentials): boolean {
  if (rule === undefined) return true;
  if (typeof rule === 'function') return rule(c) === true;
  return (
    (rule.pid === undefined || rule.pid === c.pid) &&
    (rule.uid === undefined || rule.uid === c.uid) &&
    (rule.gid === undefined || rule.gid === c.gid)
  );
}

/** Checks an `allow` option: an object of pid/uid/gid, or a predicate. */
export function validateAllow(v: unknown): AllowRule | undefined {
  if (v === undefined || typeof v === 'function') return v as AllowRule | undefined;
  if (typeof v !== 'object' || v === null) throw invalidArgType('options.allow', 'an object or a function', v);
  for (const k of ['pid', 'uid', 'gid'] as const) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined) validateInteger(`options.allow.${k}`, x, 0, 2 ** 32 - 1);
  }
  return v as AllowRule;
}

// ---- sockets ----------------------------------------------------------------------------------------

/**
 * Options every socket takes (connect, create, pair, fromFd, and a server's connections).
 *
 * @example
 * ```ts
 * UnixSocket.pair('dgram', { receiveFds: false, credentials: true });
 * ```
 */
export interface UnixSocketOptions {
  /** Receive descriptors (default true). When false, any that arrive are closed at once. */
  receiveFds?: boolean;
  /** Room for descriptors per received message, 0..253 (default 253); more set `fdsTruncated`. */
  maxFds?: number;
  /** Datagrams: ask for SCM_CREDENTIALS on every message (SO_PASSCRED). */
  credentials?: boolean;
  /** Datagrams: drop messages from senders that do not match (implies `credentials`). */
  allow?: AllowRule;
  /** Keep our writable side open after the peer ends its side (default false: end it too, like `net.Socket`). */
  allowHalfOpen?: boolean;
  /**
   * SO_SNDBUF to ask for, in bytes (socket(7): the kernel doubles it, and caps it at 2 × wmem_max).
   * Everything sent and not yet read counts against it, and a full socket wakes its sender only once
   * three quarters of it were read (unix_writable): at the default (~208 KiB) a sender of 64 KiB
   * messages sleeps every third message and the pipe runs dry while it wakes. A larger buffer keeps
   * the peer busy meanwhile: more throughput, less CPU per message, more kernel memory while the peer
   * lags. Datagram and seqpacket sockets also accept larger messages (`maxMessageSize`); an ipckit
   * receiver takes records of up to 512 KiB.
   */
  sendBufferSize?: number;
}

/**
 * Options of `UnixSocket.connect`.
 *
 * @example
 * ```ts
 * await UnixSocket.connect({ path: '/tmp/app.sock', type: 'seqpacket', maxFds: 8 });
 * ```
 */
export interface ConnectOptions extends UnixAddress, UnixSocketOptions {
  /** `'stream'` (default), `'dgram'` or `'seqpacket'`. */
  type?: UnixSocketType;
  /**
   * Datagrams: bind to this address before connecting (default: an autobound abstract name, Linux). A
   * bound name is exclusive (EADDRINUSE) and released by the kernel when the socket closes or its
   * process dies.
   */
  bindTo?: UnixAddressLike;
}

/**
 * Options of `UnixSocket.create` (and, with more, `UnixServer.listen`).
 *
 * @example
 * ```ts
 * await UnixSocket.create({ path: '/tmp/log.sock', mode: 0o660, unlinkOnClose: true });
 * ```
 */
export interface BindOptions extends UnixAddress, UnixSocketOptions {
  /** Permission bits of the socket file, exactly (0o600 by default; never more open, even briefly). */
  mode?: number;
  /** Remove the socket file when the socket closes (default true). */
  unlinkOnClose?: boolean;
}

/**
 * Options of `UnixSocket.send`.
 *
 * @example
 * ```ts
 * await sock.send('here', { fds: [fd], timeout: 1000 });
 * ```
 */
export interface SendOptions extends WaitOptions {
  /** Descriptors to pass (SCM_RIGHTS); they stay open here. Numbers, or objects with an `fd`. */
  fds?: readonly (
    | number
    | {
        /** The descriptor number. */
        fd: number;
      }
  )[];
  /** Datagrams: the destination (not needed on a connected socket). */
  to?: UnixAddressLike;
}

function toFdList(fds: SendOptions['fds']): number[] | null {
  if (fds === undefined) return null;
  if (!Array.isArray(fds)) throw invalidArgType('options.fds', 'an array', fds);
  if (fds.length > K.SCM_MAX_FD) throw outOfRange('options.fds.length', `<= ${K.SCM_MAX_FD} (SCM_MAX_FD)`, fds.length);
  return fds.map((f, i) => {
    const n = typeof f === 'object' && f !== null ? (f as { fd: unknown }).fd : f;
    return validateInteger(`options.fds[${i}]`, n, 0, 2 ** 31 - 1);
  });
}

interface Outgoing {
  fds: number[] | null;
  to: Buffer | null;
  display: string | undefined;
}

/**
 * An AF_UNIX socket. Stream sockets are byte `Duplex`es (like `net.Socket`); datagram and seqpacket
 * sockets are object-mode `Duplex`es whose chunks are whole `UnixMessage`s (written chunks are whole
 * messages too). `send(data, { fds, to })` works on every type and passes descriptors; on a stream
 * socket, descriptors received are emitted as `'fds'` (closed at once when nobody listens).
 *
 * @example
 * ```ts
 * const [a, b] = UnixSocket.pair('seqpacket');
 * await a.send('hello', { fds: [fs.openSync('/etc/hostname', 'r')] });
 * const msg = await b.receive();
 * console.log(String(msg!.data), fs.readFileSync(msg!.fds[0]!.fd, 'utf8'));
 * msg!.fds[0]!.close();
 * ```
 */
export class UnixSocket extends Duplex {
  /** `'stream'`, `'dgram'` or `'seqpacket'`. */
  readonly type: UnixSocketType;
  /** The address this socket is bound to ('@name' for abstract), or the one it connected to. */
  readonly address: string | null;
  #fd: number;
  #poll: Readiness;
  #guard: object | undefined;
  #reading = false;
  #owned: Owned | undefined;
  #receiveFds: boolean;
  #maxFds: number;
  #allow: AllowRule | undefined;
  #undelivered = new Set<UnixMessage>();
  #outgoing = new WeakMap<Buffer, Outgoing>();
  #sends: Lane;
  #maxMessageSize = -1;

  /** @internal Use `connect`, `pair`, `create`, `fromFd` or a `UnixServer`. */
  constructor(fd: number, type: UnixSocketType, opts: UnixSocketOptions & { address?: string | null; owned?: Owned } = {}) {
    const message = type !== 'stream';
    super({
      readableObjectMode: message,
      writableObjectMode: message,
      allowHalfOpen: opts.allowHalfOpen ?? false,
      readableHighWaterMark: message ? 64 : 256 * 1024,
      writableHighWaterMark: message ? 64 : 256 * 1024,
      decodeStrings: true,
    });
    this.type = type;
    this.#fd = fd;
    this.address = opts.address ?? null;
    this.#owned = opts.owned;
    this.#receiveFds = opts.receiveFds ?? true;
    this.#maxFds = opts.maxFds === undefined ? K.SCM_MAX_FD : validateInteger('options.maxFds', opts.maxFds, 0, K.SCM_MAX_FD);
    this.#allow = type === 'dgram' ? validateAllow(opts.allow) : undefined;
    if (opts.sendBufferSize !== undefined) {
      const bytes = validateInteger('options.sendBufferSize', opts.sendBufferSize, 1, 2 ** 30);
      check(native.setsockoptInt(fd, K.SOL_SOCKET, K.SO_SNDBUF, bytes), 'setsockopt', this.address ?? undefined);
    }
    this.#poll = new Readiness(fd, `unix ${type} socket`);
    this.#sends = new Lane(this.#poll, WRITABLE);
    const owned = opts.owned;
    this.#guard = guard(this, `ipckit unix ${type} socket (fd ${fd})`, releaser(owned, fd));
    if (type === 'dgram' && (opts.credentials || opts.allow !== undefined)) {
      check(native.setsockoptInt(fd, K.SOL_SOCKET, K.SO_PASSCRED, 1), 'setsockopt', this.address ?? undefined);
    }
  }

  /**
   * Connects to a listening socket (stream, seqpacket) or sets the default destination (dgram; the socket
   * is autobound to an abstract name on Linux so the peer can answer). A non-blocking AF_UNIX connect
   * completes at once: EAGAIN means the listener's backlog is full, ECONNREFUSED that nobody listens.
   *
   * @example
   * ```ts
   * await using sock = await UnixSocket.connect({ path: '/run/app.sock' });
   * sock.end('ping');
   * ```
   */
  static async connect(opts: ConnectOptions): Promise<UnixSocket> {
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const type = validateType(opts.type);
    const addr = encodeAddress(opts);
    if (opts.bindTo !== undefined && type !== 'dgram') throw invalidArgType('options.bindTo', 'given only for datagram sockets', opts.bindTo);
    const local = opts.bindTo === undefined ? undefined : encodeAddress(opts.bindTo, 'options.bindTo');
    const fd = check(native.socket(TYPE_CODE[type]), 'socket');
    try {
      if (local) check(native.bind(fd, local.bytes), 'bind', local.display);
      else if (type === 'dgram' && process.platform === 'linux') check(native.bind(fd, Buffer.alloc(0)), 'bind');
      check(native.connect(fd, addr.bytes), 'connect', addr.display);
      return new UnixSocket(fd, type, { ...opts, address: addr.display });
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }

  /**
   * Binds a datagram socket to an address (the datagram "server"): mode 0o600 by default, a dead socket
   * file at the path is replaced, a live one is EADDRINUSE.
   *
   * @example
   * ```ts
   * await using sock = await UnixSocket.create({ path: '/tmp/log.sock', type: 'dgram' });
   * for await (const msg of sock) console.log(msg.from, String(msg.data));
   * ```
   */
  static async create(opts: BindOptions & { type?: 'dgram' }): Promise<UnixSocket> {
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    if (opts.type !== undefined && opts.type !== 'dgram') {
      throw invalidArgType('options.type', "'dgram' (stream and seqpacket sockets listen: UnixServer.listen)", opts.type);
    }
    validateAllow(opts.allow);
    const { fd, addr, owned } = bindSocket('dgram', opts);
    try {
      return new UnixSocket(fd, 'dgram', { ...opts, address: addr.display, owned });
    } catch (err) {
      unlinkOwned(owned);
      native.close(fd);
      throw err;
    }
  }

  /**
   * Two connected sockets (socketpair(2)), e.g. one to keep and one to hand to a child.
   *
   * @example
   * ```ts
   * const [a, b] = UnixSocket.pair('dgram');
   * await a.send('one'); await a.send('two');
   * console.log(String((await b.receive())!.data)); // 'one': boundaries kept
   * ```
   */
  static pair(type: UnixSocketType = 'stream', opts: UnixSocketOptions = {}): [UnixSocket, UnixSocket] {
    validateOptions(opts);
    const t = validateType(type);
    const rc = unwrap(native.socketpair(TYPE_CODE[t]), 'socketpair');
    let first: UnixSocket | undefined;
    try {
      first = new UnixSocket(rc[0], t, opts);
      return [first, new UnixSocket(rc[1], t, opts)];
    } catch (err) {
      // Invalid options: neither descriptor may leak.
      if (first) first.destroy();
      else native.close(rc[0]);
      native.close(rc[1]);
      throw err;
    }
  }

  /**
   * Adopts an AF_UNIX socket descriptor (inherited, or received with `fds`); the socket owns it from now
   * on and makes it non-blocking.
   *
   * @example
   * ```ts
   * const sock = UnixSocket.fromFd(3); // passed by the parent as stdio[3]
   * ```
   */
  static fromFd(fd: number, opts: UnixSocketOptions = {}): UnixSocket {
    validateOptions(opts);
    validateInteger('fd', fd, 0, 2 ** 31 - 1);
    const domain = check(native.getsockoptInt(fd, K.SOL_SOCKET, K.SO_DOMAIN), 'getsockopt');
    const t = check(native.getsockoptInt(fd, K.SOL_SOCKET, K.SO_TYPE), 'getsockopt');
    const type: UnixSocketType | undefined = t === 1 ? 'stream' : t === 2 ? 'dgram' : t === 5 ? 'seqpacket' : undefined;
    if (domain !== K.AF_UNIX || !type) {
      throw new IpcError('ERR_IPC_UNSUPPORTED', `descriptor ${fd} is not an AF_UNIX stream, datagram or seqpacket socket`);
    }
    check(native.setBlocking(fd, false), 'fcntl');
    const n = native.getsockname(fd, addrScratch);
    return new UnixSocket(fd, type, { ...opts, address: n >= 0 ? decodeAddress(addrScratch, n) : null });
  }

  /** The descriptor; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Largest message `send` accepts: SO_SNDBUF − 32 for datagram and seqpacket sockets (the kernel's own
   * check in unix_dgram_sendmsg), Infinity for streams.
   */
  get maxMessageSize(): number {
    if (this.type === 'stream') return Infinity;
    if (this.#maxMessageSize < 0) {
      this.#assertOpen('maxMessageSize');
      this.#maxMessageSize = check(native.getsockoptInt(this.#fd, K.SOL_SOCKET, K.SO_SNDBUF), 'getsockopt') - 32;
    }
    return this.#maxMessageSize;
  }

  /**
   * The peer's `{ pid, uid, gid }` as of connect()/socketpair() (SO_PEERCRED, unix(7)). On datagram
   * sockets only a socketpair has them; use `credentials: true` for per-message SCM_CREDENTIALS.
   *
   * @example
   * ```ts
   * const { pid, uid } = conn.peerCredentials();
   * ```
   */
  peerCredentials(): Credentials {
    this.#assertOpen('peerCredentials');
    const [pid, uid, gid] = unwrap(native.getPeerCred(this.#fd), 'getsockopt', this.address ?? undefined);
    return { pid, uid, gid };
  }

  /**
   * Sends one message (dgram, seqpacket) or bytes (stream), with descriptors when `fds` is given.
   * Resolves when the kernel has taken it; waits for room (EAGAIN / ENOBUFS) through the event loop.
   * Over `maxMessageSize` → ERR_IPC_MESSAGE_TOO_LARGE, before any syscall.
   *
   * @example
   * ```ts
   * await sock.send('hi', { to: '/tmp/log.sock' });
   * await sock.send('here is a file', { fds: [fd] });
   * ```
   */
  async send(data: string | Uint8Array | ArrayBuffer | ArrayBufferView, opts: SendOptions = {}): Promise<void> {
    this.#assertOpen('send');
    validateWaitOptions(opts);
    const bytes = toBytes('data', data);
    const fds = toFdList(opts.fds);
    const to = opts.to === undefined ? undefined : encodeAddress(opts.to, 'options.to');
    if (this.type === 'stream') {
      if (to) throw new IpcError('ERR_IPC_UNSUPPORTED', 'a stream socket has no per-message destination (options.to)');
      // write() after end() would also emit 'error', which could crash a process that only awaited send().
      if (this.writableEnded) throw closedError('unix stream socket (ended)', 'send');
      if (fds && fds.length > 0 && bytes.byteLength === 0) {
        // unix_stream_sendmsg sends nothing, descriptors included, for zero bytes.
        throw outOfRange('data.byteLength', '>= 1 when descriptors are sent on a stream socket', 0);
      }
      // Through the write queue, so descriptors stay with their bytes in order with write().
      const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const chunk = buf === data ? Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) : buf;
      this.#outgoing.set(chunk, { fds, to: null, display: undefined });
      await new Promise<void>((resolve, reject) => {
        this.write(chunk, (err) => (err ? reject(err) : resolve()));
      });
      return;
    }
    if (bytes.byteLength > this.maxMessageSize) throw tooLarge(bytes.byteLength, this.maxMessageSize);
    if (this.type === 'seqpacket' && bytes.byteLength === 0) {
      // A 0-byte record reads exactly like the peer's orderly shutdown (recv returns 0 for both).
      throw outOfRange('data.byteLength', '>= 1 on a seqpacket socket (0 bytes reads as end of stream)', 0);
    }
    if (opts.signal?.aborted) throw abortError(opts.signal);
    // Concurrent sends leave in call order; an error rejects its own send without destroying the socket.
    return this.#send(bytes, fds, to?.bytes ?? null, to?.display, opts) ?? undefined;
  }

  /**
   * The next message (dgram, seqpacket), or null once the socket has ended. Use either `receive()` or
   * iteration/`'data'` on one socket, not both at once.
   *
   * @example
   * ```ts
   * const msg = await sock.receive({ timeout: 1000 });
   * ```
   */
  async receive(opts: WaitOptions = {}): Promise<UnixMessage | null> {
    if (this.type === 'stream') {
      throw new IpcError('ERR_IPC_UNSUPPORTED', 'receive() reads whole messages: use a stream socket as a Readable');
    }
    this.#assertOpen('receive');
    validateWaitOptions(opts);
    if (opts.signal?.aborted) throw abortError(opts.signal);
    for (;;) {
      const m = this.read() as UnixMessage | null;
      if (m !== null) return m;
      if (this.readableEnded) return null;
      if (this.destroyed) {
        if (this.errored) {
          // A read error (a peer that died with our data unread: ECONNRESET) reaches the caller through
          // this promise. The stream also emits it as 'error' on the next tick: with nobody listening
          // there, that would throw from the event loop and kill the process for a peer's death.
          if (this.listenerCount('error') === 0) this.once('error', () => {});
          throw this.errored;
        }
        // Ended by us (close/destroy) rather than by the peer: the wait did not end on its own.
        throw closedError(`unix ${this.type} socket`, 'receive');
      }
      await waitReadable(this, opts);
    }
  }

  /**
   * Datagram sockets: connect(2) this (bound) socket to one peer. From then on it receives only that
   * peer's datagrams, and the kernel refuses every other socket's connect and send to it with EPERM
   * (unix_may_send), so a second sender is told at once instead of being dropped unread.
   *
   * @example
   * ```ts
   * const first = (await server.receive())!;
   * server.connectTo(first.from!);
   * ```
   */
  connectTo(to: UnixAddressLike): void {
    this.#assertOpen('connectTo');
    if (this.type !== 'dgram') throw new IpcError('ERR_IPC_UNSUPPORTED', 'connectTo() is for datagram sockets (stream and seqpacket sockets connect once, with UnixSocket.connect)');
    const addr = encodeAddress(to, 'to');
    check(native.connect(this.#fd, addr.bytes), 'connect', addr.display);
  }

  /** Shuts down one or both directions (shutdown(2)). */
  shutdown(how: 'read' | 'write' | 'both' = 'both'): void {
    this.#assertOpen('shutdown');
    const h = how === 'read' ? K.SHUT_RD : how === 'write' ? K.SHUT_WR : K.SHUT_RDWR;
    check(native.shutdown(this.#fd, h), 'shutdown', this.address ?? undefined);
  }

  /** Closes the socket at once (unsent writes are dropped; `end()` first for a graceful close). Idempotent. */
  async close(): Promise<void> {
    if (!this.destroyed) this.destroy();
    if (!this.closed) await new Promise((resolve) => this.once('close', resolve));
  }

  /** Alias of `close()`, for `await using`. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Undoes `unref()`: the socket keeps the process alive again (the default). */
  ref(): this {
    this.#poll.ref();
    return this;
  }

  /** Lets the process exit while the socket is open and idle (like `net.Socket`'s). */
  unref(): this {
    this.#poll.unref();
    return this;
  }

  /** @internal Duplex's `emit`, which also tracks the messages handed to the consumer. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    // Every chunk a consumer gets passes through 'data' (read(), flowing mode, async iteration): from
    // then on its descriptors are the consumer's. Those never delivered are closed with the socket.
    if (event === 'data' && this.type !== 'stream') this.#undelivered.delete(args[0] as UnixMessage);
    return super.emit(event, ...args);
  }

  #assertOpen(op: string): void {
    if (this.#fd < 0) throw closedError(`unix ${this.type} socket`, op);
  }

  /**
   * Sends from byte `off` without waiting: -1 once everything went, else how far it got when the socket
   * filled (EAGAIN, ENOBUFS). Throws at once on any other failure.
   */
  #trySend(data: Uint8Array, off: number, fds: number[] | null, to: Buffer | null, display: string | undefined): number {
    for (;;) {
      if (this.#fd < 0) throw closedError(`unix ${this.type} socket`, 'send');
      // Descriptors go with the first byte: a stream send that got part way has sent them.
      const rc = native.sendmsg(this.#fd, data, off, data.byteLength - off, off === 0 ? fds : null, to);
      if (rc >= 0) {
        if (this.type !== 'stream') return -1;
        off += rc;
        if (off >= data.byteLength) return -1;
        continue;
      }
      if (rc === EAGAIN || rc === ENOBUFS) return off;
      throw this.#sendError(rc, data, display);
    }
  }

  /**
   * Sends `data`: null when it went at once (nothing of ours queued, room in the socket), else the promise
   * of its turn in the send lane, which waits for room and covers `opts` while it is queued.
   */
  #send(data: Uint8Array, fds: number[] | null, to: Buffer | null, display: string | undefined, opts: WaitOptions): Promise<void> | null {
    let off = this.#sends.idle ? this.#trySend(data, 0, fds, to, display) : 0;
    if (off < 0) return null;
    // The poll of an unconnected datagram socket says nothing about the destination's room: see waitPeerWritable.
    const wait = to ? (signal: AbortSignal) => waitPeerWritable(to, { signal }) : undefined;
    return this.#sends.run<void>(
      opts,
      `send on unix ${this.type} socket`,
      (ok) => {
        off = this.#trySend(data, off, fds, to, display);
        if (off >= 0) return false;
        ok();
        return true;
      },
      wait,
    );
  }

  #sendError(rc: number, data: Uint8Array, display: string | undefined): Error {
    if (rc === EMSGSIZE) return tooLarge(data.byteLength, this.maxMessageSize);
    return errnoException(rc, 'sendmsg', display ?? this.address ?? undefined);
  }

  /** @internal Duplex implementation. */
  override _write(chunk: unknown, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let data: Uint8Array;
    let out: Outgoing | undefined;
    if (this.type === 'stream') {
      data = chunk as Buffer;
      out = this.#outgoing.get(chunk as Buffer);
    } else {
      try {
        data = toBytes('chunk', chunk);
        if (data.byteLength > this.maxMessageSize) throw tooLarge(data.byteLength, this.maxMessageSize);
        if (this.type === 'seqpacket' && data.byteLength === 0) throw outOfRange('chunk.byteLength', '>= 1 on a seqpacket socket', 0);
      } catch (err) {
        return cb(err as Error);
      }
    }
    let later: Promise<void> | null;
    try {
      later = this.#send(data, out?.fds ?? null, null, undefined, {});
    } catch (err) {
      return cb(err as Error);
    }
    if (later) later.then(() => cb(), cb);
    else cb();
  }

  /** @internal Duplex implementation. */
  override _final(cb: (err?: Error | null) => void): void {
    if (this.#fd >= 0 && this.type !== 'dgram') native.shutdown(this.#fd, K.SHUT_WR);
    cb();
  }

  /** @internal Duplex implementation. */
  override _read(): void {
    if (this.#reading) return; // read interest is on: the poll callback pumps
    this.#reading = true;
    this.#pump();
  }

  /**
   * Reads what the socket has, synchronously, until it would block (then the poll calls back), the
   * consumer's buffer is full (then _read calls back), or the stream ends.
   */
  readonly #onReadable = (): void => this.#pump();

  #pump(): void {
    try {
      const records = this.type !== 'stream';
      const headroom = records ? MAX_RECORD : STREAM_HEADROOM;
      while (this.#fd >= 0 && this.#reading) {
        const free = slab.free(headroom);
        const count = native.recvmsgBatch(this.#fd, free, meta, addrs, this.#maxFds, records, BATCH, records ? MAX_RECORD : STREAM_CHUNK, headroom);
        if (count === EAGAIN) {
          this.#poll.listen(READABLE, this.#onReadable);
          return;
        }
        if (count < 0) throw errnoException(count, 'recvmsg', this.address ?? undefined);
        // The socket is empty: wait for the poll instead of a recvmsg that says EAGAIN.
        const drained = meta[1] === 1;
        if (!(records ? this.#deliverRecords(count) : this.#deliverStream(count))) return;
        if (drained) {
          if (this.#fd >= 0 && this.#reading) this.#poll.listen(READABLE, this.#onReadable);
          return;
        }
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  /** The descriptors of a batch, in a new array: they came with its last record (recvmsgBatch ends a batch there). */
  #batchFds(): ReceivedFd[] {
    const fds: ReceivedFd[] = [];
    for (let i = 0; i < meta[0]!; i++) fds.push(new ReceivedFd(meta[8 + i]!));
    if (!this.#receiveFds) for (const f of fds.splice(0)) f.close();
    return fds;
  }

  /**
   * Pushes the `count` records of a dgram or seqpacket batch, each one whole message; false once reading
   * stopped (the consumer is full, the stream ended, or the socket was destroyed by a consumer).
   */
  #deliverRecords(count: number): boolean {
    // Take every record out of the slab first (see slab.ts), then hand them over.
    const msgs: UnixMessage[] = [];
    let end = false;
    for (let i = 0; i < count; i++) {
      const r = REC + 8 * i;
      const n = meta[r + 1]!;
      const flags = meta[r + 2]!;
      const last = i === count - 1;
      // A seqpacket read of 0 bytes is the peer's orderly shutdown (a 0-byte record reads the same); such
      // a read ends its batch, so its descriptors, if any, are the batch's.
      if (this.type === 'seqpacket' && n === 0 && meta[0] === 0) {
        end = true;
        break;
      }
      const alen = meta[r + 3]!;
      const msg: UnixMessage = {
        data: slab.take(meta[r]!, Math.min(n, MAX_RECORD)),
        fds: last ? this.#batchFds() : [],
        from: alen > 0 ? decodeAddress(addrs.subarray(K.SUN_PATH_MAX * i), alen) : null,
        truncated: (flags & K.MSG_TRUNC) !== 0 || n > MAX_RECORD,
        fdsTruncated: (flags & K.MSG_CTRUNC) !== 0,
      };
      if (meta[r + 4]) msg.credentials = { pid: meta[r + 5]!, uid: meta[r + 6]! >>> 0, gid: meta[r + 7]! >>> 0 };
      if (msg.fds.length > 0) this.#undelivered.add(msg);
      msgs.push(msg);
    }
    slab.commit();
    let more = true;
    for (const msg of msgs) {
      if (this.#fd < 0) {
        // Destroyed by a consumer of an earlier record: these were never delivered.
        for (const f of msg.fds) f.close();
        continue;
      }
      if (this.#allow !== undefined && (!msg.credentials || !allowed(this.#allow, msg.credentials))) {
        this.#undelivered.delete(msg);
        for (const f of msg.fds) f.close();
        this.emit('reject', msg.credentials ?? null);
        continue;
      }
      if (!this.push(msg)) more = false;
    }
    if (end) {
      this.#endOfStream();
      return false;
    }
    if (!more || this.#fd < 0) {
      if (this.#fd >= 0) this.#stopReading();
      return false;
    }
    return true;
  }

  /**
   * Pushes the reads of a stream batch: back to back in the slab, so they go as one chunk, except that
   * descriptors are emitted ('fds') just before the bytes they came with. False once reading stopped.
   */
  #deliverStream(count: number): boolean {
    const first = REC;
    const lastR = REC + 8 * (count - 1);
    const lastOff = meta[lastR]!;
    const lastLen = meta[lastR + 1]!;
    const nfds = meta[0]!;
    const fdsTruncated = (meta[lastR + 2]! & K.MSG_CTRUNC) !== 0;
    const start = meta[first]!;
    // With descriptors, the last read's bytes go after them; before that, everything is one chunk.
    const withFds = nfds > 0 || fdsTruncated;
    const splitAt = withFds ? lastOff : lastOff + lastLen;
    const before = splitAt > start ? slab.take(start, splitAt - start) : undefined;
    const after = withFds && lastLen > 0 ? slab.take(lastOff, lastLen) : undefined;
    const fds = withFds ? this.#batchFds() : NO_FDS;
    slab.commit();
    let more = true;
    if (before && !this.push(before)) more = false;
    if (withFds) {
      if (this.#fd >= 0 && this.listenerCount('fds') > 0) this.emit('fds', fds, { truncated: fdsTruncated });
      else for (const f of fds) f.close();
    }
    if (after && this.#fd >= 0 && !this.push(after)) more = false;
    if (lastLen === 0) {
      if (this.#fd >= 0) this.#endOfStream();
      return false;
    }
    if (!more || this.#fd < 0) {
      if (this.#fd >= 0) this.#stopReading();
      return false;
    }
    return true;
  }

  #stopReading(): void {
    this.#reading = false;
    this.#poll.listen(0);
  }

  #endOfStream(): void {
    this.#stopReading();
    this.push(null);
  }

  /** @internal Duplex implementation. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const fd = this.#fd;
    if (fd >= 0) {
      disarm(this.#guard);
      this.#sends.rejectAll(closedError(`unix ${this.type} socket`, 'send'));
      this.#poll.close();
      unlinkOwned(this.#owned); // before close(): see unlinkOwned
      this.#fd = -1;
      native.close(fd);
    }
    for (const m of this.#undelivered) for (const f of m.fds) f.close();
    this.#undelivered.clear();
    cb(err);
  }
}

/** Waits for readiness of a dgram destination we are not connected to (see the comment inside). */
async function waitPeerWritable(to: Buffer, opts: WaitOptions): Promise<void> {
  // The poll of an unconnected datagram socket reports writable whenever its own buffer has room, even
  // while the destination's queue is full, so waiting on it would spin. A socket connected to that
  // destination is woken by the peer itself when its queue drains (unix_dgram_peer_wake_me).
  const fd = check(native.socket(TYPE_CODE.dgram), 'socket');
  const ready = new Readiness(fd, 'unix dgram destination');
  try {
    if (native.connect(fd, to) < 0) return; // the retried send reports what is wrong
    await ready.wait(WRITABLE, opts);
  } finally {
    ready.close();
    native.close(fd);
  }
}

/** Waits until the stream has something to read, has ended, or failed (then `receive` looks again). */
function waitReadable(stream: Duplex, opts: WaitOptions): Promise<void> {
  return waitUntil<void>(opts, 'receive', (resolve) => {
    const onReady = () => resolve();
    const events = ['readable', 'end', 'close', 'error'] as const;
    for (const e of events) stream.on(e, onReady);
    return () => {
      for (const e of events) stream.off(e, onReady);
    };
  });
}
