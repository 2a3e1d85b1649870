// ipckit recv <endpoint>: print what arrives, like socat's reading side. It creates what it listens on
// (the FIFO, the queue, the socket) when absent, and removes what it created however it ends: after
// --count, on --timeout, on Ctrl-C, SIGTERM or SIGHUP, or when its reader goes away (lifetime.ts).
import { Command, Option } from 'commander';
import { checkEndpoint, openIncoming, type Incoming, type Message } from './endpoint.js';
import { exit, isEnding, own } from './lifetime.js';
import { CliError, foreignOwnerHint, jsonData, parsed, usageError } from './output.js';
import { explainTaken } from './taken.js';

interface RecvFlags {
  count?: string;
  timeout?: string;
  framed?: boolean;
  json?: boolean;
  type?: string;
  codec?: 'raw' | 'json' | 'msgpack' | 'v8';
  channel?: boolean;
  allowForeignOwner?: boolean;
}

export const ENDPOINTS =
  'fifo:/path, mq:/name, sysvmq:0xKEY, unix:/path, unix:@name, unix+dgram:…, unix+seqpacket:…, tcp://h:p, udp://h:p, shm:/name, nats://h:p/subject';

export function recvCommand(): Command {
  return new Command('recv')
    .description('print messages arriving at an endpoint (created if absent, removed after, however recv ends)')
    .argument('<endpoint>', ENDPOINTS)
    .option('--count <n>', 'stop after n messages (on byte streams: n lines; a last line without a newline counts)')
    .option('--timeout <ms>', 'fail if nothing arrives for this many ms')
    .option('--framed', 'fifo: read length-prefixed frames instead of raw bytes')
    .option('--json', 'one JSON object per message: {"data", "encoding" (utf8 or base64), "bytes", "priority", "type", "sender"}')
    .option('--type <n>', 'sysvmq: msgrcv type (0 any, > 0 that type, < 0 lowest type <= |n|)')
    .addOption(new Option('--codec <codec>', 'speak the ipckit Channel protocol with this codec').choices(['raw', 'json', 'msgpack', 'v8']))
    .option('--channel', 'speak the ipckit Channel protocol (always for shm: and nats:)')
    .option('--allow-foreign-owner', 'fifo:, mq:, sysvmq: read from one another user made (refused by default: whoever owns it can read and forge what goes through)')
    .action(async (endpoint: string, f: RecvFlags) => {
      const count = f.count === undefined ? Infinity : Number(f.count);
      if (!(count > 0) || !Number.isInteger(count === Infinity ? 1 : count)) throw usageError(`--count: not a positive integer: ${f.count}`);
      const timeout = f.timeout === undefined ? undefined : Number(f.timeout);
      if (timeout !== undefined && !(timeout > 0)) throw usageError(`--timeout: not a number of ms: ${f.timeout}`);
      const type = f.type === undefined ? undefined : Number(f.type);
      if (type !== undefined && !Number.isInteger(type)) throw usageError(`--type: not an integer: ${f.type}`);
      parsed(endpoint, () => checkEndpoint(endpoint));

      // Owned from the moment the open starts: a signal that arrives while it is under way waits for it
      // (within lifetime.ts's bound) and then removes what it made.
      const opening = openIncoming(endpoint, { framed: f.framed, type, codec: f.codec, channel: f.channel, count, allowForeignOwner: f.allowForeignOwner });
      const disown = own(endpoint, async () => (await opening).close());
      let incoming: Incoming;
      try {
        incoming = await opening;
      } catch (err) {
        disown();
        const why = explainTaken(endpoint, err);
        if (why) throw new CliError(why, 1);
        throw foreignOwnerHint(err);
      }
      process.stderr.write(`listening on ${incoming.address}\n`);

      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      const arm = () => {
        if (timeout === undefined) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          timedOut = true;
          void incoming.close();
        }, timeout);
      };
      const emit = (m: Message, data: Buffer, newline: boolean) => {
        if (f.json) {
          const o: Record<string, unknown> = jsonData(data);
          if (m.priority !== undefined) o.priority = m.priority;
          if (m.type !== undefined) o.type = m.type;
          if (m.sender !== undefined) o.sender = m.sender;
          process.stdout.write(JSON.stringify(o) + '\n');
        } else process.stdout.write(newline ? Buffer.concat([data, Buffer.from('\n')]) : data);
      };
      let n = 0;
      arm();
      try {
        if (!incoming.stream) {
          for await (const m of incoming.messages) {
            arm();
            emit(m, m.data, true);
            if (++n >= count) break;
          }
        } else if (count === Infinity && !f.json) {
          // Byte for byte, like cat: nothing is added or held back.
          for await (const m of incoming.messages) {
            arm();
            if (m.data.length) process.stdout.write(m.data);
          }
        } else {
          // Line mode: --count counts lines, --json prints one object per line. A connection that ends
          // in the middle of a line still delivered that line: it is printed and counted.
          let rest: Buffer = Buffer.alloc(0);
          outer: for await (const m of incoming.messages) {
            arm();
            rest = rest.length ? Buffer.concat([rest, m.data]) : m.data;
            let i: number;
            while ((i = rest.indexOf(10)) >= 0) {
              emit(m, f.json ? rest.subarray(0, i) : rest.subarray(0, i + 1), false);
              rest = rest.subarray(i + 1);
              if (++n >= count) break outer;
            }
            if (m.end && rest.length) {
              emit(m, rest, false);
              rest = Buffer.alloc(0);
              if (++n >= count) break;
            }
          }
          if (rest.length && n < count) emit({ data: rest }, rest, false);
        }
      } catch (err) {
        if (!timedOut && !isEnding()) throw err;
      } finally {
        clearTimeout(timer);
        await incoming.close();
        disown();
      }
      if (isEnding()) return; // a signal or EPIPE: lifetime.ts decides how the process ends
      if (timedOut) throw new CliError(`recv ${endpoint}: nothing arrived for ${timeout} ms`);
      // Sockets and servers may hold the loop (a pending accept): the work is done.
      exit(Number(process.exitCode ?? 0));
    });
}
