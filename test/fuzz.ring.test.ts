// Property-based tests of the shared-memory ring against a hostile peer: random sequences of sends,
// receives (copy, into a buffer, zero-copy peek) and writes of random words and bytes anywhere in the
// header and the data area of a live ring in a real POSIX shared-memory segment (SharedArrayBuffer and
// plain views of one mapping, as shm: uses them). Whatever the peer writes, each call returns data
// within the ring's bounds and the receiver's limit, or throws a coded ERR_IPC_* error; never a
// TypeError or RangeError; a waiting receive ends by its timeout at the latest (no spin, no hang). A
// bounded number of cases under `npm test`; IPCKIT_FUZZ_RUNS=N (npm run fuzz) runs N per property.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpcError, SharedMemory } from '../src/index.js';
import {
  initRing,
  maxPayload,
  OFF_CAPACITY,
  OFF_CONSUMER_CLOSED,
  OFF_HEAD,
  OFF_MAGIC,
  OFF_PRODUCER_CLOSED,
  OFF_PRODUCER_WAITING,
  OFF_TAIL,
  OFF_VERSION,
  RING_HEADER,
  RING_MAGIC,
  RingConsumer,
  RingProducer,
  ringBytes,
  threadParker,
  WRAP,
} from '../src/channel/ring.js';
import { uniqueName } from './helpers/index.js';

const runs = (n: number): fc.Parameters<unknown> => ({
  numRuns: Number(process.env.IPCKIT_FUZZ_RUNS) || n,
  ...(process.env.IPCKIT_FUZZ_SEED ? { seed: Number(process.env.IPCKIT_FUZZ_SEED) } : {}),
});

const MAX_CAP = 4096;
const RECEIVE_CODES = ['ERR_IPC_CORRUPT', 'ERR_IPC_MESSAGE_TOO_LARGE', 'ERR_IPC_UNSUPPORTED'];
const SEND_CODES = ['ERR_IPC_CORRUPT', 'ERR_IPC_PEER_DEAD'];

type Op =
  | { t: 'send'; len: number; byte: number }
  | { t: 'word'; word: number; value: number }
  | { t: 'move'; word: number; by: number }
  | { t: 'len'; value: number }
  | { t: 'bytes'; at: number; bytes: Uint8Array }
  | { t: 'recv'; how: 'try' | 'into' | 'peek' | 'many' }
  | { t: 'reattach' };

// The words a hostile peer would go for first, and values that sit on the edges of the checks.
const OFF_RESERVED_PID = 16; // a pid word in layout 1, reserved now: still worth scribbling on
const hotWords = [OFF_MAGIC, OFF_VERSION, OFF_CAPACITY, OFF_RESERVED_PID, OFF_PRODUCER_CLOSED, OFF_CONSUMER_CLOSED, OFF_HEAD, OFF_TAIL].map((o) => o / 4);
const edgy = (cap: number) =>
  fc.oneof(
    fc.constantFrom(0, 1, 7, 8, 16, cap - 8, cap, cap + 8, 2 * cap, maxPayload(cap), maxPayload(cap) + 1, WRAP | 0, 0x7fffffff, -8, RING_MAGIC | 0),
    fc.integer({ min: 0, max: cap / 4 }).map((x) => x * 8), // positions and lengths that pass the alignment checks
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  );
function ops(cap: number): fc.Arbitrary<Op[]> {
  const words = (RING_HEADER + cap) / 4;
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('send' as const), len: fc.integer({ min: 0, max: maxPayload(cap) }), byte: fc.nat(255) }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('recv' as const), how: fc.constantFrom('try' as const, 'into' as const, 'peek' as const, 'many' as const) }) },
    {
      weight: 2,
      arbitrary: fc.record({ t: fc.constant('word' as const), word: fc.oneof(fc.constantFrom(...hotWords), fc.integer({ min: 0, max: words - 1 })), value: edgy(cap) }),
    },
    // The peer moves a position by a little, or rewrites the length of the record the consumer reads next.
    { weight: 2, arbitrary: fc.record({ t: fc.constant('move' as const), word: fc.constantFrom(OFF_HEAD / 4, OFF_TAIL / 4), by: fc.integer({ min: -6, max: 6 }).map((x) => x * 8) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('len' as const), value: edgy(cap) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('bytes' as const), at: fc.integer({ min: 0, max: RING_HEADER + cap - 1 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }) },
    { weight: 1, arbitrary: fc.constant({ t: 'reattach' as const }) },
  );
  return fc.array(op, { maxLength: 40 });
}
const scenario = fc
  .integer({ min: 6, max: 12 })
  .map((b) => 1 << b)
  .chain((cap) => fc.record({ cap: fc.constant(cap), ops: ops(cap), limit: fc.option(fc.integer({ min: 0, max: maxPayload(cap) }), { nil: undefined }), wait: fc.boolean() }));

