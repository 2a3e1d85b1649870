// The layers of src/ point down only: cli → channel → mechanisms → internal/errors → native.
// Reads every import (static, type-only and dynamic) of every source file and fails on an arrow that
// points up, skips from the Channel or CLI layer straight to the addon, or joins two mechanisms.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { root } from './helpers/index.js';

const src = path.join(root, 'src');

type Layer = 'native' | 'base' | 'mechanism' | 'inventory' | 'channel' | 'cli' | 'index';
// index.ts is the public surface: below the CLI and the bench, which consume it as users do.
const rank: Record<Layer, number> = { native: 0, base: 1, mechanism: 2, inventory: 3, channel: 4, index: 5, cli: 6 };

/** The layer of a file, from its path relative to src/. */
function layerOf(rel: string): Layer {
  if (rel === 'native.ts' || rel === 'addon.ts') return 'native';
  if (rel === 'errors.ts' || rel.startsWith('internal/')) return 'base';
  if (rel === 'index.ts') return 'index';
  if (rel === 'inventory.ts') return 'inventory';
  if (rel.startsWith('channel/')) return 'channel';
  if (rel.startsWith('cli/')) return 'cli';
  if (!rel.includes('/')) return 'mechanism';
  if (/^[a-z-]+\/[^/]+\.ts$/.test(rel) && !rel.startsWith('../')) return 'mechanism'; // a mechanism's parts: src/socket/ for socket.ts
  if (rel.startsWith('../bench/')) return 'cli'; // the bench modules the CLI's `bench` runs: a tool, beside the CLI
  throw new Error(`no layer for src/${rel}: add it to test/layering.test.ts`);
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'native' ? [] : sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The mechanism a mechanism-layer file belongs to: `socket.ts` and the parts under `socket/` are one. */
function mechanismOf(rel: string): string {
  return rel.split('/')[0]!.replace(/\.ts$/, '');
}

/** Every relative module specifier a file imports or re-exports. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|^import\s+['"](\.[^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

/** The violations of the layering rule in the tree under `dir` (a list of "from → to: why"). */
function violations(dir: string): string[] {
  const bad: string[] = [];
  for (const file of sources(dir)) {
    const rel = path.relative(dir, file).split(path.sep).join('/');
    const from = layerOf(rel);
    for (const spec of importsOf(fs.readFileSync(file, 'utf8'))) {
      const target = path.relative(dir, path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'))).split(path.sep).join('/');
      const to = layerOf(target);
      const arrow = `src/${rel} → src/${target}`;
      if (rank[to] > rank[from]) bad.push(`${arrow}: points up (${from} → ${to})`);
      else if (to === 'native' && rank[from] > rank.mechanism) bad.push(`${arrow}: skips the mechanism layer to reach the addon`);
      else if (from === 'mechanism' && to === 'mechanism' && mechanismOf(rel) !== mechanismOf(target)) bad.push(`${arrow}: one mechanism imports another (shared code belongs in internal/)`);
    }
  }
  return bad;
}

test('imports in src/ point down only', () => {
  assert.deepEqual(violations(src), []);
});

test('the rule catches an arrow that points up, one that skips to the addon, and mechanism → mechanism', (t) => {
  const dir = fs.mkdtempSync(path.join(root, 'dist', 'layering-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  put('native.ts', 'export const native = {};\n');
  put('errors.ts', "import type { Channel } from './channel/channel.js';\n");
  put('pipe.ts', "import { native } from './native.js';\nimport { x } from './socket.js';\n");
  put('socket.ts', 'export const x = 1;\n');
  put('channel/channel.ts', "export { native } from '../native.js';\nconst m = await import('../pipe.js');\n");
  assert.deepEqual(violations(dir).sort(), [
    'src/channel/channel.ts → src/native.ts: skips the mechanism layer to reach the addon',
    'src/errors.ts → src/channel/channel.ts: points up (base → channel)',
    'src/pipe.ts → src/socket.ts: one mechanism imports another (shared code belongs in internal/)',
  ]);
});

test("a mechanism's parts (src/socket/ beside socket.ts) are that mechanism: they import each other, not another mechanism", (t) => {
  const dir = fs.mkdtempSync(path.join(root, 'dist', 'layering-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const put = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  put('native.ts', 'export const native = {};\n');
  put('pipe.ts', 'export const p = 1;\n');
  put('socket.ts', "export { s } from './socket/unix-socket.js';\n");
  put('socket/address.ts', "import { native } from '../native.js';\n");
  put('socket/unix-socket.ts', "import './address.js';\nimport { p } from '../pipe.js';\nexport const s = 1;\n");
  put('internal/wait.ts', "import { s } from '../socket/unix-socket.js';\n");
  assert.deepEqual(violations(dir).sort(), [
    'src/internal/wait.ts → src/socket/unix-socket.ts: points up (base → mechanism)',
    'src/socket/unix-socket.ts → src/pipe.ts: one mechanism imports another (shared code belongs in internal/)',
  ]);
});
