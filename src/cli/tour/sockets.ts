// `ipckit tour`, section 6: AF_UNIX sockets between this process and a child — a seqpacket server
// with a 0600 socket file, the child's credentials as the kernel reports them, a file descriptor passed
// from the child, and datagrams keeping their boundaries.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { UnixServer, UnixSocket } from '../../socket.js';
import { own, ownChild } from '../lifetime.js';
import type { TourOutput, TourSection } from './section.js';

// The child: connects, opens a file of its own, and passes the open descriptor with a message.
const CHILD = `
const { UnixSocket } = await import(process.argv[1]);
const fs = await import('node:fs');
const sock = await UnixSocket.connect({ path: process.argv[2], type: 'seqpacket' });
const fd = fs.openSync(process.argv[3], 'r');
await sock.send('a file from pid ' + process.pid, { fds: [fd] });
fs.closeSync(fd);
await new Promise((r) => sock.once('end', r).resume());
await sock.close();
`;

export const section: TourSection = {
  title: 'Unix domain sockets',
  order: 6,
  async run(out: TourOutput): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ipckit-tour-'));
    const disown = own(dir, () => fs.rmSync(dir, { recursive: true, force: true }));
    try {
      const sockPath = path.join(dir, 'tour.sock');
      const file = path.join(dir, 'secret.txt');
      fs.writeFileSync(file, 'a file the child opened and passed along\n', { mode: 0o600 });

      await using server = await UnixServer.listen({ path: sockPath, type: 'seqpacket' });
      const mode = (fs.statSync(sockPath).mode & 0o777).toString(8);
      out.step(`This process listens on a seqpacket socket at ${sockPath}.`);
      out.detail(`socket file mode ${mode}: set before bind(2), never more open`);

      const index = new URL('../../index.js', import.meta.url).href;
      const child = ownChild(spawn(process.execPath, ['--input-type=module', '-e', CHILD, index, sockPath, file], {
        stdio: ['ignore', 'inherit', 'inherit'],
      }));
      out.step(`A child process (pid ${child.pid}) connects and sends a message with an open file descriptor.`);
      await using conn = await server.accept({ timeout: 10_000 });
      const cred = conn.peerCredentials();
      out.detail(`SO_PEERCRED says: pid ${cred.pid}, uid ${cred.uid}, gid ${cred.gid}`);
      const msg = (await conn.receive({ timeout: 10_000 }))!;
      out.detail(`message: "${msg.data}" with ${msg.fds.length} descriptor`);
      using passed = msg.fds[0]!;
      out.step('The descriptor is ours now: reading the file through it.');
      out.detail(fs.readFileSync(passed.fd, 'utf8').trim());
      conn.end();
      await once(child, 'exit');

      out.step('A datagram pair keeps record boundaries: three sends are three receives.');
      const [a, b] = UnixSocket.pair('dgram');
      try {
        for (const m of ['one', 'two', 'three']) await a.send(m);
        const got: string[] = [];
        for (let i = 0; i < 3; i++) got.push(String((await b.receive({ timeout: 5000 }))!.data));
        out.detail(`received ${got.map((g) => JSON.stringify(g)).join(', ')}; largest datagram ${a.maxMessageSize} bytes`);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      disown();
    }
  },
};
