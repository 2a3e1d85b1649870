// Shared test helpers: unique names, temporary paths, real peers (C programs compiled here, Python,
// shell, child Node processes). Every helper that creates something registers its cleanup on the test.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The repository root (this file is dist/test/helpers/index.js once compiled). */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A compiled child script: test/fixtures/NAME.ts → dist/test/fixtures/NAME.js. */
export function childScript(name: string): string {
  return path.join(root, 'dist/test/fixtures', `${name}.js`);
}

let counter = 0;

/** A POSIX IPC name unique to this process and call: /ipckit-test-<pid>-<n>. */
export function uniqueName(tag = 'test'): string {
  return `/ipckit-${tag}-${process.pid}-${++counter}`;
}

/** A System V key unique enough for one test run (pid-derived, never IPC_PRIVATE). */
export function uniqueKey(): number {
  return ((process.pid & 0xffff) << 12) | (++counter & 0xfff) | 0x10000000;
}

/** A fresh temporary directory, removed after the test. */
export function tmpDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const ccCache = path.join(os.tmpdir(), `ipckit-cc-${process.getuid?.() ?? 0}`);

/**
 * Compiles test/fixtures/c/NAME.c with cc (cached by content) and returns the binary's path.
 */
export async function compileC(name: string, extra: string[] = []): Promise<string> {
  const src = path.join(root, 'test/fixtures/c', `${name}.c`);
  const hash = createHash('sha256').update(fs.readFileSync(src)).update(extra.join(' ')).digest('hex').slice(0, 16);
  fs.mkdirSync(ccCache, { recursive: true });
  const bin = path.join(ccCache, `${name}-${hash}`);
  if (fs.existsSync(bin)) return bin;
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = await run('cc', ['-O2', '-Wall', '-o', tmp, src, '-lrt', '-lpthread', ...extra]);
  if (r.code !== 0) throw new Error(`cc ${name}.c failed:\n${r.stderr}`);
  fs.renameSync(tmp, bin);
  return bin;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string | Buffer } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {}); // a peer that exits without reading its input is not our failure
      child.stdin!.end(opts.input);
    }
  });
}

/** Starts a long-running peer; it is SIGKILLed after the test if still running. */
export function startPeer(t: TestContext, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], ...opts });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** Resolves with the first line the child prints on stdout (a peer saying it is ready). */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const i = buf.indexOf('\n');
      if (i >= 0) {
        child.stdout!.off('data', onData);
        resolve(buf.slice(0, i));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, sig) => reject(new Error(`peer exited (${code ?? sig}) before printing a line: ${buf}`)));
  });
}

/** Resolves with the child's exit code / signal. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The command prefix that runs a peer as the unprivileged user nobody (the suite runs as root). */
export const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
