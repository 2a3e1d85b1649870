/**
 * Pipes (pipe(2)) and FIFOs (mkfifo(3)): section 1 of the classic IPC survey.
 *
 * Both ends are Node streams with their `fd`. The stream machinery is attached lazily, on the first read
 * or write: attaching makes libuv set O_NONBLOCK on the open file description, which a child process
 * that inherits the fd through `spawn` would share (many programs fail on a non-blocking stdin). An end
 * handed to a child before it is used in this process therefore stays blocking for the child.
 *
 * @module
 */
import fs from 'node:fs';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { native } from './native.js';
import { IpcError, check, closedError, errno, errnoException, invalidArgType, unwrap } from './errors.js';
import { fsPath } from './internal/names.js';
import { disarm, guard } from './internal/lifetime.js';
import { O_CLOEXEC, checkOwner, euid, setCreatedMode, type AdoptOptions } from './internal/owner.js';
import { Readiness, READABLE, Waits, waitUntil } from './internal/wait.js';
import { validateInteger, validateMode, validateOptions, validateOwnership, validateWaitOptions, type WaitOptions } from './internal/validate.js';
import { openOrCreate } from './internal/open-or-create.js';
import { DEFAULT_MAX_FRAME, FrameDecoder, encodeFrame } from './internal/framing.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK } = fs.constants;
const ENXIO = errno('ENXIO');
const IN_OPEN = 0x20;
const IN_ATTRIB = 0x04;
const IN_DELETE_SELF = 0x400;
const IN_MOVE_SELF = 0x800;

/**
 * Options of the `PipeReader` and `PipeWriter` constructors, which adopt a descriptor.
 *
 * @inline
 */
export interface PipeEndOptions {
  /** The FIFO's path, for messages and `path`. */
  path?: string;
  /** Extra descriptors this end owns and closes with itself (the persistent reader's own writer). */
  owns?: number[];
}

function closeQuietly(fd: number): void {
  if (fd >= 0) native.close(fd);
}

/**
 * The read end of a pipe or FIFO: a Readable stream of Buffers, not writable (pipes are half-duplex).
 *
 * @example
 * ```ts
 * const { reader, writer } = pipe();
 * const child = spawn('sh', ['-c', 'echo hello >&3'], { stdio: ['ignore', 'inherit', 'inherit', writer] });
 * await writer.close();              // the child has its copy; ours must go for EOF to arrive
 * for await (const chunk of reader) process.stdout.write(chunk);
 * ```
 */
export class PipeReader extends Readable {
  /** The FIFO's path, when this end came from one. */
  readonly path: string | undefined;
  #fd: number;
  #owns: number[];
  #socket: net.Socket | undefined;
  #guard: object | undefined;

  constructor(fd: number, opts: PipeEndOptions = {}) {
    super({ highWaterMark: 1024 * 1024 });
    this.#fd = fd;
    this.#owns = opts.owns ?? [];
    this.path = opts.path;
    const owns = this.#owns;
    this.#guard = guard(this, `ipckit pipe reader (fd ${fd})`, () => {
      closeQuietly(fd);
      owns.forEach(closeQuietly);
    });
  }

  /** The descriptor, for `spawn` stdio or a peer; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** @internal Readable implementation. */
  override _read(): void {
    if (this.#socket) {
      this.#socket.resume();
      return;
    }
    const s = new net.Socket({ fd: this.#fd, readable: true, writable: false });
    this.#socket = s;
    s.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) s.pause();
    });
    s.on('end', () => this.push(null));
    s.on('error', (err) => this.destroy(err));
  }

  /** @internal Readable implementation. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    disarm(this.#guard);
    if (this.#socket) this.#socket.destroy();
    else closeQuietly(this.#fd);
    this.#owns.forEach(closeQuietly);
    this.#owns = [];
    this.#fd = -1;
    cb(err);
  }

  /** Closes this end (idempotent). */
  async close(): Promise<void> {
    if (!this.destroyed) this.destroy();
    if (!this.closed) await new Promise((resolve) => this.once('close', resolve));
  }

  /** Alias of `close()`, for `await using`. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * The write end of a pipe or FIFO: a Writable stream with backpressure (`write()` returns false and
 * 'drain' follows). A reader that went away makes the next write fail with an 'error' event whose
 * `code` is 'EPIPE' (Node ignores SIGPIPE); it never kills the process.
 *
 * @example
 * ```ts
 * const writer = await Fifo.openWriter('/tmp/demo.fifo', { timeout: 5000 });
 * writer.on('error', (err) => console.error(err.code)); // 'EPIPE' once the reader is gone
 * writer.write('hello\n');
 * await writer.close();
 * ```
 */
