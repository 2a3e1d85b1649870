/**
 * Anonymous shared memory that cannot change size, and eventfd doorbells: the kernel objects beneath the
 * shared-memory ring servers (docs/ring-format.md, "The handshake").
 *
 * - `SealedMemory.create(size)`: memfd_create(2) `MFD_CLOEXEC | MFD_ALLOW_SEALING`, sized, its pages
 *   reserved (fallocate), then sealed `F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL` and mapped. Nothing has
 *   a name in /dev/shm; the memory is gone when the last descriptor and mapping are.
 * - `SealedMemory.fromFd(fd)`: maps a memfd received from a peer **only if** it carries those seals
 *   (F_GET_SEALS), so the peer can never truncate it under us (a touch of a truncated page is SIGBUS).
 * - `EventFd`: an eventfd(2) counter, non-blocking, watched by the event loop (uv_poll): a doorbell.
 *
 * @module
 */
import fs from 'node:fs';
import { native, type MappingHandle } from './native.js';
import { IpcError, check, closedError, errno, errnoException, unwrap } from './errors.js';
import { Readiness, READABLE } from './internal/wait.js';
import { validateInteger, type WaitOptions } from './internal/validate.js';

const K = native.memfdConstants;
const EAGAIN = errno('EAGAIN');
const EOPNOTSUPP = errno('EOPNOTSUPP');

/**
 * The seals a shared segment must carry before ipckit maps it: its size can never change again.
 *
 * @example
 * ```ts
 * if ((native.getSeals(fd) & REQUIRED_SEALS) !== REQUIRED_SEALS) throw new Error('unsealed');
 * ```
 */
export const REQUIRED_SEALS = K.F_SEAL_SHRINK | K.F_SEAL_GROW | K.F_SEAL_SEAL;

/**
 * The name every ring segment's memfd is created with. The kernel shows it, not as a file but as a label:
 * `/memfd:ipckit-ring (deleted)` in /proc/PID/maps and in /proc/PID/fd links, which is how `ipckit ls`
 * finds the processes at both ends of a ring (docs/ring-format.md, "The handshake").
 *
 * @example
 * ```ts
 * const mapsLine = `/memfd:${RING_MEMFD_NAME} (deleted)`;
 * ```
 */
export const RING_MEMFD_NAME = 'ipckit-ring';

/**
 * A sealed memfd, mapped read-write and shared.
 *
 * @example
 * ```ts
 * const mem = SealedMemory.create(1 << 16);
 * await sock.send('segment', { fds: [mem.fd] });  // the peer maps it with SealedMemory.fromFd
 * mem.closeFd();                                   // the mapping stays
 * ```
 */
export class SealedMemory {
  /** The mapping, for Atomics. */
  readonly shared: SharedArrayBuffer;
  /** A plain ArrayBuffer over the same bytes (payload copies with memmove). */
  readonly plain: ArrayBuffer;
  readonly size: number;
  #fd: number;
  #mapping: MappingHandle | undefined;

  private constructor(fd: number, shared: SharedArrayBuffer, plain: ArrayBuffer, size: number, mapping: MappingHandle) {
    this.#fd = fd;
    this.#mapping = mapping;
    this.shared = shared;
    this.plain = plain;
    this.size = size;
  }

  /** Creates, sizes, reserves, seals and maps a memfd of `size` bytes. */
  static create(size: number, name = RING_MEMFD_NAME): SealedMemory {
    validateInteger('size', size, 1, 2 ** 40);
    const fd = check(native.memfdCreate(name, K.MFD_CLOEXEC | K.MFD_ALLOW_SEALING), 'memfd_create');
    try {
      check(native.ftruncate(fd, size), 'ftruncate');
      // Reserve the pages now: without it a page shmem cannot supply on first touch is SIGBUS, not an error.
      const rc = native.fallocate(fd, size);
      if (rc < 0 && rc !== EOPNOTSUPP) throw errnoException(rc, 'fallocate');
      check(native.addSeals(fd, REQUIRED_SEALS), 'fcntl');
      return SealedMemory.#map(fd, size);
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }

  /**
   * Maps a memfd received from a peer (it becomes ours: closed on failure and by `closeFd`). Refused with
   * ERR_IPC_CORRUPT unless it is sealed against shrinking, growing and further sealing, and `expect`
   * (when given) is its exact size.
   */
  static fromFd(fd: number, expect?: (size: number) => boolean): SealedMemory {
    try {
      const seals = native.getSeals(fd);
      if (seals < 0 || (seals & REQUIRED_SEALS) !== REQUIRED_SEALS) {
        throw new IpcError('ERR_IPC_CORRUPT', 'shared segment refused: it is not a memfd sealed against shrinking and growing (F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL)', { seals });
      }
      const size = fs.fstatSync(fd).size;
      if (size <= 0 || (expect && !expect(size))) throw new IpcError('ERR_IPC_CORRUPT', `shared segment refused: unexpected size ${size}`, { size });
      // Our own reservation: a peer that sealed without fallocate cannot make our first touch SIGBUS.
      const rc = native.fallocate(fd, size);
      if (rc < 0 && rc !== EOPNOTSUPP) throw errnoException(rc, 'fallocate');
      return SealedMemory.#map(fd, size);
    } catch (err) {
      native.close(fd);
      throw err;
    }
  }

  static #map(fd: number, size: number): SealedMemory {
    const views = native.mmapShared(fd, size);
    if (typeof views === 'number') throw errnoException(views, 'mmap');
    return new SealedMemory(fd, views[0], views[1], size, views[2]);
  }

