// The one grammar of Unix socket addresses, for the socket mechanism (UnixSocket/UnixServer and
// parseUnixEndpoint), the Channel layer's endpoint parser and, through both, the CLI: what follows the
// scheme is `@name` (an abstract name, Linux) or a path, optionally after `//` (`unix:///run/x.sock`).
import { native } from '../native.js';
import { IpcError } from '../errors.js';

/** Longest socket path or abstract name in bytes, as the addon reports sun_path (108 with the NUL). */
export const UNIX_PATH_MAX: number = native.socketConstants.SUN_PATH_MAX - 1;

/** A path or an abstract name, exactly one. */
export type UnixAddressParts = { path: string; abstract?: undefined } | { abstract: string; path?: undefined };

/** ERR_IPC_NAME_INVALID for a socket path or abstract name: the name goes in `path` (`@name` when abstract). */
export function nameError(what: string, value: string, why: string, props: Record<string, unknown> = {}): IpcError {
  // The offending name goes in `path` (the project's convention), '@name' for an abstract one.
  return new IpcError('ERR_IPC_NAME_INVALID', `invalid socket ${what} ${JSON.stringify(value)}: ${why}`, {
    path: what === 'path' ? value : '@' + value,
    ...props,
  });
}

/** The address an endpoint's text after the scheme's colon names (`//` allowed before it). */
export function unixAddressFromText(rest: string): UnixAddressParts {
  const r = rest.startsWith('//') ? rest.slice(2) : rest;
  return r.startsWith('@') ? { abstract: r.slice(1) } : { path: r };
}

/**
 * Checks a path or an abstract name against what sun_path holds (never truncated: a truncated path is
 * a different socket, node#13670) and returns its bytes in sun_path.
 */
export function unixAddressBytes(addr: UnixAddressParts): Buffer {
  const limit = UNIX_PATH_MAX;
  if (addr.path !== undefined) {
    const { path } = addr;
    if (path.length === 0) throw nameError('path', path, 'it is empty');
    if (path.includes('\0')) throw nameError('path', path, 'it may not contain NUL');
    const bytes = Buffer.from(path, 'utf8');
    if (bytes.length > limit) {
      throw nameError('path', path, `it is ${bytes.length} bytes; sun_path holds at most ${limit} (108 including the NUL, unix(7))`, {
        limit,
        size: bytes.length,
      });
    }
    return bytes;
  }
  const { abstract } = addr;
  if (process.platform !== 'linux') {
    throw new IpcError('ERR_IPC_UNSUPPORTED', `abstract socket names exist only on Linux (this is ${process.platform})`);
  }
  if (abstract.length === 0) throw nameError('abstract name', abstract, 'it is empty');
  if (abstract.includes('\0')) throw nameError('abstract name', abstract, 'it may not contain NUL');
  const name = Buffer.from(abstract, 'utf8');
  if (name.length > limit) {
    throw nameError('abstract name', abstract, `it is ${name.length} bytes; an abstract name holds at most ${limit} (sun_path minus its leading NUL)`, {
      limit,
      size: name.length,
    });
  }
  return Buffer.concat([Buffer.alloc(1), name]);
}
