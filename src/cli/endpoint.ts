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
  MessageQueue,
  SystemVMessageQueue,
  UnixServer,
  UnixSocket,
  connect,
  listen,
  parseEndpoint,
  parseUnixEndpoint,
  readFrames,
  writeFrame,
  type CodecName,
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

const CHANNEL_ONLY = new Set(['shm', 'shm+unix', 'nats']);

function usage(msg: string): CliError {
  return new CliError(msg, 2);
}

function scheme(url: string): string {
  const m = /^([a-z+]+):/i.exec(url);
  if (!m) throw usage(`not an endpoint: ${url} (fifo:/path, mq:/name, sysvmq:0xKEY, unix:/path, tcp://host:port, ...)`);
  return m[1]!.toLowerCase();
}

/**
 * Parses an endpoint as send and recv will use it, before anything is opened: a string that does not
 * parse is a usage error.
 */
export function checkEndpoint(url: string): void {
  const s = scheme(url);
  if (s.startsWith('unix')) parseUnixEndpoint(url);
  else parseEndpoint(url);
}

function useChannel(url: string, o: EndpointOptions): boolean {
  return o.channel === true || o.codec !== undefined || CHANNEL_ONLY.has(scheme(url));
}

function hostPort(url: string): { host: string; port: number } {
  const e = parseEndpoint(url) as { host: string; port: number };
  return { host: e.host, port: e.port };
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
  if (useChannel(url, o)) {
    const ch = await connect(url, { codec: o.codec ?? 'raw', timeout: o.timeout });
    return {
      send: (d) => ch.send(o.codec && o.codec !== 'raw' ? JSON.parse(d.toString('utf8')) : d),
      close: () => ch.close(),
    };
  }
  const s = scheme(url);
  switch (s) {
    case 'fifo': {
      const w = await Fifo.openWriter(parseEndpointPath(url), { timeout: o.timeout });
      return {
        send: async (d) => {
          if (o.framed) await writeFrame(w, d);
          else if (!w.write(d)) await onceEvent(w, 'drain');
        },
        close: () => w.close(),
      };
    }
    case 'mq': {
      const q = await MessageQueue.open((parseEndpoint(url) as { name: string }).name, { access: 'write' });
      return { send: (d, per) => q.send(d, { priority: per?.priority ?? o.priority ?? 0, timeout: o.timeout }), close: async () => { await q.close(); } };
    }
    case 'sysvmq': {
      const q = await SystemVMessageQueue.open((parseEndpoint(url) as { key: number }).key);
      return { send: (d, per) => q.send(per?.type ?? o.type ?? 1, d, { timeout: o.timeout }), close: async () => { await q.close(); } };
    }
    case 'unix':
    case 'unix+dgram':
    case 'unix+seqpacket': {
      const ep = parseUnixEndpoint(url);
      if (ep.type === 'dgram') {
        const sock = UnixSocket.pair('dgram')[0]; // unbound sender; `to` names the destination
        return { send: (d) => sock.send(d, { to: ep, timeout: o.timeout }), close: async () => sock.close() };
      }
      const sock = await UnixSocket.connect({ ...ep, timeout: o.timeout } as Parameters<typeof UnixSocket.connect>[0]);
      return { send: (d) => sock.send(d, { timeout: o.timeout }), close: async () => sock.close() };
    }
    case 'tcp': {
      const { host, port } = hostPort(url);
      const sock = net.connect({ host, port });
      await onceEvent(sock, 'connect');
      return {
        send: (d) => new Promise<void>((resolve, reject) => sock.write(d, (err) => (err ? reject(err) : resolve()))),
        close: () => new Promise<void>((resolve) => sock.end(() => resolve())),
      };
    }
    case 'udp': {
      const { host, port } = hostPort(url);
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      return {
        send: (d) => new Promise<void>((resolve, reject) => sock.send(d, port, host, (err) => (err ? reject(err) : resolve()))),
        close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
      };
    }
  }
  throw usage(`unsupported endpoint ${url}`);
}

function parseEndpointPath(url: string): string {
  return (parseEndpoint(url) as { path: string }).path;
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
  if (useChannel(url, o)) {
    // A nats: subject has many senders that come and go: the CLI's receiver outlives each one's goodbye.
    const persistent = scheme(url) === 'nats' ? { persistent: true } : {};
    const ch = await listen(url, { codec: o.codec ?? 'raw', ...persistent });
    return {
      stream: false,
      address: ch.url,
      messages: (async function* () {
        for await (const v of ch) yield { data: toBuffer(v) };
      })(),
      close: () => ch.close(),
    };
  }
  const s = scheme(url);
  switch (s) {
    case 'fifo': {
      const path = parseEndpointPath(url);
      const f = await Fifo.openOrCreate(path);
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
      const name = (parseEndpoint(url) as { name: string }).name;
      const q = await MessageQueue.openOrCreate(name, { access: 'read' });
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
      const key = (parseEndpoint(url) as { key: number }).key;
      const q = await SystemVMessageQueue.openOrCreate(key);
      return {
        stream: false,
        address: `sysvmq:0x${key.toString(16).padStart(8, '0')} (id ${q.id})`,
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
      const ep = parseUnixEndpoint(url);
      const server = await UnixServer.listen(ep as Parameters<typeof UnixServer.listen>[0]);
      const address = `${s}:${'abstract' in ep && ep.abstract !== undefined ? `@${ep.abstract}` : (ep as { path: string }).path}`;
      const messages =
        ep.type === 'dgram'
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
                if (ep.type === 'stream') yield* chunksOf(conn, sender);
                else for (let m; (m = await conn.receive()); ) yield sender ? { data: m.data, sender } : { data: m.data };
                conn.close();
              }
            })();
      return { stream: ep.type === 'stream', address, messages, close: async () => server.close() };
    }
    case 'tcp': {
      const { host, port } = hostPort(url);
      const server = net.createServer({ pauseOnConnect: true });
      server.listen(port, host);
      await onceEvent(server, 'listening');
      const bound = server.address() as net.AddressInfo;
      return {
        stream: true,
        address: hostUrl('tcp', bound.address, bound.port),
        messages: (async function* () {
          // events.on buffers what arrives while the previous connection is being read.
          for await (const [conn] of on(server, 'connection') as AsyncIterable<[net.Socket]>) {
            yield* chunksOf(conn, { address: `${conn.remoteAddress}:${conn.remotePort}` });
          }
        })(),
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    case 'udp': {
      const { host, port } = hostPort(url);
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      sock.bind(port, host);
      await onceEvent(sock, 'listening');
      const bound = sock.address();
      return {
        stream: false,
        address: hostUrl('udp', bound.address, bound.port),
        messages: (async function* () {
          for await (const [msg, rinfo] of on(sock, 'message') as AsyncIterable<[Buffer, dgram.RemoteInfo]>) {
            yield { data: msg, sender: { address: `${rinfo.address}:${rinfo.port}` } };
          }
        })(),
        close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
      };
    }
  }
  throw usage(`unsupported endpoint ${url}`);
}