export class PipeWriter extends Writable {
  /** The FIFO's path, when this end came from one. */
  readonly path: string | undefined;
  #fd: number;
  #socket: net.Socket | undefined;
  #guard: object | undefined;

  constructor(fd: number, opts: PipeEndOptions = {}) {
    super({ highWaterMark: 1024 * 1024 });
    this.#fd = fd;
    this.path = opts.path;
    this.#guard = guard(this, `ipckit pipe writer (fd ${fd})`, () => closeQuietly(fd));
  }

  /** The descriptor, for `spawn` stdio or a peer; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  #attach(): net.Socket {
    if (this.#socket) return this.#socket;
    const s = new net.Socket({ fd: this.#fd, readable: false, writable: true });
    s.on('error', (err) => this.destroy(err));
    this.#socket = s;
    return s;
  }

  /** @internal Writable implementation. */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#attach().write(chunk, cb);
  }

  /** @internal Writable implementation. */
  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    const s = this.#attach();
    s.cork();
    for (let i = 0; i < chunks.length - 1; i++) s.write(chunks[i]!.chunk);
    s.write(chunks[chunks.length - 1]!.chunk, cb);
    s.uncork();
  }

  /** @internal Writable implementation. */
  override _final(cb: (err?: Error | null) => void): void {
    if (!this.#socket) return cb();
    this.#socket.end(cb);
  }

  /** @internal Writable implementation. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    disarm(this.#guard);
    if (this.#socket) this.#socket.destroy();
    else closeQuietly(this.#fd);
    this.#fd = -1;
    cb(err);
  }

  /** Flushes what was written, then closes this end (idempotent). */
  async close(): Promise<void> {
    if (!this.writableEnded && !this.destroyed) this.end();
    if (!this.closed) await new Promise((resolve) => this.once('close', resolve));
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Both ends of an anonymous pipe, as `pipe()` returns them.
 *
 * @example
 * ```ts
 * const { reader, writer }: Pipe = pipe();
 * ```
 */
export interface Pipe {
  /** The read end. */
  reader: PipeReader;
  /** The write end. */
  writer: PipeWriter;
}

/**
 * An anonymous pipe (pipe2(2) with O_CLOEXEC): `{ reader, writer }`. Either end can be given to a
 * child in `spawn`'s `stdio` (the child gets it without O_CLOEXEC, at the slot's number).
 *
 * @example
 * ```ts
 * const { reader, writer } = pipe();
 * const child = spawn('wc', ['-c'], { stdio: [reader, 'inherit', 'inherit'] });
 * await reader.close();                // the child holds the read end now
 * writer.end('twelve bytes');
 * ```
 */
export function pipe(): Pipe {
  const [r, w] = unwrap(native.pipe2(true), 'pipe2');
  return { reader: new PipeReader(r), writer: new PipeWriter(w) };
}

/**
 * The pipe buffer's capacity in bytes (F_GETPIPE_SZ), or sets it (F_SETPIPE_SZ; root may exceed pipe-max-size).
 *
 * @example
 * ```ts
 * const { reader, writer } = pipe();
 * pipeCapacity(writer);            // 65536
 * pipeCapacity(writer, 1 << 20);   // F_SETPIPE_SZ: 1048576
 * ```
 */
export function pipeCapacity(end: PipeReader | PipeWriter, size?: number): number {
  if (!(end instanceof PipeReader) && !(end instanceof PipeWriter)) throw invalidArgType('end', 'a PipeReader or PipeWriter', end);
  if (size !== undefined) validateInteger('size', size, 1, 2 ** 31 - 1);
  if (end.fd < 0) throw closedError('pipe end', 'pipeCapacity');
  return check(native.pipeSize(end.fd, size), 'fcntl', end.path);
}

// ---- framing over a pipe -----------------------------------------------------------------------

/**
 * Options of `writeFrame` and `readFrames`.
 *
 * @example
 * ```ts
 * await writeFrame(writer, payload, { maxFrameSize: 1 << 20 });
 * ```
 */
export interface FrameOptions {
  /** Largest payload accepted (sending and receiving). Default 64 MiB. */
  maxFrameSize?: number;
}

/**
 * Writes one length-prefixed frame; resolves when the stream accepted it (awaits 'drain' when full).
 * A payload over `maxFrameSize` is refused with ERR_IPC_MESSAGE_TOO_LARGE before anything is written.
 *
 * @example
 * ```ts
 * await writeFrame(writer, Buffer.from(JSON.stringify({ op: 'ping' })));
 * ```
 */
export async function writeFrame(stream: Writable, payload: Uint8Array | string, opts: FrameOptions = {}): Promise<void> {
  validateOptions(opts);
  const [header, body] = encodeFrame(payload, opts.maxFrameSize ?? DEFAULT_MAX_FRAME);
  stream.cork();
  stream.write(header);
  const ok = stream.write(body);
  process.nextTick(() => stream.uncork());
  if (!ok) await waitDrain(stream);
}

function waitDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onClose = () => done(closedError('stream', 'write'));
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', onClose);
  });
}

