// A Python peer over shared memory: ipckit's spawn() starts python3 with a ring channel to it (two
// rings in a sealed memfd, passed over a socketpair), and python/ipckit_channel.py, standard library
// only, speaks the same rings from Python. JSON messages go both ways.
//
//   node examples/python-peer.mjs
//
// Nothing gets a name: the memory has no path, and it goes away with the last process that maps it.
import { createRequire } from 'node:module';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'ipckit';

// Where the package keeps its Python module (node_modules/ipckit/python in an installed package).
const pkg = path.dirname(createRequire(import.meta.url).resolve('ipckit/package.json'));
const peer = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python-peer.py');

const { child, channel } = await spawn('python3', [peer], {
  codec: 'json',
  stdio: 'inherit',
  env: { ...process.env, PYTHONPATH: path.join(pkg, 'python') },
  timeout: 10_000, // for the handshake: the child's death ends it at once
});
const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve([child.exitCode]);
try {
  const batches = [
    [3, 1, 4, 1, 5, 9, 2, 6],
    [2, 7, 1, 8, 2, 8],
  ];
  for (const [id, numbers] of batches.entries()) {
    await channel.send({ id, numbers });
    const reply = await channel.receive({ timeout: 10_000 });
    console.log(`python: batch ${reply.id}: mean ${reply.mean.toFixed(3)}, median ${reply.median}`);
  }
} finally {
  await channel.close(); // the Python loop ends, and so does the child
}
const [code] = await exited;
if (code !== 0) throw new Error(`python3 exited with ${code}`);
console.log('python3 exited 0');
