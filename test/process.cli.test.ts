// ipckit watch and ipckit trace: real processes, a real shell kill, SIGINT to the CLI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { firstLine, missing, root, run, startPeer, startNonChild } from './helpers/index.js';

const cli = path.join(root, 'dist/src/cli/main.js');

function procState(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0]!;
  } catch {
    return 'gone';
  }
}

/** Resolves with the first line on the child's stderr that matches. */
function stderrLine(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      for (const l of buf.split('\n')) {
        if (re.test(l)) {
          child.stderr!.off('data', onData);
          return resolve(l);
        }
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code, sig) => reject(new Error(`exited (${code ?? sig}) first; stderr: ${buf}`)));
  });
}

test('ipckit trace prints each signal with its siginfo and exits with the command\'s own status', async () => {
  const r = await run(process.execPath, [cli, 'trace', '--suppress', 'USR1', '--', 'sh', '-c', 'kill -USR1 $$; kill -USR2 $$; exit 3']);
  assert.equal(r.code, 128 + 12, r.stderr); // SIGUSR2 was delivered and killed sh
  assert.match(r.stderr, /signal SIGUSR1 code=SI_USER pid=\d+ uid=\d+ → suppressed/);
  assert.match(r.stderr, /signal SIGUSR2 code=SI_USER pid=\d+ uid=\d+ → delivered/);
  assert.match(r.stderr, /exit signal SIGUSR2/);
  const ok = await run(process.execPath, [cli, 'trace', '--', 'sh', '-c', 'exit 3']);
  assert.equal(ok.code, 3);
  assert.match(ok.stderr, /exit code 3/);
});

test('ipckit trace detaches on SIGINT, leaves the command running, then exits with its status', async (t) => {
  const c = startPeer(t, process.execPath, [cli, 'trace', '--', 'sh', '-c', 'echo $$; exec sleep 30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = Number(await firstLine(c));
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  });
  const detached = stderrLine(c, /SIGINT: detaching/);
  c.kill('SIGINT');
  await detached;
  // Give the detach a bounded moment to land: the tracer thread answers within milliseconds.
  for (let i = 0; i < 200 && fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^TracerPid:\s*(\d+)/m)![1] !== '0'; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^TracerPid:\s*0$/m, 'untraced');
  assert.match(procState(pid), /^[RS]$/, 'running, not stopped');
  const exit = once(c, 'exit');
  process.kill(pid, 'SIGTERM');
  assert.deepEqual(await exit, [128 + 15, null]);
});

test('ipckit watch prints stops and continues from a shell kill, and leaves the process running on SIGINT', async (t) => {
  const pid = await startNonChild(t);
  const w = startPeer(t, process.execPath, [cli, 'watch', String(pid), '--json'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  await stderrLine(w, /watching process \d+ \(traced\)/);
  // One listener for the whole test: a line printed while nobody listened would be lost.
  const lines: string[] = [];
  let buf = '';
  let wake: (() => void) | undefined;
  w.stdout!.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    wake?.();
  });
  const more = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const onExit = () => reject(new Error(`watch exited after ${lines.length} lines: ${lines.join(' | ')}`));
      wake = () => lines.length >= n && (w.off('exit', onExit), (wake = undefined), resolve());
      w.once('exit', onExit);
      wake();
    });
  await run('sh', ['-c', `kill -STOP ${pid}`]);
  await more(1);
  await run('sh', ['-c', `kill -CONT ${pid}`]);
  await more(2);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [
    { type: 'stopped', pid, signal: 'SIGSTOP' },
    { type: 'continued', pid },
  ]);
  const exit = once(w, 'exit');
  w.kill('SIGINT');
  assert.deepEqual(await exit, [130, null]);
  assert.match(procState(pid), /^[RS]$/, 'running, not stopped');
  assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^TracerPid:\s*0$/m, 'untraced');
});

test('the tour\'s process-management section: stopped, continued, the fault address, suppressed then delivered', { skip: missing('cc') }, async () => {
  const r = await run(process.execPath, [cli, 'tour', '--only', 'management']);
  assert.equal(r.code, 0, r.stderr);
  const addr = /it will write to (0x[0-9a-f]+)/.exec(r.stdout)?.[1];
  assert.ok(addr, r.stdout);
  assert.match(r.stdout, /group stop by SIGSTOP/);
  assert.match(r.stdout, /continued/);
  assert.match(r.stdout, new RegExp(`SIGSEGV SEGV_ACCERR at ${addr} \\(the address it printed\\): suppressed`));
  assert.match(r.stdout, new RegExp(`SIGSEGV SEGV_ACCERR at ${addr} again: delivered`));
  assert.match(r.stdout, /killed by SIGSEGV/);
});