/**
 * The frames of a byte stream, in order. Ends when the stream ends; a stream that ends inside a frame
 * throws ERR_IPC_CORRUPT, a frame announcing more than `maxFrameSize` throws ERR_IPC_MESSAGE_TOO_LARGE.
 *
 * @example
 * ```ts
 * for await (const frame of readFrames(reader, { maxFrameSize: 1 << 20 })) console.log(JSON.parse(String(frame)));
 * ```
 */
export async function* readFrames(stream: Readable, opts: FrameOptions = {}): AsyncGenerator<Buffer> {
  const decoder = new FrameDecoder(opts.maxFrameSize ?? DEFAULT_MAX_FRAME);
  for await (const chunk of stream) yield* decoder.push(chunk as Buffer);
  decoder.end();
}

// ---- FIFOs -------------------------------------------------------------------------------------

/**
 * Options of `Fifo.create` and `Fifo.openOrCreate`.
 *
 * @example
 * ```ts
 * await Fifo.create('/tmp/shared.fifo', { mode: 0o660, unlinkOnClose: false });
 * ```
 */
export interface FifoCreateOptions extends AdoptOptions {
  /** Permission bits, exactly (the umask does not narrow them). Default 0o600. */
  mode?: number;
  /** Remove the FIFO when this object is closed. Default true for `create`, false for `openOrCreate`. */
  unlinkOnClose?: boolean;
}

/**
 * Options of `Fifo.openReader`.
 *
 * @example
 * ```ts
 * const reader = await Fifo.openReader('/tmp/log.fifo', { persistent: true }); // one stream across writers
 * ```
 */
export interface FifoReaderOptions extends AdoptOptions {
  /**
   * Stay open across successive writers: the reader holds a write descriptor of its own, so the stream
   * does not end when the last writer closes. Default false (EOF when the writers are gone).
   */
  persistent?: boolean;
}

function notFifo(path: string, what: string): IpcError {
  return new IpcError('ERR_IPC_NOT_FIFO', `${path} exists and is not a FIFO (it is ${what}); left untouched`, { path });
}

