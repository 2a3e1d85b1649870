// Request/reply over a Unix stream socket: a server process answers a client process, one JSON
// message per request, matched by id.
//
//   node examples/request-reply.mjs [/path/to/socket]
//
// listen('unix:…') binds the socket (refusing a path that is already there) and removes it on close;
// the client's connect() fails with ENOENT or ECONNREFUSED when nobody listens. The same code works
// over tcp://, shm:/ or unix+seqpacket: by changing the URL.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, listen } from 'ipckit';

const [role, socket = path.join(os.tmpdir(), `ipckit-example-rpc-${process.pid}.sock`)] = process.argv.slice(2);
const url = `unix:${socket}`;

if (role === '--client') {
  const ch = await connect(url, { codec: 'json', timeout: 5000 });
  try {
    const requests = [
      { id: 1, op: 'add', args: [2, 3] },
      { id: 2, op: 'mul', args: [6, 7] },
      { id: 3, op: 'pow', args: [2, 10] },
    ];
    for (const req of requests) {
      await ch.send(req);
      const reply = await ch.receive({ timeout: 5000 });
      if (reply?.id !== req.id) throw new Error(`reply ${JSON.stringify(reply)} to request ${req.id}`);
      console.log(`client: ${req.op}(${req.args.join(', ')}) =`, reply.error ?? reply.result);
    }
  } finally {
    await ch.close(); // the server's for-await loop ends
  }
} else {
  const ops = { add: (a, b) => a + b, mul: (a, b) => a * b };
  const server = await listen(url, { codec: 'json' });
  try {
    console.log(`server: listening on ${server.url}`);
    const client = fork(fileURLToPath(import.meta.url), ['--client', socket]);
    const exited = once(client, 'exit');
    // A client that fails before it connects would leave the loop below waiting: close instead.
    client.on('exit', (code) => code !== 0 && server.close());
    // One request at a time from this peer, until it closes.
    for await (const { id, op, args } of server) {
      const fn = ops[op];
      await server.send(fn ? { id, result: fn(...args) } : { id, error: `unknown op ${op}` });
    }
    const [code] = await exited;
    if (code !== 0) throw new Error(`client exited with ${code}`);
  } finally {
    await server.close(); // removes the socket file
  }
  console.log(`server: done; ${socket} removed`);
}
