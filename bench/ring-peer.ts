// Peer process of bench/ring.ts: connects to the listener's ring server (connectRingPair) and
//   spin-echo   echoes every message back, busy-polling both rings (the fast path: pure JS, no syscall);
//   sleep-echo  echoes with spinMicros 0: parks on its eventfd between messages (the wake-up path);
//   sink        receives messages (busy-polling, tryReceiveInto a reused buffer) until an empty one, then
//               sends one byte back; sink-inplace the same reading in place (peek/release).
//   channel-echo  the public API: connect(url) as a Channel, `for await (const m of ch) await ch.send(m)`;
//   channel-sink  the public API: `for await` until an empty message, then sends one byte back;
//   channel-sink-many  the same with receiveMany() (a batch per promise).
// It exits when the listener closes its producer.
import { connect } from '../src/channel/index.js';
import { connectRingPair } from '../src/channel/shm-server.js';

const [url, mode] = process.argv.slice(2);
if (mode === 'channel-echo' || mode === 'channel-sink' || mode === 'channel-sink-many') {
  const ch = await connect<Buffer>(url!, { spinMicros: 1e6, timeout: 10_000 });
  process.stdout.write('ready\n');
  if (mode === 'channel-echo') {
    for await (const m of ch) await ch.send(m);
  } else if (mode === 'channel-sink-many') {
    for (let done = false; !done; ) for (const m of await ch.receiveMany()) if (m.byteLength === 0) done = true;
    await ch.send(Buffer.from([1]));
    await ch.receive();
  } else {
    for await (const m of ch) if (m.byteLength === 0) break;
    await ch.send(Buffer.from([1]));
    await ch.receive();
  }
  await ch.close();
  process.exit(0);
}
const pair = await connectRingPair(url!, { spinMicros: mode === 'sleep-echo' ? 0 : 1e6 });
const { tx, rx } = pair;
process.stdout.write('ready\n');
if (mode === 'spin-echo') {
  // Copy in, copy out, like the C peer, without allocating: tryReceiveInto a reused buffer, trySend its prefix.
  const buf = Buffer.alloc(rx.maxMessageSize);
  for (;;) {
    const n = rx.tryReceiveInto(buf);
    if (n >= 0) while (!tx.trySend(buf, n));
    else if (rx.ended) break;
  }
} else if (mode === 'sleep-echo') {
  for (let m; (m = await rx.receive({ spinMicros: 0 })) !== null; ) await tx.send(m, { spinMicros: 0 });
} else if (mode === 'sink') {
  // Copied out into one reused buffer: what a consumer of small messages does, without allocating.
  const buf = Buffer.alloc(rx.maxMessageSize);
  while (rx.tryReceiveInto(buf) !== 0); // until the empty end marker (-1: nothing yet)
  tx.trySend(Buffer.from([1]));
  while (!rx.ended) if (rx.tryReceive() === null) await new Promise((r) => setImmediate(r));
} else if (mode === 'sink-inplace') {
  // Read in place (peek/release, zero-copy): large messages.
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
await pair.close();
