// fifo:/path — a named pipe carries one direction only (fifo(7)). `listen` is the receiving end: it makes
// the FIFO if the path is free (and removes it on close), or uses the FIFO already there, and opens it for
// reading; `connect` is the sending end and waits (without a thread, see Fifo.openWriter) until a reader
// has it open. For both directions use two FIFOs, or a socket. A FIFO owned by another user (or reached
// through another user's symlink) is refused unless `allowForeignOwner: true`.
import fs from 'node:fs';
import { Fifo } from '../pipe.js';
import { adoptOptions, registerAdapter } from './transport.js';
import { StreamTransport } from './stream.js';

registerAdapter('fifo', {
  options: ['allowForeignOwner'],
  async listen(ep, opts) {
    const adopt = adoptOptions(opts);
    const fifo = fs.existsSync(ep.path) ? await Fifo.openOrCreate(ep.path, adopt) : await Fifo.create(ep.path);
    try {
      const reader = await fifo.openReader();
      return new StreamTransport(`channel ${ep.url}`, { readable: reader, release: () => fifo.close() }, opts.maxMessageSize);
    } catch (err) {
      await fifo.close();
      throw err;
    }
  },
  async connect(ep, opts) {
    const writer = await Fifo.openWriter(ep.path, { signal: opts.signal, timeout: opts.timeout, ...adoptOptions(opts) });
    return new StreamTransport(`channel ${ep.url}`, { writable: writer }, opts.maxMessageSize);
  },
});
