// unix+seqpacket:/path and unix+seqpacket:@name — AF_UNIX SOCK_SEQPACKET through ipckit's UnixSocket:
// connection-oriented like a stream socket, but the kernel keeps record boundaries, so there is no
// framing to parse (record.ts adds one tag byte). `listen` binds at once and the channel is carried by
// the first connection accepted (later ones are refused); `connect` resolves once connected. The
// largest message is the socket's send buffer less a little (UnixSocket.maxMessageSize) less the tag.
import { UnixServer, UnixSocket } from '../socket.js';
import type { Endpoint } from './endpoint.js';
import { cutRecord, RecordTransport, type RecordCarrier } from './record.js';
import { registerAdapter } from './transport.js';
import { listenerOptions } from './unix.js';

type SeqEndpoint = Extract<Endpoint, { transport: 'unix+seqpacket' }>;

function address(ep: SeqEndpoint): { path: string } | { abstract: string } {
  return ep.abstract ? { abstract: ep.path } : { path: ep.path };
}

function carrier(sock: UnixSocket): RecordCarrier {
  return {
    maxRecord: sock.maxMessageSize,
    send: (rec, opts) => sock.send(rec, { signal: opts?.signal, timeout: opts?.timeout }),
    receive: async (opts) => {
      const m = await sock.receive(opts);
      if (m !== null && m.truncated) throw cutRecord(m.data.byteLength);
      return m?.data ?? null;
    },
    close: () => sock.close(),
  };
}

registerAdapter('unix+seqpacket', {
  options: ['allow', 'mode'],
  async listen(ep, opts) {
    const server = await UnixServer.listen({ ...address(ep), type: 'seqpacket', ...listenerOptions(opts) });
    let closed = false;
    const accepted = server.accept().then(async (sock) => {
      // One peer per channel: stop listening (and free the path) once it is here.
      await server.close();
      if (closed) {
        await sock.close();
        throw new Error('closed');
      }
      return carrier(sock);
    });
    // Until a peer connects, the record limit is what a fresh seqpacket socket would allow.
    const probe = UnixSocket.pair('seqpacket');
    const maxRecord = probe[0].maxMessageSize;
    await Promise.all(probe.map((s) => s.close()));
    return new RecordTransport(`channel ${ep.url}`, accepted, opts.maxMessageSize, maxRecord, async () => {
      closed = true;
      await server.close();
    });
  },
  async connect(ep, opts) {
    const sock = await UnixSocket.connect({ ...address(ep), type: 'seqpacket' });
    return new RecordTransport(`channel ${ep.url}`, carrier(sock), opts.maxMessageSize, sock.maxMessageSize);
  },
});
