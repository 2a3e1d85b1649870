/**
 * Message queues: section 3 of the classic IPC survey. A message queue is a list of formatted messages
 * kept by the kernel, written and read by any number of processes.
 *
 * - {@link MessageQueue}: POSIX (mq_overview(7)), named `/name`, messages with priorities. On Linux the
 *   queue descriptor is pollable, so a waiting `send` or `receive` is an event-loop readiness wait: it
 *   costs no thread and no timer.
 * - {@link SystemVMessageQueue}: System V (msgget(2)), a numeric key and id, typed messages selected by
 *   type. Blocking calls run on ipckit's waiter threads (never libuv's threadpool).
 *
 * @module
 */
import fs from 'node:fs';
import { native, type MsgStat } from './native.js';
import { IpcError, check, closedError, errno, errnoException, invalidArgType, outOfRange } from './errors.js';
import { posixName, fsPath } from './internal/names.js';
import { disarm, guard } from './internal/lifetime.js';
import { checkOwner, type AdoptOptions } from './internal/owner.js';
import { Lane } from './internal/lane.js';
import { Readiness, READABLE, WRITABLE, Waits, waitOnThread } from './internal/wait.js';
import { toBytes, validateInteger, validateSysvKey, validateMode, validateOptions, validateOwnership, validateWaitOptions, type WaitOptions } from './internal/validate.js';
import { openOrCreate } from './internal/open-or-create.js';
import { tooLarge } from './internal/framing.js';
import { ReceiveSlab } from './internal/slab.js';

const C = native.mqConstants;

const EAGAIN = errno('EAGAIN');
const EEXIST = errno('EEXIST');
const ENOENT = errno('ENOENT');
const EMFILE = errno('EMFILE');
const EINVAL = errno('EINVAL');
const EIDRM = errno('EIDRM');
const ENOMSG = errno('ENOMSG');
/** Most messages one tryReceiveMany/receiveMany takes. */
const MAX_BATCH = 4096;
// POSIX receives go into one slab shared by every queue (JavaScript runs one at a time, and each message
// is taken before the next receive). 64 KiB: below glibc's mmap threshold, so a new slab usually reuses
// memory already resident instead of faulting fresh pages in; an mq_msgsize over 32 KiB gets slabs of
// twice its size (slab.ts).
const slab = new ReceiveSlab(64 * 1024);
const ENOSPC = errno('ENOSPC');
const EPERM = errno('EPERM');

/** Linux's hard ceilings (ipc/mqueue.c HARD_MSGMAX, HARD_MSGSIZEMAX): not even root goes beyond. */
const HARD_MSGMAX = 65536;
const HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/**
 * mq_send(3): priorities are 0 .. MQ_PRIO_MAX - 1 (32768 on Linux).
 *
 * @example
 * ```ts
 * await q.send('urgent', { priority: MQ_PRIO_MAX - 1 });
 * ```
 */
export const MQ_PRIO_MAX = 32768;

// ---- kernel limits -------------------------------------------------------------------------------

/**
 * The kernel's message-queue limits, as read from /proc now. `undefined` where a file is absent.
 *
 * @example
 * ```ts
 * const { posix } = messageQueueLimits();
 * console.log(posix.msgMax, posix.msgsizeMax);
 * ```
 */
export interface MessageQueueLimits {
  /** POSIX queues (`mq_overview(7)`; /proc/sys/fs/mqueue). */
  posix: {
    /** /dev/mqueue is mounted (only then do `ls`/`rm` see the queues; the queues work regardless). */
    mounted: boolean;
    /** fs.mqueue.queues_max: queues in the system (root is exempt). */
    queuesMax?: number;
    /** fs.mqueue.msg_max: largest `maxMessages` an unprivileged process may ask for. */
    msgMax?: number;
    /** fs.mqueue.msgsize_max: largest `maxMessageSize` an unprivileged process may ask for. */
    msgsizeMax?: number;
    /** fs.mqueue.msg_default / msgsize_default: what a queue gets when nothing is asked. */
    msgDefault?: number;
    /** fs.mqueue.msgsize_default: the `maxMessageSize` a queue gets when nothing is asked. */
    msgsizeDefault?: number;
    /** The ceilings of the kernel itself (CAP_SYS_RESOURCE stops there too). */
    hardMsgMax: number;
    /** The kernel's ceiling for `maxMessageSize` (HARD_MSGSIZEMAX, 16 MiB). */
    hardMsgsizeMax: number;
  };
  /** System V queues (`sysvipc(7)`; /proc/sys/kernel). */
  systemV: {
    /** kernel.msgmax: largest message in bytes. */
    msgmax?: number;
    /** kernel.msgmnb: default (and unprivileged maximum) bytes a queue holds. */
    msgmnb?: number;
    /** kernel.msgmni: queues in the system. */
    msgmni?: number;
  };
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function isMqueueMounted(): boolean {
  try {
    return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'mqueue');
  } catch {
    return false;
  }
}

/**
 * Reads the message-queue limits of this machine (/proc/sys/fs/mqueue/*, kernel.msgmax/msgmnb/msgmni).
 *
 * @example
 * ```ts
 * const { posix, systemV } = limits();
 * console.log(`POSIX: up to ${posix.msgMax} messages of ${posix.msgsizeMax} B; System V: ${systemV.msgmax} B`);
 * ```
 */
export function limits(): MessageQueueLimits {
  const mq = '/proc/sys/fs/mqueue/';
  const k = '/proc/sys/kernel/';
  return {
    posix: {
      mounted: isMqueueMounted(),
      queuesMax: readNumber(mq + 'queues_max'),
      msgMax: readNumber(mq + 'msg_max'),
      msgsizeMax: readNumber(mq + 'msgsize_max'),
      msgDefault: readNumber(mq + 'msg_default'),
      msgsizeDefault: readNumber(mq + 'msgsize_default'),
      hardMsgMax: HARD_MSGMAX,
      hardMsgsizeMax: HARD_MSGSIZEMAX,
    },
    systemV: { msgmax: readNumber(k + 'msgmax'), msgmnb: readNumber(k + 'msgmnb'), msgmni: readNumber(k + 'msgmni') },
  };
}

