/**
 * The typed declaration of everything the compiled addon exports (src/addon.ts loads it).
 *
 * Conventions of the native surface (see src/native/addon.h):
 * - every function is one syscall (or one tight sequence) and returns `>= 0` or `-errno`; it never
 *   throws for a syscall failure (errors.ts turns `-errno` into a Node-shaped system error);
 * - blocking calls run on waiter threads: they take a callback `(rc, payload?, aux?)` and return a wait
 *   id for `waiterCancel(id)`;
 * - arguments are validated by the TypeScript caller; native trusts their types and ranges.
 */
import { loadAddon } from './addon.js';

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

export interface NativeErrno {
  /** glibc's name (strerrorname_np) and text (strerror) of a positive errno. */
  errnoDescribe(errno: number): [string | undefined, string];
}

export interface NativeWaiter {
  waiterCancel(id: number): boolean;
  /** A cancellable blocking nanosleep on a waiter thread: exists to test the waiter machinery. */
  waiterSleep(ms: number, cb: WaitCallback): number;
  /**
   * threads/idle: process-wide waiter threads; pending: this environment's waits; jobs: wait states
   * alive in the whole process (every environment, including waits orphaned by an exited worker).
   */
  waiterStats(): { threads: number; idle: number; pending: number; jobs: number };
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
  /** poll(2) with a zero timeout: revents or -errno. */
  pollNow(fd: number, events: number): number;
}

// ---- signal.cc ------------------------------------------------------------------------------------
export interface NativeSignal {
  kill(pid: number, sig: number): number;
  /** sigqueue(3) with `value` as sival_int. */
  sigqueue(pid: number, sig: number, value: number): number;
  /** The read end of the process-wide, non-blocking self-pipe the handler writes 32-byte records to. */
  sigPipe(): number;
  /** Installs the recording handler (SA_SIGINFO), saving the previous disposition; 0 or -errno. */
  sigWatch(sig: number): number;
  /** Restores the saved disposition: 1 restored, 0 left alone (not ours any more), or -errno. */
  sigUnwatch(sig: number): number;
  /** Sends thread `tid` of this process the steering signal that makes it block `sig`; 0 or -errno. */
  sigSteer(tid: number, sig: number): number;
  /** One read(2) of records into `buf`: bytes or -errno (-EAGAIN when empty). */
  sigRead(fd: number, buf: Uint8Array): number;
  /** Records lost to a full pipe since the last call, for `sig`; resets the count. */
  sigDropped(sig: number): number;
  /** pidfd_open(2): fd or -errno (-ENOSYS before Linux 5.3). */
  pidfdOpen(pid: number): number;
  readonly SIGRTMIN: number;
  readonly SIGRTMAX: number;
}

// ---- message_queue.cc -----------------------------------------------------------------------------
export interface NativeMessageQueue {
  /** mq_open(3) with an mq_attr when maxMessages > 0; fd or -errno. */
  mqOpen(name: string, flags: number, mode: number, maxMessages: number, maxMessageSize: number): number;
  mqUnlink(name: string): number;
  mqClose(fd: number): number;
  /** fcntl(F_OFD_SETLK) write lock on byte `offset`, non-blocking: 0, or -EAGAIN when taken, or -errno. */
  ofdLock(fd: number, offset: number): number;
  /** mq_send(3) on a non-blocking descriptor: 0, -EAGAIN when full, or -errno. */
  mqSend(fd: number, data: Uint8Array, priority: number): number;
  /** mq_receive(3) into `buffer` (>= mq_msgsize): length, priority in priorityOut[0]; or -errno. */
  mqReceive(fd: number, buffer: Uint8Array, priorityOut: Uint32Array): number;
  /** mq_getattr(3): [flags, maxmsg, msgsize, curmsgs] or -errno. */
  mqGetattr(fd: number): [number, number, number, number] | number;
  ftok(path: string, id: number): number;
  msgget(key: number, flags: number): number;
  msgsnd(id: number, type: number, data: Uint8Array, flags: number): number;
  /** A msgsnd(2) that may block, on a waiter thread. */
  msgsndWait(id: number, type: number, data: Uint8Array, flags: number, cb: WaitCallback): number;
  /** msgrcv(2) on the loop thread (pass IPC_NOWAIT): [type, data] or -errno. */
  msgrcv(id: number, maxSize: number, type: number, flags: number): [number, Buffer] | number;
  /** A blocking msgrcv(2) on a waiter thread: cb(length, data, type). */
  msgrcvWait(id: number, maxSize: number, type: number, flags: number, cb: WaitCallback): number;
  /**
   * Up to maxCount msgrcv(2) with IPC_NOWAIT in one call: [count, records (each a long type then the
   * text), [type, text offset, length] per record], or -errno when the first finds nothing (-ENOMSG) or fails.
   */
  msgrcvBatch(id: number, maxSize: number, type: number, flags: number, maxCount: number): [number, Buffer, Float64Array] | number;
  msgctlStat(id: number): MsgStat | number;
  msgctlSetQbytes(id: number, qbytes: number): number;
  msgctlRmid(id: number): number;
  readonly mqConstants: {
    IPC_CREAT: number;
    IPC_EXCL: number;
    IPC_NOWAIT: number;
    IPC_PRIVATE: number;
    MSG_NOERROR: number;
    O_CREAT: number;
    O_EXCL: number;
    O_RDWR: number;
    O_RDONLY: number;
    O_WRONLY: number;
    O_NONBLOCK: number;
    O_CLOEXEC: number;
  };
}

