// UnixServer: a listening AF_UNIX socket. Stream and seqpacket servers accept connections, checking each
// peer's credentials (SO_PEERCRED) against `allow` before a byte of theirs is read, and riding out
// descriptor or memory exhaustion instead of failing; a datagram server is one bound UnixSocket.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { native } from '../native.js';
import { IpcError, closedError, errno, errnoException, invalidArgType } from '../errors.js';
import { disarm, guard, untilClosed } from '../internal/lifetime.js';
import { nameError } from '../internal/unix-address.js';
import { Readiness, READABLE, waitUntil } from '../internal/wait.js';
import { validateInteger, validateWaitOptions, type WaitOptions } from '../internal/validate.js';
import { encodeAddress, validateType, type UnixSocketType } from './address.js';
import { bindSocket, releaser, unlinkOwned, type Owned } from './file.js';
import { UnixSocket, allowed, validateAllow, type AllowRule, type BindOptions, type UnixSocketOptions } from './unix-socket.js';

const EAGAIN = errno('EAGAIN');
const ECONNABORTED = errno('ECONNABORTED');
/** accept(2) failures that pass: descriptors or memory run out, for a while (accept(2) ERRORS). */
const TRANSIENT = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM'].map((e) => errno(e)));

/**
 * Options of `UnixServer.listen`.
 *
 * @example
 * ```ts
 * await UnixServer.listen({ abstract: 'my-app', type: 'seqpacket', backlog: 64, allow: { uid: 0 } });
 * ```
 */
export interface ListenOptions extends BindOptions {
  /** `'stream'` (default), `'dgram'` or `'seqpacket'`. */
  type?: UnixSocketType;
  /** listen(2) backlog (default 511, like Node). */
  backlog?: number;
  /**
   * Accept only peers whose credentials match (SO_PEERCRED at accept, SCM_CREDENTIALS per datagram):
   * others are closed before a byte of theirs is read, and reported as 'reject'.
   */
  allow?: AllowRule;
}

/**
 * A listening AF_UNIX socket. Stream and seqpacket servers accept connections (`accept()`, async
 * iteration, or `'connection'` events); a datagram server is a bound socket (`server.socket`) whose
 * messages carry their sender's address.
 *
 * @example
 * ```ts
 * await using server = await UnixServer.listen({ path: '/tmp/app.sock', allow: { uid: process.getuid!() } });
 * for await (const conn of server) conn.pipe(conn); // echo
 * ```
 */
export class UnixServer extends EventEmitter implements AsyncDisposable {
  /** `'stream'`, `'dgram'` or `'seqpacket'`. */
  readonly type: UnixSocketType;
  /** The bound address: a path, or '@name'. */
  readonly address: string;
  /** Datagram servers: the bound socket. */
  readonly socket: UnixSocket | undefined;
  #fd: number;
  #ready: Readiness | undefined;
  #guard: object | undefined;
  #owned: Owned | undefined;
  #allow: AllowRule | undefined;
  #opts: UnixSocketOptions;
  #looping = false;
  #refed = true;
  #backoff = 0;

