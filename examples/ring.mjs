// The fastest path between two processes: an shm: channel, two single-producer/single-consumer rings in
// one POSIX shared memory segment. Sending and receiving are plain JavaScript over the shared memory,
// with no syscall per message; a side that has nothing to do spins briefly, then parks until the other
// side rings its doorbell.
//
//   node examples/ring.mjs [messages] [/segment-name]
//
// Two measurements: a one-way stream (the sender awaits send() only for room in the ring), then
// round trips (send, await the echo). The raw codec moves Buffers as they are: no encoding cost.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { connect, listen } from 'ipckit';

const SIZE = 64; // bytes per message
const ROUND_TRIPS = 1000;

if (process.argv[2] === '--peer') {
  // The child: receive the stream, say how many arrived, then echo every message back.
  const ch = await connect(`shm:${process.argv[3]}`, { timeout: 5000 });
  try {
    const total = Number(process.argv[4]);
    let received = 0;
    while (received < total) {
      const msg = await ch.receive({ timeout: 10_000 });
      if (msg === undefined) throw new Error('the parent closed early');
      received++;
    }
    await ch.send(String(received));
    for await (const msg of ch) await ch.send(msg); // echo until the parent closes
  } finally {
    await ch.close();
  }
} else {
  const total = Number(process.argv[2] ?? 200_000);
  const name = process.argv[3] ?? `/ipckit-example-ring-${process.pid}`;
  // listen() creates the segment (exclusive, 0600); the peer unlinks the name as soon as it attaches.
  const ch = await listen(`shm:${name}`, { capacity: 1 << 20 });
  try {
    const peer = fork(fileURLToPath(import.meta.url), ['--peer', name, String(total)]);
    const exited = once(peer, 'exit');
    peer.on('exit', (code) => code !== 0 && ch.close()); // a failed peer ends the waits below
    const msg = Buffer.alloc(SIZE, 7);

    let t0 = process.hrtime.bigint();
    for (let i = 0; i < total; i++) await ch.send(msg);
    const count = String(await ch.receive({ timeout: 10_000 }));
    let ns = Number(process.hrtime.bigint() - t0);
    if (count !== String(total)) throw new Error(`the peer received ${count} of ${total}`);
    console.log(`stream: ${total} x ${SIZE} B in ${(ns / 1e6).toFixed(1)} ms, ${Math.round(total / (ns / 1e9))} msg/s`);

    t0 = process.hrtime.bigint();
    for (let i = 0; i < ROUND_TRIPS; i++) {
      await ch.send(msg);
      await ch.receive({ timeout: 10_000 });
    }
    ns = Number(process.hrtime.bigint() - t0);
    console.log(`round trips: ${ROUND_TRIPS}, mean ${(ns / ROUND_TRIPS / 1000).toFixed(1)} µs`);
    await ch.close();
    const [code] = await exited;
    if (code !== 0) throw new Error(`the peer exited with ${code}`);
  } finally {
    await ch.close(); // idempotent; removes the segment and its doorbells if the peer never attached
  }
}
