// The CLI owns what it makes until it exits, however it exits. A command registers each object it
// creates (a queue, a segment, a socket file, a child process) with own(); when the process is told to
// end — SIGINT, SIGTERM, SIGHUP, or a reader that went away (EPIPE on stdout or stderr) — every owned
// object is released, newest first, within a bounded time, and then the process ends the conventional
// way: the same signal is raised again with its default action, so the parent sees a death by that
// signal (a shell shows 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP).
//
// EPIPE ends quietly, like cat(1): no message, no stack, and a death by SIGPIPE (status 141 in a shell,
// which `set -o pipefail` reports exactly as it reports `cat file | head -1`). Node ignores SIGPIPE, so
// the write fails with EPIPE instead of killing us; we clean up and then take the death cat would have had.
//
// Signal handlers are installed with the first owned object, not before: a command that owns nothing
// (`signal watch SIGINT`) keeps Node's own behaviour and its own listeners.
import os from 'node:os';
import { bounded } from '../internal/wait.js';

interface Owned {
  what: string;
  release: () => unknown;
}

const owned = new Set<Owned>();
const ENDING = new AbortController();
let handlersInstalled = false;
let ended: NodeJS.Signals | undefined;

/** How long the objects together may take to be released when the process is told to end. */
const RELEASE_MS = 3000;

/**
 * Registers an object the command made; `release` removes it (close and unlink, kill a child). Returns
 * the function that hands the object back (once it was released normally, or given away).
 */
export function own(what: string, release: () => unknown): () => void {
  installSignalHandlers();
  const o: Owned = { what, release };
  owned.add(o);
  return () => {
    owned.delete(o);
  };
}

/** Aborted when the process has been told to end (a signal, or stdout gone): long waits may stop early. */
export const ending: AbortSignal = ENDING.signal;

/** Whether the process is ending on a signal or EPIPE (then no command should exit or print on its own). */
export function isEnding(): boolean {
  return ended !== undefined;
}

/** Releases every owned object, newest first, within RELEASE_MS in all. Errors are swallowed: we are leaving. */
export async function releaseAll(ms = RELEASE_MS): Promise<void> {
  const list = [...owned].reverse();
  owned.clear();
  const deadline = Date.now() + ms;
  for (const o of list) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      await bounded(Promise.resolve().then(o.release), { timeout: left }, `releasing ${o.what}`);
    } catch {
      // Already gone, removed by someone else, or out of time: nothing left to do for it.
    }
  }
}

/**
 * Exits with `code` unless the process is already ending on a signal or EPIPE (then the end in progress
 * decides the status, and this does nothing).
 */
export function exit(code: number): void {
  if (ended === undefined) process.exit(code);
}

async function end(sig: NodeJS.Signals): Promise<void> {
  if (ended !== undefined) {
    // Told twice (a second Ctrl-C while cleaning up): the user insists.
    if (sig !== 'SIGPIPE') die(sig);
    return;
  }
  ended = sig;
  // What fails now is the work being torn down (a child we killed, a queue we removed under a pending
  // receive): not news, and it must not end the process with a stack and status 1 before the release.
  process.on('unhandledRejection', () => {});
  process.on('uncaughtException', () => {});
  ENDING.abort();
  await releaseAll();
  die(sig);
}

function die(sig: NodeJS.Signals): void {
  // Remove our listener, and for SIGPIPE (which Node ignores) add and remove one: when a signal has no
  // listener left, libuv restores its default action, and raising it then ends the process by it.
  process.removeAllListeners(sig);
  if (sig === 'SIGPIPE') {
    const noop = () => {};
    process.on(sig, noop);
    process.off(sig, noop);
  }
  try {
    process.kill(process.pid, sig);
  } catch {
    // fall through to the exit below
  }
  // Should the signal not end us (a runtime that keeps its own handler), leave with the status a shell
  // would have shown for it.
  setTimeout(() => process.exit(128 + (os.constants.signals[sig] ?? 0)), 200);
}

function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void end(sig));
}

/**
 * Called once by main.ts: a reader that goes away ends the command quietly (EPIPE, like cat), after the
 * owned objects are released. Other write errors on stdout are real failures and still reported.
 */
export function installPipeHandlers(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') {
        void end('SIGPIPE');
        return;
      }
      if (stream === process.stdout) {
        process.stderr.write(`ipckit: stdout: ${err.message}\n`);
        process.exitCode = 1;
        void releaseAll().then(() => process.exit(1));
      }
    });
  }
}

/** Whether stdout has gone away (for loops that would otherwise keep producing). */
export function stdoutGone(): boolean {
  return ended === 'SIGPIPE';
}

/** Owns a child process: it is SIGKILLed if we are told to end while it runs. */
export function ownChild<C extends { pid?: number; exitCode: number | null; signalCode: NodeJS.Signals | null; kill(sig: NodeJS.Signals): boolean; once(ev: 'exit', f: () => void): unknown }>(child: C): C {
  const disown = own(`child process ${child.pid}`, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.once('exit', disown);
  return child;
}
