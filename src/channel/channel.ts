// The Channel: values in, values out, over any transport. It owns the codec and the size limit (so both
// mean the same on every transport) and the lifetime rules of the project (idempotent close, use after
// close throws ERR_IPC_CLOSED, pending receives reject when the channel closes).
import { closedError, IpcError } from '../errors.js';
import { validateInteger, validateWaitOptions, type WaitOptions } from '../internal/validate.js';
import { tooLarge } from '../internal/framing.js';
import { abortError } from '../internal/wait.js';
import type { Codec, CodecName } from './codec.js';
import type { Endpoint } from './endpoint.js';
import type { Transport } from './transport.js';

/** What a transport is given when the caller passed no options (transports always had an object). */
const NO_OPTIONS: WaitOptions = Object.freeze({});

/**
 * One message channel. Obtained from `connect(url)` or `listen(url)`. `In` is what it receives, `Out`
 * what it sends (the same by default): a server of requests is `Channel<Request, Reply>`, its client
 * `Channel<Reply, Request>`.
 *
 * @example
 * ```ts
 * await using ch = await connect('tcp://127.0.0.1:7000', { codec: 'json' });
 * await ch.send({ hello: 'world' });       // resolves once the transport has room
 * for await (const msg of ch) console.log(msg);
 *
 * const server = await listen<{ n: number }, { doubled: number }>('unix:/tmp/double.sock', { codec: 'json' });
 * for await (const req of server) await server.send({ doubled: req.n * 2 });
 * ```
 */
export class Channel<In = unknown, Out = In> implements AsyncDisposable, AsyncIterable<In> {
  /** The endpoint URL this channel was made from. */
  readonly url: string;
  /** The parsed endpoint (`parseEndpoint(url)`). */
  readonly endpoint: Endpoint;
  /** 'connect' or 'listen': which verb made it. */
  readonly role: 'connect' | 'listen';
  readonly #t: Transport;
  readonly #codec: Codec;
  #closed = false;
  #closing: Promise<void> | undefined;
  #iterating = false;
  // Messages a receiveMany() took from the transport but did not return, because one before them failed
  // to decode: the next receives read them first, in order (nothing received is dropped).
  #pending: Uint8Array[] = [];

  /** @internal Use connect() / listen(). */
  constructor(endpoint: Endpoint, role: 'connect' | 'listen', transport: Transport, codec: Codec) {
    this.url = endpoint.url;
    this.endpoint = endpoint;
    this.role = role;
    this.#t = transport;
    this.#codec = codec;
  }

  /** The codec values go through: `raw`, `json`, `msgpack` or `v8`. */
  get codec(): CodecName {
    return this.#codec.name;
  }

  /** Largest encoded message, in bytes, this end sends or accepts. */
  get maxMessageSize(): number {
    return this.#t.maxMessageSize;
  }

  /** Whether this end can send / receive (a FIFO or a UDP listener is one-way until a peer writes). */
  get canSend(): boolean {
    return this.#t.canSend;
  }

