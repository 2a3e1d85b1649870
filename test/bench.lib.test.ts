// The bench harness's logic: medians over repetitions (--repeat), the spread it reports, how the number
// of repetitions is chosen, the growth rows turned into curves, tables and plots, and the verification
// exchange (the C programs' verify mode digests exactly what the harness computes). No measurement runs
// here: speed claims come from `ipckit bench`, never from tests.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { checkDigests, checkDigestsAgainst, compileC, DigestAcc, median, mergeRuns, patternDigest, patternMessage, spreadMetric, wordsDigest, type BenchRow } from '../bench/lib.js';
import { missing } from './helpers/index.js';
import { curves, fmtSpread, growthTargets, repetitions, svg, table, type BenchRun } from '../bench/index.js';

const rtt = (p50: number, p99: number, extra: Partial<BenchRow> = {}): BenchRow => ({
  mechanism: 'pipe',
  impl: 'ipckit',
  label: 'ipckit pipe()',
  size: 64,
  kind: 'rtt',
  p50_us: p50,
  p99_us: p99,
  cores: 'a:0 b:1',
  ...extra,
});

const tput = (mbs: number, label = 'ring'): BenchRow => ({ mechanism: 'shm-ring', impl: 'ipckit', label, size: 1 << 20, kind: 'throughput', mb_per_s: mbs, msgs_per_s: mbs, cores: 'a:0 b:1' });

test('median() takes the middle value, or the mean of the middle two', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});

test('mergeRuns() gives each row the median of every figure, its run count and the min–max of its primary figure', () => {
  const merged = mergeRuns([
    [rtt(2, 10), tput(900)],
    [rtt(1, 30), tput(1000)],
    [rtt(5, 20), tput(800)],
  ]);
  assert.equal(merged.length, 2);
  const [a, b] = merged as [BenchRow, BenchRow];
  assert.equal(a.p50_us, 2);
  assert.equal(a.p99_us, 20); // each percentile on its own, not the p99 of the median run
  assert.equal(a.runs, 3);
  assert.deepEqual(a.spread, { metric: 'p50_us', min: 1, max: 5, values: [2, 1, 5] });
  assert.equal(b.mb_per_s, 900);
  assert.deepEqual(b.spread, { metric: 'mb_per_s', min: 800, max: 1000, values: [900, 1000, 800] });
});

test('mergeRuns() keeps first-seen order, tells apart rows by size and sweep point, and merges a row missing from a run over the runs it is in', () => {
  const merged = mergeRuns([
    [rtt(1, 1), rtt(9, 9, { size: 4096 })],
    [rtt(3, 3, { size: 4096 }), rtt(3, 3)],
    [rtt(2, 2)],
  ]);
  assert.deepEqual(merged.map((r) => [r.size, r.p50_us, r.runs]), [[64, 2, 3], [4096, 6, 2]]);
  const sw = mergeRuns([[tput(1, 'x'), { ...tput(5, 'x'), sweep: { name: 'size', x: 256 } }]]);
  assert.equal(sw.length, 2);
  const twins = mergeRuns([[rtt(1, 1), rtt(10, 10)], [rtt(3, 3), rtt(30, 30)]]);
  assert.deepEqual(twins.map((r) => r.p50_us), [2, 20], 'alike rows of one run are not merged with each other');
});

test('mergeRuns() of one run returns the rows as they were, with runs: 1', () => {
  const [r] = mergeRuns([[rtt(1.23, 4.56, { note: 'n' })]]);
  assert.equal(r!.p50_us, 1.23);
  assert.equal(r!.note, 'n');
  assert.equal(r!.runs, 1);
  assert.equal(fmtSpread(r!), '');
});

test('mergeRuns() takes medians of the memory figures of a sweep point', () => {
  const p = (kb: number): BenchRow => ({ ...rtt(1, 1), sweep: { name: 'pairs', x: 4, rss_per_idle_channel_kb: kb, rss_per_channel_kb: kb * 2 } });
  const [r] = mergeRuns([[p(10)], [p(30)], [p(20)]]);
  assert.deepEqual(r!.sweep, { name: 'pairs', x: 4, rss_per_idle_channel_kb: 20, rss_per_channel_kb: 40 });
});

