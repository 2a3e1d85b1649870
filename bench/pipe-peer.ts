// Peer process of bench/pipe.ts; the pipe ends arrive as fds 3 and 4. Modes:
//   write N   write N MiB into fd 3 in 1 MiB writes (PipeWriter), then close;
//   read      read fd 3 to EOF (PipeReader); print "<bytes> <ns from first byte to EOF>";
//   echo S    read S-byte messages from fd 3, write each back into fd 4.
import { PipeReader, PipeWriter } from '../src/pipe.js';

const [mode, arg] = process.argv.slice(2);
if (mode === 'write') {
  const w = new PipeWriter(3);
  const chunk = Buffer.alloc(1 << 20, 0x61);
  for (let i = 0; i < Number(arg); i++) {
    if (!w.write(chunk)) await new Promise((r) => w.once('drain', r));
  }
  await w.close();
} else if (mode === 'read') {
  const r = new PipeReader(3);
  let bytes = 0;
  let t0 = 0n;
  for await (const c of r) {
    if (bytes === 0) t0 = process.hrtime.bigint();
    bytes += (c as Buffer).length;
  }
  process.stdout.write(`${bytes} ${process.hrtime.bigint() - t0}\n`);
} else if (mode === 'echo') {
  const size = Number(arg);
  const r = new PipeReader(3);
  const w = new PipeWriter(4);
  let pending: Buffer[] = [];
  let n = 0;
  process.stdout.write('ready\n');
  for await (const c of r) {
    pending.push(c as Buffer);
    n += (c as Buffer).length;
    while (n >= size) {
      const all = Buffer.concat(pending);
      w.write(all.subarray(0, size));
      pending = n > size ? [all.subarray(size)] : [];
      n -= size;
    }
  }
}