function limitError(message: string, props: Record<string, unknown>, cause: Error): IpcError {
  return new IpcError('ERR_IPC_LIMIT', message, props, { cause });
}

/**
 * mq_open(3) fails with a bare EINVAL when an attribute passes a limit: say which one. Unprivileged
 * processes are held to fs.mqueue.msg_max / msgsize_max, CAP_SYS_RESOURCE to the hard ceilings.
 */
function explainMqCreate(rc: number, name: string, maxMessages: number, maxMessageSize: number): Error {
  const err = errnoException(rc, 'mq_open', name);
  const { posix } = limits();
  if (rc === EINVAL) {
    const checks: [string, number, number | undefined, string][] = [
      ['maxMessages', maxMessages, HARD_MSGMAX, 'the kernel ceiling HARD_MSGMAX'],
      ['maxMessageSize', maxMessageSize, HARD_MSGSIZEMAX, 'the kernel ceiling HARD_MSGSIZEMAX'],
      ['maxMessages', maxMessages, posix.msgMax, 'fs.mqueue.msg_max'],
      ['maxMessageSize', maxMessageSize, posix.msgsizeMax, 'fs.mqueue.msgsize_max'],
    ];
    for (const [option, requested, max, limit] of checks) {
      if (max !== undefined && requested > max) {
        return limitError(`${option} ${requested} exceeds ${limit} (${max}) creating message queue ${name}`, { limit, max, requested, option, path: name }, err);
      }
    }
  }
  if (rc === ENOSPC) {
    return limitError(`creating message queue ${name} would exceed fs.mqueue.queues_max (${posix.queuesMax})`, { limit: 'fs.mqueue.queues_max', max: posix.queuesMax, path: name }, err);
  }
  if (rc === EMFILE) {
    // mq_open says EMFILE for two different things (mq_open(3)): out of descriptors, or the queue's bytes
    // would take the user past RLIMIT_MSGQUEUE (ipc/mqueue.c, mqueue_get_inode). With descriptors to
    // spare it is the second, and "too many open files" would send the reader looking in the wrong place.
    const soft = (label: string): number | undefined => {
      try {
        const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(label));
        const v = line?.slice(label.length).trim().split(/\s+/)[0];
        return v === undefined || v === 'unlimited' ? undefined : Number(v);
      } catch {
        return undefined;
      }
    };
    const nofile = soft('Max open files');
    const msgqueue = soft('Max msgqueue size');
    let fds = 0;
    try {
      fds = fs.readdirSync('/proc/self/fd').length;
    } catch {
      return err;
    }
    if (msgqueue !== undefined && (nofile === undefined || fds + 8 < nofile)) {
      const mm = maxMessages || (posix.msgDefault ?? 10);
      const ms = maxMessageSize || (posix.msgsizeDefault ?? 8192);
      // The kernel's count: the messages' bytes plus their bookkeeping (struct msg_msg, 48 bytes on
      // 64-bit, and a tree node per priority in use, about 40 bytes, at most 32768 of them).
      const requested = mm * ms + mm * 48 + Math.min(mm, 32768) * 40;
      return limitError(
        `creating message queue ${name} (${mm} × ${ms} bytes, about ${requested} bytes with bookkeeping) would take this user past RLIMIT_MSGQUEUE (${msgqueue} bytes, counting every queue the user has); mq_open reports this as EMFILE`,
        { limit: 'RLIMIT_MSGQUEUE', max: msgqueue, requested, path: name },
        err,
      );
    }
  }
  return err;
}

// ---- POSIX ---------------------------------------------------------------------------------------

/**
 * Options of `MessageQueue.create` and `MessageQueue.openOrCreate`.
 *
 * @example
 * ```ts
 * await MessageQueue.create('/jobs', { maxMessages: 64, maxMessageSize: 4096, mode: 0o660, unlinkOnClose: false });
 * ```
 */
export interface MessageQueueCreateOptions {
  /** Capacity in messages (mq_maxmsg). Default: fs.mqueue.msg_default (10 on most systems). */
  maxMessages?: number;
  /** Largest message in bytes (mq_msgsize). Default: fs.mqueue.msgsize_default (8192). */
  maxMessageSize?: number;
  /** Permission bits (the umask applies, as for mq_open(3)). Default 0o600. */
  mode?: number;
  /**
   * Remove the name when this object closes. Default true when this call created the queue (`create`, or
   * `openOrCreate` that created it), false when it opened an existing one (as every module does).
   */
  unlinkOnClose?: boolean;
}

/**
 * Options of `MessageQueue.open` (and of `create` / `openOrCreate`).
 *
 * @example
 * ```ts
 * const producer = await MessageQueue.open('/jobs', { access: 'write' });
 * ```
 */
export interface MessageQueueOpenOptions extends AdoptOptions {
  /** 'readwrite' (default), 'read' or 'write'. */
  access?: 'read' | 'write' | 'readwrite';
}

/**
 * Options of `MessageQueue.send`.
 *
 * @example
 * ```ts
 * await q.send('x', { priority: 5, timeout: 1000 });
 * ```
 */
export interface SendOptions extends WaitOptions {
  /** 0 .. 32767; higher priorities are received first. Default 0. */
  priority?: number;
}

/**
 * A received POSIX message.
 *
 * @example
 * ```ts
 * const { data, priority }: Message = await q.receive();
 * ```
 */
