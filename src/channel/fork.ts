// A shared-memory ring channel to a child process in one call (docs/channels.md, "A channel to a child").
//
// The parent makes a seqpacket socketpair and starts the child with one end on a documented descriptor
// (CHANNEL_FD, 3 unless the stdio array is longer; its number is also in the environment variable
// IPCKIT_CHANNEL_FD). Over that socket the parent runs the listener's half of the ring handshake
// (shm-server.ts: a sealed memfd and two eventfds by SCM_RIGHTS), the child the connector's half when it
// calls parentChannel(). The socket then stays open and silent: the child's exit or death closes it, so
// the parent's pending receives and sends end with ERR_IPC_PEER_DEAD at once, with nothing left behind
// (the memfd has no name; its memory goes with the last mapping).
import child_process, { type ChildProcess, type SpawnOptions } from 'node:child_process';
import { IpcError, invalidArgType } from '../errors.js';
import { closeFd, describeFd, seqpacketPair, setCloseOnExec } from '../memfd.js';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { UnixSocket } from '../socket.js';
import { validateInteger, validateWaitOptions, type WaitOptions } from '../internal/validate.js';
import { Channel } from './channel.js';
import { codecFor, type CodecName } from './codec.js';
import type { Endpoint } from './endpoint.js';
import { joinRingPair, offerRingPair, ringOptions, RingTransport } from './shm-server.js';

/**
 * The descriptor a child started by `fork`/`spawn` finds its channel socket on, unless its stdio array
 * has more than three entries (then it is the next one). The number is always in `IPCKIT_CHANNEL_FD`.
 *
 * @example
 * ```ts
 * const fd = Number(process.env[CHANNEL_FD_ENV] ?? CHANNEL_FD);
 * ```
 */
export const CHANNEL_FD = 3;
/** The environment variable that carries the channel descriptor's number to the child. */
export const CHANNEL_FD_ENV = 'IPCKIT_CHANNEL_FD';

/**
 * Options of the ring channel itself (both ends should agree on the codec).
 *
 * @example
 * ```ts
 * const o: RingChannelOptions = { codec: 'json', maxMessageSize: 1 << 20, spinMicros: 20 };
 * ```
 */
export interface RingChannelOptions extends WaitOptions {
  /**
   * How values become bytes: `'raw'` (the default), `'json'`, `'msgpack'` or `'v8'`; both ends must agree.
   */
  codec?: CodecName;
  /** Largest encoded message; the rings grow to carry an explicit one (default: half a ring, less 8). */
  maxMessageSize?: number;
  /** Data bytes of each ring (power of two, parent side only). Default 4 MiB. */
  capacity?: number;
  /** Spin before parking, in µs. Default 50. */
  spinMicros?: number;
}

/**
 * Options of `fork`/`spawn`: those of `child_process.spawn` plus the channel's. `timeout` bounds the
 * handshake (default 30 s); the child's death ends it at once.
 *
 * @example
 * ```ts
 * const o: ChildChannelOptions = { codec: 'json', stdio: 'inherit', env: { ...process.env, DEBUG: '1' } };
 * ```
 */
export interface ChildChannelOptions extends RingChannelOptions, Omit<SpawnOptions, 'signal' | 'timeout'> {}

/**
 * A child process and the channel to it.
 *
 * @example
 * ```ts
 * const { child, channel }: ChildWithChannel = await fork('./worker.js');
 * ```
 */
export interface ChildWithChannel<T = unknown> {
  /** The child, as `child_process.spawn` returns it. */
  child: ChildProcess;
  /** The channel to it, over a ring pair in a sealed memfd. */
  channel: Channel<T>;
}

function channelOptions(opts: RingChannelOptions): { topts: Parameters<typeof ringOptions>[0]; codec: ReturnType<typeof codecFor> } {
  validateWaitOptions({ signal: opts.signal, timeout: opts.timeout });
  const codec = codecFor(opts.codec ?? 'raw');
  const explicit = opts.maxMessageSize !== undefined;
  // Not explicit: whatever the rings the parent made can carry (each ring side clamps to its own maximum).
  const maxMessageSize = explicit ? validateInteger('options.maxMessageSize', opts.maxMessageSize, 0, 2 ** 30) : 2 ** 30;
  return { topts: { ...opts, maxMessageSize, explicitMax: explicit }, codec };
}

