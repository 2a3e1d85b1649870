// Endpoint URLs (DESIGN.md "Endpoint URLs"): the same strings in the API, the CLI and the docs.
// Parsing is pure and total: any string either yields an Endpoint or throws ERR_IPC_NAME_INVALID /
// ERR_IPC_UNSUPPORTED before anything touches the kernel.
import { IpcError, invalidArgType } from '../errors.js';
import { unixAddressBytes, unixAddressFromText } from '../internal/unix-address.js';

/**
 * A FIFO endpoint (`fifo:/path`).
 */
export interface PathEndpoint<T> {
  /** The transport, as the URL's scheme names it. */
  transport: T;
  /** The endpoint URL. */
  url: string;
  /** The FIFO's path. */
  path: string;
}
/**
 * A named endpoint: `mq:/name`, `shm:/name`.
 */
export interface NameEndpoint<T> {
  /** The transport, as the URL's scheme names it. */
  transport: T;
  /** The endpoint URL. */
  url: string;
  /** The POSIX name, with its leading `/`. */
  name: string;
}
/**
 * A Unix socket endpoint: `unix:`, `unix+dgram:`, `unix+seqpacket:`, by path or abstract name.
 */
export interface SocketEndpoint<T> {
  /** The transport, as the URL's scheme names it. */
  transport: T;
  /** The endpoint URL. */
  url: string;
  /** The socket path, or the abstract name (without its leading NUL) when `abstract`. */
  path: string;
  /** Whether `path` is an abstract name (`unix:@name`, Linux only). */
  abstract: boolean;
}
/**
 * A network endpoint: `tcp://`, `udp://`, `nats://`.
 */
export interface HostEndpoint<T> {
  /** The transport, as the URL's scheme names it. */
  transport: T;
  /** The endpoint URL (for a channel listening on port 0, the address actually bound). */
  url: string;
  /** Host name or address. */
  host: string;
  /** Port, 0..65535 (0: any free port, when listening). */
  port: number;
}

/** An endpoint URL, parsed (`parseEndpoint(url)`): which transport, and its address. */
export type Endpoint =
  | PathEndpoint<'fifo'>
  | NameEndpoint<'mq'>
  | {
      /** The transport, as the URL's scheme names it. */
      transport: 'sysvmq';
      /** The endpoint URL. */
      url: string;
      /** The queue's System V key. */
      key: number;
    }
  | NameEndpoint<'shm'>
  | SocketEndpoint<'unix'>
  | SocketEndpoint<'unix+dgram'>
  | SocketEndpoint<'unix+seqpacket'>
  | SocketEndpoint<'shm+unix'>
  | HostEndpoint<'tcp'>
  | HostEndpoint<'udp'>
  | (HostEndpoint<'nats'> & {
      /** The NATS subject the channel publishes and subscribes on. */
      subject: string;
    });

/**
 * A transport ipckit knows: `'fifo'`, `'mq'`, `'sysvmq'`, `'shm'`, `'unix'`, `'unix+dgram'`,
 * `'unix+seqpacket'`, `'tcp'`, `'udp'`, `'nats'` (`transports()` lists those this build carries).
 */
export type TransportName = Endpoint['transport'];

function bad(url: string, why: string): IpcError {
  return new IpcError('ERR_IPC_NAME_INVALID', `invalid endpoint '${url}': ${why}`, { url });
}

function posixName(url: string, name: string): string {
  // mq_overview(7), shm_overview(7): one leading slash, no other, at most NAME_MAX (255) bytes.
  if (!name.startsWith('/') || name.length < 2) throw bad(url, 'the name must start with one "/"');
  if (name.indexOf('/', 1) !== -1) throw bad(url, 'the name must not contain "/" after the first');
  if (name.includes('\0')) throw bad(url, 'the name must not contain NUL');
  if (Buffer.byteLength(name) > 255) throw bad(url, 'the name is longer than 255 bytes');
  return name;
}

function fsPath(url: string, path: string): string {
  if (path.length === 0) throw bad(url, 'empty path');
  if (path.includes('\0')) throw bad(url, 'the path must not contain NUL');
  return path;
}

/**
 * The host an empty one (`udp://:0`, `tcp://:7000`) stands for: every IPv4 address, as `nc -l` and
 * `socat UDP-LISTEN:` bind by default. A connector given it reaches this machine (Linux routes a
 * connect to 0.0.0.0 to the local host).
 */
export const ANY_HOST = '0.0.0.0';

