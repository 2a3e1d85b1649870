// Permissions and owners of filesystem IPC objects (FIFOs, socket files), always on a descriptor.
//
// A path is a name anybody who can write its directory may swap between two syscalls; a descriptor is
// the inode itself. So a mode is set on a descriptor opened O_NOFOLLOW, after fstat says it is the kind
// of object we made and that it is ours (setCreatedMode). A socket file cannot be open(2)ed (ENXIO) and a
// FIFO's open would count as a reader or writer, so both are reached through an O_PATH descriptor and its
// /proc/self/fd magic link, which names that inode and is not resolved again (what glibc's
// fchmodat(AT_SYMLINK_NOFOLLOW) does).
import fs from 'node:fs';
import { IpcError, check, invalidArgType } from '../errors.js';
import { native } from '../native.js';

/** open(2) O_PATH (Linux, the same value on x86-64 and arm64); fs.constants does not carry it. */
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

/** Our effective uid (what the kernel compares an object's owner with). */
export function euid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * Options of every call that adopts an existing object (a queue, a FIFO, a segment somebody else may
 * have made).
 *
 * @example
 * ```ts
 * await MessageQueue.open('/shared', { allowForeignOwner: true });
 * ```
 */
export interface AdoptOptions {
  /**
   * Adopt an object owned by another user (default false: ERR_IPC_FOREIGN_OWNER). Whoever owns an
   * object can read what is sent into it, forge what comes out of it, and change its mode.
   */
  allowForeignOwner?: boolean;
}

export function foreignOwner(what: string, uid: number, props: Record<string, unknown> = {}): IpcError {
  return new IpcError(
    'ERR_IPC_FOREIGN_OWNER',
    `${what} is owned by uid ${uid}, not by us (euid ${euid()}); refused (allowForeignOwner: true adopts it anyway)`,
    { uid, euid: euid(), ...props },
  );
}

/** Throws ERR_IPC_FOREIGN_OWNER unless `uid` is ours or the caller allowed another owner. */
export function checkOwner(what: string, uid: number, opts: AdoptOptions | undefined, props: Record<string, unknown> = {}): void {
  const allow = opts?.allowForeignOwner;
  if (allow !== undefined && typeof allow !== 'boolean') {
    throw invalidArgType('options.allowForeignOwner', 'of type boolean', allow);
  }
  if (allow === true || uid === euid()) return;
  throw foreignOwner(what, uid, props);
}

/**
 * Sets the mode of a file we just made at `path` (a socket bound, a FIFO mkfifo'd) through an
 * O_PATH|O_NOFOLLOW descriptor and its /proc/self/fd link: a symlink swapped in since is refused (ELOOP),
 * and `expect(st)` throws unless fstat shows the kind we made; anybody else's file is
 * ERR_IPC_FOREIGN_OWNER (`what` names it). Never chmod'ed through the path. O_PATH opens no socket and
 * no pipe: a FIFO's descriptor does not count as a reader or a writer. Returns the inode found.
 */
export function setCreatedMode(path: string, mode: number, what: string, expect: (st: fs.Stats) => void): fs.Stats {
  const fd = check(native.open(path, O_PATH | fs.constants.O_NOFOLLOW | O_CLOEXEC, 0), 'open', path);
  try {
    const st = fs.fstatSync(fd);
    expect(st);
    if (st.uid !== euid()) throw foreignOwner(`${what} ${path}`, st.uid, { path });
    if ((st.mode & 0o7777) !== mode) fs.chmodSync(`/proc/self/fd/${fd}`, mode);
    return st;
  } finally {
    native.close(fd);
  }
}

/** setCreatedMode for the socket file we just bound at `path` (what close() will unlink is the inode returned). */
export function setSocketFileMode(path: string, mode: number): fs.Stats {
  return setCreatedMode(path, mode, 'socket file', (st) => {
    if (!st.isSocket()) throw new IpcError('ERR_IPC_NAME_INVALID', `${path} was replaced by something that is not a socket after bind(2); left untouched`, { path });
  });
}
