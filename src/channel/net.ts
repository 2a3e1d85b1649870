// tcp://host:port through node:net: both directions on one connection, framed (stream.ts). `listen`
// binds at once and the channel is carried by the first peer that connects (accept.ts); `connect`
// resolves once connected. (unix: is unix.ts, through ipckit's own UnixServer and UnixSocket.)
import net from 'node:net';
import type { WaitOptions } from '../internal/validate.js';
import { waitUntil } from '../internal/wait.js';
import { AcceptingTransport } from './accept.js';
import type { Endpoint } from './endpoint.js';
import { StreamTransport } from './stream.js';
import { registerAdapter, type TransportOptions } from './transport.js';

type NetEndpoint = Extract<Endpoint, { transport: 'tcp' }>;

function address(ep: NetEndpoint): net.ListenOptions & net.NetConnectOpts {
  return { host: ep.host, port: ep.port };
}

function wrap(ep: NetEndpoint, s: net.Socket, max: number): StreamTransport {
  s.setNoDelay(true);
  return new StreamTransport(`channel ${ep.url}`, { readable: s, writable: s }, max);
}

async function listen(ep: NetEndpoint, opts: TransportOptions): Promise<AcceptingTransport> {
  const server = net.createServer({ pauseOnConnect: false, allowHalfOpen: false });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address(ep), () => {
      server.off('error', reject);
      resolve();
    });
  });
  let url = ep.url;
  const a = server.address();
  if (a && typeof a === 'object') {
    url = `tcp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }
  return new AcceptingTransport(`channel ${url}`, url, server, opts.maxMessageSize, (s) => wrap(ep, s, opts.maxMessageSize));
}

function connect(ep: NetEndpoint, opts: TransportOptions & WaitOptions): Promise<StreamTransport> {
  return waitUntil<StreamTransport>(opts, `connect ${ep.url}`, (resolve, reject) => {
    const s = net.connect(address(ep));
    s.once('error', reject);
    s.once('connect', () => resolve(wrap(ep, s, opts.maxMessageSize)));
    return () => {
      s.off('error', reject);
      if (s.connecting) s.destroy(); // aborted or timed out (a failed connect is destroyed already)
    };
  });
}

registerAdapter('tcp', { listen, connect });
