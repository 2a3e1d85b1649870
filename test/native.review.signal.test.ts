// Review regressions of signal.cc: a delivery from another process must never be mistaken for ipckit's
// own steering signal (which the handler swallows).
import test from 'node:test';
import assert from 'node:assert/strict';
import { signals, type SignalWatcher } from '../src/index.js';
import { compileC, run, missing } from './helpers/index.js';

async function next(w: SignalWatcher, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no event within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([w.next(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

test("a signal forged to look like the steering signal (si_code -100, our pid) is still delivered", { skip: missing('cc') }, async () => {
  using w = signals.watch('SIGRTMIN+4', { ref: true });
  const bin = await compileC('review_forge_steer');
  const r = await run(bin, [String(process.pid), String(signals.number('SIGRTMIN+4')), '4242']);
  assert.equal(r.code, 0, r.stderr);
  const ev = await next(w, 5000);
  assert.equal(ev.done, false);
  assert.equal(ev.value.signo, signals.number('SIGRTMIN+4'));
  assert.equal(ev.value.code, '-100');
});
