// ipckit's published .d.ts in a consumer project: strict, a tsconfig that names no "types" (the
// default of TypeScript 6 and later is none), compiled by the TypeScript ipckit builds with and by
// TypeScript 7, against the oldest supported @types/node (20) and the newest.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { root, run, tmpDir } from './helpers/index.js';

const compilers = [
  { name: 'TypeScript ' + pkgVersion('typescript'), tsc: path.join(root, 'node_modules/typescript/bin/tsc') },
  { name: 'TypeScript ' + pkgVersion('typescript-7'), tsc: path.join(root, 'node_modules/typescript-7/bin/tsc') },
];
const typesNode = [
  { name: '@types/node ' + pkgVersion('@types/node'), dir: path.join(root, 'node_modules/@types/node') },
  { name: '@types/node ' + pkgVersion('types-node-latest'), dir: path.join(root, 'node_modules/types-node-latest') },
];

function pkgVersion(dir: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'node_modules', dir, 'package.json'), 'utf8')).version;
  } catch {
    return '(not installed)';
  }
}

/** A consumer project: its own node_modules with a copy of the published ipckit types and one @types/node. */
function consumer(dir: string, types: string): void {
  const mod = path.join(dir, 'node_modules');
  const ipckit = path.join(mod, 'ipckit');
  fs.mkdirSync(path.join(mod, '@types'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(ipckit + '.json'));
  fs.mkdirSync(ipckit);
  fs.renameSync(ipckit + '.json', path.join(ipckit, 'package.json'));
  fs.cpSync(path.join(root, 'dist/src'), path.join(ipckit, 'dist/src'), {
    recursive: true,
    filter: (src) => fs.statSync(src).isDirectory() || src.endsWith('.d.ts'),
  });
  fs.symlinkSync(types, path.join(mod, '@types/node'));
  fs.copyFileSync(path.join(root, 'test/fixtures/consumer/index.ts'), path.join(dir, 'index.ts'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true },
      files: ['index.ts'],
    }),
  );
}

for (const c of compilers) {
  for (const t of typesNode) {
    const skip = !fs.existsSync(c.tsc) || !fs.existsSync(t.dir) ? 'needs the devDependencies (npm ci)' : false;
    test(`a strict consumer compiles against ipckit's types with ${c.name} and ${t.name}`, { skip }, async (tc) => {
      const dir = tmpDir(tc);
      consumer(dir, t.dir);
      const r = await run(process.execPath, [c.tsc, '-p', path.join(dir, 'tsconfig.json')], { timeout: 120_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    });
  }
}