  /** Whether this end can receive (the sending end of a one-way transport cannot). */
  get canReceive(): boolean {
    return this.#t.canReceive;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one value; resolves when the transport accepted it and has room for the next (await it for
   * backpressure). ERR_IPC_MESSAGE_TOO_LARGE before anything is sent if the encoded value is over the
   * limit; ERR_IPC_PEER_DEAD when the peer is gone. `{ signal, timeout }` give up waiting for room (a
   * full transport whose consumer is alive but stalled): AbortError / ERR_IPC_TIMEOUT.
   */
  send(value: Out, opts?: WaitOptions): Promise<void> {
    // Not an async function: the transport's own promise is returned (one promise per send, not two).
    try {
      const bytes = this.#encode(value, opts, 'send');
      return this.#t.send(bytes, opts ?? NO_OPTIONS);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Sends several values in order, for producers that do not await each message: resolves once all were
   * accepted and the transport has room for more, like `send()` after the last one. Every value is
   * encoded and checked against the limit first, so a value over it (ERR_IPC_MESSAGE_TOO_LARGE) sends
   * none. A transport that can batches them (the `shm:`/`shm+unix:`/`fork()` ring publishes a burst with
   * one store and at most one wake-up); elsewhere it is one `send()` after another. `{ signal, timeout }`
   * bound the waits for room; on an abort or timeout some of the values may have been sent.
   *
   * @example
   * ```ts
   * await ch.sendMany(rows.map((r) => Buffer.from(r)));
   * ```
   */
  sendMany(values: Iterable<Out>, opts?: WaitOptions): Promise<void> {
    try {
      const list: Uint8Array[] = [];
      for (const v of values) list.push(this.#encode(v, opts, 'send'));
      if (list.length === 0) return Promise.resolve();
      const t = this.#t;
      const o = opts ?? NO_OPTIONS;
      if (t.sendMany) return t.sendMany(list, o);
      return (async () => {
        for (const b of list) {
          // The adapters leave the closed check to the Channel: a close() between two sends stops here.
          if (this.#closed) throw closedError(this.url, 'send');
          await t.send(b, o);
        }
      })();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #encode(value: Out, opts: WaitOptions | undefined, op: string): Uint8Array {
    if (opts !== undefined) validateWaitOptions(opts);
    if (this.#closed) throw closedError(this.url, op);
    if (!this.#t.canSend) throw new IpcError('ERR_IPC_UNSUPPORTED', `this end of ${this.url} (${this.role}) cannot send`);
    if (opts?.signal?.aborted) throw abortError(opts.signal);
    const bytes = this.#codec.encode(value);
    if (bytes.byteLength > this.#t.maxMessageSize) throw tooLarge(bytes.byteLength, this.#t.maxMessageSize);
    return bytes;
  }

  #decode(bytes: Uint8Array): In {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.#codec.decode(buf) as In;
  }

  /**
   * The next value, or `undefined` once the peer closed (on purpose). ERR_IPC_PEER_DEAD when it died.
   * Honours `{ signal, timeout }`.
   */
  receive(opts?: WaitOptions): Promise<In | undefined> {
    try {
      if (opts !== undefined) validateWaitOptions(opts);
      if (this.#closed) throw closedError(this.url, 'receive');
      if (!this.#t.canReceive) throw new IpcError('ERR_IPC_UNSUPPORTED', `this end of ${this.url} (${this.role}) cannot receive`);
      if (this.#pending.length > 0) return Promise.resolve(this.#decode(this.#pending.shift()!));
      // A message already there (the ring's fast path): no wait machinery, one promise.
      const now = opts?.signal?.aborted ? undefined : this.#t.tryReceive?.();
      if (now !== undefined) return Promise.resolve(now === null ? undefined : this.#decode(now));
      return this.#t.receive(opts ?? NO_OPTIONS).then((b) => (b === null ? undefined : this.#decode(b)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The values there now, at least one and at most `max` (default 1024), waiting like `receive()` for
   * the first; `[]` once the peer closed and everything was read. For consumers of many small messages:
   * one promise for a batch, where `receive()` and `for await` cost one per value (the rings hand over
   * what they hold, copied out in runs; unix:, tcp:, fifo:, udp: and nats: what has arrived; the
   * queues, seqpacket and dgram one value per call). A value that fails to decode
   * (ERR_IPC_CODEC) ends the batch before it: the batch is returned, and the next receive throws for
   * that value, then goes on with those after it.
   *
   * @example
   * ```ts
   * for (let batch; (batch = await ch.receiveMany()).length > 0; ) for (const v of batch) handle(v);
   * ```
   */
  receiveMany(opts?: WaitOptions & { max?: number }): Promise<In[]> {
    try {
      if (opts !== undefined) validateWaitOptions(opts);
      const max = opts?.max === undefined ? 1024 : validateInteger('options.max', opts.max, 1, 2 ** 20);
      if (this.#closed) throw closedError(this.url, 'receive');
      if (!this.#t.canReceive) throw new IpcError('ERR_IPC_UNSUPPORTED', `this end of ${this.url} (${this.role}) cannot receive`);
      if (this.#pending.length > 0) return Promise.resolve(this.#decodeMany(this.#pending.splice(0, max)));
      const t = this.#t;
      const o = opts ?? NO_OPTIONS;
      if (t.receiveMany) return t.receiveMany(max, o).then((list) => this.#decodeMany(list));
      return t.receive(o).then((b) => (b === null ? [] : [this.#decode(b)]));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Decodes a batch; at a value that fails, the ones decoded are returned and the rest wait in #pending (if none were, it throws). */
  #decodeMany(list: Uint8Array[]): In[] {
    const out: In[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      try {
        out[i] = this.#decode(list[i]!);
      } catch (err) {
        if (i === 0) {
          this.#pending.unshift(...list.slice(1));
          throw err;
        }
        this.#pending.unshift(...list.slice(i));
        out.length = i;
        return out;
      }
    }
    return out;
  }

  /**
   * Values until the peer closes; a loop left early (break) does not close the channel. A hand-written
   * iterator, not an async generator: a message the transport already has costs one settled promise.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<In> {
    const END: IteratorReturnResult<undefined> = { value: undefined, done: true };
    let state: 'new' | 'on' | 'done' = 'new';
    const finish = (): void => {
      if (state === 'on') this.#iterating = false;
      state = 'done';
    };
    const step = (bytes: Uint8Array | null): IteratorResult<In> => {
      if (bytes === null) {
        finish();
        return END;
      }
      try {
        return { value: this.#decode(bytes), done: false };
      } catch (err) {
        finish();
        throw err;
      }
    };
    const fail = (err: unknown): IteratorResult<In> => {
      finish();
      // close() while iterating ends the loop instead of failing it.
      if (this.#closed && (err as IpcError).code === 'ERR_IPC_CLOSED') return END;
      throw err;
    };
    const it: AsyncIterableIterator<In> = {
      [Symbol.asyncIterator]: () => it,
      next: (): Promise<IteratorResult<In>> => {
        if (state === 'done') return Promise.resolve(END);
        if (state === 'new') {
          if (this.#iterating) {
            state = 'done';
            return Promise.reject(new IpcError('ERR_IPC_UNSUPPORTED', `${this.url}: only one iteration at a time`));
          }
          this.#iterating = true;
          state = 'on';
        }
        if (this.#closed) {
          finish();
          return Promise.resolve(END);
        }
        try {
          if (this.#pending.length > 0) return Promise.resolve(step(this.#pending.shift()!));
          const now = this.#t.tryReceive?.();
          if (now !== undefined) return Promise.resolve(step(now));
          return this.#t.receive().then(step, fail);
        } catch (err) {
          try {
            return Promise.resolve(fail(err));
          } catch (e) {
            return Promise.reject(e);
          }
        }
      },
      return: (): Promise<IteratorResult<In>> => {
        finish();
        return Promise.resolve(END);
      },
    };
    return it;
  }

  /** Says goodbye to the peer (which sees the end of its iteration) and releases everything. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#t.close();
    return this.#closing;
  }

  /** Alias of `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
