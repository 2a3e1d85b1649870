// unix+dgram:/path and unix+dgram:@name — AF_UNIX datagrams through ipckit's UnixSocket. Unlike UDP, a
// Unix datagram is never lost or reordered, and a full receiver makes the sender wait (backpressure).
// `listen` binds the address; its peer is the sender of the first datagram (connect autobinds an
// abstract address, so it can be answered), and its own sends wait until that peer is known; datagrams
// from anybody else are ignored. `connect` connects a socket to the address. Each datagram is a tag
// byte and the payload (record.ts). There is no connection: a listener does not notice that its peer
// died; a connector whose listener is gone gets ECONNREFUSED, reported as ERR_IPC_PEER_DEAD.
import { UnixSocket } from '../socket.js';
import type { Endpoint } from './endpoint.js';
import { RecordTransport, type RecordCarrier } from './record.js';
import { registerAdapter } from './transport.js';
import { listenerOptions } from './unix.js';

type DgramEndpoint = Extract<Endpoint, { transport: 'unix+dgram' }>;

function address(ep: DgramEndpoint): { path: string } | { abstract: string } {
  return ep.abstract ? { abstract: ep.path } : { path: ep.path };
}

function listenerCarrier(sock: UnixSocket): RecordCarrier {
  let peer: string | null = null;
  const waiting: Array<() => void> = [];
  return {
    maxRecord: sock.maxMessageSize,
    async send(rec) {
      if (peer === null) await new Promise<void>((resolve) => waiting.push(resolve));
      if (peer === null) throw Object.assign(new Error('closed'), { code: 'ERR_IPC_CLOSED' });
      await sock.send(rec, { to: peer });
    },
    async goodbye(rec) {
      if (peer !== null) await sock.send(rec, { to: peer });
    },
    async receive(opts) {
      for (;;) {
        const m = await sock.receive(opts);
        if (m === null) return null;
        for (const fd of m.fds) fd.close();
        if (m.from === null) continue; // an unnamed sender cannot be answered: not a channel peer
        if (peer === null) {
          peer = m.from;
          for (const f of waiting.splice(0)) f();
        } else if (m.from !== peer) continue;
        return m.data;
      }
    },
    async close() {
      for (const f of waiting.splice(0)) f();
      await sock.close();
    },
  };
}

function connectorCarrier(sock: UnixSocket): RecordCarrier {
  return {
    maxRecord: sock.maxMessageSize,
    send: (rec) => sock.send(rec),
    async receive(opts) {
      const m = await sock.receive(opts);
      if (m === null) return null;
      for (const fd of m.fds) fd.close();
      return m.data;
    },
    close: () => sock.close(),
  };
}

registerAdapter('unix+dgram', {
  async listen(ep, opts) {
    const sock = await UnixSocket.create({ ...address(ep), type: 'dgram', receiveFds: false, ...listenerOptions(opts) });
    return new RecordTransport(`channel ${ep.url}`, listenerCarrier(sock), opts.maxMessageSize, sock.maxMessageSize);
  },
  async connect(ep, opts) {
    const sock = await UnixSocket.connect({ ...address(ep), type: 'dgram', receiveFds: false });
    return new RecordTransport(`channel ${ep.url}`, connectorCarrier(sock), opts.maxMessageSize, sock.maxMessageSize);
  },
});