function endpoint(url: string): Endpoint {
  return { transport: 'shm+unix', url, path: url, abstract: false };
}

/**
 * Starts `command` with a ring channel to it (the child calls `parentChannel()`, or speaks the handshake
 * itself: python/ipckit_channel.py does). Resolves once the child's end is attached.
 *
 * @example
 * ```ts
 * const { child, channel } = await spawn('python3', ['peer.py'], { codec: 'json' });
 * await channel.send({ op: 'ping' });
 * console.log(await channel.receive());
 * await channel.close();
 * ```
 */
export async function spawn<T = unknown>(command: string, args: readonly string[] = [], opts: ChildChannelOptions = {}): Promise<ChildWithChannel<T>> {
  if (typeof command !== 'string') throw invalidArgType('command', 'of type string', command);
  if (!Array.isArray(args)) throw invalidArgType('args', 'an array', args);
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  const { codec: _c, maxMessageSize: _m, capacity: _cap, spinMicros: _s, signal, timeout, ...spawnOpts } = opts;
  const { topts, codec } = channelOptions(opts);
  const base = spawnOpts.stdio === undefined ? ['inherit', 'inherit', 'inherit'] : typeof spawnOpts.stdio === 'string' ? [spawnOpts.stdio, spawnOpts.stdio, spawnOpts.stdio] : [...spawnOpts.stdio];
  while (base.length < CHANNEL_FD) base.push('inherit');
  const index = base.length;
  const [mine, theirs] = UnixSocket.pair('seqpacket');
  let child: ChildProcess;
  try {
    child = child_process.spawn(command, args, {
      ...spawnOpts,
      stdio: [...base, theirs.fd] as SpawnOptions['stdio'],
      env: { ...(spawnOpts.env ?? process.env), [CHANNEL_FD_ENV]: String(index) },
    });
  } catch (err) {
    mine.destroy();
    theirs.destroy();
    throw err;
  }
  // The child has its own copy now: ours must go, or the child's death would never read as the end.
  theirs.destroy();
  if (child.pid === undefined) {
    // The spawn itself failed (ENOENT, EACCES): child_process reports it as an 'error' event.
    const err = await new Promise<Error>((resolve) => child.once('error', resolve));
    mine.destroy();
    throw err;
  }
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
    mine.destroy();
  });
  const what = `channel to child ${child.pid ?? command}`;
  try {
    const pair = await offerRingPair(mine, { ...ringOptions(topts), signal, timeout: timeout ?? 30_000 }, what);
    const url = `shm+unix:child/${child.pid}`;
    return { child, channel: new Channel<T>(endpoint(url), 'listen', new RingTransport(pair), codec) };
  } catch (err) {
    if (spawnError) throw spawnError;
    throw err;
  }
}

/**
 * Forks a Node.js module with a ring channel to it (like `child_process.fork`, without its JSON IPC
 * channel; `execPath` and `execArgv` as there). In the child, `parentChannel()` returns the other end.
 *
 * @example
 * ```ts
 * import { fork } from 'ipckit';
 * const { child, channel } = await fork('./worker.js', [], { codec: 'json' });
 * await channel.send({ n: 1 });
 * console.log(await channel.receive());
 * await channel.close();
 * ```
 */
export function fork<T = unknown>(modulePath: string, args: readonly string[] = [], opts: ChildChannelOptions & { execPath?: string; execArgv?: string[] } = {}): Promise<ChildWithChannel<T>> {
  if (typeof modulePath !== 'string') throw invalidArgType('modulePath', 'of type string', modulePath);
  const { execPath = process.execPath, execArgv = process.execArgv, ...rest } = opts;
  return spawn<T>(execPath, [...execArgv, modulePath, ...args], rest);
}

let taken = false;

/**
 * In a child started by `fork`/`spawn`: the channel to the parent (once per process). Rejects with
 * ERR_IPC_UNSUPPORTED when this process was not started with one. Call it before starting children of
 * your own: it marks the inherited descriptor close-on-exec.
 *
 * @example
 * ```ts
 * import { parentChannel } from 'ipckit';
 * const ch = await parentChannel({ codec: 'json' });
 * for await (const m of ch) await ch.send(m); // echo
 * ```
 */
