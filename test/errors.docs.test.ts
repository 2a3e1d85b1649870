// docs/errors.md lists every code ipckit raises. The codes are collected from the sources: every
// ERR_IPC_* literal (all of them are ipckit's own), and every other quoted code in the code, such as
// Node's ERR_INVALID_ARG_TYPE reused for misuse. Codes only compared against
// (`code === 'ERR_STREAM_DESTROYED'`) are Node's to raise, not ours.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './helpers/index.js';

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

/** code → the files that raise it. */
function raised(): Map<string, Set<string>> {
  const codes = new Map<string, Set<string>>();
  const add = (code: string, file: string) => {
    if (!codes.has(code)) codes.set(code, new Set());
    codes.get(code)!.add(path.relative(root, file));
  };
  for (const file of sources(path.join(root, 'src'))) {
    const text = fs.readFileSync(file, 'utf8');
    for (const [code] of text.matchAll(/\bERR_IPC_[A-Z0-9]+(?:_[A-Z0-9]+)*\b/g)) add(code, file);
    // Other codes: every quoted 'ERR_…' / 'ABORT_ERR' in the code (comments stripped) that is not
    // compared against or a case label, so that codes built by a helper (nodeError('ERR_X', …)) count.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    for (const [, , c] of code.matchAll(/(?<!(?:[=!]==?|case)\s*)(['"`])(ERR_[A-Z0-9_]+|ABORT_ERR)\1/g)) add(c!, file);
  }
  return codes;
}

const page = fs.readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
/** The codes of the IpcError table: rows `| \`ERR_IPC_…\` | meaning | properties |`. */
const table = new Set([...page.matchAll(/^\|\s*`(ERR_IPC_[A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!));

/** Whether the page names `code` in a code span: `ERR_X` or `'ERR_X'`. */
const named = (code: string) => page.includes('`' + code + '`') || page.includes("`'" + code + "'`");

test('every ERR_IPC_* code in src/ has a row in the IpcError table of docs/errors.md', () => {
  const missingRows = [...raised()].filter(([code]) => code.startsWith('ERR_IPC_') && !table.has(code));
  assert.deepEqual(missingRows.map(([code, files]) => `${code} (${[...files].join(', ')})`), []);
});

test('every other code ipckit raises is named in docs/errors.md', () => {
  const unnamed = [...raised()].filter(([code]) => !code.startsWith('ERR_IPC_') && !named(code));
  assert.deepEqual(unnamed.map(([code, files]) => `${code} (${[...files].join(', ')})`), []);
});

test('the IpcError table of docs/errors.md and the IpcErrorCode type list the same codes', () => {
  const errors = fs.readFileSync(path.join(root, 'src/errors.ts'), 'utf8');
  const union = /export type IpcErrorCode\s*=([^;]*);/.exec(errors)?.[1];
  assert.ok(union, 'src/errors.ts declares IpcErrorCode');
  const typed = new Set([...union.matchAll(/'(ERR_IPC_[A-Z0-9_]+)'/g)].map((m) => m[1]!));
  assert.deepEqual([...table].sort(), [...typed].sort());
});