function describeStat(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a FIFO';
}

function assertFifoPath(path: string, opts: AdoptOptions = {}): void {
  const st = fs.statSync(path); // ENOENT etc. as Node's own system error
  if (!st.isFIFO()) throw notFifo(path, describeStat(st));
  checkLinkOwner(path, opts);
  checkOwner(`FIFO ${path}`, st.uid, opts, { path });
}

/**
 * A symlink at the path is followed only if it is ours too: another user's symlink decides which FIFO
 * we talk to (theirs, or one of ours they chose), so it counts as their object.
 */
function checkLinkOwner(path: string, opts: AdoptOptions): void {
  const lst = fs.lstatSync(path, { throwIfNoEntry: false });
  if (lst?.isSymbolicLink()) checkOwner(`symlink ${path}`, lst.uid, opts, { path });
}

/**
 * Opens a FIFO end without blocking and checks, on the descriptor, that it is a FIFO and whose it is:
 * another user's FIFO (somebody squatting the path, or behind their symlink) reads what we write and
 * forges what we read, so it is ERR_IPC_FOREIGN_OWNER unless `allowForeignOwner`.
 */
function openFifoFd(path: string, flags: number, opts: AdoptOptions = {}): number {
  const fd = native.open(path, flags | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) return fd;
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFIFO()) throw notFifo(path, describeStat(st));
    checkOwner(`FIFO ${path}`, st.uid, opts, { path });
    checkLinkOwner(path, opts);
  } catch (err) {
    native.close(fd);
    throw err;
  }
  return fd;
}

/**
 * Gives the FIFO mkfifo(3) just made its exact mode. mkfifo applied the umask, which can only remove
 * bits, so the FIFO was never more open than asked; widening it is done on the inode, never on the path
 * (setCreatedMode: between mkfifo and here anybody who can write the directory may have put a symlink or
 * a FIFO of theirs at the path).
 *
 * O_PATH, not an open of the FIFO itself: an O_RDWR (or O_RDONLY) descriptor counts as a reader, so a
 * writer that arrives in this window (`echo first > fifo` as soon as the path exists) has its blocking
 * open complete and writes into the pipe; when we close, nobody holds the FIFO any more and the kernel
 * frees the pipe with that data in it. `recv fifo: --count 2` then waited for ever for its second line.
 * An O_PATH descriptor does not open the pipe: the writer waits in open(2) for the real reader.
 * On failure the path is removed only if it is still a FIFO of ours; anything else there is left alone.
 */
function setCreatedFifoMode(path: string, mode: number): void {
  try {
    setCreatedMode(path, mode, 'FIFO', (st) => {
      if (!st.isFIFO()) throw notFifo(path, describeStat(st));
    });
  } catch (err) {
    try {
      const st = fs.lstatSync(path);
      if (st.isFIFO() && st.uid === euid()) fs.unlinkSync(path);
    } catch {
      // Gone already: nothing of ours to remove.
    }
    throw err;
  }
}

const POLLERR = 0x008;
const IN_EVENT_SIZE = 16; // struct inotify_event without a name (the watch is on the FIFO itself)

/**
 * Waits for a reader of a FIFO that has none (open(O_WRONLY|O_NONBLOCK) said ENXIO, fifo(7)) and returns
 * a write descriptor once one is there, holding no thread and polling with no timer.
 *
 * A reader that opens without O_NONBLOCK (cat, a shell redirection, Python's open) blocks inside open(2)
 * until a writer appears, and inotify reports an open only once it completes: watching for IN_OPEN alone
 * would wait forever for such a reader while it waits for us. So while waiting we hold the FIFO open
 * O_RDWR ourselves (Linux allows it, fifo(7)): we count as a writer, a reader's open completes at once and
 * inotify reports it. On each IN_OPEN we open the real write end, let go of our O_RDWR, and ask poll(2)
 * whether a reader remains (POLLERR on a write end means none, pipe(7)). If none does, we take O_RDWR
 * back before letting go of the write end, so an arriving reader always finds a writer, and count the
 * events our own opens caused so that only somebody else's open triggers the next check.
 */