/** struct msqid_ds as msgctl(IPC_STAT) fills it (times in seconds since the epoch, 0 = never). */
export interface MsgStat {
  key: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  mode: number;
  qnum: number;
  cbytes: number;
  qbytes: number;
  lspid: number;
  lrpid: number;
  stime: number;
  rtime: number;
  ctime: number;
}

// ---- shared_memory.cc -----------------------------------------------------------------------------
/** `shmctl(IPC_STAT)` of a System V segment. */
export interface ShmStat {
  /** shm_segsz: size in bytes. */
  size: number;
  /** shm_nattch: processes attached now. */
  attaches: number;
  /** The key (0 for a private segment). */
  key: number;
  /** Owner's uid. */
  uid: number;
  /** Owner's gid. */
  gid: number;
  /** Creator's uid. */
  cuid: number;
  /** Creator's gid. */
  cgid: number;
  /** shm_perm.mode: the permission bits, with SHM_DEST (0o1000) once removal is pending. */
  mode: number;
  /** Pid of the creator. */
  cpid: number;
  /** Pid of the last shmat/shmdt. */
  lpid: number;
  /** Last attach (shm_atime), in seconds since the epoch; 0 for never. */
  atime: number;
  /** Last detach (shm_dtime), in seconds since the epoch; 0 for never. */
  dtime: number;
  /** Last change by shmctl, or the creation (shm_ctime), in seconds since the epoch. */
  ctime: number;
}
/** An opaque native handle (External) of one mapping of a shared memory segment. */
export type MappingHandle = { readonly __mapping: unique symbol };
export type MappedViews = [SharedArrayBuffer, ArrayBuffer, MappingHandle];
export interface NativeSharedMemory {
  shmOpen(name: string, oflag: number, mode: number): number;
  shmUnlink(name: string): number;
  /** fallocate(fd, 0, 0, size): reserve the pages now (0 or -errno). */
  fallocate(fd: number, size: number): number;
  /** Maps `size` bytes of the fd read-write, MAP_SHARED: [real SharedArrayBuffer, plain ArrayBuffer, mapping] or -errno. */
  mmapShared(fd: number, size: number): MappedViews | number;
  shmget(key: number, size: number, flags: number): number;
  shmat(id: number, size: number): MappedViews | number;
  /** close(): zero pages over the mapping now, or when its last native user goes; drops the handle. */
  mappingClose(h: MappingHandle): number;
  /** Whether a SIGBUS past the object's end (a truncation) was turned into zero pages. */
  mappingTruncated(h: MappingHandle): boolean;
  shmctlStat(id: number): ShmStat | number;
  shmctlRemove(id: number): number;
  /** Cross-process futex wait on a waiter thread; cb rc 0 | -EAGAIN | -ETIMEDOUT | -ECANCELED | -errno. */
  futexWait(sab: SharedArrayBuffer, byteOffset: number, expected: number, timeoutMs: number, cb: WaitCallback): number;
  futexWake(sab: SharedArrayBuffer, byteOffset: number, count: number): number;
  /** How SharedArrayBuffers over mappings are made on this Node (docs/platforms.md). */
  sharedArrayBufferPath(): 'node-api' | 'v8';
}

