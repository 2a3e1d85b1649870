#!/usr/bin/env node
// ipckit: the command line. A user of the public API and nothing else.
// Exit codes: 0 ok, 1 an operation failed, 2 usage (the arguments were wrong; nothing was tried).
// A command ended by SIGINT, SIGTERM or SIGHUP removes what it made and then dies by that signal (130,
// 143, 129 in a shell); a reader that goes away (EPIPE) ends it quietly, like cat (lifetime.ts).
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { lsCommand } from './ls.js';
import { rmCommand } from './rm.js';
import { sendCommand } from './send.js';
import { recvCommand } from './recv.js';
import { tourCommand } from './tour.js';
import { signalCommand } from './signal.js';
import { benchCommand } from './bench.js';
import { installPipeHandlers, isEnding, releaseAll } from './lifetime.js';
import { CliError, describeError } from './output.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

installPipeHandlers();

const program = new Command('ipckit')
  .description('every Unix IPC mechanism, as real kernel objects, from Node.js')
  .version(version)
  .exitOverride()
  .showHelpAfterError();

// The subcommands, one per line, in the order `ipckit --help` lists them.
const commands: Array<() => Command> = [
  tourCommand,
  lsCommand,
  rmCommand,
  sendCommand,
  recvCommand,
  signalCommand,
  benchCommand,
];
for (const make of commands) {
  const cmd = make();
  // Subcommands of subcommands too: a usage error anywhere reaches the catch below (exit 2) instead of
  // commander's own process.exit(1).
  for (const c of [cmd, ...cmd.commands]) c.exitOverride().showHelpAfterError();
  program.addCommand(cmd);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (isEnding()) {
    // A signal or EPIPE is ending the process; what failed on the way out is not news.
  } else if (err instanceof CommanderError) {
    const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code);
    process.exitCode = ok ? 0 : 2;
  } else if (err instanceof CliError) {
    if (err.message) process.stderr.write(`ipckit: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`ipckit: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
  // Whatever the command made and did not get to remove.
  if (!isEnding()) await releaseAll();
}
