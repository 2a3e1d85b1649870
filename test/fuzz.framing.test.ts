// Property-based tests of FrameDecoder against a model, on streams of valid frames, control words, bad
// headers and junk, cut into chunks anywhere: the frames out are those of the model whatever the cuts,
// errors are only ERR_IPC_MESSAGE_TOO_LARGE and ERR_IPC_CORRUPT, and the decoder never holds more than
// the frame in progress. A bounded number of cases under `npm test`; IPCKIT_FUZZ_RUNS=N (npm run fuzz)
// runs N per property, IPCKIT_FUZZ_SEED=S replays a reported seed.
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { FrameDecoder, IpcError, listen } from '../src/index.js';
import { FRAME_HEADER } from '../src/internal/framing.js';

const runs = (n: number): fc.Parameters<unknown> => ({
  numRuns: Number(process.env.IPCKIT_FUZZ_RUNS) || n,
  ...(process.env.IPCKIT_FUZZ_SEED ? { seed: Number(process.env.IPCKIT_FUZZ_SEED) } : {}),
});
const CONTROL = 0xffffffff;

function header(n: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER);
  h.writeUInt32LE(n);
  return h;
}
const frame = (p: Uint8Array | string) => Buffer.concat([header(Buffer.byteLength(p)), Buffer.from(p)]);

type Outcome = { frames: string[]; controls: number; end: 'clean' | 'ERR_IPC_CORRUPT' | 'ERR_IPC_MESSAGE_TOO_LARGE' };

/** What a decoder must make of a whole stream: the obvious decoder, over the concatenated bytes. */
function model(wire: Buffer, max: number, endsAtControl: boolean): Outcome {
  const frames: string[] = [];
  let controls = 0;
  let off = 0;
  while (wire.length - off >= FRAME_HEADER) {
    const len = wire.readUInt32LE(off);
    off += FRAME_HEADER;
    if (len === CONTROL) {
      controls++;
      if (endsAtControl) return { frames, controls, end: 'clean' };
      continue;
    }
    if (len > max) return { frames, controls, end: 'ERR_IPC_MESSAGE_TOO_LARGE' };
    if (wire.length - off < len) return { frames, controls, end: 'ERR_IPC_CORRUPT' };
    frames.push(wire.subarray(off, off + len).toString('hex'));
    off += len;
  }
  return { frames, controls, end: off === wire.length ? 'clean' : 'ERR_IPC_CORRUPT' };
}

/** Feeds the chunks to a FrameDecoder as a stream reader does, stopping at the first error. */
function decode(chunks: Buffer[], max: number, endsAtControl: boolean): Outcome {
  let controls = 0;
  const d = new FrameDecoder(max, {
    control: CONTROL,
    onControl: () => {
      controls++;
      return endsAtControl;
    },
  });
  const frames: string[] = [];
  const fail = (err: unknown): Outcome => {
    if (!(err instanceof IpcError)) throw err; // a TypeError or RangeError is a bug: fast-check shrinks it
    assert.ok(err.code === 'ERR_IPC_CORRUPT' || err.code === 'ERR_IPC_MESSAGE_TOO_LARGE', err.code);
    return { frames, controls, end: err.code };
  };
  for (const c of chunks) {
    try {
      for (const f of d.push(c)) frames.push(f.toString('hex'));
    } catch (err) {
      return fail(err);
    }
    // Holds at most the header or the payload in progress, never a frame over the limit.
    assert.ok(d.buffered < Math.max(FRAME_HEADER, max + 1), `buffered ${d.buffered} with a limit of ${max}`);
  }
  try {
    d.end();
  } catch (err) {
    return fail(err);
  }
  return { frames, controls, end: 'clean' };
}

/** Cuts `wire` at the given points (any number, anywhere, empty chunks included). */
function cut(wire: Buffer, points: number[]): Buffer[] {
  const at = points.map((p) => p % (wire.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(wire.subarray(prev, p));
    prev = p;
  }
  out.push(wire.subarray(prev));
  return out;
}

// Streams that stress the decoder: whole frames (some over the limit), control words, bare headers of
// any length, and raw junk.
const segment = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 40 }).map((p) => frame(p)) },
  { weight: 1, arbitrary: fc.constant(header(CONTROL)) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }).map(header) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)) },
);
const stream = fc.array(segment, { maxLength: 12 }).map((s) => Buffer.concat(s));
const cuts = fc.array(fc.nat(), { maxLength: 8 });
const limit = fc.oneof(fc.integer({ min: 0, max: 48 }), fc.constant(0xffffffff));

test('fuzz: whatever the bytes and the cuts, the decoder gives the frames and the outcome of the model', () => {
  fc.assert(
    fc.property(stream, cuts, limit, fc.boolean(), (wire, points, max, endsAtControl) => {
      assert.deepEqual(decode(cut(wire, points), max, endsAtControl), model(wire, max, endsAtControl));
    }),
    runs(3000),
  );
});

