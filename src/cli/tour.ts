// ipckit tour: the mechanisms live, between real processes, one short section each (tour/index.ts lists
// them). Sections are numbered 1..N as shown; `--only` takes a number or a word of a title.
import { Command } from 'commander';
import { sections } from './tour/index.js';
import type { TourSection } from './tour/section.js';
import { usageError } from './output.js';

function ordered(): TourSection[] {
  return sections.map((s, i) => ({ s, i })).sort((a, b) => a.s.order - b.s.order || a.i - b.i).map(({ s }) => s);
}

function menu(all: TourSection[]): string {
  return all.map((s, i) => `${i + 1} ${s.title}`).join(', ');
}

export function tourCommand(): Command {
  const all = ordered();
  return new Command('tour')
    .description('show every IPC mechanism live, between real processes; every object it makes is removed, however it ends')
    .option('--only <section>', `run only this section, by number or by a word of its title (${menu(all)})`)
    .option('--json', 'one JSON object per line: {"section", "title"}, {"step"}, {"detail"}, {"ms"}')
    .action(async (opts: { only?: string; json?: boolean }) => {
      let chosen = all.map((s, i) => ({ s, n: i + 1 }));
      if (opts.only !== undefined) {
        const want = opts.only.trim().toLowerCase();
        chosen = /^\d+$/.test(want) ? chosen.filter(({ n }) => n === Number(want)) : chosen.filter(({ s }) => s.title.toLowerCase().includes(want));
        if (chosen.length === 0) throw usageError(`tour --only ${opts.only}: no such section; there are ${all.length}: ${menu(all)}`);
      }
      const w = (s: string) => process.stdout.write(s + '\n');
      const j = (o: object) => w(JSON.stringify(o));
      if (opts.json) j({ sections: chosen.length, pid: process.pid });
      else w(`ipckit tour: ${chosen.length} section${chosen.length === 1 ? '' : 's'} of ${all.length}, real kernel objects, real processes (pid ${process.pid})`);
      for (const { s, n } of chosen) {
        if (opts.json) j({ section: n, title: s.title });
        else {
          w('');
          w(`${n}. ${s.title}`);
          w('-'.repeat(s.title.length + String(n).length + 2));
        }
        const t0 = performance.now();
        await s.run(
          opts.json
            ? { step: (t) => j({ step: t }), detail: (t) => j({ detail: t }) }
            : { step: (t) => w(`  → ${t}`), detail: (t) => w(`      ${t}`) },
        );
        const ms = Math.round(performance.now() - t0);
        if (opts.json) j({ ms });
        else w(`  (${ms} ms)`);
      }
      if (opts.json) j({ done: true });
      else {
        w('');
        w('Every object the tour made has been removed. See `ipckit ls` for what is on this machine.');
      }
    });
}
