#!/usr/bin/env node
// ipckit: the command line. A user of the public API and nothing else.
// Exit codes: 0 ok, 1 failure, 2 usage.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { lsCommand } from './ls.js';
import { rmCommand } from './rm.js';
import { sendCommand } from './send.js';
import { recvCommand } from './recv.js';
import { tourCommand } from './tour.js';
import { signalCommand } from './signal.js';
import { benchCommand } from './bench.js';
import { watchCommand } from './watch.js';
import { traceCommand } from './trace.js';
import { CliError, describeError } from './output.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const program = new Command('ipckit')
  .description('every Unix IPC mechanism, as real kernel objects, from Node.js')
  .version(version)
  .exitOverride()
  .showHelpAfterError();
for (const cmd of [tourCommand(), lsCommand(), rmCommand(), sendCommand(), recvCommand(), signalCommand(), benchCommand(), watchCommand(), traceCommand()]) {
  program.addCommand(cmd.exitOverride().showHelpAfterError());
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
    process.exitCode = ok ? 0 : 2;
  } else if (err instanceof CliError) {
    if (err.message) process.stderr.write(`ipckit: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`ipckit: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}
