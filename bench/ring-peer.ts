// Peer process of bench/ring.ts: attaches to the listener's shm: segment (openRingPair) and
//   spin-echo   echoes every message back, busy-polling both rings (the fast path: pure JS, no syscall);
//   sleep-echo  echoes with spinMicros 0: parks on the futex between messages (the wake-up path);
//   sink        receives messages (busy-polling) until an empty one, then sends one byte back.
// It exits when the listener closes its producer.
import { openRingPair } from '../src/channel/shm.js';

const [name, mode] = process.argv.slice(2);
const { tx, rx, shm } = await openRingPair(name!, { spinMicros: mode === 'sleep-echo' ? 0 : 1e6 });
process.stdout.write('ready\n');
if (mode === 'spin-echo') {
  // Forward without a copy out: a view into the incoming ring, released once sent on.
  for (;;) {
    const v = rx.peek();
    if (v) {
      while (!tx.trySend(v));
      rx.release();
    } else if (rx.ended) break;
  }
} else if (mode === 'sleep-echo') {
  for (let m; (m = await rx.receive({ spinMicros: 0 })) !== null; ) await tx.send(m, { spinMicros: 0 });
} else if (mode === 'sink') {
  for (;;) {
    const v = rx.peek();
    if (v) {
      const last = v.byteLength === 0;
      rx.release();
      if (last) break;
    }
  }
  tx.trySend(Buffer.from([1]));
  while (!rx.ended) if (rx.tryReceive() === null) await new Promise((r) => setImmediate(r));
}
tx.close();
rx.close();
shm.close();
