// Endpoints as the CLI uses them. By default `send` and `recv` speak each mechanism's own language, so
// that the other end can be anything: `echo > fifo`, a C program on a POSIX queue, socat on a socket.
//   fifo:/p            bytes (--framed: length-prefixed frames)
//   mq:/name           one message per send, --priority
//   sysvmq:0xKEY       one message per send, --type
//   unix:… unix+dgram:… unix+seqpacket:…   bytes on stream, one record per send otherwise
//   tcp://h:p udp://h:p                   bytes on TCP, one datagram per send on UDP
// With --channel (or --codec), and always for shm:, shm+unix: and nats:, they speak ipckit's Channel protocol
// (connect/listen), which only another ipckit channel understands.
import dgram from 'node:dgram';
import { on } from 'node:events';
import net from 'node:net';
import {
  Fifo,
  IpcError,
  MessageQueue,
  SystemVMessageQueue,
  UnixServer,
  UnixSocket,
  connect,
  listen,
  parseEndpoint,
  readFrames,
  socketAddress,
  writeFrame,
  type CodecName,
  type Endpoint,
} from '../index.js';
import { CliError } from './output.js';

export interface EndpointOptions {
  framed?: boolean;
  priority?: number;
  type?: number;
  codec?: CodecName;
  channel?: boolean;
  timeout?: number;
  /** recv: the count asked for (a persistent FIFO reader when finite). */
  count?: number;
  /** Open a FIFO or queue another user owns (refused by default: ERR_IPC_FOREIGN_OWNER). */
  allowForeignOwner?: boolean;
}

/** One message, or one chunk of a byte stream, with what the transport says about it. */
export interface Message {
  data: Buffer;
  /** mq: the message's priority. */
  priority?: number;
  /** sysvmq: the message's type. */
  type?: number;
  /** Who sent it, where the transport says: a socket peer's address or credentials. */
  sender?: Sender;
  /** Byte streams: the end of one connection (data is empty); a partial line before it is a line. */
  end?: true;
}

export interface Sender {
  address?: string;
  pid?: number;
  uid?: number;
  gid?: number;
}

/** What arrives: whole messages, or chunks of a byte stream (split into lines where asked). */
export interface Incoming {
  stream: boolean;
  /** Where it listens, with what the kernel chose filled in (tcp://127.0.0.1:41234). */
  address: string;
  messages: AsyncIterable<Message>;
  close(): Promise<void>;
}

export interface Outgoing {
  /** One message; `priority` (mq) and `type` (sysvmq) override the endpoint options for it. */
  send(data: Buffer, per?: { priority?: number; type?: number }): Promise<void>;
  close(): Promise<void>;
}

// Transports that have no language of their own: only ipckit's Channel protocol makes sense on them.
const CHANNEL_ONLY: ReadonlySet<Endpoint['transport']> = new Set(['shm', 'shm+unix', 'nats']);

// The transports whose channel adapters adopt an existing object, and so take allowForeignOwner.
const ADOPTS: ReadonlySet<Endpoint['transport']> = new Set(['fifo', 'mq', 'sysvmq']);

/** The socket type of each `unix…:` scheme, as UnixSocket and UnixServer take it. */
const SOCKET_TYPE = { unix: 'stream', 'unix+dgram': 'dgram', 'unix+seqpacket': 'seqpacket' } as const;

function usage(msg: string): CliError {
  return new CliError(msg, 2);
}

/**
 * Parses an endpoint as send and recv will use it, before anything is opened: the Channel layer's own
 * parser (parseEndpoint), so that the CLI and the API read every string the same way; a string that does
 * not parse is a usage error (the caller wraps it).
 */
export function checkEndpoint(url: string): Endpoint {
  return parseEndpoint(url);
}

function useChannel(ep: Endpoint, o: EndpointOptions): boolean {
  return o.channel === true || o.codec !== undefined || CHANNEL_ONLY.has(ep.transport);
}

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
}

function onceEvent(emitter: NodeJS.EventEmitter, event: string): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const onErr = (err: Error) => {
      emitter.off(event, onEv);
      reject(err);
    };
    const onEv = (...args: unknown[]) => {
      emitter.off('error', onErr);
      resolve(args);
    };
    emitter.once(event, onEv);
    emitter.once('error', onErr);
  });
}