test('spreadMetric() is p50 for round trips and wake-ups, MB/s (else msg/s) for throughput', () => {
  assert.equal(spreadMetric(rtt(1, 1)), 'p50_us');
  assert.equal(spreadMetric(rtt(1, 1, { kind: 'wakeup' })), 'p50_us');
  assert.equal(spreadMetric(tput(1)), 'mb_per_s');
  assert.equal(spreadMetric({ ...tput(1), mb_per_s: undefined }), 'msgs_per_s');
});

test('repetitions() defaults to 3 for a full run and 1 with --quick, and refuses nonsense', () => {
  assert.equal(repetitions({ quick: false }), 3);
  assert.equal(repetitions({ quick: true }), 1);
  assert.equal(repetitions({ quick: true, repeat: 5 }), 5);
  for (const bad of [0, -1, 1.5, NaN, 101]) assert.throws(() => repetitions({ quick: false, repeat: bad }), RangeError);
});

function growthRun(): BenchRun {
  const pt = (label: string, x: number, msgs: number, p99: number): BenchRow => ({
    mechanism: label,
    impl: 'ipckit',
    label,
    size: 64,
    kind: 'rtt',
    msgs_per_s: msgs,
    p99_us: p99,
    p50_us: p99 / 2,
    cores: 'a:* b:*',
    sweep: { name: 'pairs', x, rss_per_idle_channel_kb: 12, rss_per_channel_kb: 40 },
  });
  const rows = [
    pt('Channel unix:', 4, 70, 30),
    pt('Channel unix:', 1, 100, 10),
    pt('Channel unix:', 64, 60, 300),
    { ...tput(500, 'UnixSocket stream'), sweep: { name: 'size' as const, x: 65536 } },
    { ...tput(50, 'UnixSocket stream'), sweep: { name: 'size' as const, x: 64 } },
  ];
  return { rows, skipped: [], verified: [], curves: curves(rows), machine: { cpus: 2, node: 'v20', kernel: 'k', date: 'd', quick: true, repeat: 1 } };
}

test('curves() turns sweep rows into sorted series, one per label and figure', () => {
  const c = curves(growthRun().rows);
  const size = c.find((x) => x.sweep === 'size' && x.metric === 'mb_per_s')!;
  assert.deepEqual(size.series[0]!.points, [[64, 50], [65536, 500]]);
  const p99 = c.find((x) => x.sweep === 'pairs' && x.metric === 'p99_us')!;
  assert.deepEqual(p99.series[0]!.points, [[1, 10], [4, 30], [64, 300]]);
  assert.ok(c.some((x) => x.metric === 'rss_per_idle_channel_kb'));
});

test('growthTargets() judges 4 pairs against 1 and states p99 and memory at the most pairs', () => {
  const [line] = growthTargets(growthRun());
  assert.match(line!, /4 pairs = 70% .*NOT met/);
  assert.match(line!, /p99 at 64 pairs 300 µs/);
  assert.match(line!, /12 KiB resident per idle channel/);
});

test('table() and svg() show growth sweeps apart from the main rows, and the spread of repeated rows', () => {
  const run = growthRun();
  const merged = mergeRuns([[rtt(2, 10)], [rtt(1, 30)], [rtt(5, 20)]]);
  run.rows.unshift(...merged);
  run.machine.repeat = 3;
  const t = table(run);
  assert.match(t, /growth by message size/);
  assert.match(t, /1\.00–5\.00/);
  assert.match(t, /median of 3 runs/);
  const s = svg(run);
  assert.match(s, /^<svg /);
  assert.match(s, /<polyline /);
  assert.equal((s.match(/<svg /g) ?? []).length, 1);
});

