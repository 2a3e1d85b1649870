// Endpoint URLs as the CLI takes them. `fifo:` is handled here directly (a FIFO is a byte stream, and
// `recv fifo:` must work with a plain `echo > path` on the other side); the other schemes go through
// the channel layer.
import { CliError } from './output.js';

export interface FifoEndpoint {
  scheme: 'fifo';
  path: string;
}

export function parseFifo(url: string): FifoEndpoint | undefined {
  if (!url.startsWith('fifo:')) return undefined;
  const path = url.slice(5);
  if (!path) throw new CliError(`endpoint ${url}: expected fifo:/path/to/fifo`, 2);
  return { scheme: 'fifo', path };
}
