// unix:/path and unix:@abstract — an AF_UNIX stream socket through ipckit's UnixServer and UnixSocket:
// both directions on one connection, framed (stream.ts). `listen` binds at once and the channel is
// carried by the first peer that connects (accept.ts); `connect` resolves once connected.
//
// Not node:net, on purpose: node:net binds an abstract name as all 108 bytes of sun_path padded with
// NULs (nodejs/node#50889), a different name from the one every other program (socat, Python, C, our
// own UnixSocket) binds and connects with its exact length; and it creates the socket file with the
// process's umask (0755 at umask 022). UnixServer sets the mode on the socket before bind(2) (0600 by
// default, `mode` to change it), replaces a dead socket file left by a crashed listener (connect
// refused) and refuses a live one or anything that is not a socket with EADDRINUSE, removes the path
// it bound when it closes, and checks `allow` (SO_PEERCRED) before a byte of a peer is read.
import { UnixServer, UnixSocket, type AllowRule } from '../socket.js';
import { validateMode } from '../internal/validate.js';
import { abortError } from '../internal/wait.js';
import { AcceptingTransport, type ConnectionSource } from './accept.js';
import type { Endpoint } from './endpoint.js';
import { StreamTransport } from './stream.js';
import { registerAdapter } from './transport.js';

type UnixEndpoint = Extract<Endpoint, { transport: 'unix' }>;

export function unixAddress(ep: { path: string; abstract: boolean }): { path: string } | { abstract: string } {
  return ep.abstract ? { abstract: ep.path } : { path: ep.path };
}

/** The listener options every AF_UNIX channel takes: `allow` (UnixServer's rule) and `mode` (0600). */
export function listenerOptions(opts: Record<string, unknown>): { allow?: AllowRule; mode?: number } {
  const out: { allow?: AllowRule; mode?: number } = {};
  if (opts.allow !== undefined) out.allow = opts.allow as AllowRule; // validated by UnixServer / UnixSocket
  if (opts.mode !== undefined) out.mode = validateMode('options.mode', opts.mode);
  return out;
}

function wrap(ep: UnixEndpoint, s: UnixSocket, max: number): StreamTransport {
  return new StreamTransport(`channel ${ep.url}`, { readable: s, writable: s }, max);
}

function serverSource(server: UnixServer): ConnectionSource<UnixSocket> {
  return {
    onConnection(cb) {
      // The server reports accept failures (EMFILE...) as 'error' and goes on accepting; with no peer
      // yet there is nobody to tell, and the channel waits for its peer as before.
      server.on('error', () => {});
      server.on('connection', cb);
    },
    stop: () => server.close(),
    refuse: (s) => void s.close(),
  };
}

registerAdapter('unix', {
  options: ['allow', 'mode'],
  async listen(ep, opts) {
    const server = await UnixServer.listen({ ...unixAddress(ep), type: 'stream', ...listenerOptions(opts) });
    return new AcceptingTransport(`channel ${ep.url}`, ep.url, serverSource(server), opts.maxMessageSize, (s: UnixSocket) => wrap(ep, s, opts.maxMessageSize));
  },
  async connect(ep, opts) {
    const { signal } = opts;
    if (signal?.aborted) throw abortError(signal);
    // An AF_UNIX connect completes at once or fails at once (unix(7)): nothing to wait for. EAGAIN
    // (the listener's backlog is full) is reported as it is, as node:net does.
    return wrap(ep, await UnixSocket.connect({ ...unixAddress(ep), type: 'stream' }), opts.maxMessageSize);
  },
});
