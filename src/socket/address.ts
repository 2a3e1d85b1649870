// Where a Unix socket lives: its type, its address (a path, or a Linux abstract name) as sun_path bytes
// and back, and the endpoint URLs that name both (`unix+seqpacket:@my-app`). The grammar and the length
// limit are internal/unix-address.ts's, shared with the Channel layer's endpoint parser.
import { UNIX_PATH_MAX as UNIX_PATH_MAX_, unixAddressBytes, unixAddressFromText } from '../internal/unix-address.js';
import { IpcError, invalidArgType } from '../errors.js';

/**
 * The three AF_UNIX socket types.
 *
 * @example
 * ```ts
 * const type: UnixSocketType = 'seqpacket';
 * const [a, b] = UnixSocket.pair(type);
 * ```
 */
export type UnixSocketType = 'stream' | 'dgram' | 'seqpacket';
/** The socket(2) type code of each type (the addon's numbering). */
export const TYPE_CODE: Record<UnixSocketType, number> = { stream: 1, dgram: 2, seqpacket: 3 };

/**
 * Longest socket path or abstract name in bytes: sun_path is 108 bytes including the NUL (unix(7)).
 *
 * @example
 * ```ts
 * if (Buffer.byteLength(p) > UNIX_PATH_MAX) throw new Error('path too long for a socket');
 * ```
 */
export const UNIX_PATH_MAX = UNIX_PATH_MAX_;

/**
 * Where a socket lives: a filesystem `path`, or a Linux `abstract` name (no file; gone with the socket).
 *
 * @example
 * ```ts
 * await UnixSocket.connect({ path: '/run/app.sock' });
 * await UnixSocket.connect({ abstract: 'my-app' });
 * ```
 */
export interface UnixAddress {
  /** A filesystem path (at most UNIX_PATH_MAX bytes). */
  path?: string;
  /** A Linux abstract name, without the leading NUL: no file, gone with the socket. */
  abstract?: string;
}

/**
 * An address as one string: a path, or `@name` for an abstract name (write `./@x` for a relative path
 * that starts with '@').
 *
 * @example
 * ```ts
 * await sock.send('hi', { to: '@my-app' });
 * await sock.send('hi', { to: { path: '/tmp/log.sock' } });
 * ```
 */
export type UnixAddressLike = string | UnixAddress;

/** An address checked and encoded: its sun_path bytes, how errors show it, and its path if it has one. */
export interface Encoded {
  bytes: Buffer;
  display: string;
  path: string | undefined;
}

export function encodeAddress(addr: unknown, what = 'options'): Encoded {
  if (typeof addr === 'string') {
    addr = addr.startsWith('@') ? { abstract: addr.slice(1) } : { path: addr };
  }
  if (typeof addr !== 'object' || addr === null) throw invalidArgType(what, 'of type string or object', addr);
  const { path, abstract } = addr as UnixAddress;
  if ((path === undefined) === (abstract === undefined)) {
    throw invalidArgType(`${what}.path`, 'given, or options.abstract given (exactly one of them)', path);
  }
  if (path !== undefined) {
    if (typeof path !== 'string') throw invalidArgType(`${what}.path`, 'of type string', path);
    return { bytes: unixAddressBytes({ path }), display: path, path };
  }
  if (typeof abstract !== 'string') throw invalidArgType(`${what}.abstract`, 'of type string', abstract);
  return { bytes: unixAddressBytes({ abstract }), display: '@' + abstract, path: undefined };
}

/** sun_path bytes from the kernel → '@name' | path | null (unnamed). */
export function decodeAddress(bytes: Uint8Array, len: number): string | null {
  if (len <= 0) return null;
  if (bytes[0] === 0) return '@' + Buffer.from(bytes.buffer, bytes.byteOffset + 1, len - 1).toString('utf8');
  let end = 0;
  while (end < len && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8');
}

export function validateType(type: unknown): UnixSocketType {
  if (type === undefined) return 'stream';
  if (type !== 'stream' && type !== 'dgram' && type !== 'seqpacket') {
    throw invalidArgType('options.type', "one of 'stream', 'dgram', 'seqpacket'", type);
  }
  return type;
}

/**
 * What an endpoint URL names: the socket type and its address.
 *
 * @example
 * ```ts
 * const { type, path, abstract }: UnixEndpoint = parseUnixEndpoint('unix+dgram:/tmp/log.sock');
 * ```
 */
export interface UnixEndpoint extends UnixAddress {
  /** `'stream'`, `'dgram'` or `'seqpacket'`, from the URL's scheme. */
  type: UnixSocketType;
}

const SCHEMES: Record<string, UnixSocketType> = { 'unix:': 'stream', 'unix+dgram:': 'dgram', 'unix+seqpacket:': 'seqpacket' };

/**
 * Parses the endpoint strings of the API, the CLI and the docs: `unix:/path`, `unix:@abstract`,
 * `unix+dgram:/path`, `unix+seqpacket:@name` (also with `//`: `unix:///path`). The address is
 * validated like every other (length limit, NUL, abstract off Linux).
 *
 * @example
 * ```ts
 * const ep = parseUnixEndpoint('unix+seqpacket:@my-app'); // { type: 'seqpacket', abstract: 'my-app' }
 * const server = await UnixServer.listen(ep);
 * ```
 */
export function parseUnixEndpoint(url: string): UnixEndpoint {
  if (typeof url !== 'string') throw invalidArgType('url', 'of type string', url);
  const colon = url.indexOf(':');
  const type = colon > 0 ? SCHEMES[url.slice(0, colon + 1).toLowerCase()] : undefined;
  if (!type) {
    throw new IpcError('ERR_IPC_NAME_INVALID', `not a unix socket endpoint: ${JSON.stringify(url)} (unix:, unix+dgram:, unix+seqpacket:)`, { url });
  }
  const addr: UnixAddress = unixAddressFromText(url.slice(colon + 1));
  encodeAddress(addr, 'url');
  return { type, ...addr };
}
