// nats://host:port/subject — the same Channel across machines, through an existing NATS broker (the
// official `nats` client). Core NATS is at-most-once publish/subscribe; the channel maps its peers onto it:
// - `listen` subscribes to `subject` and receives from every sender on it (each is identified by the reply
//   inbox it puts on every message); its own sends go to the sender of the last message it received, the
//   way a datagram server answers (they wait until some sender is known);
// - `connect` subscribes to a fresh inbox and publishes to `subject` with that inbox as reply subject;
// - close publishes a goodbye (a message with the header `Ipckit-Goodbye`): a connector's goodbye ends
//   that sender, and the listener's iteration ends once every sender it heard from has said goodbye (like
//   a FIFO's reader, which sees EOF when the last writer closes); with `{ persistent: true }` it never
//   ends on goodbyes, for a subject that senders join and leave (`ipckit recv nats://...`). The
//   listener's goodbye goes to every sender still there.
// What NATS does not give, the channel does not pretend: there is no end-to-end backpressure (`send`
// resolves when the client buffered the message; the server cuts a subscriber that falls too far behind,
// as a "slow consumer"), and a peer that dies is not noticed. Order is kept from one publisher to one
// subscriber through one server (between two senders, only each one's own order). The largest message
// is the server's max_payload (1 MiB by default).
// The client is loaded on first use: programs that never open a nats: channel do not pay for it.
import type { Msg, NatsConnection } from 'nats';
import { closedError, errno, errnoException, IpcError, timeoutError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { tooLarge } from '../internal/framing.js';
import type { Endpoint } from './endpoint.js';
import { registerAdapter, type Transport, type TransportOptions } from './transport.js';
import { Inbox } from './inbox.js';

type NatsEndpoint = Extract<Endpoint, { transport: 'nats' }>;
const BYE = 'Ipckit-Goodbye';

class NatsTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly #what: string;
  readonly #nc: NatsConnection;
  readonly #listening: boolean;
  readonly #inbox: string | undefined;
  readonly #headers: typeof import('nats').headers;
  #peer: string | undefined; // where our sends go: the subject (connector), the last sender (listener)
  #peerKnown: Array<() => void> = [];
  /** Listener: the senders heard from that have not said goodbye. */
  readonly #senders = new Set<string>();
  readonly #persistent: boolean;
  readonly #received: Inbox;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(ep: NatsEndpoint, nc: NatsConnection, listening: boolean, max: number, lib: typeof import('nats'), persistent: boolean) {
    this.#headers = lib.headers;
    this.#persistent = persistent;
    this.#what = `channel ${ep.url}`;
    this.#received = new Inbox(this.#what);
    this.#nc = nc;
    this.#listening = listening;
    this.maxMessageSize = Math.min(max, nc.info?.max_payload ?? max);
    if (listening) {
      nc.subscribe(ep.subject, { callback: (err, m) => this.#onMessage(err, m) });
    } else {
      this.#inbox = lib.createInbox();
      this.#peer = ep.subject;
      nc.subscribe(this.#inbox, { callback: (err, m) => this.#onMessage(err, m) });
    }
    nc.closed().then((err) => {
      if (!this.#closed) this.#received.fail(new IpcError('ERR_IPC_PEER_DEAD', `${this.#what}: the connection to the broker closed`, {}, err ? { cause: err } : undefined));
    });
  }

  #onMessage(err: Error | null, m: Msg): void {
    const inbox = this.#received;
    if (err) return inbox.fail(err);
    if (this.#listening) {
      if (!m.reply) return; // not from a channel peer
      if (inbox.ended) return; // every sender has gone: the channel has ended
      if (m.headers?.has(BYE)) {
        this.#senders.delete(m.reply);
        if (this.#peer === m.reply) this.#peer = [...this.#senders].pop();
        if (this.#senders.size === 0 && !this.#persistent) inbox.end();
        return;
      }
      this.#senders.add(m.reply);
      this.#peer = m.reply;
      for (const f of this.#peerKnown.splice(0)) f();
      return this.#accept(m);
    }
    if (m.headers?.has(BYE)) return inbox.end();
    this.#accept(m);
  }

  #accept(m: Msg): void {
    if (m.data.byteLength > this.maxMessageSize) {
      this.#received.fail(tooLarge(m.data.byteLength, this.maxMessageSize, { incoming: true }));
    } else this.#received.push(m.data);
  }

  async send(bytes: Uint8Array): Promise<void> {
    // Closed and size: checked by the Channel.
    const inbox = this.#received;
    if (inbox.error) throw inbox.error;
    if (inbox.ended) throw inbox.gone();
    if (!this.#peer) {
      await new Promise<void>((resolve) => this.#peerKnown.push(resolve));
      if (this.#closed) throw closedError(this.#what, 'send');
    }
    this.#nc.publish(this.#peer!, bytes, this.#inbox ? { reply: this.#inbox } : undefined);
  }

  receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    return this.#received.next(opts);
  }

  receiveMany(max: number, opts: WaitOptions = {}): Promise<Uint8Array[]> {
    return this.#received.nextMany(max, opts);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#received.close();
      for (const f of this.#peerKnown.splice(0)) f();
      const to = this.#listening ? [...this.#senders] : this.#peer ? [this.#peer] : [];
      if (!this.#nc.isClosed()) {
        for (const peer of to) {
          const h = this.#headers();
          h.set(BYE, '1');
          this.#nc.publish(peer, new Uint8Array(0), { headers: h, ...(this.#inbox ? { reply: this.#inbox } : {}) });
        }
      }
      // drain() flushes what was published (the goodbye included) before closing the connection.
      if (!this.#nc.isClosed()) await this.#nc.drain().catch(() => this.#nc.close());
    })();
    return this.#closing;
  }
}

// The client's own errors in the vocabulary of every other transport (docs/errors.md), the client's
// error kept as the cause: a refused connection is ECONNREFUSED, a connection that never came is
// ERR_IPC_TIMEOUT.
function natsConnectError(err: unknown, address: string, timeout: number): Error {
  const code = (err as { code?: unknown }).code;
  let out: Error;
  if (code === 'CONNECTION_REFUSED') out = errnoException(errno('ECONNREFUSED'), 'connect', address);
  else if (code === 'TIMEOUT') out = timeoutError(`connecting to nats server ${address}`, timeout);
  else return err as Error;
  (out as { cause?: unknown }).cause = err;
  return out;
}

async function open(ep: NatsEndpoint, opts: TransportOptions & WaitOptions, listening: boolean): Promise<Transport> {
  const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
  const lib = await import('nats');
  let nc: NatsConnection;
  try {
    nc = await lib.connect({
      servers: `${host}:${ep.port}`,
      reconnect: false,
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    });
  } catch (err) {
    throw natsConnectError(err, `${host}:${ep.port}`, opts.timeout ?? 20_000);
  }
  const t = new NatsTransport(ep, nc, listening, opts.maxMessageSize, lib, opts.persistent === true);
  // The subscription must be on the server before a peer publishes (core NATS keeps nothing for absent
  // subscribers): flush waits for the server's PONG, which follows the SUB.
  await nc.flush();
  return t;
}

registerAdapter('nats', {
  options: ['persistent'],
  listen: (ep, opts) => open(ep, opts, true),
  connect: (ep, opts) => open(ep, opts, false),
});
