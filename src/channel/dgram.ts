// unix+dgram:/path and unix+dgram:@name — AF_UNIX datagrams through ipckit's UnixSocket. Unlike UDP, a
// Unix datagram is never lost or reordered, and a full receiver makes the sender wait (backpressure).
// `listen` binds the address; its peer is the sender of the first datagram (connect autobinds an
// abstract address, so it can be answered), and its own sends wait until that peer is known. `connect`
// connects a socket to the address. Each datagram is a tag byte and the payload (record.ts). There is
// no connection: a listener does not notice that its peer died; a connector whose listener is gone gets
// ECONNREFUSED, reported as ERR_IPC_PEER_DEAD.
//
// One peer, and nobody's datagram dropped unsaid. A connector binds its socket to a claim name derived
// from the listener's address (an abstract name: exclusive, and released by the kernel when the socket
// closes or its process dies), so a second ipckit connector fails at connect with ERR_IPC_BUSY before
// it sends anything. Once the listener knows its peer it connect(2)s its socket to it, so the kernel
// refuses anybody else's connect and send with EPERM (unix_may_send), reported as ERR_IPC_BUSY too.
// Datagrams another (non-ipckit) sender sent before that are answered with a refusal record (record.ts).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { AbortError } from '../errors.js';
import { UnixSocket, type UnixMessage } from '../socket.js';
import { euid } from '../internal/owner.js';
import type { WaitOptions } from '../internal/validate.js';
import type { Endpoint } from './endpoint.js';
import { cutRecord, RecordTransport, REFUSED, type RecordCarrier } from './record.js';
import { busy, peerGone, registerAdapter } from './transport.js';
import { listenerOptions } from './unix.js';

type DgramEndpoint = Extract<Endpoint, { transport: 'unix+dgram' }>;

function address(ep: DgramEndpoint): { path: string } | { abstract: string } {
  return ep.abstract ? { abstract: ep.path } : { path: ep.path };
}

/**
 * The abstract name a connector of this listener binds: one per listening socket and user (a path is
 * named by its file's device and inode, so two spellings of one path claim the same name).
 */
function claimName(ep: DgramEndpoint): string | undefined {
  let id = `@${ep.path}`;
  if (!ep.abstract) {
    const st = fs.statSync(ep.path, { throwIfNoEntry: false });
    if (!st) return undefined; // nothing there: connect(2) reports its own ENOENT
    id = `${st.dev}:${st.ino}`;
  }
  // Per user too: a stranger's connector (which `allow` would turn away) cannot hold our claim.
  return `ipckit.dgram-claim.${createHash('sha256').update(`${id}\0${euid()}`).digest('hex').slice(0, 40)}`;
}

/**
 * A send to the connected peer refused because its socket is gone (ECONNREFUSED) also makes the kernel
 * drop what this socket had not read yet (unix_dgram_disconnected in af_unix.c), and the peer's last
 * records, its goodbye among them, may go with it: a peer that closed on purpose would look dead, or
 * the receive would wait for records that can no longer come. So the socket reads ahead (records wait
 * in its own buffer, out of the kernel's reach), and once a send was refused, a receive that finds
 * nothing left says the peer is gone (closed or died: this end cannot tell any more).
 */
function disconnectable(what: string, sock: UnixSocket) {
  sock.on('readable', () => {});
  const gone = new AbortController();
  return {
    /** A send failed with `err`. */
    failed(err: unknown): void {
      if ((err as { code?: string }).code === 'ECONNREFUSED') gone.abort(err);
    },
    async receive(opts: WaitOptions = {}): Promise<UnixMessage | null> {
      // Once refused, what the socket buffered is all there will be: read it without waiting.
      if (gone.signal.aborted) {
        if (sock.readableLength === 0) throw peerGone(what, gone.signal.reason);
        return sock.receive(opts);
      }
      try {
        return await sock.receive({ ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, gone.signal]) : gone.signal });
      } catch (err) {
        if (err instanceof AbortError && gone.signal.aborted && !opts.signal?.aborted) throw peerGone(what, gone.signal.reason);
        throw err;
      }
    },
  };
}

