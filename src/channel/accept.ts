// A listening end of a connection-oriented transport: the channel exists as soon as the server is bound
// (so `listen` then `connect` works in one process without racing), and is carried by the first
// connection accepted. Later connections are refused (closed at once): a channel has one peer. Sends and
// receives made before the peer arrives wait for it (with the receive's { signal, timeout }).
import type net from 'node:net';
import { closedError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { bounded } from '../internal/wait.js';
import type { Transport } from './transport.js';

/** Where connections come from: a node:net server, or anything else that accepts (a UnixServer). */
export interface ConnectionSource<S> {
  /** Starts handing every accepted connection to `cb`. */
  onConnection(cb: (conn: S) => void): void;
  /** Stops accepting and releases the listening address (idempotent). */
  stop(): Promise<void>;
  /** Closes a connection refused because the channel already has its peer. */
  refuse(conn: S): void;
}

function netSource(server: net.Server): ConnectionSource<net.Socket> {
  return {
    onConnection: (cb) => server.on('connection', cb),
    stop: () => (server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve()),
    refuse: (s) => s.destroy(),
  };
}

export class AcceptingTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly url: string;
  readonly #what: string;
  readonly #source: ConnectionSource<any>;
  #t: Transport | undefined;
  #ready: Promise<Transport>;
  #resolve!: (t: Transport) => void;
  #reject!: (e: Error) => void;
  #closing: Promise<void> | undefined;

  constructor(what: string, url: string, server: net.Server, maxMessageSize: number, wrap: (s: net.Socket) => Transport);
  constructor(what: string, url: string, source: ConnectionSource<any>, maxMessageSize: number, wrap: (s: any) => Transport);
  constructor(what: string, url: string, server: net.Server | ConnectionSource<any>, maxMessageSize: number, wrap: (s: any) => Transport) {
    this.#what = what;
    this.url = url;
    const source = 'onConnection' in server ? server : netSource(server);
    this.#source = source;
    this.maxMessageSize = maxMessageSize;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#ready.catch(() => {});
    source.onConnection((s) => {
      if (this.#t || this.#closing) {
        source.refuse(s);
        return;
      }
      this.#t = wrap(s);
      this.#resolve(this.#t);
      // One peer per channel: stop accepting, and release the listening address now.
      void source.stop();
    });
  }

  async send(bytes: Uint8Array, opts: WaitOptions = {}): Promise<void> {
    const t = this.#t ?? (await this.#peer(opts));
    return t.send(bytes, opts);
  }

  async receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    const t = this.#t ?? (await this.#peer(opts));
    return t.receive(opts);
  }

  async receiveMany(max: number, opts: WaitOptions = {}): Promise<Uint8Array[]> {
    const t = this.#t ?? (await this.#peer(opts));
    if (t.receiveMany) return t.receiveMany(max, opts);
    const m = await t.receive(opts);
    return m === null ? [] : [m];
  }

  #peer(opts: WaitOptions): Promise<Transport> {
    return bounded(this.#ready, opts, this.#what);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#reject(closedError(this.#what, 'receive'));
      await this.#source.stop();
      await this.#t?.close();
    })();
    return this.#closing;
  }
}
