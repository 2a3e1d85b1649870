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
  socketAddress,
  type Endpoint,
  type EndpointOf,
  type SocketTransport,
  type SocketAddress,
  type TransportName,
  type PathEndpoint,
  type NameEndpoint,
  type SocketEndpoint,
  type HostEndpoint,
} from './endpoint.js';
import type { TransportName } from './endpoint.js';
export { transports } from './transport.js';
export type { CodecName } from './codec.js';

/**
 * Options every transport takes: the codec, the message size limit, and `{ signal, timeout }` for the
 * connect (a listener resolves at once).
 */
export interface CommonChannelOptions extends WaitOptions {
  /** How values become bytes: 'raw' (bytes or strings in, Buffers out; the default), 'json', 'msgpack', 'v8'. */
  codec?: CodecName;
  /**
   * Largest encoded message in bytes, enforced when sending (before anything moves) and when receiving
   * (a peer announcing more is refused). Default 64 MiB; a transport may lower it (UDP: 65506).
   */
  maxMessageSize?: number;
}

/**
 * Every channel option, of every transport. `listen`/`connect` with a URL whose scheme the compiler can
 * see narrow it to that transport's own ({@link ChannelOptionsFor}); each transport takes only its own,
 * and any other key is an ERR_INVALID_ARG_VALUE at run time.
 */
export interface ChannelOptions extends CommonChannelOptions {
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

/**
 * Which of the {@link ChannelOptions} each transport takes besides the common ones
 * ({@link CommonChannelOptions}): `TransportOwnOptions['udp']` is `'queue'`.
 */
export interface TransportOwnOptions {
  /** `fifo:` */
  fifo: 'allowForeignOwner';
  /** `mq:` */
  mq: 'maxMessages' | 'allowForeignOwner';
  /** `sysvmq:` */
  sysvmq: 'allowForeignOwner';
  /** `shm:` */
  shm: 'capacity' | 'spinMicros' | 'allow';
  /** `shm+unix:` */
  'shm+unix': 'capacity' | 'spinMicros' | 'allow' | 'mode';
  /** `unix:` */
  unix: 'allow' | 'mode';
  /** `unix+dgram:` */
  'unix+dgram': 'allow' | 'mode';
  /** `unix+seqpacket:` */
  'unix+seqpacket': 'allow' | 'mode';
  /** `tcp://`: the common options only. */
  tcp: never;
  /** `udp://` */
  udp: 'queue';
  /** `nats://` */
  nats: 'persistent';
}

/**
 * The options one transport takes: the common ones and its own, e.g. `TransportOptions<'udp'>` has
 * `queue` and no `capacity`.
 */
export type TransportOptions<T extends TransportName> = CommonChannelOptions & Pick<ChannelOptions, TransportOwnOptions[T]>;

/**
 * TransportOwnOptions at run time, for prepare(): a Record of exactly each transport's keys, so that
 * the compiler holds the two to the same keys both ways (test/channel.options.test.ts holds each
 * adapter's own `options` list to it).
 *
 * @internal
 */
export const TRANSPORT_OPTIONS: { readonly [T in TransportName]: Readonly<Record<TransportOwnOptions[T], true>> } = {
  fifo: { allowForeignOwner: true },
  mq: { maxMessages: true, allowForeignOwner: true },
  sysvmq: { allowForeignOwner: true },
  shm: { capacity: true, spinMicros: true, allow: true },
  'shm+unix': { capacity: true, spinMicros: true, allow: true, mode: true },
  unix: { allow: true, mode: true },
  'unix+dgram': { allow: true, mode: true },
  'unix+seqpacket': { allow: true, mode: true },
  tcp: {},
  udp: { queue: true },
  nats: { persistent: true },
};

/**
 * The transport a URL scheme (lower case) names: `TransportOfScheme<'unix+stream'>` is `'unix'`; never
 * for a scheme ipckit does not know.
 */
export type TransportOfScheme<S extends string> = S extends 'unix+stream' ? 'unix' : S extends TransportName ? S : never;

/**
 * The options `listen(url)`/`connect(url)` take for a URL: a literal whose scheme names a transport gets
 * that transport's ({@link TransportOptions}); any other string (a variable, an unknown scheme) gets
 * {@link ChannelOptions}, checked at run time.
 *
 * @example
 * ```ts
 * const a: ChannelOptionsFor<'shm:/x'> = { capacity: 1 << 20 };   // TransportOptions<'shm'>
 * const b: ChannelOptionsFor<'udp://127.0.0.1:0'> = { queue: 64 }; // TransportOptions<'udp'>: no capacity
 * ```
 */
export type ChannelOptionsFor<U extends string> = string extends U
  ? ChannelOptions
  : U extends `${infer S}:${string}`
    ? [TransportOfScheme<Lowercase<S>>] extends [never]
      ? ChannelOptions
      : TransportOptions<TransportOfScheme<Lowercase<S>>>
    : ChannelOptions;

const COMMON_OPTIONS = new Set(['codec', 'maxMessageSize', 'signal', 'timeout']);

function prepare(url: string, opts: ChannelOptions) {
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  validateWaitOptions({ signal: opts.signal, timeout: opts.timeout });
  const endpoint = parseEndpoint(url);
  adapterFor(endpoint); // ERR_IPC_UNSUPPORTED for a transport this build does not carry, before the options
  const own: readonly string[] = Object.keys(TRANSPORT_OPTIONS[endpoint.transport]);
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
export async function connect<In = unknown, Out = In, U extends string = string>(url: U, opts?: ChannelOptionsFor<U>): Promise<Channel<In, Out>> {
  // Every ChannelOptionsFor<U> is a subset of ChannelOptions; the compiler cannot see it through U.
  const { endpoint, codec, topts } = prepare(url, (opts === undefined ? {} : opts) as ChannelOptions);
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
export async function listen<In = unknown, Out = In, U extends string = string>(url: U, opts?: ChannelOptionsFor<U>): Promise<Channel<In, Out>> {
  // Every ChannelOptionsFor<U> is a subset of ChannelOptions; the compiler cannot see it through U.
  const { endpoint, codec, topts } = prepare(url, (opts === undefined ? {} : opts) as ChannelOptions);
  const t = await adapterFor(endpoint).listen(endpoint, topts);
  return new Channel<In, Out>(t.url ? { ...endpoint, url: t.url } : endpoint, 'listen', t, codec);
}