async function waitForReader(path: string, opts: WaitOptions & AdoptOptions): Promise<number> {
  const ino = check(native.inotifyInit(), 'inotify_init1');
  const bell = new Readiness(ino, `FIFO ${path}`);
  let bait = -1;
  let ours = -1; // IN_OPEN events our own opens have queued and the next drain will find
  // The write end once a reader holds the FIFO, else undefined (wait for the next inotify event).
  const look = (): number | undefined => {
    for (;;) {
      const events = Math.floor(check(native.drain(ino), 'read') / IN_EVENT_SIZE);
      if (events <= ours) {
        ours = 0;
        return undefined;
      }
      const wfd = check(openFifoFd(path, O_WRONLY, opts), 'open', path);
      native.close(bait);
      bait = -1;
      const revents = native.pollNow(wfd, 0);
      if (revents >= 0 && (revents & POLLERR) === 0) return wfd;
      bait = check(openFifoFd(path, O_RDWR, opts), 'open', path);
      native.close(wfd);
      ours = 2;
    }
  };
  try {
    check(native.inotifyAddWatch(ino, path, IN_OPEN | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF), 'inotify_add_watch', path);
    bait = check(openFifoFd(path, O_RDWR, opts), 'open', path);
    // One wait, one { signal, timeout }, however many inotify events (any process may open or chmod the
    // FIFO) it takes; a reader that came between our ENXIO and the watch left no event: look once first.
    return await waitUntil<number>(opts, `FIFO ${path}`, (resolve, reject) => {
      const step = (): void => {
        try {
          const wfd = look();
          if (wfd !== undefined) resolve(wfd);
        } catch (err) {
          reject(err as Error);
        }
      };
      bell.listen(READABLE, step);
      step();
      return () => bell.listen(0);
    });
  } finally {
    bell.close();
    native.close(ino);
    if (bait >= 0) native.close(bait);
  }
}

/**
 * A named pipe (mkfifo(3)). `Fifo.create` makes one and owns it; the static `openReader` /
 * `openWriter` open an existing one from either side.
 *
 * Opening never blocks a thread: the read end opens at once (non-blocking open), and a writer that finds
 * no reader waits for one through an inotify watch on the event loop (a blocking open would hold one of
 * libuv's four pool threads; four such opens hang Node, node#23220).
 *
 * @example
 * ```ts
 * await using fifo = await Fifo.create('/tmp/demo.fifo');
 * const reader = await fifo.openReader();
 * // elsewhere: echo hi > /tmp/demo.fifo
 * for await (const chunk of reader) console.log(String(chunk));
 * ```
 */
export class Fifo implements AsyncDisposable {
  /** The FIFO's path. */
  readonly path: string;
  #unlinkOnClose: boolean;
  #adopt: AdoptOptions;
  #closed = false;
  readonly #waits: Waits;

  private constructor(path: string, unlinkOnClose: boolean, adopt: AdoptOptions = {}) {
    this.path = path;
    this.#waits = new Waits(`FIFO ${path}`);
    this.#unlinkOnClose = unlinkOnClose;
    this.#adopt = adopt;
  }

  /** Creates the FIFO; fails with EEXIST if the path exists. Mode 0o600 unless asked. */
  static async create(path: string, opts: FifoCreateOptions = {}): Promise<Fifo> {
    fsPath('FIFO', path);
    validateOptions(opts);
    const mode = validateMode('options.mode', opts.mode ?? 0o600);
    validateOwnership(opts, true);
    check(native.mkfifo(path, mode), 'mkfifo', path);
    setCreatedFifoMode(path, mode);
    return new Fifo(path, validateOwnership(opts, true));
  }

