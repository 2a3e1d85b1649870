// ipckit send <endpoint> [data]: one message (stdin when no data), like socat's writing side. With
// --json the data is what `recv --json` prints: one object per line, {"data", "encoding", "priority",
// "type"}, so that `ipckit recv A --json | ipckit send B --json` relays messages with their priority,
// type and binary payloads intact; one result object per message sent is printed.
import readline from 'node:readline';
import { Command, Option } from 'commander';
import { checkEndpoint, openOutgoing } from './endpoint.js';
import { own } from './lifetime.js';
import { foreignOwnerHint, parsed, usageError } from './output.js';
import { ENDPOINTS } from './recv.js';

interface SendFlags {
  framed?: boolean;
  newline?: boolean;
  timeout?: string;
  priority?: string;
  type?: string;
  codec?: 'raw' | 'json' | 'msgpack' | 'v8';
  channel?: boolean;
  json?: boolean;
  allowForeignOwner?: boolean;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function int(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw usageError(`${name}: expected an integer from ${min} to ${max}, got ${v}`);
  return n;
}

interface Outbound {
  data: Buffer;
  priority?: number;
  type?: number;
}

/** One line of `recv --json` output back into a message. */
function fromJson(line: string, n: number): Outbound {
  let o: { data?: unknown; encoding?: unknown; priority?: unknown; type?: unknown };
  try {
    o = JSON.parse(line);
  } catch (err) {
    throw usageError(`--json: message ${n} is not JSON: ${(err as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || typeof o.data !== 'string') throw usageError(`--json: message ${n} needs "data" (a string)`);
  if (o.encoding !== undefined && o.encoding !== 'utf8' && o.encoding !== 'base64') throw usageError(`--json: message ${n}: "encoding" is utf8 or base64, not ${JSON.stringify(o.encoding)}`);
  return {
    data: Buffer.from(o.data, o.encoding === 'base64' ? 'base64' : 'utf8'),
    priority: int(`--json: message ${n}: "priority"`, o.priority, 0, 32767),
    type: int(`--json: message ${n}: "type"`, o.type, 1, 2 ** 31 - 1),
  };
}

export function sendCommand(): Command {
  return new Command('send')
    .description('send one message to an endpoint; data from the argument or stdin (--json: messages as recv --json prints them)')
    .argument('<endpoint>', ENDPOINTS)
    .argument('[data]', 'the message (default: all of stdin; with --json: one JSON object per line)')
    .option('--framed', 'fifo: send a length-prefixed frame instead of raw bytes')
    .option('-n, --no-newline', 'do not append a newline to a data argument on byte streams')
    .option('--priority <n>', 'mq: message priority (0..32767)')
    .option('--type <n>', 'sysvmq: message type (> 0, default 1)')
    .addOption(new Option('--codec <codec>', 'speak the ipckit Channel protocol with this codec (data is JSON for json/msgpack/v8)').choices(['raw', 'json', 'msgpack', 'v8']))
    .option('--channel', 'speak the ipckit Channel protocol (always for shm: and nats:)')
    .option('--timeout <ms>', 'give up waiting (for a reader, for room) after this many ms')
    .option('--allow-foreign-owner', 'fifo:, mq:, sysvmq: send to one another user owns (refused by default: whoever owns it can read and forge what goes through)')
    .option('--json', 'data is {"data", "encoding", "priority", "type"} per line, as recv --json prints; print one result object per message')
    .action(async (endpoint: string, data: string | undefined, f: SendFlags) => {
      const timeout = int('--timeout', f.timeout, 0, 2 ** 31 - 1);
      const priority = int('--priority', f.priority, 0, 32767);
      const type = int('--type', f.type, 1, 2 ** 31 - 1);
      const ep = parsed(endpoint, () => checkEndpoint(endpoint));
      const byteStream = (ep.transport === 'fifo' || ep.transport === 'unix' || ep.transport === 'tcp') && !f.framed && !f.channel && !f.codec;
      // --json from stdin is a stream of messages, sent as each line arrives (a relay from recv --json);
      // otherwise the message is the argument, or all of stdin.
      let messages: Iterable<Outbound> | AsyncIterable<Outbound>;
      if (f.json && data === undefined) {
        messages = (async function* () {
          let n = 0;
          for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
            if (line.trim() !== '') yield fromJson(line, ++n);
          }
          if (n === 0) throw usageError('--json: no message on stdin');
        })();
      } else if (f.json) {
        const list = data!.split('\n').filter((l) => l.trim() !== '').map((l, i) => fromJson(l, i + 1));
        if (list.length === 0) throw usageError('--json: no message given');
        messages = list;
      } else {
        messages = [{ data: data === undefined ? await readStdin() : Buffer.from(data) }];
      }
      // A line per message on byte streams: for an argument (as echo does), and for each --json message
      // (recv --json takes one object per line, without its newline).
      const newline = f.newline !== false && byteStream && (data !== undefined || f.json === true);
      const out = await openOutgoing(endpoint, { framed: f.framed, priority, type, codec: f.codec, channel: f.channel, timeout, allowForeignOwner: f.allowForeignOwner }).catch((err) => {
        throw foreignOwnerHint(err);
      });
      const disown = own(endpoint, () => out.close());
      try {
        for await (const m of messages) {
          const payload = newline ? Buffer.concat([m.data, Buffer.from('\n')]) : m.data;
          const p = m.priority ?? priority;
          const ty = m.type ?? type;
          await out.send(payload, { priority: p, type: ty });
          if (f.json) {
            const r: Record<string, unknown> = { to: endpoint, bytes: m.data.length };
            if (p !== undefined && ep.transport === 'mq') r.priority = p;
            if (ep.transport === 'sysvmq') r.type = ty ?? 1;
            process.stdout.write(JSON.stringify(r) + '\n');
          }
        }
      } finally {
        await out.close();
        disown();
      }
    });
}
