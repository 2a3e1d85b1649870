// A listening end of a connection-oriented transport: the channel exists as soon as the server is bound
// (so `listen` then `connect` works in one process without racing), and is carried by the first
// connection accepted. Later connections are refused (closed at once): a channel has one peer. Sends and
// receives made before the peer arrives wait for it (with the receive's { signal, timeout }).
import type net from 'node:net';
import { AbortError, closedError, timeoutError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import type { Transport } from './transport.js';

export class AcceptingTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly url: string;
  readonly #what: string;
  readonly #server: net.Server;
  #t: Transport | undefined;
  #ready: Promise<Transport>;
  #resolve!: (t: Transport) => void;
  #reject!: (e: Error) => void;
  #closing: Promise<void> | undefined;

  constructor(what: string, url: string, server: net.Server, maxMessageSize: number, wrap: (s: net.Socket) => Transport) {
    this.#what = what;
    this.url = url;
    this.#server = server;
    this.maxMessageSize = maxMessageSize;
    this.#ready = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#ready.catch(() => {});
    server.on('connection', (s) => {
      if (this.#t || this.#closing) {
        s.destroy();
        return;
      }
      this.#t = wrap(s);
      this.#resolve(this.#t);
      // One peer per channel: stop accepting, and release the listening address now.
      server.close();
    });
  }

  async send(bytes: Uint8Array): Promise<void> {
    const t = this.#t ?? (await this.#ready);
    return t.send(bytes);
  }

  async receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    const t = this.#t ?? (await this.#peer(opts));
    return t.receive(opts);
  }

  #peer({ signal, timeout }: WaitOptions): Promise<Transport> {
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    if (!signal && timeout === undefined) return this.#ready;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => done(new AbortError(undefined, { cause: signal!.reason }));
      const done = (err?: Error, t?: Transport) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(t!);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== undefined) timer = setTimeout(() => done(timeoutError(this.#what, timeout)), timeout);
      this.#ready.then((t) => done(undefined, t), (e: Error) => done(e));
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#reject(closedError(this.#what, 'receive'));
      if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
      await this.#t?.close();
    })();
    return this.#closing;
  }
}
