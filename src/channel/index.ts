/**
 * Channels: one message API over every transport, chosen by URL (docs/channels.md).
 *
 * Each transport is one adapter file that registers itself; importing it here is all it takes to add one.
 * @module
 */
import { invalidArgType } from '../errors.js';
import type { AllowRule } from '../socket.js';
import { validateInteger, validateWaitOptions, type WaitOptions } from '../internal/validate.js';
import { DEFAULT_MAX_FRAME } from '../internal/framing.js';
import { Channel } from './channel.js';
import { codecFor, type CodecName } from './codec.js';
import { parseEndpoint } from './endpoint.js';
import { STREAM_MAX } from './stream.js';
import { adapterFor } from './transport.js';
import './fifo.js';
import './net.js';
import './unix.js';
import './udp.js';
import './shm.js';
import './shm-server.js';
import './nats.js';
import './seqpacket.js';
import './dgram.js';
import './mq.js';
import './sysvmq.js';

export { Channel } from './channel.js';
export {
  parseEndpoint,
  type Endpoint,
  type TransportName,
  type PathEndpoint,
  type NameEndpoint,
  type SocketEndpoint,
  type HostEndpoint,
} from './endpoint.js';
export { transports } from './transport.js';
export type { CodecName } from './codec.js';

export interface ChannelOptions extends WaitOptions {
  /** How values become bytes: 'raw' (bytes or strings in, Buffers out; the default), 'json', 'msgpack', 'v8'. */
  codec?: CodecName;
  /**
   * Largest encoded message in bytes, enforced when sending (before anything moves) and when receiving
   * (a peer announcing more is refused). Default 64 MiB; a transport may lower it (UDP: 65506).
   */
  maxMessageSize?: number;
  // Transport-specific options: each transport takes only its own; any other key is an
  // ERR_INVALID_ARG_VALUE at run time, and a key none of them knows is a type error.
  /** `shm:`, `shm+unix:`: data bytes of each ring, a power of two (chosen by the listener; default 4 MiB). */
  capacity?: number;
  /** `shm:`, `shm+unix:`: microseconds a receive spins before it parks (default 50). */
  spinMicros?: number;
  /** `unix:`, `unix+seqpacket:`, `unix+dgram:`, `shm:`, `shm+unix:` listeners: which peers may connect (as `UnixServer`'s). */
  allow?: AllowRule;
  /** `unix:`, `unix+seqpacket:`, `unix+dgram:`, `shm+unix:` listeners on a path: the socket file's mode (default 0o600). */
  mode?: number;
  /** `mq:`: mq_maxmsg of a queue the listener creates (default 10). */
  maxMessages?: number;
  /** `fifo:`, `mq:`, `sysvmq:`: adopt an existing object another user owns (refused by default: ERR_IPC_FOREIGN_OWNER). */
  allowForeignOwner?: boolean;
  /** `udp:`: datagrams queued in JS at most before more are dropped (default 4096). */
  queue?: number;
  /** `nats:` listeners: keep listening through every sender's goodbye (default: end after the last). */
  persistent?: boolean;
}

const COMMON_OPTIONS = new Set(['codec', 'maxMessageSize', 'signal', 'timeout']);

function prepare(url: string, opts: ChannelOptions) {
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  validateWaitOptions({ signal: opts.signal, timeout: opts.timeout });
  const endpoint = parseEndpoint(url);
  const own = adapterFor(endpoint).options ?? [];
  for (const key of Object.keys(opts)) {
    if (COMMON_OPTIONS.has(key) || own.includes(key) || (opts as Record<string, unknown>)[key] === undefined) continue;
    const err = new TypeError(
      `The option '${key}' is not one ${endpoint.transport}: takes. ${own.length ? `Its own are ${own.join(', ')}; ` : ''}every transport takes ${[...COMMON_OPTIONS].join(', ')}.`,
    ) as TypeError & { code: string };
    err.code = 'ERR_INVALID_ARG_VALUE';
    throw err;
  }
  const codec = codecFor(opts.codec ?? 'raw');
  const maxMessageSize = validateInteger('options.maxMessageSize', opts.maxMessageSize ?? DEFAULT_MAX_FRAME, 0, STREAM_MAX);
  // explicitMax: transports whose own limit is smaller (a ring's capacity) grow to an asked-for limit only.
  return { endpoint, codec, topts: { ...opts, maxMessageSize, explicitMax: opts.maxMessageSize !== undefined } };
}

/**
 * Connects to a listening endpoint (the sending end of a one-way transport such as `fifo:`).
 *
 * @example
 * ```ts
 * import { connect } from 'ipckit';
 * await using ch = await connect('unix:/tmp/app.sock', { codec: 'json' });
 * await ch.send({ op: 'ping' });
 * console.log(await ch.receive());
 * ```
 */
export async function connect<In = unknown, Out = In>(url: string, opts: ChannelOptions = {}): Promise<Channel<In, Out>> {
  const { endpoint, codec, topts } = prepare(url, opts);
  const t = await adapterFor(endpoint).connect(endpoint, topts);
  return new Channel<In, Out>(t.url ? { ...endpoint, url: t.url } : endpoint, 'connect', t, codec);
}

/**
 * Listens on an endpoint: binds or creates it and resolves at once; the channel is carried by the first
 * peer that connects (the receiving end of a one-way transport such as `fifo:`).
 *
 * @example
 * ```ts
 * import { listen } from 'ipckit';
 * await using ch = await listen('tcp://127.0.0.1:0', { codec: 'msgpack' });
 * console.log('peers connect to', ch.url);
 * for await (const msg of ch) await ch.send(msg); // echo
 * ```
 */
export async function listen<In = unknown, Out = In>(url: string, opts: ChannelOptions = {}): Promise<Channel<In, Out>> {
  const { endpoint, codec, topts } = prepare(url, opts);
  const t = await adapterFor(endpoint).listen(endpoint, topts);
  return new Channel<In, Out>(t.url ? { ...endpoint, url: t.url } : endpoint, 'listen', t, codec);
}
