// Shared test helpers: unique names, temporary paths, real peers (C programs compiled here, Python,
// shell, child Node processes). Every helper that creates something registers its cleanup on the test.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAndAwaitDeath, mark, type Death, type Mark } from './death.js';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { native } from '../../src/native.js';

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
 * Compiles test/fixtures/c/NAME.c with cc, include/ (the package's C headers) on the include path, and
 * returns the binary's path. Cached by the contents of the source, the headers and the flags.
 */
export async function compileC(name: string, extra: string[] = []): Promise<string> {
  const src = path.join(root, 'test/fixtures/c', `${name}.c`);
  const include = path.join(root, 'include');
  const h = createHash('sha256').update(fs.readFileSync(src)).update(extra.join(' '));
  for (const f of fs.readdirSync(include).sort()) h.update(f).update(fs.readFileSync(path.join(include, f)));
  const hash = h.digest('hex').slice(0, 16);
  fs.mkdirSync(ccCache, { recursive: true });
  const bin = path.join(ccCache, `${name}-${hash}`);
  if (fs.existsSync(bin)) return bin;
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = await run('cc', ['-O2', '-Wall', '-I', include, '-o', tmp, src, '-lrt', '-lpthread', ...extra]);
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

/** How long any peer or CLI child may run before it is SIGKILLed, unless a test says otherwise. */
export const PEER_TIMEOUT_MS = 60_000;

/**
 * Runs a command to completion, collecting its output. The child is SIGKILLed after `timeout` ms
 * (PEER_TIMEOUT_MS by default), and the promise rejects at once if it cannot be spawned.
 */
export function run(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { input?: string | Buffer; timeout?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const { input, timeout = PEER_TIMEOUT_MS, ...spawnOpts } = opts;
    const child = spawn(cmd, args, { ...spawnOpts, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n[test helper: ${cmd} killed after ${timeout} ms]`;
      child.kill('SIGKILL');
    }, timeout);
    child.stdout!.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (input !== undefined) {
      child.stdin!.on('error', () => {}); // a peer that exits without reading its input is not our failure
      child.stdin!.end(input);
    }
  });
}

/**
 * Starts a long-running peer; it is SIGKILLed after the test if still running, or after `timeout` ms
 * (PEER_TIMEOUT_MS by default) whatever happens. A peer that cannot be spawned is reported by
 * firstLine()/exited() at once, so its test ends instead of waiting.
 */
export function startPeer(
  t: TestContext,
  cmd: string,
  args: string[],
  opts: SpawnOptions & { timeout?: number } = {},
): ChildProcess {
  const { timeout = PEER_TIMEOUT_MS, ...spawnOpts } = opts;
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], ...spawnOpts });
  const running = () => child.exitCode === null && child.signalCode === null;
  const timer = setTimeout(() => running() && child.kill('SIGKILL'), timeout);
  timer.unref();
  child.on('error', (err) => {
    clearTimeout(timer);
    spawnErrors.set(child, err);
  });
  child.once('exit', () => clearTimeout(timer));
  t.after(() => {
    clearTimeout(timer);
    if (running()) child.kill('SIGKILL');
  });
  return child;
}

const spawnErrors = new WeakMap<ChildProcess, Error>();

interface LineReader {
  lines: string[];
  partial: string;
  waiters: Array<{ resolve(line: string): void; reject(err: Error): void }>;
  ended?: Error;
}
const lineReaders = new WeakMap<ChildProcess, LineReader>();

/** One reader per child, attached at the first call, so that no line is lost between two calls. */
function lineReader(child: ChildProcess): LineReader {
  let r = lineReaders.get(child);
  if (r) return r;
  const reader: LineReader = { lines: [], partial: '', waiters: [] };
  r = reader;
  lineReaders.set(child, reader);
  const decoder = new StringDecoder('utf8');
  child.stdout!.on('data', (d: Buffer | string) => {
    reader.partial += typeof d === 'string' ? d : decoder.write(d);
    for (let i = reader.partial.indexOf('\n'); i >= 0; i = reader.partial.indexOf('\n')) {
      const line = reader.partial.slice(0, i);
      reader.partial = reader.partial.slice(i + 1);
      const w = reader.waiters.shift();
      if (w) w.resolve(line);
      else reader.lines.push(line);
    }
  });
  const end = (err: Error) => {
    reader.ended ??= err;
    for (const w of reader.waiters.splice(0)) w.reject(reader.ended);
  };
  child.once('error', end);
  // 'close', not 'exit': the exit status can arrive before the last bytes of the stdout pipe are read.
  child.once('close', (code, sig) => end(new Error(`peer exited (${code ?? sig}) before printing a line: ${reader.partial}`)));
  return reader;
}

/**
 * Resolves with the next line the child prints on stdout (the first, at the first call: a peer saying
 * it is ready). Lines printed between two calls are kept, never lost.
 */
export function firstLine(child: ChildProcess): Promise<string> {
  const failed = spawnErrors.get(child);
  if (failed) return Promise.reject(failed);
  const r = lineReader(child);
  const line = r.lines.shift();
  if (line !== undefined) return Promise.resolve(line);
  if (r.ended) return Promise.reject(r.ended);
  return new Promise((resolve, reject) => r.waiters.push({ resolve, reject }));
}

/** Resolves with everything the child prints on stdout, once its stdout has closed. */
export function output(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const failed = spawnErrors.get(child);
    if (failed) return reject(failed);
    child.once('error', reject);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (buf += d));
    child.stdout!.once('close', () => resolve(buf));
  });
}

/** Resolves with the child's exit code / signal. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode as NodeJS.Signals | null });
  }
  const failed = spawnErrors.get(child);
  if (failed) return Promise.reject(failed);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** The command prefix that runs a peer as the unprivileged user nobody (the suite runs as root). */
export const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];

// Peers the suite talks to that a bare machine may lack, with the command that installs each.
const installs: Record<string, string> = {
  socat: 'apt-get install socat',
  'nats-server': 'apt-get install nats-server',
  python3: 'apt-get install python3',
  cc: 'apt-get install gcc',
  setpriv: 'apt-get install util-linux',
  ipcs: 'apt-get install util-linux',
  ipcmk: 'apt-get install util-linux',
  ipcrm: 'apt-get install util-linux',
};

const found = new Map<string, boolean>();

/** Whether `cmd` is an executable on PATH (looked up once per process). */
export function have(cmd: string): boolean {
  let yes = found.get(cmd);
  if (yes === undefined) {
    yes = (process.env.PATH ?? '').split(':').some((dir) => {
      try {
        fs.accessSync(path.join(dir || '.', cmd), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
    found.set(cmd, yes);
  }
  return yes;
}

/**
 * For `test(name, { skip: missing('socat') }, ...)`: false when every peer is installed, otherwise the
 * skip reason, naming each missing peer and the command that installs it. The run's closing summary
 * (test/helpers/skip-summary) collects these reasons.
 */
export function missing(...cmds: string[]): string | false {
  const absent = cmds.filter((c) => !have(c));
  if (absent.length === 0) return false;
  return 'needs ' + absent.map((c) => `${c} (${installs[c] ?? `install ${c}`})`).join(', ');
}

/** Skip reason for tests that list /dev/mqueue: false when mqueue is mounted there. */
export function missingMqueueMount(): string | false {
  try {
    // The mqueue filesystem's magic number; a plain directory at /dev/mqueue is not a mount.
    if (fs.statfsSync('/dev/mqueue').type === 0x19800202) return false;
  } catch {}
  return 'needs /dev/mqueue mounted (mount -t mqueue none /dev/mqueue)';
}

/**
 * Whether a POSIX message queue exists, without /dev/mqueue: mq_open(2) reaches the kernel's own
 * mqueue mount even where none is mounted in the filesystem.
 */
export function mqExists(name: string): boolean {
  const fd = native.mqOpen(name, fs.constants.O_RDONLY, 0, 0, 0);
  if (fd < 0) return false;
  native.mqClose(fd);
  return true;
}

/** The permission bits of a POSIX message queue, from fstat(2) of a descriptor to it. */
export function mqMode(name: string): number {
  const fd = native.mqOpen(name, fs.constants.O_RDONLY, 0, 0, 0);
  if (fd < 0) throw new Error(`mq_open ${name}: ${fd}`);
  try {
    return fs.fstatSync(fd).mode & 0o777;
  } finally {
    native.mqClose(fd);
  }
}

/** Skip reason for tests whose peer runs as nobody: needs setpriv and a real root to drop from. */
export function missingNobody(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (to run a peer as nobody)';
  return missing('setpriv');
}

let nobodyRoot: string | undefined;

/**
 * A world-readable copy of what a peer run as nobody needs: the compiled tests and library (dist/),
 * the addon, package.json, the runtime dependencies and, if nobody cannot reach it, the node binary.
 * A checkout under a 0700 directory (root's home, a mktemp -d folder) is out of nobody's reach. The
 * copy is made once per test process, under /tmp (not TMPDIR, which may itself be 0700), and removed
 * when the process exits.
 */
export function nobodyCopy(): { root: string; node: string; script(name: string): string; path(rel: string): string } {
  if (!nobodyRoot) {
    const dir = fs.mkdtempSync('/tmp/ipckit-nobody-');
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.chmodSync(dir, 0o755);
    const copy = (rel: string) => {
      const from = path.join(root, rel);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, rel), { recursive: true, dereference: true });
    };
    for (const rel of ['package.json', 'dist', 'build/Release/ipckit.node']) copy(rel);
    for (const dep of fs.readdirSync(path.join(root, 'node_modules'))) {
      if (dep !== 'typescript' && dep !== '@types' && dep !== '.bin') copy(path.join('node_modules', dep));
    }
    let node = process.execPath;
    if (!reachableByAll(node)) {
      const to = path.join(dir, 'node');
      try {
        fs.linkSync(node, to);
      } catch {
        fs.copyFileSync(node, to);
      }
      fs.chmodSync(to, 0o755);
      node = to;
    }
    nobodyNode = node;
    nobodyRoot = dir;
  }
  const base = nobodyRoot;
  return {
    root: base,
    node: nobodyNode!,
    script: (name) => path.join(base, 'dist/test/fixtures', `${name}.js`),
    path: (rel) => path.join(base, rel),
  };
}

let nobodyNode: string | undefined;

/** Whether every directory above `file` is searchable by others and the file readable by them. */
export function reachableByAll(file: string): boolean {
  let p = path.resolve(file);
  if ((fs.statSync(p).mode & 0o005) !== 0o005) return false;
  while (p !== '/') {
    p = path.dirname(p);
    if ((fs.statSync(p).mode & 0o001) === 0) return false;
  }
  return true;
}

/**
 * A command line run as nobody: `run(...asNobodyCommand(process.execPath, childScript('x'), arg))`.
 * Each argument that is a file nobody cannot reach (the node binary, a script of this checkout, a C
 * peer compiled into a 0700 TMPDIR) is replaced by its world-readable copy; other arguments pass as
 * they are.
 */
export function asNobodyCommand(...argv: string[]): [string, string[]] {
  const mapped = argv.map((a) => {
    if (!path.isAbsolute(a) || !fs.existsSync(a) || !fs.statSync(a).isFile() || reachableByAll(a)) return a;
    if (a === process.execPath) return nobodyCopy().node;
    const rel = path.relative(root, a);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return nobodyCopy().path(rel);
    return forNobody(a);
  });
  return [asNobody[0]!, [...asNobody.slice(1), ...mapped]];
}

/** Copies a compiled C peer where nobody can run it; returns the copy's path. */
export function forNobody(bin: string): string {
  if (reachableByAll(bin)) return bin;
  const to = path.join(nobodyCopy().root, path.basename(bin));
  if (!fs.existsSync(to)) fs.copyFileSync(bin, to);
  fs.chmodSync(to, 0o755);
  return to;
}

/**
 * A nats-server of this file's own on a free loopback port, killed when the file's tests end. Resolves
 * with its port, or with a skip reason when nats-server is missing or does not start within 10 s.
 */
export async function startNatsServer(after: (fn: () => void) => void): Promise<{ port: number; skip: string | false }> {
  const absent = missing('nats-server');
  if (absent) return { port: 0, skip: absent };
  const server = spawn('nats-server', ['-a', '127.0.0.1', '-p', '-1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  after(() => server.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => {
    let log = '';
    const timer = setTimeout(() => resolve(0), 10_000);
    server.stderr!.on('data', (d) => {
      log += d;
      const m = /Listening for client connections on [^\s]*:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    server.once('error', () => resolve(0));
    server.once('exit', () => resolve(0));
  });
  server.stderr!.resume();
  return { port, skip: port ? false : 'nats-server did not start' };
}

/**
 * A real process that is not this one's child: a `sleep 30` that a shell started and waits for (so the
 * shell, not we, reaps it). Resolves with its pid; it is SIGKILLed when the test ends.
 */
export async function startNonChild(t: TestContext): Promise<number> {
  const sh = startPeer(t, 'sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = Number(await firstLine(sh));
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  });
  return pid;
}

/**
 * Echo traffic with a child over `channel` (sizes up to `size` bytes), SIGKILLs the child after a random
 * moment of up to `delayMs`, and resolves with the error the traffic ended with, the kill and the death
 * (`killAndAwaitDeath`) and a mark of when the error came: for `DeathLatency.add` (test/helpers/death.ts).
 */
export async function killDuringTraffic(
  child: ChildProcess,
  channel: { send(v: Buffer): Promise<void>; receive(o: { timeout: number }): Promise<unknown> },
  size: number,
  delayMs: number,
): Promise<{ err: unknown; death: Death; noticed: Mark }> {
  const traffic = (async () => {
    for (let k = 0; ; k++) {
      await channel.send(Buffer.alloc(k % size, k));
      await channel.receive({ timeout: 5000 });
    }
  })().then(
    () => ({ err: undefined as unknown, noticed: mark() }),
    (err) => ({ err, noticed: mark() }),
  );
  await new Promise((r) => setTimeout(r, Math.random() * delayMs));
  const death = killAndAwaitDeath(child);
  const { err, noticed } = await traffic;
  await exited(child);
  return { err, death, noticed };
}

/**
 * Resolves once a thread of this process sleeps in the kernel function `fn`, as its /proc wchan says
 * (a waiter thread blocked in msgrcv is 'do_msgrcv', in msgsnd 'do_msgsnd'): the event a test waits for
 * before it removes, fills or drains what that call waits on. Bounded by `ms`. A kernel that hides
 * wchan (every thread reads '0') cannot tell: then it gives the thread 50 ms, and says so in the name.
 */
export async function threadBlockedIn(fn: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let known = false;
    for (const t of fs.readdirSync('/proc/self/task')) {
      let w = '0';
      try {
        w = fs.readFileSync(`/proc/self/task/${t}/wchan`, 'utf8');
      } catch {
        continue; // the thread ended
      }
      if (w === fn) return;
      if (w !== '0') known = true;
    }
    if (!known) return void (await new Promise((r) => setTimeout(r, 50)));
    if (Date.now() > deadline) throw new Error(`no thread of this process slept in ${fn} within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}
