// Tour, section 1: an anonymous pipe handed to children, and a FIFO between unrelated processes.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Fifo, pipe, readFrames } from '../../index.js';
import { own, ownChild } from '../lifetime.js';
import type { TourSection } from './section.js';

/** Spawns and returns the child with its exit promise, taken at once so that no early exit is missed. */
function start(...args: Parameters<typeof spawn>): { child: ReturnType<typeof spawn>; done: Promise<number | null> } {
  const child = ownChild(spawn(...args));
  const done = new Promise<number | null>((resolve, reject) => {
    child.once('close', (code) => resolve(code));
    child.once('error', reject);
  });
  return { child, done };
}

export const section: TourSection = {
  title: 'Pipes and FIFOs',
  order: 1,
  async run(out) {
    {
      out.step('pipe() makes an anonymous pipe; a shell child gets its write end as fd 3 and writes two lines.');
      const { reader, writer } = pipe();
      const { done } = start('sh', ['-c', 'echo "hello from pid $$" >&3; uname -sr >&3'], { stdio: ['ignore', 'inherit', 'inherit', writer] });
      await writer.close(); // the child has its copy; EOF comes when it exits
      let text = '';
      for await (const c of reader) text += c;
      await done;
      for (const line of text.trimEnd().split('\n')) out.detail(`read: ${line}`);
    }
    {
      out.step('16 MiB go through a pipe into `wc -c` (its stdin), with backpressure.');
      const { reader, writer } = pipe();
      const { child: wc, done } = start('wc', ['-c'], { stdio: [reader, 'pipe', 'inherit'] });
      await reader.close();
      const t0 = performance.now();
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      for (let i = 0; i < 16; i++) if (!writer.write(chunk)) await new Promise((r) => writer.once('drain', r));
      await writer.close();
      let counted = '';
      for await (const c of wc.stdout!) counted += c;
      await done;
      const ms = performance.now() - t0;
      out.detail(`wc -c counted ${counted.trim()} bytes in ${ms.toFixed(1)} ms`);
    }
    {
      const p = path.join(os.tmpdir(), `ipckit-tour-${process.pid}.fifo`);
      out.step(`Fifo.create('${p}') makes a named pipe (mode 0600); two unrelated shell processes write into it.`);
      await using fifo = await Fifo.create(p);
      own(`fifo:${p}`, () => fifo.close());
      // Persistent: the first writer may finish before the second opens, which must not end the stream.
      const reader = await fifo.openReader({ persistent: true });
      const writers = [
        start('sh', ['-c', `echo "one writer, pid $$" > '${p}'`], { stdio: 'inherit' }).done,
        start('sh', ['-c', `echo "another writer, pid $$" > '${p}'`], { stdio: 'inherit' }).done,
      ];
      let text = '';
      for await (const c of reader) {
        text += c;
        if (text.split('\n').length > 2) break;
      }
      await Promise.all(writers);
      for (const line of text.trimEnd().split('\n').sort()) out.detail(`read: ${line}`);
      out.detail('A persistent reader outlives its writers; the FIFO is removed when the tour closes it.');
    }
    {
      const p = path.join(os.tmpdir(), `ipckit-tour-${process.pid}-framed.fifo`);
      out.step('Framed messages: a child Node process sends length-prefixed frames through a FIFO.');
      await using fifo = await Fifo.create(p);
      own(`fifo:${p}`, () => fifo.close());
      const reader = await fifo.openReader();
      const code = `
        import { Fifo, writeFrame } from ${JSON.stringify(new URL('../../index.js', import.meta.url).href)};
        const w = await Fifo.openWriter(process.argv[1], { timeout: 5000 });
        for (const m of ['small', 'x'.repeat(100000), 'last']) await writeFrame(w, Buffer.from(m));
        await w.close();`;
      const { done } = start(process.execPath, ['--input-type=module', '-e', code, p], { stdio: 'inherit' });
      for await (const frame of readFrames(reader)) out.detail(`frame of ${frame.length} bytes: ${String(frame.subarray(0, 12))}${frame.length > 12 ? '…' : ''}`);
      await done;
    }
  },
};