export interface Message {
  /**
   * The message's bytes: yours, never written by ipckit again. From 4 KiB on, a view into a receive
   * buffer other messages share (`data.buffer` is larger than the message, like Node's pooled Buffers):
   * `Buffer.from(data)` what you keep for long.
   */
  data: Buffer;
  /** Its priority, 0..32767: higher ones are received first. */
  priority: number;
}

/**
 * What mq_getattr(3) reports.
 *
 * @example
 * ```ts
 * const { currentMessages, maxMessages } = q.attributes();
 * ```
 */
export interface MessageQueueAttributes {
  /** mq_maxmsg: messages the queue holds before `send` waits. */
  maxMessages: number;
  /** mq_msgsize: the largest message, in bytes. */
  maxMessageSize: number;
  /** Messages queued right now. */
  currentMessages: number;
}

function accessFlags(access: unknown): number {
  switch (access ?? 'readwrite') {
    case 'readwrite':
      return C.O_RDWR;
    case 'read':
      return C.O_RDONLY;
    case 'write':
      return C.O_WRONLY;
    default:
      throw invalidArgType('options.access', "one of 'read', 'write', 'readwrite'", access);
  }
}

/**
 * A POSIX message queue (mq_overview(7)).
 *
 * `send` waits when the queue is full (backpressure), `receive` waits when it is empty; both wait on the
 * event loop. Any number of pending sends and receives of one object are served in the order they were
 * made. Messages come out highest priority first, FIFO within a priority.
 *
 * @example
 * ```ts
 * await using q = await MessageQueue.create('/jobs', { maxMessages: 10, maxMessageSize: 1024 });
 * await q.send('low', { priority: 1 });
 * await q.send('urgent', { priority: 9 });
 * const { data, priority } = await q.receive({ timeout: 1000 });  // 'urgent', 9
 * ```
 */
export class MessageQueue implements AsyncDisposable, Disposable {
  /** The queue's name, with its leading '/'. */
  readonly name: string;
  /** mq_maxmsg and mq_msgsize, read once at open. */
  readonly maxMessages: number;
  /** mq_msgsize: the largest message, in bytes. */
  readonly maxMessageSize: number;
  #fd: number;
  #unlinkOnClose: boolean;
  #readiness: Readiness;
  #sends: Lane;
  #receives: Lane;
  #prio = new Uint32Array(1);
  #guard: object | undefined;

  private constructor(fd: number, name: string, unlinkOnClose: boolean) {
    this.#guard = guard(this, `ipckit MessageQueue ${name}`, () => native.mqClose(fd));
    this.#fd = fd;
    this.name = name;
    this.#unlinkOnClose = unlinkOnClose;
    const attr = native.mqGetattr(fd);
    if (typeof attr === 'number') {
      disarm(this.#guard);
      native.mqClose(fd);
      throw errnoException(attr, 'mq_getattr', name);
    }
    this.maxMessages = attr[1];
    this.maxMessageSize = attr[2];
    this.#readiness = new Readiness(fd, `message queue ${name}`);
    this.#sends = new Lane(this.#readiness, WRITABLE);
    this.#receives = new Lane(this.#readiness, READABLE);
  }

  static #open(name: string, flags: number, opts: MessageQueueCreateOptions & MessageQueueOpenOptions, creating: boolean): number {
    const mode = validateMode('options.mode', opts.mode ?? 0o600);
    validateOwnership(opts, true);
    const maxMessages = opts.maxMessages === undefined ? 0 : validateInteger('options.maxMessages', opts.maxMessages, 1, 2 ** 31 - 1);
    const maxMessageSize = opts.maxMessageSize === undefined ? 0 : validateInteger('options.maxMessageSize', opts.maxMessageSize, 1, 2 ** 31 - 1);
    // mq_open takes both attributes or neither: fill the one not given from the defaults.
    const dflt = limits().posix;
    const mm = maxMessages || (maxMessageSize ? (dflt.msgDefault ?? 10) : 0);
    const ms = maxMessageSize || (maxMessages ? (dflt.msgsizeDefault ?? 8192) : 0);
    const fd = native.mqOpen(name, flags | C.O_NONBLOCK | C.O_CLOEXEC, mode, mm, ms);
    if (fd < 0 && creating && fd !== EEXIST) throw explainMqCreate(fd, name, mm, ms);
    return fd;
  }

  /**
   * Creates a queue, exclusively (EEXIST if the name exists). The creator owns the name: it is unlinked
   * on close unless `unlinkOnClose: false`. Past a kernel limit: ERR_IPC_LIMIT naming the limit.
   */
  static async create(name: string, opts: MessageQueueCreateOptions & MessageQueueOpenOptions = {}): Promise<MessageQueue> {
    const n = posixName('message queue', name);
    validateOptions(opts);
    const fd = check(MessageQueue.#open(n, accessFlags(opts.access) | C.O_CREAT | C.O_EXCL, opts, true), 'mq_open', n);
    return MessageQueue.#wrap(fd, n, validateOwnership(opts, true), true);
  }

  /** Opens an existing queue (ENOENT if there is none). */
  static async open(name: string, opts: MessageQueueOpenOptions = {}): Promise<MessageQueue> {
    const n = posixName('message queue', name);
    validateOptions(opts);
    const fd = check(native.mqOpen(n, accessFlags(opts.access) | C.O_NONBLOCK | C.O_CLOEXEC, 0, 0, 0), 'mq_open', n);
    MessageQueue.#checkOwner(fd, n, opts);
    return MessageQueue.#wrap(fd, n, false, false);
  }

  /**
   * Opens the queue, creating it if needed. It owns (unlinks on close) a queue it created, not one it
   * opened, unless `unlinkOnClose` says otherwise.
   */
  static async openOrCreate(name: string, opts: MessageQueueCreateOptions & MessageQueueOpenOptions = {}): Promise<MessageQueue> {
    const n = posixName('message queue', name);
    validateOptions(opts);
    const access = accessFlags(opts.access);
    return openOrCreate(
      () => {
        const fd = MessageQueue.#open(n, access | C.O_CREAT | C.O_EXCL, opts, true);
        return fd < 0 ? fd : MessageQueue.#wrap(fd, n, validateOwnership(opts, true), true);
      },
      () => {
        const fd = native.mqOpen(n, access | C.O_NONBLOCK | C.O_CLOEXEC, 0, 0, 0);
        if (fd < 0) return fd;
        MessageQueue.#checkOwner(fd, n, opts);
        return MessageQueue.#wrap(fd, n, validateOwnership(opts, false), false);
      },
      'mq_open',
      n,
    );
  }

  /**
   * An existing queue is somebody's: its owner reads what we send and forges what we receive, so one
   * owned by another user is refused unless `allowForeignOwner` (fstat(2) of the queue descriptor).
   */
  static #checkOwner(fd: number, name: string, opts: AdoptOptions): void {
    try {
      checkOwner(`message queue ${name}`, fs.fstatSync(fd).uid, opts, { path: name });
    } catch (err) {
      native.mqClose(fd);
      throw err;
    }
  }

