// Names of kernel objects are validated before any syscall: a bad name must be a clear error, never a
// truncation or a different object than the one asked for.
import { IpcError, invalidArgType } from '../errors.js';

/**
 * A POSIX IPC name (shm_open(3), mq_open(3), sem_open(3)): one leading '/', then 1..max characters with
 * no '/' and no NUL (Linux keeps these objects as files of one directory: /dev/shm, /dev/mqueue). The
 * leading '/' may be omitted by the caller and is added. '.' and '..' are refused.
 */
export function posixName(kind: string, name: unknown, max = 255): string {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  const bare = name.startsWith('/') ? name.slice(1) : name;
  const bad = (why: string) =>
    new IpcError('ERR_IPC_NAME_INVALID', `invalid ${kind} name ${JSON.stringify(name)}: ${why}`, { path: name });
  if (bare.length === 0) throw bad('it is empty');
  if (bare.includes('/')) throw bad("it may not contain '/' after the leading one");
  if (bare.includes('\0')) throw bad('it may not contain NUL');
  if (bare === '.' || bare === '..') throw bad("'.' and '..' are not names");
  if (Buffer.byteLength(bare) > max) throw bad(`longer than ${max} bytes`);
  return '/' + bare;
}

/** A filesystem path for a FIFO or a socket: a non-empty string without NUL. */
export function fsPath(kind: string, path: unknown, max = 4095): string {
  if (typeof path !== 'string') throw invalidArgType('path', 'of type string', path);
  const bad = (why: string) =>
    new IpcError('ERR_IPC_NAME_INVALID', `invalid ${kind} path ${JSON.stringify(path)}: ${why}`, { path });
  if (path.length === 0) throw bad('it is empty');
  if (path.includes('\0')) throw bad('it may not contain NUL');
  if (Buffer.byteLength(path) > max) throw bad(`longer than ${max} bytes`);
  return path;
}
