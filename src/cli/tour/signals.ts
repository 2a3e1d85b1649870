// Tour, section 2: a child process sigqueues values to us; we see each one with its sender's pid and
// uid, in order; then we wait for a process that is not our child to exit, through a pidfd.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { signals } from '../../index.js';
import { own, ownChild } from '../lifetime.js';
import type { TourSection } from './section.js';

const api = new URL('../../index.js', import.meta.url).href;

export const section: TourSection = {
  title: 'Signals',
  order: 2,
  async run(out) {
    using watcher = signals.watch('SIGRTMIN+1', { ref: true });
    out.step(`We watch SIGRTMIN+1 (signal ${signals.number('SIGRTMIN+1')}); a child sigqueues three values to us.`);
    const child = ownChild(spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { signals } from ${JSON.stringify(api)};
         for (const value of [7, 8, 9]) signals.send(${process.pid}, 'SIGRTMIN+1', { value });`,
      ],
      { stdio: 'inherit' },
    ));
    for (let i = 0; i < 3; i++) {
      const { value: ev } = await watcher.next();
      if (!ev) break;
      out.detail(`${ev.signal} from pid ${ev.pid} (uid ${ev.uid}), value ${ev.value}, ${ev.code}: not merged, in order`);
    }
    await once(child, 'exit');

    out.step('A shell starts `sleep` in the background and exits: the sleep is not our child. We wait for it to end.');
    const sh = ownChild(spawn('sh', ['-c', 'sleep 30 & echo $!'], { stdio: ['ignore', 'pipe', 'inherit'] }));
    const [line] = (await once(sh.stdout!.setEncoding('utf8'), 'data')) as [string];
    const pid = Number(line.trim());
    // Not our child, but ours to end: killed too if the tour is interrupted before it does so itself.
    const disown = own(`sleep ${pid}`, () => signals.send(pid, 'SIGKILL'));
    const gone = signals.exited(pid, { timeout: 10_000 });
    signals.send(pid, 'SIGTERM');
    const t0 = performance.now();
    await gone;
    disown();
    out.detail(`pid ${pid} got SIGTERM; its pidfd reported the exit ${(performance.now() - t0).toFixed(2)} ms later`);
  },
};

export default section;