test('patternDigest() is FNV-1a over the pattern messages, in order, and a running DigestAcc agrees', () => {
  // 5 × 100 B: the figure the C programs print for `verify` with the same arguments.
  assert.deepEqual(patternDigest(100, 5), { bytes: 500, fnv: 2639482185 });
  const d = new DigestAcc();
  const all = Buffer.concat([0, 1, 2, 3, 4].map((i) => patternMessage(100, i)));
  for (let off = 0; off < all.length; off += 7) d.add(all.subarray(off, off + 7)); // any chunking
  assert.deepEqual(d.toJSON(), patternDigest(100, 5));
});

test('checkDigests() passes matching sides and throws naming each side that saw other bytes', () => {
  const good = patternDigest(64, 3);
  assert.match(checkDigests('x', 64, 3, { C: good, node: JSON.stringify(good) }), /C and node each received 3 × 64 B = 192 B/);
  assert.throws(() => checkDigests('x', 64, 3, { C: good, node: { bytes: 192, fnv: good.fnv ^ 1 } }), /node saw 192 B/);
  assert.throws(() => checkDigests('x', 64, 3, { C: { bytes: 128, fnv: good.fnv }, node: good }), /C saw 128 B/);
  assert.throws(() => checkDigests('x', 64, 3, { C: 'garbage' }), /C printed "garbage"/);
});

test('the C bench programs\' verify mode receives exactly the pattern the harness computes', { skip: missing('cc') }, () => {
  const runs: [string, string[], number, number][] = [
    ['socket_unix', ['stream', 'verify', '7', '3000'], 3000, 7],
    ['socket_unix', ['dgram', 'verify', '7', '300'], 300, 7],
    ['socket_unix', ['seqpacket', 'verify', '7', '300'], 300, 7],
    ['pipe_pingpong', ['7', '300', '0', '0', 'verify'], 300, 7],
    ['mq_sysv', ['verify', '300', '7'], 300, 7],
    ['mq_posix', ['verify', '300', '7'], 300, 7],
  ];
  for (const [prog, args, size, n] of runs) {
    const r = spawnSync(compileC(prog), args, { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, `${prog} ${args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), patternDigest(size, n), `${prog} ${args.join(' ')}`);
  }
});

test('wordsDigest() folds 4-byte little-endian words like DigestAcc, and checkDigestsAgainst() names the side that differs', () => {
  const d = new DigestAcc();
  for (const w of [1, 2, 0xdeadbeef]) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(w);
    d.add(b);
  }
  assert.deepEqual(wordsDigest([1, 2, 0xdeadbeef]), d.toJSON());
  const want = wordsDigest([1, 2]);
  assert.match(checkDigestsAgainst('futex', want, '1 round trip', { C: want, ipckit: JSON.stringify(want) }), /C and ipckit each received 1 round trip = 8 B/);
  assert.throws(() => checkDigestsAgainst('futex', want, '1 round trip', { C: want, ipckit: wordsDigest([2, 1]) }), /futex: 1 round trip should be 8 B .* but ipckit saw 8 B/);
});

test('shm_pingpong verify: every mode, C futex on a waiter thread too, sees exactly the words of the exchange', { skip: missing('cc') }, () => {
  const rounds = 50;
  const want = wordsDigest(Array.from({ length: 2 * rounds }, (_, k) => k + 1)); // b 2i+1, a 2i+2
  for (const mode of ['spin', 'futex', 'sem', 'efd', 'handoff']) {
    const r = spawnSync(compileC('shm_pingpong'), ['verify', mode, String(rounds)], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, `${mode}: ${r.stderr}`);
    assert.deepEqual(JSON.parse(r.stdout), want, mode);
  }
});

test('table() leads with a module that failed its verification', () => {
  const run = growthRun();
  run.skipped.push({ module: 'mq', reason: 'FAILED verification, not measured: POSIX mq 64 B: ...' });
  assert.match(table(run).split('\n')[0]!, /^FAILED: mq was not measured/);
});