export async function openOutgoing(url: string, o: EndpointOptions): Promise<Outgoing> {
  const ep = parseEndpoint(url);
  const adopt = o.allowForeignOwner ? { allowForeignOwner: true } : {};
  if (useChannel(ep, o)) {
    const ch = await connect(url, { codec: o.codec ?? 'raw', timeout: o.timeout, ...(ADOPTS.has(ep.transport) ? adopt : {}) });
    return {
      send: (d) => ch.send(o.codec && o.codec !== 'raw' ? JSON.parse(d.toString('utf8')) : d),
      close: () => ch.close(),
    };
  }
  switch (ep.transport) {
    case 'fifo': {
      const w = await Fifo.openWriter(ep.path, { timeout: o.timeout, ...adopt });
      return {
        send: async (d) => {
          if (o.framed) await writeFrame(w, d);
          else if (!w.write(d)) await onceEvent(w, 'drain');
        },
        close: () => w.close(),
      };
    }
    case 'mq': {
      const q = await MessageQueue.open(ep.name, { access: 'write', ...adopt });
      return { send: (d, per) => q.send(d, { priority: per?.priority ?? o.priority ?? 0, timeout: o.timeout }), close: async () => { await q.close(); } };
    }
    case 'sysvmq': {
      const q = await SystemVMessageQueue.open(ep.key, adopt);
      return { send: (d, per) => q.send(per?.type ?? o.type ?? 1, d, { timeout: o.timeout }), close: async () => { await q.close(); } };
    }
    case 'unix':
    case 'unix+dgram':
    case 'unix+seqpacket': {
      // A datagram socket is connected too: the kernel then names the destination once, and the socket
      // is autobound (an abstract name) so that the receiver sees who sent.
      const sock = await UnixSocket.connect({ ...socketAddress(ep), type: SOCKET_TYPE[ep.transport] });
      return { send: (d) => sock.send(d, { timeout: o.timeout }), close: async () => sock.close() };
    }
    case 'tcp': {
      const sock = net.connect({ host: ep.host, port: ep.port });
      await onceEvent(sock, 'connect');
      return {
        send: (d) => new Promise<void>((resolve, reject) => sock.write(d, (err) => (err ? reject(err) : resolve()))),
        close: () => new Promise<void>((resolve) => sock.end(() => resolve())),
      };
    }
    case 'udp': {
      const { host, port } = ep;
      const v6 = net.isIPv6(host);
      const sock = dgram.createSocket(v6 ? 'udp6' : 'udp4');
      // The largest UDP payload: 65535 less the UDP header, and over IPv4 the IP header too (udp(7)).
      const limit = v6 ? 65527 : 65507;
      return {
        send: (d) =>
          new Promise<void>((resolve, reject) =>
            sock.send(d, port, host, (err) => {
              if (!err) return resolve();
              // The same code a udp:// Channel gives (docs/errors.md), the kernel's EMSGSIZE as the cause.
              if ((err as NodeJS.ErrnoException).code !== 'EMSGSIZE') return reject(err);
              reject(new IpcError('ERR_IPC_MESSAGE_TOO_LARGE', `datagram of ${d.length} bytes exceeds the limit of ${limit} bytes (UDP over IPv${v6 ? 6 : 4})`, { size: d.length, limit }, { cause: err }));
            }),
          ),
        close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
      };
    }
  }
  throw usage(`unsupported endpoint ${url}`);
}

/** The chunks of one connection, then its end. */
async function* chunksOf(stream: AsyncIterable<unknown>, sender?: Sender): AsyncGenerator<Message> {
  for await (const c of stream) yield sender ? { data: toBuffer(c), sender } : { data: toBuffer(c) };
  yield sender ? { data: Buffer.alloc(0), sender, end: true } : { data: Buffer.alloc(0), end: true };
}

function credentialsOf(conn: UnixSocket): Sender | undefined {
  try {
    const { pid, uid, gid } = conn.peerCredentials();
    return { pid, uid, gid };
  } catch {
    return undefined;
  }
}

function hostUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export async function openIncoming(url: string, o: EndpointOptions): Promise<Incoming> {
  const ep = parseEndpoint(url);
  const adopt = o.allowForeignOwner ? { allowForeignOwner: true } : {};
  if (useChannel(ep, o)) {
    // A nats: subject has many senders that come and go: the CLI's receiver outlives each one's goodbye.
    const persistent = ep.transport === 'nats' ? { persistent: true } : {};
    const ch = await listen(url, { codec: o.codec ?? 'raw', ...persistent, ...(ADOPTS.has(ep.transport) ? adopt : {}) });
    return {
      stream: false,
      address: ch.url,
      messages: (async function* () {
        for await (const v of ch) yield { data: toBuffer(v) };
      })(),
      close: () => ch.close(),
    };
  }
  switch (ep.transport) {
    case 'fifo': {
      const { path } = ep;
      const f = await Fifo.openOrCreate(path, adopt);
      const reader = await f.openReader({ persistent: o.count !== undefined && o.count !== Infinity }).catch(async (err) => {
        await f.close();
        throw err;
      });
      return {
        stream: !o.framed,
        address: `fifo:${path}`,
        messages: o.framed
          ? (async function* () {
              for await (const frame of readFrames(reader)) yield { data: frame };
            })()
          : chunksOf(reader),
        close: async () => {
          await reader.close();
          await f.close();
        },
      };
    }
    case 'mq': {
      const { name } = ep;
      const q = await MessageQueue.openOrCreate(name, { access: 'read', ...adopt });
      return {
        stream: false,
        address: `mq:${name}`,
        messages: (async function* () {
          for await (const m of q) yield { data: m.data, priority: m.priority };
        })(),
        close: async () => {
          await q.close();
        },
      };
    }
    case 'sysvmq': {
      const { key } = ep;
      const q = await SystemVMessageQueue.openOrCreate(key, adopt);
      return {
        stream: false,
        address: `sysvmq:0x${(key >>> 0).toString(16).padStart(8, '0')} (id ${q.id})`,
        messages: (async function* () {
          for (;;) {
            const m = await q.receive({ type: o.type ?? 0 }).catch((err) => {
              if (q.closed) return null;
              throw err;
            });
            if (!m) return;
            yield { data: m.data, type: m.type };
          }
        })(),
        close: async () => {
          await q.close();
        },
      };
    }
    case 'unix':
    case 'unix+dgram':
    case 'unix+seqpacket': {
      const type = SOCKET_TYPE[ep.transport];
      const server = await UnixServer.listen({ ...socketAddress(ep), type });
      const address = `${ep.transport}:${ep.abstract ? '@' : ''}${ep.path}`;
      const messages =
        type === 'dgram'
          ? (async function* () {
              for (;;) {
                const m = await server.socket!.receive();
                if (!m) return;
                for (const fd of m.fds) fd.close();
                yield m.from ? { data: m.data, sender: { address: m.from } } : { data: m.data };
              }
            })()
          : (async function* () {
              // Connections one after another, like socat without fork.
              for await (const conn of server) {
                const sender = credentialsOf(conn);
                if (type === 'stream') yield* chunksOf(conn, sender);
                else for (let m; (m = await conn.receive()); ) yield sender ? { data: m.data, sender } : { data: m.data };
                conn.close();
              }
            })();
      return { stream: type === 'stream', address, messages, close: async () => server.close() };
    }
    case 'tcp': {
      const server = net.createServer({ pauseOnConnect: true });
      server.listen(ep.port, ep.host);
      await onceEvent(server, 'listening');
      const bound = server.address() as net.AddressInfo;
      return {
        stream: true,
        address: hostUrl('tcp', bound.address, bound.port),
        messages: (async function* () {
          // events.on buffers what arrives while the previous connection is being read; the server's
          // 'close' ends it (without it a closed listener, on --timeout, left recv awaiting forever).
          for await (const [conn] of on(server, 'connection', { close: ['close'] }) as AsyncIterable<[net.Socket]>) {
            yield* chunksOf(conn, { address: `${conn.remoteAddress}:${conn.remotePort}` });
          }
        })(),
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    case 'udp': {
      const sock = dgram.createSocket(net.isIPv6(ep.host) ? 'udp6' : 'udp4');
      let closing: Promise<void> | undefined;
      sock.bind(ep.port, ep.host);
      await onceEvent(sock, 'listening');
      const bound = sock.address();
      return {
        stream: false,
        address: hostUrl('udp', bound.address, bound.port),
        messages: (async function* () {
          for await (const [msg, rinfo] of on(sock, 'message', { close: ['close'] }) as AsyncIterable<[Buffer, dgram.RemoteInfo]>) {
            yield { data: msg, sender: { address: `${rinfo.address}:${rinfo.port}` } };
          }
        })(),
        // Idempotent, as every other close here: recv closes on --timeout and again on the way out.
        close: () => (closing ??= new Promise<void>((resolve) => sock.close(() => resolve()))),
      };
    }
  }
  throw usage(`unsupported endpoint ${url}`);
}