function hostPort(url: string, rest: string, emptyHost = false): { host: string; port: number; pathname: string } {
  // An empty host is the conventional "any address" where the caller allows it; URL refuses it.
  if (emptyHost && rest.startsWith(':')) rest = ANY_HOST + rest;
  // The port is read before URL does, which refuses one out of range with nothing more than "Invalid URL".
  const digits = /^(?:\[[^\]]*\]|[^/:?#]*):(\d+)(?:[/?#]|$)/.exec(rest)?.[1];
  if (digits !== undefined && Number(digits) > 65535) throw bad(url, `port ${digits} is out of range (0 to 65535; 0 = any, to listen)`);
  let u: URL;
  try {
    u = new URL(`x://${rest}`);
  } catch {
    throw bad(url, 'expected //host:port');
  }
  if (!u.hostname) throw bad(url, 'missing host');
  if (!u.port) throw bad(url, 'missing port');
  const port = Number(u.port);
  if (!(port >= 0 && port < 65536)) throw bad(url, "port out of range (0 = any, to listen)");
  if (u.username || u.password || u.search || u.hash) throw bad(url, 'no credentials, query or fragment allowed');
  // URL keeps IPv6 literals bracketed; the socket APIs want them bare.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  let pathname: string;
  try {
    pathname = decodeURIComponent(u.pathname);
  } catch {
    throw bad(url, 'a malformed %-escape in the path');
  }
  return { host, port, pathname };
}

/**
 * Parses an endpoint URL.
 *
 * @example
 * ```ts
 * parseEndpoint('tcp://127.0.0.1:7000'); // { transport: 'tcp', host: '127.0.0.1', port: 7000, ... }
 * parseEndpoint('unix:@bus');            // { transport: 'unix', path: 'bus', abstract: true, ... }
 * ```
 */
export function parseEndpoint(url: string): Endpoint {
  if (typeof url !== 'string') throw invalidArgType('url', 'of type string', url);
  const colon = url.indexOf(':');
  if (colon <= 0) throw bad(url, 'expected scheme:address');
  const scheme = url.slice(0, colon).toLowerCase();
  const rest = url.slice(colon + 1);
  switch (scheme) {
    case 'fifo':
      return { transport: 'fifo', url, path: fsPath(url, rest) };
    case 'mq':
      return { transport: 'mq', url, name: posixName(url, rest) };
    case 'shm':
      return { transport: 'shm', url, name: posixName(url, rest) };
    case 'sysvmq': {
      if (!/^(0x[0-9a-f]{1,8}|[0-9]{1,10})$/i.test(rest)) throw bad(url, 'expected a key, e.g. sysvmq:0x1234');
      const key = Number(rest);
      if (key === 0 || key > 0xffffffff) throw bad(url, 'the key must be 1..0xffffffff (0 is IPC_PRIVATE)');
      return { transport: 'sysvmq', url, key: key | 0 };
    }
    case 'unix':
    case 'unix+stream':
    case 'unix+dgram':
    case 'unix+seqpacket':
    case 'shm+unix': {
      const transport = scheme === 'unix+stream' ? 'unix' : (scheme as 'unix' | 'unix+dgram' | 'unix+seqpacket' | 'shm+unix');
      // The grammar UnixSocket and UnixServer parse too (internal/unix-address.ts), checked against the
      // sun_path length the addon reports.
      const addr = unixAddressFromText(rest);
      unixAddressBytes(addr);
      if (addr.abstract !== undefined) return { transport, url, path: addr.abstract, abstract: true } as Endpoint;
      return { transport, url, path: addr.path, abstract: false } as Endpoint;
    }
    case 'tcp':
    case 'udp': {
      if (!rest.startsWith('//')) throw bad(url, 'expected //host:port');
      const { host, port, pathname } = hostPort(url, rest.slice(2), true);
      if (pathname !== '' && pathname !== '/') throw bad(url, 'no path allowed');
      return { transport: scheme, url, host, port } as Endpoint;
    }
    case 'nats': {
      if (!rest.startsWith('//')) throw bad(url, 'expected //host:port/subject');
      const { host, port, pathname } = hostPort(url, rest.slice(2));
      const subject = pathname.replace(/^\//, '');
      if (!/^[^\s*>/]+$/.test(subject) || subject.split('.').some((t) => t === '')) {
        throw bad(url, 'expected a NATS subject without wildcards, e.g. nats://127.0.0.1:4222/jobs.in');
      }
      return { transport: 'nats', url, host, port, subject };
    }
    default:
      throw new IpcError('ERR_IPC_UNSUPPORTED', `unknown endpoint scheme '${scheme}:' in '${url}'`, { url });
  }
}
