// udp://host:port through node:dgram. What UDP is, the channel does not hide:
// - a message is one datagram: at most 65506 payload bytes (65507, udp(7) over IPv4, less the tag byte);
// - datagrams may be lost (a full receive buffer drops them silently, even on loopback), and between hosts
//   may be duplicated or reordered; nothing is retransmitted;
// - there is no backpressure beyond the local send buffer, and no connection: a peer that dies is not
//   noticed (at most a later send fails with ECONNREFUSED from an ICMP port-unreachable, reported as
//   ERR_IPC_PEER_DEAD). Receiving queues at most `queue` datagrams (default 4096) in JS and drops the
//   rest, counted in `dropped`, as the kernel would.
// `listen` binds host:port; its peer is whoever sent the first datagram, and its sends wait for that.
// `connect` connect(2)s a socket to host:port (so only datagrams from there are received).
// Each datagram starts with one tag byte: 0 a message, 1 goodbye (the peer closed on purpose).
import dgram from 'node:dgram';
import net from 'node:net';
import { closedError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { tooLarge } from '../internal/framing.js';
import type { Endpoint } from './endpoint.js';
import { isPeerGone, registerAdapter, type Transport, type TransportOptions } from './transport.js';
import { Inbox } from './inbox.js';

export const UDP_MAX = 65506;
const DATA = Buffer.from([0]);
const BYE = Buffer.from([1]);

type UdpEndpoint = Extract<Endpoint, { transport: 'udp' }>;

class UdpTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly url: string;
  /** Datagrams dropped because the receive queue was full. */
  dropped = 0;
  readonly #what: string;
  readonly #sock: dgram.Socket;
  readonly #connected: boolean;
  readonly #limit: number;
  #peer: { address: string; port: number } | undefined;
  #peerKnown: Array<() => void> = [];
  readonly #inbox: Inbox<Buffer>;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(url: string, sock: dgram.Socket, connected: boolean, max: number, limit: number) {
    this.url = url;
    this.#what = `channel ${url}`;
    this.#inbox = new Inbox(this.#what);
    this.#sock = sock;
    this.#connected = connected;
    this.maxMessageSize = max;
    this.#limit = limit;
    sock.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    // ECONNREFUSED (an ICMP port-unreachable for an earlier datagram): the peer's socket is gone, closed or
    // killed, UDP cannot tell which.
    sock.on('error', (err) => this.#inbox.fail(isPeerGone(err) ? this.#inbox.gone(err) : err));
  }

  #onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this.#connected) {
      if (!this.#peer) {
        this.#peer = { address: rinfo.address, port: rinfo.port };
        for (const f of this.#peerKnown.splice(0)) f();
      } else if (this.#peer.address !== rinfo.address || this.#peer.port !== rinfo.port) {
        return; // one peer per channel
      }
    }
    const inbox = this.#inbox;
    if (msg.length === 0 || inbox.ended) return; // not ours (no tag byte), or after the goodbye
    if (msg[0] === 1) inbox.end();
    else if (msg[0] !== 0) return;
    else if (msg.length - 1 > this.maxMessageSize) return; // over the limit: dropped like a lost datagram
    else if (inbox.length >= this.#limit) this.dropped++;
    else inbox.push(msg.subarray(1));
  }

  async send(bytes: Uint8Array, _opts?: WaitOptions): Promise<void> {
    // Closed and size: checked by the Channel.
    const inbox = this.#inbox;
    if (inbox.error) throw inbox.error;
    if (inbox.ended) throw inbox.gone();
    if (!this.#connected && !this.#peer) {
      await new Promise<void>((resolve) => this.#peerKnown.push(resolve));
      if (this.#closed) throw closedError(this.#what, 'send');
    }
    await this.#raw([DATA, bytes]);
  }

  #raw(parts: Uint8Array[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const cb = (err: Error | null) => {
        if (!err) return resolve();
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EMSGSIZE') reject(tooLarge(parts.reduce((n, p) => n + p.byteLength, 0) - 1, this.maxMessageSize));
        else if (isPeerGone(err)) reject(this.#inbox.gone(err));
        else reject(err);
      };
      if (this.#connected) this.#sock.send(parts, cb);
      else this.#sock.send(parts, this.#peer!.port, this.#peer!.address, cb);
    });
  }

  receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    return this.#inbox.next(opts);
  }

  receiveMany(max: number, opts: WaitOptions = {}): Promise<Uint8Array[]> {
    return this.#inbox.nextMany(max, opts);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#inbox.close();
      for (const f of this.#peerKnown.splice(0)) f();
      if (this.#connected || this.#peer) await this.#raw([BYE]).catch(() => {});
      await new Promise<void>((resolve) => this.#sock.close(() => resolve()));
    })();
    return this.#closing;
  }
}

function family(host: string): 'udp4' | 'udp6' {
  return net.isIPv6(host) ? 'udp6' : 'udp4';
}

function limits(opts: TransportOptions): [number, number] {
  const queue = typeof opts.queue === 'number' && opts.queue > 0 ? Math.floor(opts.queue) : 4096;
  return [Math.min(opts.maxMessageSize, UDP_MAX), queue];
}

registerAdapter('udp', {
  options: ['queue'],
  async listen(ep: UdpEndpoint, opts) {
    const sock = dgram.createSocket({ type: family(ep.host) });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(ep.port, ep.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    const a = sock.address();
    const url = `udp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    return new UdpTransport(url, sock, false, ...limits(opts));
  },
  async connect(ep: UdpEndpoint, opts) {
    const sock = dgram.createSocket({ type: family(ep.host) });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(ep.port, ep.host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return new UdpTransport(ep.url, sock, true, ...limits(opts));
  },
});
