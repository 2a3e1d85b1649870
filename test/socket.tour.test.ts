// The tour section for sockets runs end to end between this process and a child, and says what it saw.
import test from 'node:test';
import assert from 'node:assert/strict';
import { section as socketsTour } from '../src/cli/tour/sockets.js';

test('the sockets tour shows the child\'s credentials, a passed descriptor and datagram boundaries', async () => {
  const lines: string[] = [];
  await socketsTour.run({ step: (t) => lines.push(`step ${t}`), detail: (t) => lines.push(`detail ${t}`) });
  const text = lines.join('\n');
  assert.equal(socketsTour.order, 6);
  assert.match(text, /socket file mode 600/);
  const pid = /A child process \(pid (\d+)\)/.exec(text)![1];
  assert.match(text, new RegExp(`SO_PEERCRED says: pid ${pid}, uid ${process.getuid!()}`));
  assert.match(text, /a file the child opened and passed along/);
  assert.match(text, /received "one", "two", "three"/);
});