export async function parentChannel<T = unknown>(opts: RingChannelOptions = {}): Promise<Channel<T>> {
  const raw = process.env[CHANNEL_FD_ENV];
  if (raw === undefined || taken) {
    throw new IpcError('ERR_IPC_UNSUPPORTED', taken ? 'parentChannel() was taken already' : `no parent channel: ${CHANNEL_FD_ENV} is not set (start this process with ipckit's fork or spawn)`);
  }
  const fd = Number(raw);
  if (!Number.isInteger(fd) || fd < 0) throw new IpcError('ERR_IPC_UNSUPPORTED', `${CHANNEL_FD_ENV}=${JSON.stringify(raw)} is not a descriptor number`);
  taken = true;
  delete process.env[CHANNEL_FD_ENV]; // not for our own children
  const { topts, codec } = channelOptions(opts);
  setCloseOnExec(fd);
  const sock = UnixSocket.fromFd(fd);
  if (sock.type !== 'seqpacket') {
    sock.destroy();
    throw new IpcError('ERR_IPC_UNSUPPORTED', `descriptor ${fd} is a ${sock.type} socket, not the parent channel`);
  }
  const pair = await joinRingPair(sock, { ...ringOptions(topts), signal: opts.signal, timeout: opts.timeout ?? 30_000 }, 'channel to the parent');
  return new Channel<T>(endpoint(`shm+unix:parent/${process.ppid}`), 'connect', new RingTransport(pair), codec);
}

/**
 * A worker thread and the channel to it.
 *
 * @example
 * ```ts
 * const { worker, channel }: WorkerWithChannel = await spawnWorker('./worker.js');
 * ```
 */
export interface WorkerWithChannel<T = unknown> {
  /** The worker thread (terminate() it, or let it end). */
  worker: Worker;
  /** This end of the ring channel; the worker's is `parentChannel()`. */
  channel: Channel<T>;
}

/**
 * Starts a worker thread with a ring channel to it: the same pair as `fork()`, so the same code serves
 * threads and processes. In the worker, `parentChannel()` returns the other end (the descriptor's number
 * is in the worker's `IPCKIT_CHANNEL_FD`). A worker that exits or is terminated without closing its end
 * ends the parent's pending operations with ERR_IPC_PEER_DEAD, as a dead child does.
 *
 * @example
 * ```ts
 * const { worker, channel } = await spawnWorker(new URL('./echo-worker.js', import.meta.url), { codec: 'json' });
 * await channel.send({ n: 1 });
 * console.log(await channel.receive());
 * await channel.close();
 * await worker.terminate();
 * ```
 */
export async function spawnWorker<T = unknown>(
  filename: string | URL,
  opts: RingChannelOptions & Omit<WorkerOptions, 'env'> & { env?: Record<string, string | undefined> } = {},
): Promise<WorkerWithChannel<T>> {
  const { codec: _c, maxMessageSize: _m, capacity: _cap, spinMicros: _s, signal, timeout, env, ...workerOpts } = opts;
  const { topts, codec } = channelOptions(opts);
  const [mineFd, theirs] = seqpacketPair();
  const link = describeFd(theirs); // 'socket:[inode]': tells our descriptor from a later one of that number
  const mine = UnixSocket.fromFd(mineFd);
  let worker: Worker;
  try {
    worker = new Worker(filename, { ...workerOpts, env: { ...(env ?? process.env), [CHANNEL_FD_ENV]: String(theirs) } });
  } catch (err) {
    mine.destroy();
    closeFd(theirs);
    throw err;
  }
  // A worker's descriptors are the process's: one that ends without closing its end leaves it open, and
  // we would never read its end. Close it for the worker then, if it is still that same socket.
  worker.once('exit', () => {
    if (link !== '' && describeFd(theirs) === link) closeFd(theirs);
  });
  const pair = await offerRingPair(mine, { ...ringOptions(topts), signal, timeout: timeout ?? 30_000 }, `channel to worker ${worker.threadId}`);
  return { worker, channel: new Channel<T>(endpoint(`shm+unix:worker/${worker.threadId}`), 'listen', new RingTransport(pair), codec) };
}
