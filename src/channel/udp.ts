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
import { isPeerGone, peerDead, registerAdapter, type Transport, type TransportOptions } from './transport.js';
import { Waker } from '../internal/wait.js';

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
  #queue: Buffer[] = [];
  #goodbye = false;
  #error: Error | undefined;
  readonly #waker: Waker;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(url: string, sock: dgram.Socket, connected: boolean, max: number, limit: number) {
    this.url = url;
    this.#what = `channel ${url}`;
    this.#waker = new Waker(this.#what);
    this.#sock = sock;
    this.#connected = connected;
    this.maxMessageSize = max;
    this.#limit = limit;
    sock.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    sock.on('error', (err) => {
      this.#error ??= isPeerGone(err) || (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? peerDead(this.#what, err) : err;
      this.#wake();
    });
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
    if (msg.length === 0) return; // not ours: no tag byte
    if (msg[0] === 1) this.#goodbye = true;
    else if (msg[0] !== 0 || this.#goodbye) return;
    else if (msg.length - 1 > this.maxMessageSize) return; // over the limit: dropped like a lost datagram
    else if (this.#queue.length >= this.#limit) this.dropped++;
    else this.#queue.push(msg.subarray(1));
    this.#wake();
  }

  #wake(err?: Error): void {
    this.#waker.wake(err);
  }

  async send(bytes: Uint8Array, _opts?: WaitOptions): Promise<void> {
    if (this.#closed) throw closedError(this.#what, 'send');
    if (bytes.byteLength > this.maxMessageSize) throw tooLarge(bytes.byteLength, this.maxMessageSize);
    if (this.#error) throw this.#error;
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
        else if (code === 'ECONNREFUSED') reject(peerDead(this.#what, err));
        else reject(err);
      };
      if (this.#connected) this.#sock.send(parts, cb);
      else this.#sock.send(parts, this.#peer!.port, this.#peer!.address, cb);
    });
  }

  async receive({ signal, timeout }: WaitOptions = {}): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#closed) throw closedError(this.#what, 'receive');
      const m = this.#queue.shift();
      if (m) return m;
      if (this.#goodbye) return null;
      if (this.#error) throw this.#error;
      await this.#waker.wait({ signal, timeout });
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#wake(closedError(this.#what, 'receive'));
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
