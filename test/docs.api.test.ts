// The API reference (`npm run docs`: typedoc over 'ipckit' and 'ipckit/ring', typedoc.json) builds with validation
// on: a broken {@link}, an export without TSDoc, or a public type that refers to one the reference
// leaves out fails the build, and so this test. It builds into a temporary directory, offline (typedoc
// reads only the sources and node_modules).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { root, run, tmpDir } from './helpers/index.js';

const typedoc = path.join(root, 'node_modules/typedoc/bin/typedoc');
const skip = fs.existsSync(typedoc) ? false : 'needs the devDependencies (npm ci)';

test('the API reference builds from the TSDoc with no broken link and no undocumented export', { skip }, async (t) => {
  const out = tmpDir(t);
  const r = await run(process.execPath, [typedoc, '--out', out, '--logLevel', 'Warn'], {
    cwd: root,
    timeout: 180_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout + r.stderr, '', 'no warning at all');
  for (const page of ['index.html', 'classes/ipckit.MessageQueue.html', 'functions/ipckit.connect.html', 'classes/ipckit_ring.RingProducer.html']) {
    assert.ok(fs.existsSync(path.join(out, page)), `${page} is generated`);
  }
});

test('the reference covers every entry point of the package ("exports" with types)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(root, 'typedoc.json'), 'utf8'));
  const typed = Object.values(pkg.exports as Record<string, { types?: string } | string>)
    .flatMap((e) => (typeof e === 'object' && e.types ? [e.types] : []))
    .map((t) => t.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts'));
  assert.ok(typed.length > 0);
  assert.deepEqual([...config.entryPoints].sort(), typed.sort());
});
