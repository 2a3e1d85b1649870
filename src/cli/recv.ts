// ipckit recv <endpoint>: print what arrives, like socat's reading side. It creates (and afterwards
// removes) what it listens on: the FIFO, the queue, the socket.
import { Command, Option } from 'commander';
import { openIncoming } from './endpoint.js';
import { CliError } from './output.js';

interface RecvFlags {
  count?: string;
  timeout?: string;
  framed?: boolean;
  json?: boolean;
  type?: string;
  codec?: 'raw' | 'json' | 'msgpack' | 'v8';
  channel?: boolean;
}

export function recvCommand(): Command {
  return new Command('recv')
    .description('print messages arriving at an endpoint (created if absent, removed after)')
    .argument('<endpoint>', 'fifo:/path, mq:/name, sysvmq:0xKEY, unix:/path, unix:@name, unix+dgram:…, unix+seqpacket:…, tcp://h:p, udp://h:p, shm:/name, nats://h:p/subject')
    .option('--count <n>', 'stop after n messages (on byte streams: n lines)')
    .option('--timeout <ms>', 'fail if nothing arrives for this many ms')
    .option('--framed', 'fifo: read length-prefixed frames instead of raw bytes')
    .option('--json', 'one JSON object per message: {"data": "...", "bytes": n}')
    .option('--type <n>', 'sysvmq: msgrcv type (0 any, > 0 that type, < 0 lowest type <= |n|)')
    .addOption(new Option('--codec <codec>', 'speak the ipckit Channel protocol with this codec').choices(['raw', 'json', 'msgpack', 'v8']))
    .option('--channel', 'speak the ipckit Channel protocol (always for shm: and nats:)')
    .action(async (endpoint: string, f: RecvFlags) => {
      const count = f.count === undefined ? Infinity : Number(f.count);
      if (!(count > 0) || !Number.isInteger(count === Infinity ? 1 : count)) throw new CliError(`--count: not a positive integer: ${f.count}`, 2);
      const timeout = f.timeout === undefined ? undefined : Number(f.timeout);
      if (timeout !== undefined && !(timeout > 0)) throw new CliError(`--timeout: not a number of ms: ${f.timeout}`, 2);
      const type = f.type === undefined ? undefined : Number(f.type);
      if (type !== undefined && !Number.isInteger(type)) throw new CliError(`--type: not an integer: ${f.type}`, 2);
      const incoming = await openIncoming(endpoint, { framed: f.framed, type, codec: f.codec, channel: f.channel, count });
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
      const print = (m: Buffer, line: boolean) => {
        if (f.json) process.stdout.write(JSON.stringify({ data: m.toString('utf8'), bytes: m.length }) + '\n');
        else process.stdout.write(line ? m : Buffer.concat([m, Buffer.from('\n')]));
      };
      let n = 0;
      arm();
      try {
        if (!incoming.stream) {
          for await (const m of incoming.messages) {
            arm();
            print(m, false);
            if (++n >= count) break;
          }
        } else if (count === Infinity && !f.json) {
          for await (const chunk of incoming.messages) {
            arm();
            process.stdout.write(chunk);
          }
        } else {
          // Line mode: --count counts lines, --json prints one object per line.
          let rest = Buffer.alloc(0);
          outer: for await (const chunk of incoming.messages) {
            arm();
            rest = Buffer.concat([rest, chunk]);
            let i: number;
            while ((i = rest.indexOf(10)) >= 0) {
              print(f.json ? rest.subarray(0, i) : rest.subarray(0, i + 1), !f.json);
              rest = rest.subarray(i + 1);
              if (++n >= count) break outer;
            }
          }
          if (rest.length && n < count) print(rest, !f.json);
        }
      } catch (err) {
        if (!timedOut) throw err;
      } finally {
        clearTimeout(timer);
        await incoming.close();
      }
      if (timedOut) throw new CliError(`recv ${endpoint}: nothing arrived for ${timeout} ms`);
      // Sockets and servers may hold the loop (a pending accept): the work is done.
      process.exit(process.exitCode ?? 0);
    });
}