/** Runs `f`; anything thrown must be an IpcError with one of `codes`. */
function coded<T>(codes: string[], f: () => T): T | undefined {
  try {
    return f();
  } catch (err) {
    if (!(err instanceof IpcError) || !codes.includes(err.code)) throw err;
    return undefined;
  }
}

test('fuzz: a ring in shared memory that a peer scribbles on yields data within bounds or ERR_IPC_*, never a TypeError, a spin or a hang', async (t) => {
  const shm = await SharedMemory.create(uniqueName('fuzzring'), { size: ringBytes(MAX_CAP) });
  t.after(() => shm.close());
  const i32 = new Int32Array(shm.buffer, 0, (RING_HEADER + MAX_CAP) / 4);
  const u8 = new Uint8Array(shm.buffer, 0, RING_HEADER + MAX_CAP);
  const mem = { shared: shm.buffer, plain: shm.arrayBuffer, offset: 0, parker: threadParker };
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async ({ cap, ops, limit, wait }) => {
      cases++;
      u8.fill(0);
      initRing(shm.buffer, 0, cap);
      const opts = { maxMessageSize: limit, peerCheckMs: 5 };
      const tx = new RingProducer(mem, opts);
      let rx: RingConsumer = new RingConsumer(mem, opts);
      const dst = Buffer.alloc(maxPayload(MAX_CAP));
      // The consumer's position as the format defines it (docs/ring-format.md), tracked here: OFF_TAIL
      // right after the consumer attached or published, and the producer position it last read.
      let tail = Atomics.load(i32, OFF_TAIL / 4) >>> 0;
      let head = tail;
      const before = () => {
        if (((head - tail) >>> 0) === 0) head = Atomics.load(i32, OFF_HEAD / 4) >>> 0;
      };
      /** A received message must be the record at the consumer's position, inside the data area and
       * before the producer's position: its own bytes, never clamped, never bytes of something else. */
      const isRecord = (m: Uint8Array) => {
        assert.ok(m.byteLength <= rx.maxMessageSize);
        const rc = rx.capacity; // the header's, when a peer rewrote it before this consumer attached
        assert.ok(((head - tail) >>> 0) <= rc, `received with the producer position ${head} more than a ring ahead of ${tail}`);
        let off = tail & (rc - 1);
        let skip = 0;
        if (i32[(RING_HEADER + off) / 4]! >>> 0 === WRAP) {
          skip = rc - off;
          off = 0;
        }
        assert.equal(i32[(RING_HEADER + off) / 4]! >>> 0, m.byteLength, 'the length in the record header');
        const at = RING_HEADER + off + 8;
        assert.ok(at + m.byteLength <= RING_HEADER + rc, `record at ${off}+${m.byteLength} runs past the end of a ${rc}-byte data area`);
        assert.ok(Buffer.from(m).equals(u8.subarray(at, at + m.byteLength)), 'the bytes of the record');
        const next = (tail + skip + 8 + ((m.byteLength + 7) & ~7)) >>> 0;
        assert.ok(((next - tail) >>> 0) <= ((head - tail) >>> 0), `record ends at ${next}, past the producer position ${head} (consumer at ${tail})`);
        tail = next;
      };
      // What the consumer published last: it publishes once per batch (docs/ring-format.md, "Consuming"),
      // when it has read all it saw, a quarter of the ring, or the producer's flag says it waits.
      let pub = tail;
      const published = () => {
        const due = tail === head || ((tail - pub) >>> 0) >= rx.capacity >>> 2 || i32[OFF_PRODUCER_WAITING / 4] !== 0;
        if (!due) return; // mid-batch: not yet (and the word is the peer's to scribble on meanwhile)
        pub = tail;
        assert.equal(Atomics.load(i32, OFF_TAIL / 4) >>> 0, tail, 'the consumer published its position');
      };
      for (const op of ops) {
        if (op.t === 'send') coded(SEND_CODES, () => tx.trySend(Buffer.alloc(Math.min(op.len, tx.maxMessageSize), op.byte)));
        else if (op.t === 'word') Atomics.store(i32, op.word, op.value);
        else if (op.t === 'move') Atomics.store(i32, op.word, Atomics.load(i32, op.word) + op.by);
        else if (op.t === 'len') i32[(RING_HEADER + (tail & (rx.capacity - 1))) / 4] = op.value;
        else if (op.t === 'bytes') u8.set(op.bytes.subarray(0, RING_HEADER + cap - op.at), op.at);
        else if (op.t === 'reattach') {
          const fresh = coded(RECEIVE_CODES, () => new RingConsumer(mem, opts));
          if (fresh) {
            rx = fresh;
            tail = head = pub = Atomics.load(i32, OFF_TAIL / 4) >>> 0;
          }
        } else {
          const r: RingConsumer = rx;
          before();
          if (op.how === 'try') {
            const m = coded(RECEIVE_CODES, () => r.tryReceive());
            if (m) {
              isRecord(m);
              published();
            }
          } else if (op.how === 'many') {
            // A batch is the records one after the other, as tryReceive() would have returned them.
            const list: Buffer[] = [];
            const n: number | undefined = coded(RECEIVE_CODES, () => r.tryReceiveMany(list, 3));
            if (n !== undefined) {
              assert.equal(n, list.length);
              assert.ok(n <= 3);
              list.forEach((m, i) => {
                if (i > 0) before();
                isRecord(m);
              });
              if (n > 0) published();
            }
          } else if (op.how === 'into') {
            const n: number | undefined = coded(RECEIVE_CODES, () => r.tryReceiveInto(dst));
            if (n !== undefined && n >= 0) {
              isRecord(dst.subarray(0, n));
              published();
            } else if (n !== undefined) assert.equal(n, -1);
          } else {
            const v = coded(RECEIVE_CODES, () => r.peek());
            if (v) {
              assert.ok(v.buffer === shm.arrayBuffer || v.buffer === shm.buffer, 'a view of the ring');
              assert.equal(v.byteOffset + v.byteLength <= RING_HEADER + r.capacity && v.byteOffset >= RING_HEADER + 8, true);
              isRecord(v);
              r.release();
              published();
            }
          }
        }
      }
      if (wait) {
        // A waiting receive: a message, the end, or an error, by its timeout at the latest.
        const t0 = performance.now();
        try {
          before();
          const m = await rx.receive({ timeout: 10, spinMicros: 0 });
          if (m) isRecord(m);
        } catch (err) {
          if (!(err instanceof IpcError) || ![...RECEIVE_CODES, 'ERR_IPC_TIMEOUT', 'ERR_IPC_PEER_DEAD'].includes(err.code)) throw err;
        }
        assert.ok(performance.now() - t0 < 2000, 'the wait ended by its timeout');
      }
    }),
    {
      ...runs(300),
      // Rare at random: the wrap marker at the consumer's position rewritten as a length, so that the
      // record would run past the end of the data area while the producer's position still covers it.
      examples: [
        [
          {
            cap: 64,
            ops: [
              { t: 'send', len: 16, byte: 1 },
              { t: 'send', len: 16, byte: 2 },
              { t: 'recv', how: 'try' },
              { t: 'recv', how: 'try' },
              { t: 'send', len: 16, byte: 3 },
              { t: 'len', value: 16 },
              { t: 'recv', how: 'try' },
            ],
            limit: undefined,
            wait: false,
          },
        ],
      ],
    },
  );
  assert.ok(cases > 0);
});