function listenerCarrier(what: string, sock: UnixSocket): RecordCarrier {
  const link = disconnectable(what, sock);
  let peer: string | null = null;
  let connected = false;
  const waiting: Array<() => void> = [];
  const refused = new Set<string>();
  return {
    maxRecord: sock.maxMessageSize,
    async send(rec, opts) {
      // RecordTransport waits for the peer itself (with the send's { signal, timeout }); this is the
      // listener's own wait for its first datagram, which comes before the peer is known here.
      if (peer === null) await new Promise<void>((resolve) => waiting.push(resolve));
      if (peer === null) throw Object.assign(new Error('closed'), { code: 'ERR_IPC_CLOSED' });
      await sock.send(rec, { ...(connected ? {} : { to: peer }), signal: opts?.signal, timeout: opts?.timeout }).catch((err) => {
        link.failed(err);
        throw err;
      });
    },
    async goodbye(rec) {
      if (peer !== null) await sock.send(rec, connected ? {} : { to: peer });
    },
    async receive(opts) {
      for (;;) {
        const m = await link.receive(opts);
        if (m === null) return null;
        for (const fd of m.fds) fd.close();
        if (m.truncated && (peer === null || m.from === peer)) throw cutRecord(m.data.byteLength);
        if (m.from === null) continue; // an unnamed sender cannot be answered: not a channel peer
        if (peer === null) {
          peer = m.from;
          // From now on the kernel refuses everybody else (EPERM at their connect or send). A peer that
          // sent and closed before we read it cannot be connected to (ECONNREFUSED): its datagrams
          // are still delivered, and answers go to its address.
          try {
            sock.connectTo(peer);
            connected = true;
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (code !== 'ECONNREFUSED' && code !== 'ENOENT') throw err;
          }
          for (const f of waiting.splice(0)) f();
        } else if (m.from !== peer) {
          // Sent before we had a peer: tell that sender, once, that nothing of it is delivered.
          if (!refused.has(m.from)) {
            refused.add(m.from);
            sock.send(Buffer.from([REFUSED]), { to: m.from, timeout: 1000 }).catch(() => {});
          }
          continue;
        }
        return m.data;
      }
    },
    async close() {
      for (const f of waiting.splice(0)) f();
      await sock.close();
    },
  };
}

function connectorCarrier(ep: DgramEndpoint, sock: UnixSocket): RecordCarrier {
  const refusedByKernel = (err: unknown) => (err as { code?: string }).code === 'EPERM';
  const link = disconnectable(`channel ${ep.url}`, sock);
  return {
    maxRecord: sock.maxMessageSize,
    async send(rec, opts) {
      try {
        await sock.send(rec, { signal: opts?.signal, timeout: opts?.timeout });
      } catch (err) {
        if (refusedByKernel(err)) throw busy(ep.url, 'the listener is connected to another peer');
        link.failed(err);
        throw err;
      }
    },
    async receive(opts) {
      const m = await link.receive(opts);
      if (m === null) return null;
      for (const fd of m.fds) fd.close();
      if (m.truncated) throw cutRecord(m.data.byteLength);
      return m.data;
    },
    close: () => sock.close(),
  };
}

registerAdapter('unix+dgram', {
  options: ['allow', 'mode'],
  async listen(ep, opts) {
    const sock = await UnixSocket.create({ ...address(ep), type: 'dgram', receiveFds: false, ...listenerOptions(opts) });
    return new RecordTransport(`channel ${ep.url}`, listenerCarrier(`channel ${ep.url}`, sock), opts.maxMessageSize, sock.maxMessageSize);
  },
  async connect(ep, opts) {
    let sock: UnixSocket;
    const claim = claimName(ep);
    try {
      sock = await UnixSocket.connect({ ...address(ep), type: 'dgram', receiveFds: false, ...(claim ? { bindTo: { abstract: claim } } : {}) });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE') throw busy(ep.url, 'another connector holds its claim name');
      if (code === 'EPERM') throw busy(ep.url, 'the listener is connected to another peer');
      throw err;
    }
    return new RecordTransport(`channel ${ep.url}`, connectorCarrier(ep, sock), opts.maxMessageSize, sock.maxMessageSize);
  },
});