test('fuzz: valid frames round-trip through any chunking, byte for byte', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), cuts, (payloads, points) => {
      const wire = Buffer.concat(payloads.map((p) => frame(p)));
      const got = decode(cut(wire, points), 300, false);
      assert.deepEqual(got, { frames: payloads.map((p) => Buffer.from(p).toString('hex')), controls: 0, end: 'clean' });
    }),
    runs(1000),
  );
});

// ---- what the fuzzer found (each failed before the fix) ---------------------------------------------

test('frames decoded before a bad header in the same chunk are delivered, then the error', () => {
  const d = new FrameDecoder(8);
  const wire = Buffer.concat([frame('A'), frame('B'), header(1000), Buffer.from('junk')]);
  assert.deepEqual(d.push(wire).map(String), ['A', 'B']);
  assert.equal(d.failed?.code, 'ERR_IPC_MESSAGE_TOO_LARGE');
  assert.equal(d.inFrame, true);
  assert.throws(() => d.push(Buffer.alloc(0)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE', size: 1000, limit: 8 });
  assert.throws(() => d.push(frame('C')), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' }, 'a failed decoder stays failed');
  assert.throws(() => d.end(), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });

  // The same through the slow path (a frame split across chunks first).
  const s = new FrameDecoder(8);
  assert.deepEqual(s.push(wire.subarray(0, 3)), []);
  assert.deepEqual(s.push(wire.subarray(3)).map(String), ['A', 'B']);
  assert.throws(() => s.end(), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
});

test('a control word that ends the stream makes the bytes after it no frame: junk after a goodbye is the end', () => {
  for (const junk of [header(1 << 30), Buffer.from('xy'), frame('late')]) {
    const d = new FrameDecoder(8, { control: CONTROL, onControl: () => true });
    assert.deepEqual(d.push(Buffer.concat([frame('A'), header(CONTROL), junk])).map(String), ['A']);
    assert.equal(d.ended, true);
    assert.equal(d.inFrame, false);
    assert.deepEqual(d.push(junk), [], 'later chunks are ignored too');
    d.end();
    // Split: the goodbye in one chunk (through the slow path), the junk in the next.
    const s = new FrameDecoder(8, { control: CONTROL, onControl: () => true });
    assert.deepEqual(s.push(Buffer.concat([frame('A'), header(CONTROL).subarray(0, 1)])).map(String), ['A']);
    assert.deepEqual(s.push(Buffer.concat([header(CONTROL).subarray(1), junk])), []);
    s.end();
  }
  // A control word that does not end the stream is passed over, as before.
  let controls = 0;
  const d = new FrameDecoder(8, { control: CONTROL, onControl: () => void controls++ });
  assert.deepEqual(d.push(Buffer.concat([frame('A'), header(CONTROL), frame('B')])).map(String), ['A', 'B']);
  assert.equal(controls, 1);
  assert.equal(d.ended, false);
});

test('maxFrameSize is validated', () => {
  for (const bad of [-1, 1.5, Number.NaN, 2 ** 32]) assert.throws(() => new FrameDecoder(bad), { code: 'ERR_OUT_OF_RANGE' }, String(bad));
  assert.throws(() => new FrameDecoder('8' as unknown as number), { code: 'ERR_INVALID_ARG_TYPE' });
});

/** A tcp: channel listener and a raw socket as its peer, writing `bytes` in one write. */
async function rawPeer(t: test.TestContext, bytes: Buffer) {
  const rx = await listen('tcp://127.0.0.1:0', { maxMessageSize: 8 });
  t.after(() => rx.close());
  const port = Number(new URL(rx.url).port);
  const s = net.connect(port, '127.0.0.1');
  t.after(() => void s.destroy());
  await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject));
  s.write(bytes);
  return rx;
}

test('through a channel: junk after the goodbye is the end of the stream, not ERR_IPC_MESSAGE_TOO_LARGE', async (t) => {
  const rx = await rawPeer(t, Buffer.concat([frame('A'), header(CONTROL), header(1 << 30), Buffer.from('junk')]));
  assert.equal(String(await rx.receive({ timeout: 5000 })), 'A');
  assert.equal(await rx.receive({ timeout: 5000 }), undefined, "the end");
});

test('through a channel: A, B, then a bad header gives A, B, then ERR_IPC_MESSAGE_TOO_LARGE', async (t) => {
  const rx = await rawPeer(t, Buffer.concat([frame('A'), frame('B'), header(1 << 30)]));
  assert.equal(String(await rx.receive({ timeout: 5000 })), 'A');
  assert.equal(String(await rx.receive({ timeout: 5000 })), 'B');
});

test('through a channel: the error after A and B comes while the peer stays connected', async (t) => {
  const rx = await rawPeer(t, Buffer.concat([frame('A'), frame('B'), header(1 << 30)]));
  await rx.receive({ timeout: 5000 });
  await rx.receive({ timeout: 5000 });
  await assert.rejects(rx.receive({ timeout: 1000 }), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
});
