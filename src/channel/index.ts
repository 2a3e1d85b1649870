/**
 * Channels: one message API over every transport, chosen by URL (docs/channels.md).
 *
 * Each transport is one adapter file that registers itself; importing it here is all it takes to add one.
 * @module
 */
import { invalidArgType } from '../errors.js';
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
  /** Transport-specific options (e.g. `capacity` of an shm: ring, `queue` of a UDP end). */
  [option: string]: unknown;
}

function prepare(url: string, opts: ChannelOptions) {
  if (typeof opts !== 'object' || opts === null) throw invalidArgType('options', 'of type object', opts);
  validateWaitOptions({ signal: opts.signal, timeout: opts.timeout });
  const endpoint = parseEndpoint(url);
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
export async function connect<T = unknown>(url: string, opts: ChannelOptions = {}): Promise<Channel<T>> {
  const { endpoint, codec, topts } = prepare(url, opts);
  const t = await adapterFor(endpoint).connect(endpoint, topts);
  return new Channel<T>(t.url ? { ...endpoint, url: t.url } : endpoint, 'connect', t, codec);
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
export async function listen<T = unknown>(url: string, opts: ChannelOptions = {}): Promise<Channel<T>> {
  const { endpoint, codec, topts } = prepare(url, opts);
  const t = await adapterFor(endpoint).listen(endpoint, topts);
  return new Channel<T>(t.url ? { ...endpoint, url: t.url } : endpoint, 'listen', t, codec);
}