// ---- semaphore.cc ---------------------------------------------------------------------------------
/** An opaque native handle (External) of a POSIX semaphore or a mutex. */
export type NativeHandle = { readonly __handle: unique symbol };
/** `semctl(IPC_STAT)` of a System V semaphore set. */
export interface SemStat {
  /** sem_nsems: semaphores in the set. */
  count: number;
  /** The key (0 for a private set). */
  key: number;
  /** Owner's uid. */
  uid: number;
  /** Owner's gid. */
  gid: number;
  /** Creator's uid. */
  cuid: number;
  /** Creator's gid. */
  cgid: number;
  /** sem_perm.mode: the permission bits. */
  mode: number;
  /** Last semop (sem_otime), in seconds since the epoch; 0 until the first op(). */
  otime: number;
  /** Last change by semctl, or the creation (sem_ctime), in seconds since the epoch. */
  ctime: number;
}
export interface NativeSemaphore {
  /** Drops this handle's reference; the object is released when no wait holds it. */
  handleClose(h: NativeHandle): number;
  semOpen(name: string, oflag: number, mode: number, value: number): NativeHandle | number;
  semUnlink(name: string): number;
  semInit(sab: SharedArrayBuffer, offset: number, value: number): NativeHandle | number;
  semAttach(sab: SharedArrayBuffer, offset: number): NativeHandle | number;
  /** sem_wait on a waiter thread; with timeoutMs >= 0 the kernel ends it at that deadline: cb rc 0 | -ETIMEDOUT | -ECANCELED | -errno. */
  semWait(h: NativeHandle, timeoutMs: number, cb: WaitCallback): number;
  semTrywait(h: NativeHandle): number;
  semPost(h: NativeHandle): number;
  semGetvalue(h: NativeHandle): number;
  semget(key: number, nsems: number, flags: number): number;
  /** Non-blocking semop: the caller sets IPC_NOWAIT. `ops` holds [num, op, flags] triples. */
  semop(id: number, ops: Int32Array): number;
  /** Blocking semop on a waiter thread (semtimedop with timeoutMs >= 0): cb rc 0 | -ETIMEDOUT | -ECANCELED | -errno. */
  semopWait(id: number, ops: Int32Array, timeoutMs: number, cb: WaitCallback): number;
  semctlStat(id: number): SemStat | number;
  semctlGetAll(id: number, count: number): number[] | number;
  semctlSetVal(id: number, num: number, value: number): number;
  semctlGet(id: number, num: number, cmd: number): number;
  semctlRemove(id: number): number;
  readonly semaphoreLayout: {
    semaphore: number;
    semaphoreAlign: number;
    sysv: { GETVAL: number; GETPID: number; GETNCNT: number; GETZCNT: number; SEM_UNDO: number; IPC_NOWAIT: number };
  };
}

// ---- mutex.cc -------------------------------------------------------------------------------------
export interface NativeMutex {
  /** A free mutex at that place (word, tag, next); starts the process's lock thread on first use. */
  mutexInit(sab: SharedArrayBuffer, offset: number): NativeHandle | number;
  /** -EINVAL when no ipckit mutex tag is there. */
  mutexAttach(sab: SharedArrayBuffer, offset: number): NativeHandle | number;
  /** 0 locked | 1 locked, the previous owner died (consistent again) | -EBUSY | -errno. */
  mutexTrylock(h: NativeHandle, markWaiters: boolean): number;
  /** 0 | -EPERM (this handle does not hold it) | -EUCLEAN (released; the word no longer named us). */
  mutexUnlock(h: NativeHandle): number;
  /** On a waiter thread: rc 0 once the lock word shows no owner (-EUCLEAN: impossible state; -ETIMEDOUT past timeoutMs >= 0). */
  mutexWaitFree(h: NativeHandle, timeoutMs: number, cb: WaitCallback): number;
  mutexWake(h: NativeHandle): number;
  /** Drops this handle's reference (a lock it still holds is released as if its owner died). */
  mutexClose(h: NativeHandle): number;
  readonly mutexLayout: { size: number; align: number; tag: number };
}

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
   * recvmsg(MSG_CMSG_CLOEXEC | MSG_DONTWAIT [| MSG_TRUNC]) until EAGAIN, `maxRecords`, or less than
   * `headroom` bytes of `buf` left (each read offered min(chunk, left)), records packed 8-byte aligned
   * into `buf`; a batch ends after a record with descriptors or cut (MSG_TRUNC/MSG_CTRUNC), a 0-byte
   * read, or a short stream read. → records | -errno of the first recvmsg. `meta`: [0] nfds of the last
   * record, [1] 1 if the socket is empty now, [8..] its fds; per record i from BATCH_RECORDS + 8i:
   * [offset, bytes, flags, addrLen, hasCreds, pid, uid, gid]; addresses in `addrs` every SUN_PATH_MAX
   * bytes. `records`: dgram/seqpacket (MSG_TRUNC), false for a stream.
   */
  recvmsgBatch(
    fd: number,
    buf: Uint8Array,
    meta: Int32Array,
    addrs: Uint8Array,
    maxFds: number,
    records: boolean,
    maxRecords: number,
    chunk: number,
    headroom: number,
  ): number;
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
    /** Where recvmsgBatch's per-record entries start in its meta array. */
    BATCH_RECORDS: number;
    SUN_PATH_MAX: number;
  };
}

