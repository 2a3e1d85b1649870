// Property-based tests of every Channel codec (raw, json, msgpack, v8): a received message is a peer's
// bytes, so decode gives a value or ERR_IPC_CODEC (with the codec's error as cause) whatever they hold,
// random or a valid encoding with bytes flipped, inserted or cut; values round-trip; what a codec
// cannot encode is ERR_IPC_CODEC before anything is sent. A bounded number of cases under `npm test`;
// IPCKIT_FUZZ_RUNS=N (npm run fuzz) runs N per property, IPCKIT_FUZZ_SEED=S replays a reported seed.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpcError } from '../src/index.js';
import { codecFor, type CodecName } from '../src/channel/codec.js';

const runs = (n: number): fc.Parameters<unknown> => ({
  numRuns: Number(process.env.IPCKIT_FUZZ_RUNS) || n,
  ...(process.env.IPCKIT_FUZZ_SEED ? { seed: Number(process.env.IPCKIT_FUZZ_SEED) } : {}),
});
const NAMES: CodecName[] = ['raw', 'json', 'msgpack', 'v8'];

/** decode() either returns or throws ERR_IPC_CODEC carrying a cause; anything else fails the property. */
function decodes(name: CodecName, bytes: Uint8Array): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    codecFor(name).decode(buf);
  } catch (err) {
    if (!(err instanceof IpcError) || err.code !== 'ERR_IPC_CODEC') throw err;
    assert.ok(err.cause !== undefined, 'the cause is kept');
    assert.equal(err.codec !== undefined, true);
  }
}

// Values each codec is meant to carry.
const structured = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: false,
  withNullPrototype: false,
  withObjectString: false,
  withBoxedValues: false,
  maxDepth: 3,
});
const valueFor: Record<CodecName, fc.Arbitrary<unknown>> = {
  raw: fc.uint8Array({ maxLength: 64 }),
  json: fc.jsonValue({ maxDepth: 3 }),
  // msgpackr renames a "__proto__" key to "__proto_" (its guard against prototype pollution): see below.
  msgpack: fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('"__proto__"')),
  v8: structured.filter((v) => !hasInvalidDate(v)), // deepEqual cannot compare an invalid Date with itself
};

function hasInvalidDate(v: unknown, depth = 0): boolean {
  if (v instanceof Date) return Number.isNaN(v.getTime());
  if (typeof v !== 'object' || v === null || depth > 8 || ArrayBuffer.isView(v)) return false;
  const items = v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? [...v] : Object.values(v);
  return items.some((x) => hasInvalidDate(x, depth + 1));
}

/** A valid encoding with a few bytes flipped, inserted or removed: where parsers go wrong. */
function mutated(name: CodecName): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('set', 'insert', 'delete', 'cut'), byte: fc.integer({ min: 0, max: 255 }) });
  return fc.tuple(valueFor[name], fc.array(edit, { minLength: 1, maxLength: 4 })).map(([v, edits]) => {
    const bytes = [...codecFor(name).encode(v)];
    for (const { at, op, byte } of edits) {
      const i = at % (bytes.length + 1);
      if (op === 'set' && i < bytes.length) bytes[i] = byte;
      else if (op === 'insert') bytes.splice(i, 0, byte);
      else if (op === 'delete') bytes.splice(i, 1);
      else if (op === 'cut') bytes.length = i;
    }
    return Uint8Array.from(bytes);
  });
}

for (const name of NAMES) {
  test(`fuzz ${name}: decode of any bytes is a value or ERR_IPC_CODEC, never another error`, () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (b) => decodes(name, b)), runs(1500));
    fc.assert(fc.property(mutated(name), (b) => decodes(name, b)), runs(1500));
  });

  test(`fuzz ${name}: values round-trip`, () => {
    const codec = codecFor(name);
    fc.assert(
      fc.property(valueFor[name], (v) => {
        const got = codec.decode(Buffer.from(codec.encode(v)));
        // JSON and MessagePack have no -0; JSON's own round trip is the reference for both.
        const expected = name === 'raw' ? Buffer.from(v as Uint8Array) : name === 'v8' ? v : JSON.parse(JSON.stringify(v));
        assert.deepEqual(got, expected);
      }),
      runs(500),
    );
  });
}

