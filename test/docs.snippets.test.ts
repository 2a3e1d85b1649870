// Every code block in README.md and docs/*.md, as written:
// - `js` blocks must parse as ES modules on this Node (the matrix runs this on every supported Node, the
//   oldest included), and every name they import from 'ipckit' must be one ipckit exports;
// - `ts` blocks are type-checked, strict, against ipckit's own sources, each as a module of its own;
// - a block preceded by `<!-- snippet: run -->` is also run, as a child process with a timeout, and must
//   exit 0 (a snippet that needs a second process starts it itself);
// - `<!-- snippet: declare ... -->` before a ts block gives it ambient declarations for names a fragment
//   takes from its surroundings (a pid, a segment), which stay out of the page.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { root, run, tmpDir } from './helpers/index.js';

interface Snippet {
  file: string;
  line: number;
  lang: string;
  code: string;
  run: boolean;
  declare: string;
}

function snippets(): Snippet[] {
  const files = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const out: Snippet[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\w*)\s*$/.exec(lines[i]!);
      if (!open) continue;
      const start = i;
      let end = i + 1;
      while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
      let runIt = false;
      let declare = '';
      for (let j = start - 1; j >= 0 && /^<!--\s*snippet:/.test(lines[j]!); j--) {
        const m = /^<!--\s*snippet:\s*(\w+)\s*([\s\S]*?)\s*-->$/.exec(lines[j]!)!;
        if (m[1] === 'run') runIt = true;
        else if (m[1] === 'declare') declare += m[2] + '\n';
      }
      out.push({ file, line: start + 1, lang: open[1]!, code: lines.slice(start + 1, end).join('\n'), run: runIt, declare });
      i = end;
    }
  }
  return out;
}

const all = snippets();
const exported = new Set(Object.keys(await import('../src/index.js')));

test('every code block is labelled with its language', () => {
  const unlabelled = all.filter((s) => s.lang === '').map((s) => `${s.file}:${s.line}`);
  assert.deepEqual(unlabelled, []);
});

for (const s of all.filter((x) => x.lang === 'js')) {
  test(`${s.file}:${s.line} (js) parses on Node ${process.versions.node} and imports only what ipckit exports`, async (t) => {
    const dir = tmpDir(t);
    const file = path.join(dir, 'snippet.mjs');
    fs.writeFileSync(file, s.code + '\n');
    const check = await run(process.execPath, ['--check', file]);
    assert.equal(check.code, 0, check.stderr);
    for (const m of s.code.matchAll(/import\s*\{([^}]*)\}\s*from\s*'ipckit'/g)) {
      for (const spec of m[1]!.split(',').map((x) => x.trim()).filter(Boolean)) {
        const name = spec.replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
        if (!spec.startsWith('type ')) assert.ok(exported.has(name), `ipckit exports ${name}`);
      }
    }
    if (s.run) {
      const runDir = path.join(root, 'dist', '.snippets');
      fs.mkdirSync(runDir, { recursive: true });
      const script = path.join(runDir, `${path.basename(s.file, '.md')}-${s.line}.mjs`);
      t.after(() => fs.rmSync(script, { force: true }));
      // 'ipckit' resolves to this checkout (package.json "exports" through self-reference).
      fs.writeFileSync(script, s.code + '\n');
      const r = await run(process.execPath, [script], { timeout: 30_000, cwd: dir });
      assert.equal(r.code, 0, `exit ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr}`);
    }
  });
}

const tsBlocks = all.filter((x) => x.lang === 'ts');
test(`${tsBlocks.length} ts blocks type-check, strict, against ipckit's sources`, { skip: tsBlocks.length === 0 && 'no ts blocks' }, async (t) => {
  const dir = path.join(root, 'dist', '.snippets-ts');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const byName = new Map<string, { s: Snippet; header: number }>();
  for (const s of tsBlocks) {
    const name = `${s.file.replace(/[/.]/g, '_')}_${s.line}.mts`;
    // A module of its own (export {}), so that top-level await and names are per block.
    const header = `${s.declare ? `declare global {\n${s.declare}}\n` : ''}export {};\n`;
    fs.writeFileSync(path.join(dir, name), header + s.code + '\n');
    byName.set(name, { s, header: header.split('\n').length - 1 });
  }
  const names = [...byName.keys()];
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'ESNext.Disposable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules/@types')],
        paths: { ipckit: [path.join(root, 'src/index.ts')] },
      },
      files: names,
    }),
  );
  const r = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { timeout: 120_000 });
  // Map the errors back to their pages: page:line(column).
  const where = (out: string) =>
    out.replace(/(?:\S*\/)?([\w.-]+\.mts)\((\d+),(\d+)\)/g, (m, name: string, l: string, c: string) => {
      const b = byName.get(name);
      return b ? `${b.s.file}:${b.s.line + Number(l) - b.header}(${c})` : m;
    });
  assert.equal(r.code, 0, where(r.stdout + r.stderr));
});