// ---- memfd.cc --------------------------------------------------------------------------------------
export interface NativeMemfd {
  /** memfd_create(2): fd or -errno. */
  memfdCreate(name: string, flags: number): number;
  ftruncate(fd: number, size: number): number;
  /** fcntl(F_ADD_SEALS): 0 or -errno. */
  addSeals(fd: number, seals: number): number;
  /** fcntl(F_GET_SEALS): the seals or -errno (-EINVAL: not a sealable file). */
  getSeals(fd: number): number;
  /** eventfd(2): fd or -errno. */
  eventfd(initval: number, flags: number): number;
  /** Adds 1 to an eventfd's counter: 0 or -errno (-EAGAIN: at its maximum, rung already). */
  eventfdSignal(fd: number): number;
  /** Sets or clears FD_CLOEXEC: 0 or -errno. */
  setCloexec(fd: number, on: boolean): number;
  readonly memfdConstants: {
    MFD_CLOEXEC: number;
    MFD_ALLOW_SEALING: number;
    F_SEAL_SEAL: number;
    F_SEAL_SHRINK: number;
    F_SEAL_GROW: number;
    F_SEAL_WRITE: number;
    EFD_CLOEXEC: number;
    EFD_NONBLOCK: number;
  };
}
// ---- process.cc -----------------------------------------------------------------------------------
export interface NativeProcess {
  /** waitid(P_PIDFD, fd, options): 0 (no state), [si_code, si_status], or -errno. */
  waitidPidfd(fd: number, options: number): 0 | [number, number] | number;
  /** PIDFD_GET_INFO's exit status (a wait(2) status word, Linux 6.15) or -errno (-ENODATA: not exited). */
  pidfdExitStatus(fd: number): number;
  /**
   * Starts a tracer thread: attach ({ pid, options }) or spawn ({ file, argv, envp, cwd, stdio, options }).
   * Session id or -errno. cb(kind, tid, a, b, siginfo) on the loop thread; kinds: 0 attached (a 0|-errno,
   * b pid), 1 signal stop (a signo; held), 2 group stop (a signo), 3 continued, 4 exit stop (a status;
   * held), 5 exec (a former tid), 6 detached (a 0|-errno), 7 ended (a status when b 1, else -errno),
   * 8 fork (a the new pid or tid, b the PTRACE_EVENT_*).
   */
  tracerStart(
    spec: object,
    cb: (kind: number, tid: number, a: number, b: number, si: TraceSiginfo | undefined) => void,
  ): number;
  /** Answers the held stop: 0 suppresses, N delivers signal N. 0 | -EINVAL (nothing held) | -ESRCH. */
  tracerResume(id: number, sig: number): number;
  /** Asks the thread to detach (the 'detached' event follows); kick until then. */
  tracerDetach(id: number): number;
  /** Re-interrupts the thread while a detach request waits; false once it was taken. */
  tracerKick(id: number): boolean;
  tracerRef(id: number, ref: boolean): void;
  tracerStats(): { threads: number; sessions: number };
  readonly processConstants: {
    WNOHANG: number;
    WNOWAIT: number;
    WEXITED: number;
    WSTOPPED: number;
    WCONTINUED: number;
    CLD_EXITED: number;
    CLD_KILLED: number;
    CLD_DUMPED: number;
    CLD_STOPPED: number;
    CLD_TRAPPED: number;
    CLD_CONTINUED: number;
    PTRACE_O_TRACEEXIT: number;
    PTRACE_O_TRACEEXEC: number;
    PTRACE_O_EXITKILL: number;
    PTRACE_O_TRACEFORK: number;
    PTRACE_O_TRACEVFORK: number;
    PTRACE_O_TRACECLONE: number;
    PTRACE_EVENT_VFORK: number;
    PTRACE_EVENT_CLONE: number;
  };
}
/** The siginfo of a signal-delivery stop (PTRACE_GETSIGINFO); which fields mean something depends on code. */
export interface TraceSiginfo {
  signo: number;
  code: number;
  errno: number;
  pid: number;
  uid: number;
  status: number;
  value: number;
  addr: bigint;
}

export type Native = NativeErrno &
  NativeWaiter &
  NativeFdWatch &
  NativePipe &
  NativeSignal &
  NativeMessageQueue &
  NativeSharedMemory &
  NativeSemaphore &
  NativeMutex &
  NativeSocket &
  NativeMemfd &
  NativeProcess;

/** The addon. */
export const native = loadAddon() as Native;