test('fuzz msgpack: the never-used byte 0xC1 anywhere in a message is ERR_IPC_CODEC', () => {
  const mp = codecFor('msgpack');
  fc.assert(
    fc.property(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 6 }), fc.nat(), (items, at) => {
      // An array whose element `at` is 0xC1: the rest is valid MessagePack.
      const parts = items.map((v) => Buffer.from(mp.encode(v)));
      parts.splice(at % (parts.length + 1), 0, Buffer.from([0xc1]));
      const header = parts.length < 16 ? Buffer.from([0x90 + parts.length]) : Buffer.from([0xdc, 0, parts.length]);
      assert.throws(() => mp.decode(Buffer.concat([header, ...parts])), { code: 'ERR_IPC_CODEC', codec: 'msgpack' });
    }),
    runs(300),
  );
});

// ---- what the fuzzer found (each failed before the fix) ---------------------------------------------

test('msgpack: 0xC1 fails with ERR_IPC_CODEC instead of decoding to an object', () => {
  const mp = codecFor('msgpack');
  assert.throws(() => mp.decode(Buffer.from([0xc1])), { code: 'ERR_IPC_CODEC', codec: 'msgpack' });
  assert.throws(() => mp.decode(Buffer.from([0x92, 0x01, 0xc1])), { code: 'ERR_IPC_CODEC' }, 'inside an array');
  assert.throws(() => mp.decode(Buffer.from([0x81, 0xa1, 0x61, 0xc1])), { code: 'ERR_IPC_CODEC' }, 'a map value');
  assert.throws(() => mp.decode(Buffer.from([0xd4, 0x73, 0x00, 0x91, 0xc1])), { code: 'ERR_IPC_CODEC' }, 'inside a Set');
});

test('msgpack: structured-clone references from a peer are refused (no cyclic values the sender never wrote)', () => {
  // ext 0x69 (id 1) around an array holding ext 0x70 (pointer to id 1): a cycle.
  const cyclic = Buffer.from('d66900000001' + '91' + 'd67000000001', 'hex');
  assert.throws(() => codecFor('msgpack').decode(cyclic), { code: 'ERR_IPC_CODEC' });
});

test('msgpack: a "__proto__" key arrives as "__proto_" and never sets a prototype (msgpackr\'s guard; JSON keeps the key)', () => {
  const sent = JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}') as Record<string, unknown>;
  const got = codecFor('msgpack').decode(Buffer.from(codecFor('msgpack').encode(sent))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(got), ['__proto_', 'a']);
  assert.equal(Object.getPrototypeOf(got), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const viaJson = codecFor('json').decode(Buffer.from(codecFor('json').encode(sent))) as Record<string, unknown>;
  assert.deepEqual(Object.keys(viaJson), ['__proto__', 'a']);
  assert.equal(Object.getPrototypeOf(viaJson), Object.prototype);
});

test('encode failures are ERR_IPC_CODEC with the cause: a BigInt or a cycle in JSON, a function in v8, a symbol in msgpack', () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const cases: [CodecName, unknown][] = [
    ['json', { n: 1n }],
    ['json', cycle],
    ['json', undefined],
    ['json', { toJSON: () => { throw new Error('no'); } }],
    ['v8', { f: () => 1 }],
    ['msgpack', Symbol('s')],
  ];
  for (const [name, v] of cases) {
    assert.throws(() => codecFor(name).encode(v), (err: unknown) => {
      assert.ok(err instanceof IpcError, `${name}: an IpcError`);
      assert.equal(err.code, 'ERR_IPC_CODEC');
      assert.equal(err.codec !== undefined, true);
      assert.ok(err.cause instanceof Error, `${name}: the cause is kept`);
      return true;
    });
  }
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 2 }), fc.bigInt(), (v, n) => {
      assert.throws(() => codecFor('json').encode([v, { n }]), { code: 'ERR_IPC_CODEC', codec: 'json' });
    }),
    runs(200),
  );
});