  /** The memfd; -1 once closed (the mapping outlives it). */
  get fd(): number {
    return this.#fd;
  }

  /** Closes the descriptor; the mapping stays (until `unmap`). Idempotent. */
  closeFd(): void {
    if (this.#fd < 0) return;
    native.close(this.#fd);
    this.#fd = -1;
  }

  /**
   * Gives this process's pages back now (zero pages over the mapping: a view used later reads zeros, it
   * never faults), and closes the descriptor. The memory is freed once the peer has done the same.
   * Idempotent.
   */
  unmap(): void {
    this.closeFd();
    if (this.#mapping === undefined) return;
    native.mappingClose(this.#mapping);
    this.#mapping = undefined;
  }
}

/**
 * An eventfd(2) used as a doorbell: `signal()` adds one (never blocks), `wait()` resolves once the counter
 * is non-zero and empties it, through the event loop.
 *
 * @example
 * ```ts
 * const bell = EventFd.create();
 * setTimeout(() => bell.signal(), 10);
 * await bell.wait({ timeout: 1000 });
 * bell.close();
 * ```
 */
export class EventFd {
  #fd: number;
  #ready: Readiness;

  private constructor(fd: number) {
    this.#fd = fd;
    this.#ready = new Readiness(fd, 'eventfd');
  }

  /** A new non-blocking, close-on-exec eventfd with counter 0. */
  static create(): EventFd {
    return new EventFd(check(native.eventfd(0, K.EFD_NONBLOCK | K.EFD_CLOEXEC), 'eventfd'));
  }

  /**
   * Adopts an eventfd descriptor (received from a peer or inherited); made non-blocking. Anything that
   * is not an eventfd is refused (ERR_IPC_CORRUPT) and closed.
   */
  static fromFd(fd: number): EventFd {
    validateInteger('fd', fd, 0, 2 ** 31 - 1);
    let link = '';
    try {
      link = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // no /proc: trust the fd type
    }
    if (link !== '' && link !== 'anon_inode:[eventfd]') {
      native.close(fd);
      throw new IpcError('ERR_IPC_CORRUPT', `descriptor ${fd} is not an eventfd (${link})`);
    }
    const rc = native.setBlocking(fd, false);
    if (rc < 0) {
      native.close(fd);
      throw errnoException(rc, 'fcntl');
    }
    return new EventFd(fd);
  }

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Rings: adds 1 to the counter. A full counter (EAGAIN) is rung already. */
  signal(): void {
    if (this.#fd < 0) throw closedError('eventfd', 'signal');
    const rc = native.eventfdSignal(this.#fd);
    if (rc < 0 && rc !== EAGAIN) throw errnoException(rc, 'write');
  }

  /** Resolves once rung, and empties the counter. Honours `{ signal, timeout }`. */
  async wait(opts: WaitOptions = {}): Promise<void> {
    await this.#ready.wait(READABLE, opts);
    if (this.#fd >= 0) native.drain(this.#fd);
  }

  /** Empties the counter without waiting. */
  drain(): void {
    if (this.#fd >= 0) native.drain(this.#fd);
  }

  ref(): void {
    this.#ready.ref();
  }

  unref(): void {
    this.#ready.unref();
  }

  /** Rejects pending waits (ERR_IPC_CLOSED) and closes the descriptor. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    this.#ready.close();
    native.close(this.#fd);
    this.#fd = -1;
  }
}

/**
 * Marks an inherited descriptor close-on-exec, so that it does not leak into the programs this process
 * runs (a channel socket held by a grandchild would keep the parent from ever seeing the channel end).
 *
 * @example
 * ```ts
 * setCloseOnExec(3);
 * ```
 */
export function setCloseOnExec(fd: number): void {
  validateInteger('fd', fd, 0, 2 ** 31 - 1);
  check(native.setCloexec(fd, true), 'fcntl');
}

/**
 * A connected seqpacket socketpair as two bare descriptors (non-blocking, close-on-exec), for handing one
 * end to a worker thread by number (descriptors are process-wide; a `UnixSocket` would close its end).
 *
 * @example
 * ```ts
 * const [mine, theirs] = seqpacketPair();
 * ```
 */
export function seqpacketPair(): [number, number] {
  return unwrap(native.socketpair(3), 'socketpair');
}

/** What /proc/self/fd/N links to ('socket:[1234]'), or '' when it is not open. */
export function describeFd(fd: number): string {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}

/** Closes a bare descriptor. */
export function closeFd(fd: number): void {
  native.close(fd);
}
