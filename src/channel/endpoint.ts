// Endpoint URLs (DESIGN.md "Endpoint URLs"): the same strings in the API, the CLI and the docs.
// Parsing is pure and total: any string either yields an Endpoint or throws ERR_IPC_NAME_INVALID /
// ERR_IPC_UNSUPPORTED before anything touches the kernel.
import { IpcError, invalidArgType } from '../errors.js';
import { fsPath, posixName } from '../internal/names.js';
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

/**
 * The parsed endpoint of one transport, e.g. `EndpointOf<'tcp'>` is `{ transport: 'tcp', url, host, port }`.
 *
 * @example
 * ```ts
 * const ep = parseEndpoint(url);
 * if (ep.transport === 'mq') console.log(ep.name); // narrowed to EndpointOf<'mq'>
 * ```
 */
export type EndpointOf<T extends TransportName> = Extract<
  Endpoint,
  {
    /** The transport to pick. */
    transport: T;
  }
>;

/** The transports that are Unix sockets (`unix:`, `unix+dgram:`, `unix+seqpacket:`, `shm+unix:`). */
export type SocketTransport = 'unix' | 'unix+dgram' | 'unix+seqpacket' | 'shm+unix';

/** A Unix socket address: a path, or an abstract name (Linux), exactly one. */
export type SocketAddress =
  | {
      /** The socket file's path. */
      path: string;
      /** Absent: a path. */
      abstract?: undefined;
    }
  | {
      /** The abstract name, without its leading NUL. */
      abstract: string;
      /** Absent: an abstract name. */
      path?: undefined;
    };

/**
 * A socket endpoint's address as `UnixSocket` and `UnixServer` take it: `{ path }`, or `{ abstract }`
 * for an abstract name.
 *
 * @example
 * ```ts
 * const ep = parseEndpoint('unix:@bus');
 * if (ep.transport === 'unix') await UnixSocket.connect(socketAddress(ep)); // { abstract: 'bus' }
 * ```
 */
export function socketAddress(ep: SocketEndpoint<SocketTransport>): SocketAddress {
  return ep.abstract ? { abstract: ep.path } : { path: ep.path };
}

function bad(url: string, why: string): IpcError {
  return new IpcError('ERR_IPC_NAME_INVALID', `invalid endpoint '${url}': ${why}`, { url });
}

/**
 * Runs one of the shared validators (internal/names.ts, internal/unix-address.ts) on a part of `url`:
 * what it refuses is refused for the URL, its reason and properties kept (the name in `path`, a limit).
 */
function checked<T>(url: string, validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (!(err instanceof IpcError) || err.code !== 'ERR_IPC_NAME_INVALID') throw err;
    const { code: _code, ...props } = err;
    throw new IpcError('ERR_IPC_NAME_INVALID', `invalid endpoint '${url}': ${err.message}`, { ...props, url }, { cause: err });
  }
}

function posixNameOf(url: string, kind: string, rest: string): string {
  // The URL spells the name as the kernel gets it: with its one leading '/' (mq_overview(7),
  // shm_overview(7)); names.ts would add a missing one, the URL grammar does not.
  if (!rest.startsWith('/')) throw bad(url, 'the name must start with "/"');
  return checked(url, () => posixName(kind, rest));
}

function socketEndpoint<T extends SocketTransport>(transport: T, url: string, rest: string): SocketEndpoint<T> {
  // The grammar UnixSocket and UnixServer parse too (internal/unix-address.ts), checked against the
  // sun_path length the addon reports.
  const addr = unixAddressFromText(rest);
  checked(url, () => unixAddressBytes(addr));
  return addr.abstract !== undefined ? { transport, url, path: addr.abstract, abstract: true } : { transport, url, path: addr.path, abstract: false };
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
      return { transport: 'fifo', url, path: checked(url, () => fsPath('FIFO', rest)) };
    case 'mq':
      return { transport: 'mq', url, name: posixNameOf(url, 'POSIX message queue', rest) };
    case 'shm':
      return { transport: 'shm', url, name: posixNameOf(url, 'shared memory', rest) };
    case 'sysvmq': {
      if (!/^(0x[0-9a-f]{1,8}|[0-9]{1,10})$/i.test(rest)) throw bad(url, 'expected a key, e.g. sysvmq:0x1234');
      const key = Number(rest);
      if (key === 0 || key > 0xffffffff) throw bad(url, 'the key must be 1..0xffffffff (0 is IPC_PRIVATE)');
      return { transport: 'sysvmq', url, key: key | 0 };
    }
    case 'unix':
    case 'unix+stream':
      return socketEndpoint('unix', url, rest);
    case 'unix+dgram':
    case 'unix+seqpacket':
    case 'shm+unix':
      return socketEndpoint(scheme, url, rest);
    case 'tcp':
    case 'udp': {
      if (!rest.startsWith('//')) throw bad(url, 'expected //host:port');
      const { host, port, pathname } = hostPort(url, rest.slice(2), true);
      if (pathname !== '' && pathname !== '/') throw bad(url, 'no path allowed');
      return scheme === 'tcp' ? { transport: 'tcp', url, host, port } : { transport: 'udp', url, host, port };
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
