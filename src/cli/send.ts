// ipckit send <endpoint> [data]: one message (stdin when no data), like socat's writing side.
import { Command, Option } from 'commander';
import { openOutgoing } from './endpoint.js';
import { CliError } from './output.js';

interface SendFlags {
  framed?: boolean;
  newline?: boolean;
  timeout?: string;
  priority?: string;
  type?: string;
  codec?: 'raw' | 'json' | 'msgpack' | 'v8';
  channel?: boolean;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`${name}: expected an integer from ${min} to ${max}, got ${v}`, 2);
  return n;
}

export function sendCommand(): Command {
  return new Command('send')
    .description('send one message to an endpoint; data from the argument or stdin')
    .argument('<endpoint>', 'fifo:/path, mq:/name, sysvmq:0xKEY, unix:/path, unix:@name, unix+dgram:…, unix+seqpacket:…, tcp://h:p, udp://h:p, shm:/name, nats://h:p/subject')
    .argument('[data]', 'the message (default: all of stdin)')
    .option('--framed', 'fifo: send a length-prefixed frame instead of raw bytes')
    .option('-n, --no-newline', 'do not append a newline to a data argument on byte streams')
    .option('--priority <n>', 'mq: message priority (0..32767)')
    .option('--type <n>', 'sysvmq: message type (> 0, default 1)')
    .addOption(new Option('--codec <codec>', 'speak the ipckit Channel protocol with this codec (data is JSON for json/msgpack/v8)').choices(['raw', 'json', 'msgpack', 'v8']))
    .option('--channel', 'speak the ipckit Channel protocol (always for shm: and nats:)')
    .option('--timeout <ms>', 'give up waiting (for a reader, for room) after this many ms')
    .action(async (endpoint: string, data: string | undefined, f: SendFlags) => {
      const timeout = int('--timeout', f.timeout, 0, 2 ** 31 - 1);
      const priority = int('--priority', f.priority, 0, 32767);
      const type = int('--type', f.type, 1, 2 ** 31 - 1);
      let payload = data === undefined ? await readStdin() : Buffer.from(data);
      const byteStream = /^(fifo:|unix:|tcp:)/.test(endpoint) && !f.framed && !f.channel && !f.codec;
      if (data !== undefined && f.newline !== false && byteStream) payload = Buffer.concat([payload, Buffer.from('\n')]);
      const out = await openOutgoing(endpoint, { framed: f.framed, priority, type, codec: f.codec, channel: f.channel, timeout });
      try {
        await out.send(payload);
      } finally {
        await out.close();
      }
    });
}
