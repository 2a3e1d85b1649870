// A second reporter for `npm test`, beside spec: after the run, one summary of every skipped test
// grouped by reason (a missing peer names itself and the command that installs it), then one plain
// closing line with the counts.
import type { TestEvent } from 'node:test/reporters';

interface Counted {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
  reasons: Map<string, string[]>;
  todos: string[];
}

export default async function* skipSummary(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const c: Counted = { passed: 0, failed: 0, skipped: 0, todo: 0, reasons: new Map(), todos: [] };
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const data = ev.data as { name: string; skip?: string | boolean; todo?: string | boolean; details: { type?: string } };
    if (data.details?.type === 'suite') continue;
    if (data.todo !== undefined && data.todo !== false) {
      // A todo test does not fail the run, pass or fail: it is counted, and named, on its own.
      c.todo++;
      c.todos.push(`${data.name}${typeof data.todo === 'string' ? ` (${data.todo})` : ''}${ev.type === 'test:fail' ? '' : ' [passes now]'}`);
    } else if (ev.type === 'test:fail') {
      c.failed++;
    } else if (data.skip !== undefined && data.skip !== false) {
      c.skipped++;
      const reason = typeof data.skip === 'string' ? data.skip : '(no reason given)';
      const names = c.reasons.get(reason) ?? [];
      names.push(data.name);
      c.reasons.set(reason, names);
    } else {
      c.passed++;
    }
  }
  let out = '\n';
  if (c.skipped > 0) {
    out += `Skipped ${c.skipped} test(s):\n`;
    for (const [reason, names] of [...c.reasons].sort((a, b) => b[1].length - a[1].length)) {
      out += `  ${names.length} × ${reason}\n`;
    }
  }
  if (c.todo > 0) out += `Todo ${c.todo} test(s):\n${c.todos.map((n) => `  ${n}\n`).join('')}`;
  out += `summary: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.todo} todo\n`;
  yield out;
}
