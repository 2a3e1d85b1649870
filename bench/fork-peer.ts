// Peer process of bench/fork.ts. Modes:
//   echo             a child of ipckit's fork(): echoes every message on parentChannel() (public API);
//   sink             a child of fork(): receives until an empty message, then sends one byte back;
//   cp-sink          a child of child_process.fork(): counts messages until 'end', then sends the count;
//   clients URL K MS K clients of the ring server at URL, each timing 64-byte round trips for MS ms;
//                    prints one JSON line { n, samples } (samples: ns, at most 20000 per client).
import { connect, parentChannel } from '../src/index.js';

const [mode, url, k, ms] = process.argv.slice(2);
if (mode === 'echo') {
  const ch = await parentChannel();
  for await (const m of ch) await ch.send(m);
  await ch.close();
} else if (mode === 'sink') {
  const ch = await parentChannel();
  for (;;) {
    const m = (await ch.receive()) as Buffer | undefined;
    if (!m || m.byteLength === 0) break;
  }
  await ch.send(Buffer.from([1]));
  await ch.receive();
  await ch.close();
} else if (mode === 'cp-sink') {
  let n = 0;
  process.on('message', (m) => {
    if (m === 'end') process.send!(n);
    else n++;
  });
  process.send!('ready');
} else if (mode === 'clients') {
  const K = Number(k);
  const budget = Number(ms);
  const msg = Buffer.alloc(64, 1);
  const all: number[] = [];
  let n = 0;
  const chans = await Promise.all(Array.from({ length: K }, () => connect(url!, { spinMicros: 0, timeout: 10_000 })));
  const end = performance.now() + budget;
  await Promise.all(
    chans.map(async (ch) => {
      const mine: number[] = [];
      while (performance.now() < end) {
        const t0 = process.hrtime.bigint();
        await ch.send(msg);
        await ch.receive();
        if (mine.length < 20000) mine.push(Number(process.hrtime.bigint() - t0));
        n++;
      }
      all.push(...mine);
      await ch.close();
    }),
  );
  process.stdout.write(JSON.stringify({ n, samples: all }) + '\n');
}
