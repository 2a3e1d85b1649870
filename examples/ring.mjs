// The fastest path between two processes: the shared-memory rings themselves (`ipckit/ring`), one per
// direction in a sealed memfd that the server hands to each client over a Unix socket. trySend() and
// tryReceiveInto() are plain JavaScript over the shared memory: no syscall, no promise and no
// allocation per message. Only a side that has nothing to do waits (spins briefly, then parks until
// the other side rings its doorbell).
//
//   node examples/ring.mjs [messages] [/path/to/socket]
//
// Two measurements: a one-way stream, then round trips. The socket file is the only name in the
// filesystem: the server removes it on close, and the memory goes with the last process that maps it.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RingServer, connectRingPair } from 'ipckit/ring';

const SIZE = 64; // bytes per message
const ROUND_TRIPS = 1000;

if (process.argv[2] === '--peer') {
  // The child: count the stream without allocating, report the count, then echo until the end.
  const [, , , url, total] = process.argv;
  const pair = await connectRingPair(url, { timeout: 5000 });
  try {
    const { tx, rx } = pair;
    const buf = Buffer.allocUnsafe(rx.maxMessageSize);
    let received = 0;
    while (received < Number(total)) {
      if (rx.tryReceiveInto(buf) >= 0) received++; // the fast path: a copy into our own buffer
      else if ((await rx.receive({ timeout: 10_000 })) !== null) received++; // empty: wait for the next
      else throw new Error('the parent closed early');
    }
    await tx.send(Buffer.from(String(received)));
    for (let m; (m = await rx.receive({ timeout: 10_000 })) !== null; ) if (!tx.trySend(m)) await tx.send(m);
  } finally {
    await pair.close();
  }
} else {
  const total = Number(process.argv[2] ?? 200_000);
  const socket = process.argv[3] ?? path.join(os.tmpdir(), `ipckit-example-ring-${process.pid}.sock`);
  const url = `shm+unix:${socket}`;
  const server = await RingServer.listen(url); // the socket file is 0600: only our uid connects
  try {
    const peer = fork(fileURLToPath(import.meta.url), ['--peer', url, String(total)]);
    const exited = once(peer, 'exit');
    peer.on('exit', (code) => code !== 0 && server.close()); // a failed peer ends the wait below
    const pair = await server.acceptPair({ timeout: 10_000 });
    try {
      const { tx, rx } = pair;
      const msg = Buffer.alloc(SIZE, 7);

      let t0 = process.hrtime.bigint();
      for (let i = 0; i < total; i++) if (!tx.trySend(msg)) await tx.send(msg); // full: wait for room
      const count = String(await rx.receive({ timeout: 10_000 }));
      let ns = Number(process.hrtime.bigint() - t0);
      if (count !== String(total)) throw new Error(`the peer received ${count} of ${total}`);
      console.log(`stream: ${total} x ${SIZE} B in ${(ns / 1e6).toFixed(1)} ms, ${Math.round(total / (ns / 1e9))} msg/s`);

      t0 = process.hrtime.bigint();
      for (let i = 0; i < ROUND_TRIPS; i++) {
        if (!tx.trySend(msg)) await tx.send(msg);
        await rx.receive({ timeout: 10_000 });
      }
      ns = Number(process.hrtime.bigint() - t0);
      console.log(`round trips: ${ROUND_TRIPS}, mean ${(ns / ROUND_TRIPS / 1000).toFixed(1)} µs`);
    } finally {
      await pair.close(); // the peer's receive returns null: its echo loop ends
    }
    const [code] = await exited;
    if (code !== 0) throw new Error(`the peer exited with ${code}`);
  } finally {
    await server.close(); // removes the socket file
  }
  console.log(`done; ${socket} removed`);
}
