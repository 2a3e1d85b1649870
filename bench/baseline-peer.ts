// Peer process of bench/baseline.ts. Modes:
//   cp       a child_process.fork child: echoes every IPC message back with process.send;
//   unix P   listens on the AF_UNIX path P, echoes every byte back (node:net).
import net from 'node:net';

const [mode, arg] = process.argv.slice(2);
if (mode === 'cp') {
  process.on('message', (m) => process.send!(m));
  process.send!('ready');
} else if (mode === 'unix') {
  const server = net.createServer((s) => {
    s.setNoDelay?.(true);
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  server.listen(arg, () => process.stdout.write('ready\n'));
}
