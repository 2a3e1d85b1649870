// ipckit recv <endpoint>: print what arrives, like socat's reading side.
import { Command } from 'commander';
import { Fifo, readFrames } from '../index.js';
import { parseFifo } from './endpoint.js';
import { CliError } from './output.js';

export interface RecvOptions {
  count?: string;
  timeout?: string;
  framed?: boolean;
  json?: boolean;
}

export function recvCommand(): Command {
  return new Command('recv')
    .description('print messages arriving at an endpoint (fifo:/path: created if absent, removed after)')
    .argument('<endpoint>', 'where to receive, e.g. fifo:/tmp/x')
    .option('--count <n>', 'stop after n messages (raw fifo: n lines)')
    .option('--timeout <ms>', 'fail if nothing arrives for this many ms')
    .option('--framed', 'read length-prefixed frames instead of raw bytes (fifo:)')
    .option('--json', 'one JSON object per message: {"data": "...", "bytes": n}')
    .action(async (endpoint: string, opts: RecvOptions) => {
      const count = opts.count === undefined ? Infinity : Number(opts.count);
      if (!(count > 0)) throw new CliError(`--count: not a positive number: ${opts.count}`, 2);
      const timeout = opts.timeout === undefined ? undefined : Number(opts.timeout);
      if (timeout !== undefined && !(timeout > 0)) throw new CliError(`--timeout: not a number of ms: ${opts.timeout}`, 2);
      const fifo = parseFifo(endpoint);
      if (!fifo) throw new CliError(`unsupported endpoint ${endpoint} (this build supports fifo:)`, 2);
      await using f = await Fifo.openOrCreate(fifo.path);
      const reader = await f.openReader({ persistent: count !== Infinity });
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      const arm = () => {
        if (timeout === undefined) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          timedOut = true;
          reader.destroy();
        }, timeout);
      };
      const print = (m: Buffer) => {
        if (opts.json) process.stdout.write(JSON.stringify({ data: m.toString('utf8'), bytes: m.length }) + '\n');
        else process.stdout.write(opts.framed ? Buffer.concat([m, Buffer.from('\n')]) : m);
      };
      let n = 0;
      arm();
      try {
        if (opts.framed) {
          for await (const m of readFrames(reader)) {
            arm();
            print(m);
            if (++n >= count) break;
          }
        } else if (count === Infinity && !opts.json) {
          for await (const chunk of reader) {
            arm();
            process.stdout.write(chunk as Buffer);
          }
        } else {
          // Line mode: --count counts lines, --json prints one object per line.
          let rest = Buffer.alloc(0);
          outer: for await (const chunk of reader) {
            arm();
            rest = Buffer.concat([rest, chunk as Buffer]);
            let i: number;
            while ((i = rest.indexOf(10)) >= 0) {
              print(opts.json ? rest.subarray(0, i) : rest.subarray(0, i + 1));
              rest = rest.subarray(i + 1);
              if (++n >= count) break outer;
            }
          }
          if (rest.length && n < count) print(rest);
        }
      } catch (err) {
        if (!timedOut) throw err;
      } finally {
        clearTimeout(timer);
        await reader.close();
      }
      if (timedOut) throw new CliError(`recv ${endpoint}: nothing arrived for ${timeout} ms`);
    });
}
