// The API reference (`npm run docs`: typedoc over src/index.ts, typedoc.json) builds with validation
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
  for (const page of ['index.html', 'classes/MessageQueue.html', 'functions/connect.html']) {
    assert.ok(fs.existsSync(path.join(out, page)), `${page} is generated`);
  }
});