  static #wrap(fd: number, name: string, unlinkOnClose: boolean, created: boolean): MessageQueue {
    try {
      return new MessageQueue(fd, name, unlinkOnClose);
    } catch (err) {
      if (created) native.mqUnlink(name);
      throw err;
    }
  }

  /**
   * Removes a queue's name (mq_unlink(3)); processes that have it open keep using it. `false` if there
   * was no such queue.
   *
   * @example
   * ```ts
   * await MessageQueue.unlink('/jobs');
   * ```
   */
  static async unlink(name: string): Promise<boolean> {
    const n = posixName('message queue', name);
    const rc = native.mqUnlink(n);
    if (rc === ENOENT) return false;
    check(rc, 'mq_unlink', n);
    return true;
  }

  /** The descriptor (-1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  #assertOpen(op: string): void {
    if (this.#fd < 0) throw closedError(`message queue ${this.name}`, op);
  }

  #checkSend(data: unknown, priority: unknown): [Uint8Array, number] {
    const bytes = toBytes('data', data);
    const prio = validateInteger('options.priority', priority ?? 0, 0, MQ_PRIO_MAX - 1);
    if (bytes.byteLength > this.maxMessageSize) throw tooLarge(bytes.byteLength, this.maxMessageSize, { limitName: "the queue's maxMessageSize" });
    return [bytes, prio];
  }

  /**
   * Sends one message; waits (on the event loop) while the queue is full. Over `maxMessageSize`:
   * ERR_IPC_MESSAGE_TOO_LARGE before any syscall.
   */
  send(data: Uint8Array | string, opts: SendOptions = {}): Promise<void> {
    try {
      this.#assertOpen('send');
      validateWaitOptions(opts);
      const [bytes, prio] = this.#checkSend(data, opts.priority);
      // Fast path: nobody of ours is ahead, so trying at once keeps the order.
      if (this.#sends.idle) {
        const rc = native.mqSend(this.#fd, bytes, prio);
        if (rc === 0) return Promise.resolve();
        if (rc !== EAGAIN) throw errnoException(rc, 'mq_send', this.name);
      }
      // A copy: the caller may reuse its buffer as soon as send() returned.
      const copy = Uint8Array.prototype.slice.call(bytes);
      return this.#sends.run<void>(opts, `send on message queue ${this.name}`, (ok, fail) => {
        const rc = native.mqSend(this.#fd, copy, prio);
        if (rc === EAGAIN) return false;
        if (rc === 0) ok();
        else fail(errnoException(rc, 'mq_send', this.name));
        return true;
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends if there is room right now: `false` when the queue is full. */
  trySend(data: Uint8Array | string, opts: { priority?: number } = {}): boolean {
    this.#assertOpen('trySend');
    validateOptions(opts);
    const [bytes, prio] = this.#checkSend(data, opts.priority);
    if (!this.#sends.idle) return false; // earlier sends of ours wait for room: do not overtake them
    const rc = native.mqSend(this.#fd, bytes, prio);
    if (rc === EAGAIN) return false;
    check(rc, 'mq_send', this.name);
    return true;
  }

  #take(): Message | null {
    // Straight into the receive slab (mq_receive needs room for mq_msgsize): a message of 4 KiB or more
    // is handed out as a view of it, since allocating its own buffer cost more than the mq_receive
    // itself (internal/slab.ts); a smaller one is copied from Node's pool.
    const n = native.mqReceive(this.#fd, slab.free(this.maxMessageSize), this.#prio);
    if (n === EAGAIN) return null;
    check(n, 'mq_receive', this.name);
    const data = slab.take(0, n);
    slab.commit();
    return { data, priority: this.#prio[0]! };
  }

  /** Receives the oldest message of the highest priority; waits (on the event loop) while the queue is empty. */
  receive(opts: WaitOptions = {}): Promise<Message> {
    try {
      this.#assertOpen('receive');
      validateWaitOptions(opts);
      if (this.#receives.idle) {
        const m = this.#take();
        if (m) return Promise.resolve(m);
      }
      return this.#receives.run<Message>(opts, `receive on message queue ${this.name}`, (ok, fail) => {
        let m: Message | null;
        try {
          m = this.#take();
        } catch (err) {
          fail(err as Error);
          return true;
        }
        if (!m) return false;
        ok(m);
        return true;
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Receives if a message is there right now: `null` otherwise. */
  tryReceive(): Message | null {
    this.#assertOpen('tryReceive');
    if (!this.#receives.idle) return null; // earlier receives of ours are owed the next message
    return this.#take();
  }

  /** mq_getattr(3): capacity, message size, and the messages queued now. */
  attributes(): MessageQueueAttributes {
    this.#assertOpen('attributes');
    const a = native.mqGetattr(this.#fd);
    if (typeof a === 'number') throw errnoException(a, 'mq_getattr', this.name);
    return { maxMessages: a[1], maxMessageSize: a[2], currentMessages: a[3] };
  }

  /** Messages until the queue is closed (then the loop ends); `break` stops early. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    for (;;) {
      if (this.closed) return;
      try {
        yield await this.receive();
      } catch (err) {
        if (this.closed && (err as IpcError).code === 'ERR_IPC_CLOSED') return;
        throw err;
      }
    }
  }

  /**
   * Takes an exclusive lock on byte `slot` of the queue for this descriptor (an open-file-description
   * lock, fcntl(2) F_OFD_SETLK, without waiting): true if it is ours now, false if another descriptor
   * holds it. The kernel drops it when this object closes or its process dies. The `mq:` channel uses
   * slot 0 for "a listener is alive" and slot 1 for "a connector has it"; other slots are free.
   *
   * @example
   * ```ts
   * if (!q.tryLock(1)) throw new Error('another producer has the queue');
   * ```
   */
  tryLock(slot = 0): boolean {
    this.#assertOpen('tryLock');
    validateInteger('slot', slot, 0, 2 ** 31 - 1);
    const rc = native.ofdLock(this.#fd, slot);
    if (rc === EAGAIN) return false;
    check(rc, 'fcntl', this.name);
    return true;
  }

  /** fstat(2) of the queue descriptor: owner, mode. */
  stat(): fs.Stats {
    this.#assertOpen('stat');
    return fs.fstatSync(this.#fd);
  }

  /**
   * Closes the descriptor (idempotent); pending sends and receives reject with ERR_IPC_CLOSED. Unlinks the
   * name first if this object owns it.
   */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    disarm(this.#guard);
    const err = closedError(`message queue ${this.name}`, 'close');
    this.#sends.rejectAll(err);
    this.#receives.rejectAll(err);
    // The poll handle goes before the descriptor (fd_watch.cc): epoll must not watch a reused number.
    this.#readiness.close();
    if (this.#unlinkOnClose) native.mqUnlink(this.name);
    native.mqClose(fd);
  }

  /** Alias of `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  /** Lets the process exit while a receive waits (like a socket's unref()). */
  unref(): this {
    this.#readiness.unref();
    return this;
  }

  /** Undoes `unref()`: a waiting receive keeps the process alive again (the default). */
  ref(): this {
    this.#readiness.ref();
    return this;
  }
}

// ---- System V ------------------------------------------------------------------------------------

/**
 * A System V IPC key from a path and a project id (ftok(3)): the same pair gives the same key in every
 * process while the file exists (it is made of the file's inode and device numbers).
 *
 * @example
 * ```ts
 * const key = ftok('/etc/hostname', 42);
 * await using q = await SystemVMessageQueue.openOrCreate(key);
 * ```
 */
export function ftok(path: string, id: number): number {
  fsPath('ftok', path);
  validateInteger('id', id, 1, 255);
  return check(native.ftok(path, id), 'ftok', path);
}

/**
 * Options of `SystemVMessageQueue.create` and `openOrCreate`.
 *
 * @example
 * ```ts
 * await SystemVMessageQueue.create(ftok('/etc/hostname', 1), { mode: 0o660, maxBytes: 1 << 20 });
 * ```
 */
export interface SystemVCreateOptions extends AdoptOptions {
  /** Permission bits. Default 0o600. */
  mode?: number;
  /** msg_qbytes: bytes the queue holds. Above kernel.msgmnb needs CAP_SYS_RESOURCE (else ERR_IPC_LIMIT). */
  maxBytes?: number;
  /**
   * Remove the queue (IPC_RMID) when this object closes. Default true when this call created it (`create`,
   * or `openOrCreate` that created it), false otherwise.
   */
  unlinkOnClose?: boolean;
  /** @deprecated The old spelling of `unlinkOnClose` (one name in every module now). */
  removeOnClose?: boolean;
}

/**
 * Options of `SystemVMessageQueue.send`: `{ signal, timeout }` while the queue is full.
 *
 * @example
 * ```ts
 * await q.send(1, 'hello', { signal: AbortSignal.timeout(1000) });
 * ```
 */
export interface SystemVSendOptions extends WaitOptions {}

/**
 * Options of `SystemVMessageQueue.receive`.
 *
 * @example
 * ```ts
 * const m = await q.receive({ type: 2, maxSize: 1024, noError: true, timeout: 1000 });
 * ```
 */
export interface SystemVReceiveOptions extends WaitOptions {
  /** msgrcv's msgtyp: 0 the first message; > 0 the first of that type; < 0 the first of the lowest type <= |type|. */
  type?: number;
  /** Truncate a longer message to `maxSize` (MSG_NOERROR) instead of failing with E2BIG. */
  noError?: boolean;
  /** The largest message accepted (at most, and by default, kernel.msgmax). */
  maxSize?: number;
}

/**
 * A received System V message.
 *
 * @example
 * ```ts
 * const { type, data }: TypedMessage = await q.receive({ type: -10 });
 * ```
 */
export interface TypedMessage {
  /** The message type (a positive integer), which receivers select on. */
  type: number;
  /** The message's bytes. */
  data: Buffer;
}

/**
 * What msgctl(IPC_STAT) reports, named.
 *
 * @example
 * ```ts
 * const { messages, bytes, lastSendPid } = q.stat();
 * ```
 */
export interface SystemVMessageQueueStat {
  /** The queue's key (0 for a private queue). */
  key: number;
  /** Messages queued (msg_qnum). */
  messages: number;
  /** Bytes queued (msg_cbytes). */
  bytes: number;
  /** Bytes the queue may hold (msg_qbytes). */
  maxBytes: number;
  /** Pid of the last msgsnd / msgrcv (0 if none yet). */
  lastSendPid: number;
  /** Pid of the last msgrcv (0 if none yet). */
  lastReceivePid: number;
  /** Time of the last msgsnd (msg_stime), or null if none yet. */
  lastSend: Date | null;
  /** Time of the last msgrcv (msg_rtime), or null if none yet. */
  lastReceive: Date | null;
  /** Time of the last change by msgctl (msg_ctime), or the creation. */
  changed: Date;
  /** Permission bits (msg_perm.mode & 0o777). */
  mode: number;
  /** Owner's uid. */
  uid: number;
  /** Owner's gid. */
  gid: number;
}

// kernel.msgmax, read once: every send checks sizes against it, and /proc reads cost more than the
// send itself. An administrator who lowers it later makes msgsnd fail with EINVAL, which re-reads it.
let msgmaxCache: number | undefined;
function sysvMsgmax(refresh = false): number {
  if (refresh || msgmaxCache === undefined) msgmaxCache = readNumber('/proc/sys/kernel/msgmax') ?? 8192;
  return msgmaxCache;
}

/** msgtyp on send: a C long that is > 0; we hold it to a safe JS integer. */
function validateSendType(type: unknown): number {
  return validateInteger('type', type, 1, Number.MAX_SAFE_INTEGER);
}

function hex(key: number): string {
  return '0x' + (key >>> 0).toString(16).padStart(8, '0');
}

/**
 * A System V message queue (msgget(2)): typed messages, selected on receive by type.
 *
 * A `receive` that has to wait runs on a waiter thread (msgrcv has no descriptor to poll), cancellable
 * by `signal` and `timeout`; a message already there is taken on the loop thread with IPC_NOWAIT.
 *
 * @example
 * ```ts
 * await using q = await SystemVMessageQueue.create('private');
 * await q.send(2, 'two');
 * await q.send(1, 'one');
 * const m = await q.receive({ type: -2 });   // lowest type <= 2 first: { type: 1, data: <Buffer 6f 6e 65> }
 * ```
 */
export class SystemVMessageQueue implements AsyncDisposable, Disposable {
  /** The queue id (msqid), as `ipcs -q` shows it. */
  readonly id: number;
  /** The key it was created or opened with (IPC_PRIVATE = 0). */
  readonly key: number;
  #closed = false;
  #removeOnClose: boolean;
  #waits: Waits;
  #pendingReceives = 0;
  #pendingSends = 0;

  private constructor(id: number, key: number, removeOnClose: boolean) {
    this.id = id;
    this.key = key;
    this.#removeOnClose = removeOnClose;
    // close() cancels the waits, then removes the queue if it owns it: a wait may see the removal
    // (EIDRM, EINVAL) before the cancellation reaches its thread. Either way, it ended because we closed.
    this.#waits = new Waits(`System V message queue ${id}`, { removes: true });
  }

  static #create(key: number, opts: SystemVCreateOptions, flags: number): number {
    const mode = validateMode('options.mode', opts.mode ?? 0o600);
    validateOwnership(opts, true);
    const id = native.msgget(key, flags | mode);
    if (id < 0) {
      if (id === ENOSPC) {
        const max = limits().systemV.msgmni;
        throw limitError(`creating a System V message queue would exceed kernel.msgmni (${max})`, { limit: 'kernel.msgmni', max }, errnoException(id, 'msgget', hex(key)));
      }
      return id;
    }
    if (opts.maxBytes !== undefined) {
      const rc = native.msgctlSetQbytes(id, opts.maxBytes);
      if (rc < 0) {
        native.msgctlRmid(id);
        const err = errnoException(rc, 'msgctl', hex(key));
        const max = limits().systemV.msgmnb;
        if (rc === EPERM && max !== undefined && opts.maxBytes > max) {
          throw limitError(`maxBytes ${opts.maxBytes} exceeds kernel.msgmnb (${max}) without CAP_SYS_RESOURCE`, { limit: 'kernel.msgmnb', max, requested: opts.maxBytes, option: 'maxBytes' }, err);
        }
        throw err;
      }
    }
    return id;
  }

  /**
   * Creates a queue, exclusively for a key (EEXIST if one exists), or a new private one. The creator
   * removes it on close unless `unlinkOnClose: false`.
   */
  static async create(key: number | 'private', opts: SystemVCreateOptions = {}): Promise<SystemVMessageQueue> {
    const k = validateSysvKey(key);
    validateOptions(opts);
    if (opts.maxBytes !== undefined) validateInteger('options.maxBytes', opts.maxBytes, 1, 2 ** 31 - 1);
    const flags = k === C.IPC_PRIVATE ? C.IPC_CREAT : C.IPC_CREAT | C.IPC_EXCL;
    const id = check(SystemVMessageQueue.#create(k, opts, flags), 'msgget', hex(k));
    return new SystemVMessageQueue(id, k, validateOwnership(opts, true));
  }

  /**
   * Opens the queue of an existing key (ENOENT if there is none). A queue owned by another user is
   * ERR_IPC_FOREIGN_OWNER unless `allowForeignOwner: true`.
   */
  static async open(key: number, opts: AdoptOptions = {}): Promise<SystemVMessageQueue> {
    const k = validateSysvKey(key);
    if (k === C.IPC_PRIVATE) throw outOfRange('key', 'a key (a private queue cannot be opened by key)', key);
    validateOptions(opts);
    const id = check(native.msgget(k, 0), 'msgget', hex(k));
    SystemVMessageQueue.#checkOwner(id, k, opts);
    return new SystemVMessageQueue(id, k, false);
  }

  /** The owner (msg_perm.uid, IPC_STAT) of a queue we are about to adopt must be us, unless allowed. */
  static #checkOwner(id: number, key: number, opts: AdoptOptions): void {
    const st = native.msgctlStat(id);
    if (typeof st === 'number') throw errnoException(st, 'msgctl', hex(key));
    checkOwner(`System V message queue ${hex(key)}`, st.uid, opts, { key });
  }

  /** Opens the queue of a key, creating it if there is none (then owned, unless `unlinkOnClose: false`). */
  static async openOrCreate(key: number, opts: SystemVCreateOptions = {}): Promise<SystemVMessageQueue> {
    const k = validateSysvKey(key);
    if (k === C.IPC_PRIVATE) throw outOfRange('key', "a key (use create('private'))", key);
    validateOptions(opts);
    if (opts.maxBytes !== undefined) validateInteger('options.maxBytes', opts.maxBytes, 1, 2 ** 31 - 1);
    return openOrCreate(
      () => {
        const id = SystemVMessageQueue.#create(k, opts, C.IPC_CREAT | C.IPC_EXCL);
        return id < 0 ? id : new SystemVMessageQueue(id, k, validateOwnership(opts, true));
      },
      () => {
        const id = native.msgget(k, 0);
        if (id < 0) return id;
        SystemVMessageQueue.#checkOwner(id, k, opts);
        return new SystemVMessageQueue(id, k, validateOwnership(opts, false));
      },
      'msgget',
      hex(k),
    );
  }

  /** Wraps a queue known by its id (e.g. from `ipcs -q`). */
  static fromId(id: number): SystemVMessageQueue {
    validateInteger('id', id, 0, 2 ** 31 - 1);
    const st = native.msgctlStat(id);
    if (typeof st === 'number') throw errnoException(st, 'msgctl', String(id));
    return new SystemVMessageQueue(id, st.key, false);
  }

  /**
   * Removes a queue by id (msgctl(IPC_RMID), as `ipcrm -q`). `false` if there is no such queue.
   *
   * @example
   * ```ts
   * await SystemVMessageQueue.removeId(32769);
   * ```
   */
  static async removeId(id: number): Promise<boolean> {
    validateInteger('id', id, 0, 2 ** 31 - 1);
    const rc = native.msgctlRmid(id);
    if (rc === EINVAL || rc === EIDRM) return false;
    check(rc, 'msgctl', String(id));
    return true;
  }

  /** Whether `close()` or `remove()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  #assertOpen(op: string): void {
    if (this.#closed) throw closedError(`System V message queue ${this.id}`, op);
  }

  #msgmax(): number {
    return sysvMsgmax();
  }

  #checkData(data: unknown): Uint8Array {
    const bytes = toBytes('data', data);
    const max = this.#msgmax();
    if (bytes.byteLength > max) throw tooLarge(bytes.byteLength, max, { limitName: 'kernel.msgmax' });
    return bytes;
  }

  /**
   * Sends a message of `type` (> 0). A full queue makes it wait (on a waiter thread), cancellable.
   * Over kernel.msgmax: ERR_IPC_MESSAGE_TOO_LARGE before any syscall.
   */
  async send(type: number, data: Uint8Array | string, opts: SystemVSendOptions = {}): Promise<void> {
    this.#assertOpen('send');
    validateWaitOptions(opts);
    const t = validateSendType(type);
    const bytes = this.#checkData(data);
    if (this.#pendingSends === 0) {
      const rc = native.msgsnd(this.id, t, bytes, C.IPC_NOWAIT);
      if (rc === 0) return;
      if (rc === EINVAL) sysvMsgmax(true);
      if (rc !== EAGAIN) throw errnoException(rc, 'msgsnd', String(this.id));
    }
    this.#pendingSends++;
    try {
      const r = await waitOnThread((cb) => native.msgsndWait(this.id, t, bytes, 0, cb), this.#waits.options(opts), `send on System V message queue ${this.id}`);
      check(r.rc, 'msgsnd', String(this.id));
    } catch (err) {
      this.#waits.rethrow(err, 'send');
    } finally {
      this.#pendingSends--;
    }
  }

  /** Sends if there is room now: `false` when the queue is full. */
  trySend(type: number, data: Uint8Array | string): boolean {
    this.#assertOpen('trySend');
    const t = validateSendType(type);
    const bytes = this.#checkData(data);
    const rc = native.msgsnd(this.id, t, bytes, C.IPC_NOWAIT);
    if (rc === EAGAIN) return false;
    check(rc, 'msgsnd', String(this.id));
    return true;
  }

  #recvArgs(opts: SystemVReceiveOptions): [number, number, number] {
    validateOptions(opts);
    const type = validateInteger('options.type', opts.type ?? 0, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    // No message is longer than kernel.msgmax: a larger maxSize would only make the receive buffer huge.
    const maxSize = Math.min(this.#msgmax(), opts.maxSize === undefined ? Infinity : validateInteger('options.maxSize', opts.maxSize, 0, 2 ** 31 - 1));
    if (opts.noError !== undefined && typeof opts.noError !== 'boolean') throw invalidArgType('options.noError', 'of type boolean', opts.noError);
    return [type, maxSize, opts.noError ? C.MSG_NOERROR : 0];
  }

  /**
   * Receives a message selected by `type` as msgrcv(2) does. Waits on a waiter thread when none matches.
   * A message longer than `maxSize` fails with E2BIG (and stays queued) unless `noError` truncates it.
   */
  async receive(opts: SystemVReceiveOptions = {}): Promise<TypedMessage> {
    this.#assertOpen('receive');
    validateWaitOptions(opts);
    const [type, maxSize, flags] = this.#recvArgs(opts);
    // Receives already waiting on threads are first in the kernel's line: only try on the loop thread
    // when none is, so this process's receives are served in the order they were made.
    if (this.#pendingReceives === 0) {
      const r = native.msgrcv(this.id, maxSize, type, flags | C.IPC_NOWAIT);
      if (typeof r !== 'number') return { type: r[0], data: r[1] };
      if (r !== ENOMSG) throw errnoException(r, 'msgrcv', String(this.id));
    }
    this.#pendingReceives++;
    try {
      const r = await waitOnThread((cb) => native.msgrcvWait(this.id, maxSize, type, flags, cb), this.#waits.options(opts), `receive on System V message queue ${this.id}`);
      check(r.rc, 'msgrcv', String(this.id));
      return { type: r.aux, data: r.payload ?? Buffer.alloc(0) };
    } catch (err) {
      this.#waits.rethrow(err, 'receive');
    } finally {
      this.#pendingReceives--;
    }
  }

  /** Receives a matching message if there is one now: `null` otherwise. */
  tryReceive(opts: Omit<SystemVReceiveOptions, 'signal' | 'timeout'> = {}): TypedMessage | null {
    this.#assertOpen('tryReceive');
    const [type, maxSize, flags] = this.#recvArgs(opts);
    const r = native.msgrcv(this.id, maxSize, type, flags | C.IPC_NOWAIT);
    if (typeof r !== 'number') return { type: r[0], data: r[1] };
    if (r === ENOMSG) return null;
    throw errnoException(r, 'msgrcv', String(this.id));
  }

  /**
   * Up to `max` matching messages that are queued now, taken in one call into the addon (still one
   * msgrcv(2) each): an empty array when none is. The way to drain a busy queue: per message it costs
   * the system call and a view, not a crossing into native code and an allocation. The messages' `data`
   * are views of one buffer, so keeping one keeps the batch's bytes. A message too large for `maxSize`
   * (without `noError`) fails the call if it comes first, else ends the batch and stays queued.
   *
   * @example
   * ```ts
   * for (const m of q.tryReceiveMany(64, { type: 1 })) console.log(m.data.length);
   * ```
   */
  tryReceiveMany(max: number, opts: Omit<SystemVReceiveOptions, 'signal' | 'timeout'> = {}): TypedMessage[] {
    this.#assertOpen('tryReceiveMany');
    const count = validateInteger('max', max, 1, MAX_BATCH);
    const [type, maxSize, flags] = this.#recvArgs(opts);
    const r = native.msgrcvBatch(this.id, maxSize, type, flags | C.IPC_NOWAIT, count);
    if (typeof r === 'number') {
      if (r === ENOMSG) return [];
      throw errnoException(r, 'msgrcv', String(this.id));
    }
    const [n, records, meta] = r;
    const out: TypedMessage[] = new Array(n);
    // [type, offset, length] per record, from the addon: each text lies inside `records`.
    for (let i = 0; i < n; i++) {
      const at = meta[3 * i + 1]!;
      out[i] = { type: meta[3 * i]!, data: records.subarray(at, at + meta[3 * i + 2]!) };
    }
    return out;
  }

  /**
   * Waits for a matching message (as `receive`, with `{ signal, timeout }`), then takes the others
   * queued at that moment, up to `max` in all: one wake-up per batch instead of one per message.
   *
   * @example
   * ```ts
   * const batch = await q.receiveMany(64, { type: 1, timeout: 1000 });
   * ```
   */
  async receiveMany(max: number, opts: SystemVReceiveOptions = {}): Promise<TypedMessage[]> {
    this.#assertOpen('receiveMany');
    validateInteger('max', max, 1, MAX_BATCH);
    validateWaitOptions(opts);
    const { signal: _s, timeout: _t, ...rest } = opts;
    // Receives already waiting on threads are first in line (see receive).
    if (this.#pendingReceives === 0) {
      const now = this.tryReceiveMany(max, rest);
      if (now.length) return now;
    }
    const first = await this.receive(opts);
    if (max === 1 || this.#pendingReceives !== 0 || this.#closed) return [first];
    return [first, ...this.tryReceiveMany(max - 1, rest)];
  }

  /** Messages (of `type`, as `receive`) until the queue is closed or removed. */
  async *messages(opts: Omit<SystemVReceiveOptions, 'timeout'> = {}): AsyncGenerator<TypedMessage, void, undefined> {
    for (;;) {
      if (this.#closed) return;
      try {
        yield await this.receive(opts);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((this.#closed && code === 'ERR_IPC_CLOSED') || code === 'EIDRM' || code === 'EINVAL') return;
        throw err;
      }
    }
  }

  /** Messages of any type, as `messages()` yields them. */
  [Symbol.asyncIterator](): AsyncGenerator<TypedMessage, void, undefined> {
    return this.messages();
  }

  /** msgctl(IPC_STAT): counts, limits and the last sender and receiver. */
  stat(): SystemVMessageQueueStat {
    this.#assertOpen('stat');
    const s: MsgStat | number = native.msgctlStat(this.id);
    if (typeof s === 'number') throw errnoException(s, 'msgctl', String(this.id));
    const date = (t: number) => (t ? new Date(t * 1000) : null);
    return {
      key: s.key,
      messages: s.qnum,
      bytes: s.cbytes,
      maxBytes: s.qbytes,
      lastSendPid: s.lspid,
      lastReceivePid: s.lrpid,
      lastSend: date(s.stime),
      lastReceive: date(s.rtime),
      changed: new Date(s.ctime * 1000),
      mode: s.mode,
      uid: s.uid,
      gid: s.gid,
    };
  }

  /**
   * Removes the queue now (IPC_RMID): its messages are discarded and every process blocked on it wakes
   * with EIDRM. Closes this object. `false` if it was already gone.
   */
  async remove(): Promise<boolean> {
    this.#assertOpen('remove');
    const gone = await SystemVMessageQueue.removeId(this.id);
    this.#removeOnClose = false;
    this.close();
    return gone;
  }

  /** Idempotent; pending waits reject with ERR_IPC_CLOSED; removes the queue if this object owns it. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waits.close();
    if (this.#removeOnClose) native.msgctlRmid(this.id);
  }

  /** Alias of `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Alias of `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
