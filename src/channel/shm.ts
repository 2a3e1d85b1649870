// shm:/name — a channel over two shared-memory rings, one peer per listener. Since layout version 2 the
// name is a rendezvous, not a segment: the listener serves the ring handshake of shm-server.ts on the
// abstract AF_UNIX address `@ipckit-shm:/name`, and the segment is a sealed memfd passed over that socket
// (docs/ring-format.md, "The handshake"). So nothing is ever named in /dev/shm, a killed process leaves
// nothing behind, a peer cannot truncate the segment, and a peer's death is the socket closing (no pid is
// read from shared memory). Connecting to a name nobody listens on is ENOENT; a second connector is refused: the listener stops listening
// once its peer's handshake is done. Who may connect: processes of the listener's effective uid and root
// (abstract names have no file permissions), or what `allow` says.
import { IpcError, errno, errnoException } from '../errors.js';
import { DEFAULT_CAPACITY, FirstClientTransport, RingServer, RingTransport, connectRingPair, ringOptions } from './shm-server.js';
import { maxPayload } from './ring.js';
import { registerAdapter } from './transport.js';
import type { AllowRule } from '../socket.js';

/** The abstract socket address an shm:/name channel meets on. */
export function rendezvousUrl(name: string): string {
  const url = `shm+unix:@ipckit-shm:${name}`;
  if (Buffer.byteLength(url) - 'shm+unix:@'.length > 107) throw new IpcError('ERR_IPC_NAME_INVALID', `shm name too long for its rendezvous address: ${name}`, { name });
  return url;
}

registerAdapter('shm', {
  options: ['capacity', 'spinMicros', 'allow'],
  async listen(ep, opts) {
    const ro = ringOptions(opts);
    ro.capacity ??= DEFAULT_CAPACITY;
    const server = await RingServer.listen(rendezvousUrl(ep.name), { ...ro, signal: undefined, timeout: undefined, allow: opts.allow as AllowRule | undefined });
    return new FirstClientTransport(server, Math.min(opts.maxMessageSize, maxPayload(ro.capacity)));
  },
  async connect(ep, opts) {
    try {
      return new RingTransport(await connectRingPair(rendezvousUrl(ep.name), ringOptions(opts)));
    } catch (err) {
      // Nobody listens on the name: say so in the name's terms (the socket is an implementation detail).
      if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED') throw errnoException(errno('ENOENT'), 'connect', ep.name);
      throw err;
    }
  },
});
