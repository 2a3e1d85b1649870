// The contract between the Channel and the adapters: a transport moves whole byte messages, in order,
// one direction or both, and reports the peer's end in one way for all of them:
// - the peer closed on purpose (it said goodbye): receive() resolves null, then keeps resolving null;
// - the peer vanished without goodbye (killed, crashed, reset): ERR_IPC_PEER_DEAD;
// - a message over the limit: ERR_IPC_MESSAGE_TOO_LARGE, on the sending side before anything moved, on the
//   receiving side as soon as its length is known (the transport is then unusable);
// - malformed bytes: ERR_IPC_CORRUPT.
import { IpcError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import type { Endpoint, TransportName } from './endpoint.js';

export interface Transport {
  /** Which way messages go from this end. */
  readonly canSend: boolean;
  readonly canReceive: boolean;
  /** Largest message this end sends or accepts, in bytes. */
  readonly maxMessageSize: number;
  /** The address actually bound, when it differs from the endpoint asked for (tcp port 0). */
  readonly url?: string;
  /**
   * Resolves once the transport accepted the bytes and has room for more (backpressure). `{ signal,
   * timeout }` bound the wait for room (a transport that ignores them waits as long as it must).
   */
  send(bytes: Uint8Array, opts?: WaitOptions): Promise<void>;
  /** The next message, or null once the peer closed on purpose. */
  receive(opts?: WaitOptions): Promise<Uint8Array | null>;
  /**
   * Optional synchronous fast path: the next message if one is there now (a transport may spin briefly
   * for it), null once the peer closed on purpose and all was received, undefined if nothing is there yet
   * (the Channel then falls back on receive()). Lets the Channel skip a promise per message.
   */
  tryReceive?(): Uint8Array | null | undefined;
  /**
   * Optional batch send: the messages in order, resolving like send() after the last one (the Channel
   * falls back on one send() per message). A transport implements it when a batch costs less than its
   * messages one by one (the ring publishes a burst with one store).
   */
  sendMany?(messages: readonly Uint8Array[], opts?: WaitOptions): Promise<void>;
  /**
   * Optional batch receive: 1 to `max` messages, those there now, waiting like receive() for the first
   * one; [] once the peer closed and everything was read. A failure after some messages were taken
   * returns them, and the failure comes again at the next receive. The Channel falls back on one
   * receive() per call.
   */
  receiveMany?(max: number, opts?: WaitOptions): Promise<Uint8Array[]>;
  /** Says goodbye where the transport can, and releases everything (idempotent). */
  close(): Promise<void>;
}

export interface TransportOptions {
  maxMessageSize: number;
  /** Transport-specific options, passed through untouched (e.g. the ring's capacity). */
  [key: string]: unknown;
}

/** `allowForeignOwner` of the channel options, for the adapters that adopt an existing object. */
export function adoptOptions(opts: TransportOptions): { allowForeignOwner?: boolean } {
  // The mechanism modules validate the type (ERR_INVALID_ARG_TYPE).
  return opts.allowForeignOwner === undefined ? {} : { allowForeignOwner: opts.allowForeignOwner as boolean };
}

export interface Adapter<E extends Endpoint = Endpoint> {
  connect(endpoint: E, opts: TransportOptions & WaitOptions): Promise<Transport>;
  listen(endpoint: E, opts: TransportOptions & WaitOptions): Promise<Transport>;
  /** The transport-specific option keys it understands (beyond codec, maxMessageSize, signal, timeout). */
  readonly options?: readonly string[];
}

const adapters = new Map<TransportName, Adapter<any>>();

/** Adds the adapter of one transport; each adapter file calls this once at import. */
export function registerAdapter<T extends TransportName>(name: T, adapter: Adapter<Extract<Endpoint, { transport: T }>>): void {
  adapters.set(name, adapter);
}

export function adapterFor(endpoint: Endpoint): Adapter {
  const a = adapters.get(endpoint.transport);
  if (!a) {
    throw new IpcError('ERR_IPC_UNSUPPORTED', `no channel transport for '${endpoint.transport}' in this build`, {
      url: endpoint.url,
    });
  }
  return a;
}

/**
 * The transports this build carries.
 *
 * @example
 * ```ts
 * if (!transports().includes('nats')) console.log('no broker transport here');
 * ```
 */
export function transports(): TransportName[] {
  return [...adapters.keys()];
}

/** A connector of a one-peer endpoint that already has its peer (connectionless transports). */
export function busy(url: string, why: string): IpcError {
  return new IpcError('ERR_IPC_BUSY', `${url} already has its one connector (${why}); a channel has exactly one peer`, { url });
}

/** The peer vanished without its goodbye (killed, crashed, reset). */
export function peerDead(what: string, cause?: unknown): IpcError {
  return new IpcError('ERR_IPC_PEER_DEAD', `the peer of ${what} went away without closing`, {}, cause ? { cause } : undefined);
}

/** A send to a peer that said goodbye: ERR_IPC_PEER_DEAD (docs/channels.md) with `closed: true`, as the ring's. */
export function peerClosed(what: string, cause?: unknown): IpcError {
  return new IpcError('ERR_IPC_PEER_DEAD', `the peer of ${what} closed the channel; nothing more can be sent`, { closed: true }, cause ? { cause } : undefined);
}

/** A send the carrier refused because the peer is gone, where this end cannot tell a close from a death. */
export function peerGone(what: string, cause?: unknown): IpcError {
  return new IpcError('ERR_IPC_PEER_DEAD', `the peer of ${what} is gone (it closed or died); nothing more can be sent`, {}, cause ? { cause } : undefined);
}

/** The codes of errors that mean "the other side is gone" on sockets and pipes. */
export function isPeerGone(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'EPIPE' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'ENOTCONN' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}
