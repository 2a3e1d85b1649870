// ipckit send <endpoint> [data]: one message (stdin when no data), like socat's writing side.
import { Command } from 'commander';
import { Fifo, writeFrame } from '../index.js';
import { parseFifo } from './endpoint.js';
import { CliError } from './output.js';

export interface SendOptions {
  framed?: boolean;
  newline?: boolean;
  timeout?: string;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export function sendCommand(): Command {
  return new Command('send')
    .description('send one message to an endpoint (fifo:/path); data from the argument or stdin')
    .argument('<endpoint>', 'where to send, e.g. fifo:/tmp/x')
    .argument('[data]', 'the message (default: all of stdin)')
    .option('--framed', 'send a length-prefixed frame instead of raw bytes (fifo:)')
    .option('-n, --no-newline', 'do not append a newline to a data argument (raw fifo: mode)')
    .option('--timeout <ms>', 'give up waiting for a reader after this many ms')
    .action(async (endpoint: string, data: string | undefined, opts: SendOptions) => {
      const timeout = opts.timeout === undefined ? undefined : Number(opts.timeout);
      if (timeout !== undefined && !(timeout >= 0)) throw new CliError(`--timeout: not a number of ms: ${opts.timeout}`, 2);
      let payload = data === undefined ? await readStdin() : Buffer.from(data);
      const fifo = parseFifo(endpoint);
      if (!fifo) throw new CliError(`unsupported endpoint ${endpoint} (this build supports fifo:)`, 2);
      if (data !== undefined && opts.newline !== false && !opts.framed) payload = Buffer.concat([payload, Buffer.from('\n')]);
      const writer = await Fifo.openWriter(fifo.path, { timeout });
      try {
        if (opts.framed) await writeFrame(writer, payload);
        else writer.write(payload);
      } finally {
        await writer.close();
      }
    });
}