  private constructor(fd: number, type: UnixSocketType, address: string, owned: Owned | undefined, opts: ListenOptions, socket?: UnixSocket) {
    super();
    this.type = type;
    this.address = address;
    this.#fd = fd;
    this.#owned = owned;
    this.#allow = validateAllow(opts.allow);
    this.#opts = { receiveFds: opts.receiveFds, maxFds: opts.maxFds, allowHalfOpen: opts.allowHalfOpen, sendBufferSize: opts.sendBufferSize };
    this.socket = socket;
    if (!socket) {
      this.#ready = new Readiness(fd, `unix ${type} server`);
      this.#guard = guard(this, `ipckit unix ${type} server ${address}`, releaser(owned, fd));
      this.on('newListener', (ev) => {
        if (ev === 'connection') queueMicrotask(() => this.#acceptLoop());
      });
    }
  }

  /**
   * Binds and listens. Mode 0o600 by default, set before bind(2) so the file is never more open; a dead
   * socket file at the path (connect refused) is replaced, a live one fails with EADDRINUSE.
   *
   * @example
   * ```ts
   * const server = await UnixServer.listen({ abstract: 'my-app', type: 'seqpacket' });
   * const conn = await server.accept({ timeout: 5000 });
   * ```
   */
  static async listen(opts: ListenOptions): Promise<UnixServer> {
    if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
    const type = validateType(opts.type);
    const backlog = validateInteger('options.backlog', opts.backlog ?? 511, 0, 2 ** 31 - 1);
    validateAllow(opts.allow);
    const { fd, addr, owned } = bindSocket(type, opts);
    if (type === 'dgram') {
      const socket = new UnixSocket(fd, type, { ...opts, address: addr.display, owned });
      return new UnixServer(-1, type, addr.display, owned, opts, socket);
    }
    const rc = native.listen(fd, backlog);
    if (rc < 0) {
      unlinkOwned(owned);
      native.close(fd);
      throw errnoException(rc, 'listen', addr.display);
    }
    return new UnixServer(fd, type, addr.display, owned, opts);
  }

  /** Removes a socket file; false if there was none. Refuses (ERR_IPC_NAME_INVALID) anything not a socket. */
  static async unlink(path: string): Promise<boolean> {
    const addr = encodeAddress({ path });
    let st: fs.Stats;
    try {
      st = fs.lstatSync(addr.path!);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if (!st.isSocket()) throw nameError('path', path, 'it exists and is not a socket; left untouched');
    fs.unlinkSync(path);
    return true;
  }

  /** Whether the server was closed. */
  get closed(): boolean {
    return this.#fd < 0 && (this.socket?.closed ?? true);
  }

  /** The listening (or, for dgram, the bound) socket's descriptor; -1 once closed. */
  get fd(): number {
    return this.socket ? this.socket.fd : this.#fd;
  }

  /**
   * The next connection that passes `allow`. Rejected peers are closed unread and emitted as 'reject'
   * with their credentials.
   */
  async accept(opts: WaitOptions = {}): Promise<UnixSocket> {
    if (this.socket) throw new IpcError('ERR_IPC_UNSUPPORTED', 'a datagram server has no connections: use server.socket');
    validateWaitOptions(opts);
    const deadline = opts.timeout === undefined ? undefined : Date.now() + opts.timeout;
    const left = (): WaitOptions => (deadline === undefined ? opts : { signal: opts.signal, timeout: Math.max(0, deadline - Date.now()) });
    for (;;) {
      if (this.#fd < 0) throw closedError(`unix ${this.type} server`, 'accept');
      const c = native.accept(this.#fd);
      if (c === EAGAIN) {
        await this.#ready!.wait(READABLE, left());
        continue;
      }
      if (c === ECONNABORTED) continue; // the client gave up before we took it: nothing to do
      if (TRANSIENT.has(c)) {
        // Out of descriptors or memory (a client may be exhausting them on purpose). The connection
        // stays in the backlog and the socket stays readable, so waiting for readiness would spin:
        // back off on a timer, report it, and try again; one success resets the delay (libuv keeps
        // accepting the same way). Never thrown: a server must outlive its clients' attacks.
        const err = errnoException(c, 'accept4', this.address);
        this.#backoff = Math.min(this.#backoff ? this.#backoff * 2 : 10, 1000);
        this.emit('acceptError', err, this.#backoff);
        await this.#pause(this.#backoff, left());
        continue;
      }
      if (c < 0) throw errnoException(c, 'accept4', this.address);
      this.#backoff = 0;
      if (this.#allow !== undefined) {
        const cr = native.getPeerCred(c);
        const creds = typeof cr === 'number' ? undefined : { pid: cr[0], uid: cr[1], gid: cr[2] };
        if (!creds || !allowed(this.#allow, creds)) {
          // Closed before anything is read: the peer sees EOF / ECONNRESET.
          native.close(c);
          this.emit('reject', creds ?? null);
          continue;
        }
      }
      return new UnixSocket(c, this.type, { ...this.#opts, address: this.address });
    }
  }

  /** Connections as `accept()` gives them, until the server closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<UnixSocket> {
    yield* untilClosed(() => this.accept());
  }

  /** Sleeps `ms` for a backoff; ends early (resolved) when the server closes, rejects on abort/timeout. */
  #pause(ms: number, opts: WaitOptions): Promise<void> {
    return waitUntil<void>(opts, 'accept', (resolve) => {
      const done = () => resolve();
      const timer = setTimeout(done, ms);
      if (!this.#refed) timer.unref();
      this.once('close', done);
      return () => {
        clearTimeout(timer);
        this.off('close', done);
      };
    });
  }

  async #acceptLoop(): Promise<void> {
    if (this.#looping) return;
    this.#looping = true;
    try {
      while (this.#fd >= 0 && this.listenerCount('connection') > 0) {
        const conn = await this.accept();
        this.emit('connection', conn);
      }
    } catch (err) {
      // accept() throws only when the server is closed or broken (EBADF, EINVAL...): transient failures
      // are retried inside it. With nobody listening for 'error', emitting one would crash the process.
      if ((err as IpcError).code !== 'ERR_IPC_CLOSED') {
        if (this.listenerCount('error') > 0) this.emit('error', err);
        else process.emitWarning(err as Error);
      }
    } finally {
      this.#looping = false;
    }
  }

  /** Undoes `unref()`: the server keeps the process alive again (the default). */
  ref(): this {
    this.#refed = true;
    this.#ready?.ref();
    this.socket?.ref();
    return this;
  }

  /** Lets the process exit while the server listens (like `net.Server`'s). */
  unref(): this {
    this.#refed = false;
    this.#ready?.unref();
    this.socket?.unref();
    return this;
  }

  /** Stops listening: unlinks the path (if owned) BEFORE closing the descriptor. Idempotent. */
  async close(): Promise<void> {
    if (this.socket) return this.socket.close();
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    disarm(this.#guard);
    this.#ready!.close();
    unlinkOwned(this.#owned);
    native.close(fd);
    this.emit('close');
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