  /** Creates the FIFO, or takes the existing one if the path already is a FIFO. */
  static async openOrCreate(path: string, opts: FifoCreateOptions = {}): Promise<Fifo> {
    fsPath('FIFO', path);
    validateOptions(opts);
    const mode = validateMode('options.mode', opts.mode ?? 0o600);
    validateOwnership(opts, true);
    return openOrCreate(
      () => {
        const rc = native.mkfifo(path, mode);
        if (rc < 0) return rc;
        setCreatedFifoMode(path, mode);
        return new Fifo(path, validateOwnership(opts, true));
      },
      () => {
        try {
          assertFifoPath(path, opts);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') return errno('ENOENT'); // removed since our mkfifo
          throw err;
        }
        const adopt = opts.allowForeignOwner === true ? { allowForeignOwner: true } : {};
        return new Fifo(path, validateOwnership(opts, false), adopt);
      },
      'mkfifo',
      path,
    );
  }

  /** Removes a FIFO. `false` if nothing was there; ERR_IPC_NOT_FIFO (and nothing removed) if it is not one. */
  static async unlink(path: string): Promise<boolean> {
    fsPath('FIFO', path);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    if (!st.isFIFO()) throw notFifo(path, describeStat(st));
    fs.unlinkSync(path);
    return true;
  }

  /** Opens the read end (at once: a reader does not wait for writers). */
  static async openReader(path: string, opts: FifoReaderOptions = {}): Promise<PipeReader> {
    fsPath('FIFO', path);
    validateOptions(opts);
    if (opts.persistent !== undefined && typeof opts.persistent !== 'boolean') {
      throw invalidArgType('options.persistent', 'of type boolean', opts.persistent);
    }
    assertFifoPath(path, opts);
    const fd = check(openFifoFd(path, O_RDONLY, opts), 'open', path);
    const owns: number[] = [];
    if (opts.persistent) {
      // Our own writer keeps the FIFO's writer count above zero: no EOF between successive writers.
      const wfd = native.open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
      if (wfd < 0) {
        native.close(fd);
        throw errnoException(wfd, 'open', path);
      }
      owns.push(wfd);
    }
    return new PipeReader(fd, { path, owns });
  }

  /**
   * Opens the write end, waiting (without a thread) until a reader has the FIFO open. Honours
   * `{ signal, timeout }`.
   */
  static async openWriter(path: string, opts: WaitOptions & AdoptOptions = {}): Promise<PipeWriter> {
    fsPath('FIFO', path);
    validateWaitOptions(opts);
    assertFifoPath(path, opts);
    const fd = openFifoFd(path, O_WRONLY, opts);
    if (fd >= 0) return new PipeWriter(fd, { path });
    if (fd !== ENXIO) throw errnoException(fd, 'open', path);
    return new PipeWriter(await waitForReader(path, opts), { path });
  }

  /** Opens this FIFO's read end. */
  async openReader(opts: FifoReaderOptions = {}): Promise<PipeReader> {
    if (this.#closed) throw closedError(`FIFO ${this.path}`, 'openReader');
    return Fifo.openReader(this.path, { ...this.#adopt, ...opts });
  }

  /**
   * Opens this FIFO's write end, waiting for a reader. A wait still pending when this object is closed
   * rejects with ERR_IPC_CLOSED.
   */
  async openWriter(opts: WaitOptions & AdoptOptions = {}): Promise<PipeWriter> {
    if (this.#closed) throw closedError(`FIFO ${this.path}`, 'openWriter');
    validateWaitOptions(opts);
    try {
      return await Fifo.openWriter(this.path, { ...this.#adopt, ...opts, ...this.#waits.options(opts) });
    } catch (err) {
      this.#waits.rethrow(err, 'openWriter');
    }
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Removes the FIFO if this object owns it (idempotent). Open ends stay usable. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waits.close(); // before the unlink, so a pending openWriter ends as closed, not as ENOENT
    if (this.#unlinkOnClose) await Fifo.unlink(this.path).catch(() => false);
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
