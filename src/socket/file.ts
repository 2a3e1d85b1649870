// The socket file a bind(2) on a path makes: its mode set before the bind so it is never more open than
// asked, a dead file (nobody listens) replaced while a live one is EADDRINUSE, and unlinked on close only
// while it is still the inode we bound.
import fs from 'node:fs';
import { native } from '../native.js';
import { check, errno } from '../errors.js';
import { setSocketFileMode } from '../internal/owner.js';
import { validateMode, validateOwnership } from '../internal/validate.js';
import { TYPE_CODE, encodeAddress, type Encoded, type UnixSocketType } from './address.js';
import type { BindOptions } from './unix-socket.js';

const EADDRINUSE = errno('EADDRINUSE');
const ECONNREFUSED = errno('ECONNREFUSED');
const ENOENT = errno('ENOENT');

/** The socket file we bound, by inode: what `unlinkOwned` may remove. */
export interface Owned {
  path: string;
  dev: number;
  ino: number;
}

/**
 * Unlinks the socket file if it is still the one we bound. Called BEFORE the descriptor is closed: once
 * it is closed, another process may bind a new socket at the same path, and unlinking then would delete
 * its socket (libuv, src/unix/pipe.c).
 */
export function unlinkOwned(owned: Owned | undefined): void {
  if (!owned) return;
  try {
    const st = fs.lstatSync(owned.path);
    if (st.dev === owned.dev && st.ino === owned.ino) fs.unlinkSync(owned.path);
  } catch {
    // Already gone (or replaced and then removed): nothing of ours to remove.
  }
}

/**
 * The leak guard's cleanup, made out here on purpose: closures created in one scope share its context,
 * and a constructor that also makes an arrow capturing `this` (the server's 'newListener' handler)
 * would hand a cleanup written beside it that context: the object could never be collected, nor the
 * guard ever run.
 */
export function releaser(owned: Owned | undefined, fd: number): () => void {
  return () => {
    unlinkOwned(owned);
    native.close(fd);
  };
}

/** Binds a new socket of `type` to the address in `opts` (see the file comment); the caller owns `fd`. */
export function bindSocket(type: UnixSocketType, opts: BindOptions): { fd: number; addr: Encoded; owned: Owned | undefined } {
  const addr = encodeAddress(opts);
  const mode = validateMode('options.mode', opts.mode ?? 0o600);
  const own = validateOwnership(opts, true);
  const fd = check(native.socket(TYPE_CODE[type]), 'socket');
  try {
    if (addr.path !== undefined) {
      // The socket file gets this inode's mode, minus the umask, at bind(2) itself: no window in which
      // it is more open than asked (verified on Linux: unix_bind uses SOCK_INODE(sock)->i_mode).
      check(native.fchmod(fd, mode), 'fchmod', addr.display);
    }
    let rc = native.bind(fd, addr.bytes);
    if (rc === EADDRINUSE && addr.path !== undefined && isDeadSocket(addr)) {
      fs.unlinkSync(addr.path);
      rc = native.bind(fd, addr.bytes);
    }
    check(rc, 'bind', addr.display);
    let owned: Owned | undefined;
    if (addr.path !== undefined) {
      // The umask can only have narrowed the mode: widen it to exactly what was asked, on the inode
      // (an O_PATH|O_NOFOLLOW descriptor checked to be a socket of ours), never through the path, which
      // anybody who can write the directory may have swapped for a symlink since bind(2).
      const st = setSocketFileMode(addr.path, mode);
      owned = { path: addr.path, dev: st.dev, ino: st.ino };
      if (!own) owned = undefined;
    }
    return { fd, addr, owned };
  } catch (err) {
    native.close(fd);
    throw err;
  }
}

/**
 * Whether the socket file at the path is dead: it is a socket and connecting to it is refused (nobody
 * bound it any more). Anything else — a live socket, a regular file — is left alone.
 */
function isDeadSocket(addr: Encoded): boolean {
  try {
    if (!fs.lstatSync(addr.path!).isSocket()) return false;
  } catch {
    return false;
  }
  // The probe is a datagram socket whatever the type: connect(2) then tells a dead file (ECONNREFUSED)
  // from a live socket (EPROTOTYPE for a stream or seqpacket one, success or EPERM for a datagram one)
  // without ever reaching a live server's accept queue. A probe of the server's own type would be
  // accepted by a live server as a connection that closes at once (unix_find_other, af_unix.c).
  const probe = native.socket(TYPE_CODE.dgram);
  if (probe < 0) return false;
  const rc = native.connect(probe, addr.bytes);
  native.close(probe);
  return rc === ECONNREFUSED || rc === ENOENT;
}
