// What `npm publish` would ship, from `npm pack --dry-run --json` (offline, no lifecycle scripts: the
// suite has already built dist/). A user gets the public types and nothing of the CLI's or the bench's
// internals, every source map ships with the sources it maps to, and what `npm install` needs to build
// the addon (binding.gyp and its sources) is there.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { missing, root, run } from './helpers/index.js';

let packed: Promise<Set<string>> | undefined;

/** The packed file list, computed once for the file. */
function files(): Promise<Set<string>> {
  packed ??= (async () => {
    const r = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline', '--loglevel=error'], {
      cwd: root,
      timeout: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const [info] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
    // Outputs of a source deleted since dist/ was built are left out: this tree's dist/ may be older
    // than its sources, but `npm pack` and `npm publish` run `prepare`, which builds dist/ afresh.
    return new Set(info!.files.map((f) => f.path).filter((f) => !stale(f)));
  })();
  return packed;
}

/** A compiled file of dist/ whose TypeScript source no longer exists. */
function stale(file: string): boolean {
  const m = /^dist\/(.*)\.(?:js|d\.ts|js\.map)$/.exec(file);
  return m !== null && !fs.existsSync(path.join(root, `${m[1]}.ts`));
}

const skip = missing('npm');

test('the package ships no .d.ts of CLI or bench internals', { skip }, async () => {
  const internal = [...(await files())].filter((f) => /^dist\/(src\/cli|bench)\/.*\.d\.ts$/.test(f));
  assert.deepEqual(internal, []);
});

test('the shipped .d.ts files import only shipped .d.ts files', { skip }, async () => {
  const list = await files();
  const dts = [...list].filter((f) => f.endsWith('.d.ts'));
  assert.ok(dts.includes('dist/src/index.d.ts'));
  const broken: string[] = [];
  for (const f of dts) {
    const text = fs.readFileSync(path.join(root, f), 'utf8');
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.posix.join(path.posix.dirname(f), spec!.replace(/\.js$/, '.d.ts'));
      if (!list.has(target)) broken.push(`${f} → ${spec}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('every shipped source map ships with the sources it maps, and every mapped .js with its map', { skip }, async () => {
  const list = await files();
  const problems: string[] = [];
  for (const f of list) {
    if (f.endsWith('.js.map')) {
      const map = JSON.parse(fs.readFileSync(path.join(root, f), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const s of map.sources) {
        const src = path.posix.normalize(path.posix.join(path.posix.dirname(f), map.sourceRoot ?? '', s));
        if (!list.has(src)) problems.push(`${f} maps ${src}, which is not shipped`);
      }
    } else if (f.endsWith('.js')) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(fs.readFileSync(path.join(root, f), 'utf8'))?.[1];
      if (url && !url.startsWith('data:') && !list.has(path.posix.join(path.posix.dirname(f), url))) {
        problems.push(`${f} names the map ${url}, which is not shipped`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('the entry points, the CLI and the addon build inputs ship; tests do not', { skip }, async () => {
  const list = await files();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  // Every target of "exports" (each subpath's conditions, or a plain string), main, types and bin.
  const targets = (e: unknown): string[] => (typeof e === 'string' ? [e] : Object.values(e as object).flatMap(targets));
  const entries = [pkg.main, pkg.types, ...targets(pkg.exports), ...Object.values(pkg.bin)];
  for (const e of entries as string[]) assert.ok(list.has(path.posix.normalize(e)), `${e} is not shipped`);
  // binding.gyp builds every src/native/*.cc (`ls -1 src/native/*.cc`), with the headers beside them.
  const sources = fs.readdirSync(path.join(root, 'src/native')).map((f) => `src/native/${f}`);
  assert.ok(sources.some((s) => s.endsWith('.cc')));
  for (const s of ['binding.gyp', ...sources]) assert.ok(list.has(s), `${s} is not shipped`);
  assert.deepEqual([...list].filter((f) => /^(dist\/)?test\//.test(f)), []);
  // The peers in other languages that the docs point users to: the C header (docs/c.md), the Python module.
  for (const f of ['include/ipckit_ring.h', 'python/ipckit_channel.py']) assert.ok(list.has(f), `${f} is not shipped`);
});