test('fuzz: with no peer scribbling, what is received is exactly what was sent, in order', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 6, max: 10 }).chain((b) =>
        fc.tuple(fc.constant(1 << b), fc.array(fc.oneof(fc.integer({ min: 0, max: maxPayload(1 << b) }), fc.constant(-1), fc.constant(-2)), { maxLength: 60 })),
      ),
      ([cap, steps]) => {
        const sab = new SharedArrayBuffer(ringBytes(cap));
        initRing(sab, 0, cap);
        const mem = { shared: sab, offset: 0, parker: threadParker };
        const tx = new RingProducer(mem);
        const rx = new RingConsumer(mem);
        const queue: Buffer[] = [];
        let n = 0;
        for (const s of steps) {
          if (s >= 0) {
            const m = Buffer.alloc(s, ++n & 0xff);
            if (tx.trySend(m)) queue.push(m);
          } else if (s === -1) assert.deepEqual(rx.tryReceive(), queue.shift() ?? null);
          else {
            // A batch of up to 4: the next ones in order, as many as there are.
            const list: Buffer[] = [];
            assert.equal(rx.tryReceiveMany(list, 4), Math.min(4, queue.length));
            assert.deepEqual(list, queue.splice(0, list.length));
          }
        }
        for (let m; (m = rx.tryReceive()) !== null; ) assert.deepEqual(m, queue.shift());
        assert.equal(queue.length, 0);
      },
    ),
    runs(500),
  );
});
