/**
 * The only module that loads the compiled addon, and the typed declaration of everything it exports.
 *
 * Conventions of the native surface (see src/native/addon.h):
 * - every function is one syscall (or one tight sequence) and returns `>= 0` or `-errno`; it never
 *   throws for a syscall failure (errors.ts turns `-errno` into a Node-shaped system error);
 * - blocking calls run on waiter threads: they take a callback `(rc, payload?, aux?)` and return a wait
 *   id for `waiterCancel(id)`;
 * - arguments are validated by the TypeScript caller; native trusts their types and ranges.
 */
import { createRequire } from 'node:module';

/** Callback of a wait that ran on a waiter thread: `rc >= 0` or `-errno` (`-ECANCELED` once cancelled). */
export type WaitCallback = (rc: number, payload: Buffer | undefined, aux: number) => void;

/** Readiness of an fd through the event loop (uv_poll). */
export interface FdWatcher {
  /** Watch for `events` (1 readable, 2 writable, 4 disconnect); 0 or -errno. */
  start(events: number): number;
  stop(): void;
  /** Releases the uv_poll handle; call before closing the fd. */
  close(): void;
  ref(): void;
  unref(): void;
}
export interface FdWatcherConstructor {
  new (fd: number, callback: (status: number, events: number) => void): FdWatcher;
}

export interface NativeWaiter {
  waiterCancel(id: number): boolean;
  /** A cancellable blocking nanosleep on a waiter thread: exists to test the waiter machinery. */
  waiterSleep(ms: number, cb: WaitCallback): number;
  waiterStats(): { threads: number; idle: number; pending: number };
  /** The signal reserved to interrupt waiter threads (SIGRTMAX). */
  readonly waiterSignal: number;
}

export interface NativeFdWatch {
  FdWatcher: FdWatcherConstructor;
}

export interface NativePipe {
  pipe2(cloexec: boolean): [number, number] | number;
  mkfifo(path: string, mode: number): number;
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  setBlocking(fd: number, blocking: boolean): number;
  pipeSize(fd: number, size?: number): number;
  inotifyInit(): number;
  inotifyAddWatch(fd: number, path: string, mask: number): number;
  /** Empties a non-blocking doorbell fd; bytes discarded or -errno. */
  drain(fd: number): number;
}

// ---- signal.cc ------------------------------------------------------------------------------------
export interface NativeSignal {}

// ---- message_queue.cc -----------------------------------------------------------------------------
export interface NativeMessageQueue {}

// ---- shared_memory.cc -----------------------------------------------------------------------------
export interface NativeSharedMemory {}

// ---- semaphore.cc ---------------------------------------------------------------------------------
export interface NativeSemaphore {}

// ---- socket.cc ------------------------------------------------------------------------------------
export interface NativeSocket {
  /** socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC); type 1 stream, 2 dgram, 3 seqpacket. */
  socket(type: number): number;
  socketpair(type: number): [number, number] | number;
  /** fchmod(2); before bind(2) it sets the mode the socket file is created with. */
  fchmod(fd: number, mode: number): number;
  /** `addr`: sun_path bytes (leading NUL = abstract; empty = autobind). */
  bind(fd: number, addr: Uint8Array): number;
  listen(fd: number, backlog: number): number;
  /** accept4(SOCK_NONBLOCK | SOCK_CLOEXEC) → fd | -errno. */
  accept(fd: number): number;
  connect(fd: number, addr: Uint8Array): number;
  shutdown(fd: number, how: number): number;
  /** sendmsg(MSG_NOSIGNAL | MSG_DONTWAIT) with optional SCM_RIGHTS and destination → bytes | -errno. */
  sendmsg(fd: number, data: Uint8Array, offset: number, length: number, fds: number[] | null, to: Uint8Array | null): number;
  /**
   * recvmsg(MSG_CMSG_CLOEXEC | MSG_DONTWAIT [| MSG_TRUNC]) → bytes | -errno; `meta` receives
   * [flags, nfds, hasCreds, pid, uid, gid, addrLen, -, fds...] and `addr` the sender's sun_path bytes.
   */
  recvmsg(fd: number, buf: Uint8Array, meta: Int32Array, addr: Uint8Array, maxFds: number, trunc?: boolean): number;
  getPeerCred(fd: number): [number, number, number] | number;
  getsockoptInt(fd: number, level: number, name: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number): number;
  getsockname(fd: number, out: Uint8Array): number;
  readonly socketConstants: {
    SOL_SOCKET: number;
    SO_SNDBUF: number;
    SO_RCVBUF: number;
    SO_PASSCRED: number;
    SO_TYPE: number;
    SO_DOMAIN: number;
    AF_UNIX: number;
    SO_ERROR: number;
    MSG_TRUNC: number;
    MSG_CTRUNC: number;
    SHUT_RD: number;
    SHUT_WR: number;
    SHUT_RDWR: number;
    SCM_MAX_FD: number;
    SUN_PATH_MAX: number;
  };
}

export type Native = NativeWaiter &
  NativeFdWatch &
  NativePipe &
  NativeSignal &
  NativeMessageQueue &
  NativeSharedMemory &
  NativeSemaphore &
  NativeSocket;

const require = createRequire(import.meta.url);

function load(): Native {
  // dist/src/native.js and src/native.ts both sit two levels below the package root.
  const candidates = ['../../build/Release/ipckit.node', '../build/Release/ipckit.node', '../../build/Debug/ipckit.node'];
  let first: unknown;
  for (const rel of candidates) {
    try {
      return require(rel) as Native;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
      first ??= err;
    }
  }
  throw new Error('ipckit: the native addon is not built; run `npm rebuild ipckit` (needs python3, make, g++)', {
    cause: first,
  });
}

/** The addon. */
export const native: Native = load();
