/**
 * AF_UNIX sockets (unix(7)): section 6 of the classic IPC survey. Stream, datagram and seqpacket
 * sockets on filesystem paths and Linux abstract names, descriptor passing (SCM_RIGHTS) on every type,
 * and peer credentials (SO_PEERCRED, SCM_CREDENTIALS). TCP and UDP are Node's own `net` and `dgram`.
 *
 * This file is the mechanism's entry; its parts are in socket/:
 * - `address.ts`: socket types, addresses and their sun_path bytes, endpoint URLs (`parseUnixEndpoint`);
 * - `file.ts`: the socket file a bind makes (mode, dead-file replacement, unlink only if still ours);
 * - `unix-socket.ts`: `UnixSocket` (the Duplex, send/receive with descriptors) and `ReceivedFd`;
 * - `unix-server.ts`: `UnixServer` (listen, accept, `allow`).
 *
 * @module
 */
export {
  UNIX_PATH_MAX,
  parseUnixEndpoint,
  type UnixSocketType,
  type UnixAddress,
  type UnixAddressLike,
  type UnixEndpoint,
} from './socket/address.js';
export {
  UnixSocket,
  ReceivedFd,
  MAX_FDS_PER_MESSAGE,
  type UnixMessage,
  type Credentials,
  type AllowRule,
  type UnixSocketOptions,
  type ConnectOptions,
  type BindOptions,
  type SendOptions,
} from './socket/unix-socket.js';
export { UnixServer, type ListenOptions } from './socket/unix-server.js';
