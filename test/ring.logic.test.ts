// The ring's logic over a SharedArrayBuffer: records and their boundaries across the wrap, the full and
// empty edges, zero-copy receive, close and dead-peer semantics, and the validation of everything read
// from shared memory (hostile positions and lengths give ERR_IPC_CORRUPT, never a hang or an
// out-of-bounds access). Concurrency between two threads of this process (worker_threads, Atomics).
import test from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import {
  initRing,
  maxPayload,
  checkRing,
  OFF_CAPACITY,
  OFF_CONSUMER_SLEEPING,
  OFF_HEAD,
  OFF_PRODUCER_WAITING,
  OFF_MAGIC,
  OFF_TAIL,
  RING_HEADER,
  RUNG,
  RingConsumer,
  RingProducer,
  ringBytes,
  threadParker,
} from '../src/channel/ring.js';
import { IpcError } from '../src/errors.js';
import { childScript } from './helpers/index.js';
import { messages } from './fixtures/ring-messages.js';

function ring(capacity: number, opts = {}) {
  const sab = new SharedArrayBuffer(ringBytes(capacity));
  initRing(sab, 0, capacity);
  const mem = { shared: sab, offset: 0, parker: threadParker };
  return { sab, i32: new Int32Array(sab), tx: new RingProducer(mem, opts), rx: new RingConsumer(mem, opts) };
}

test('records of every size keep their boundaries across many wraps', () => {
  const { tx, rx } = ring(256);
  assert.equal(tx.maxMessageSize, maxPayload(256));
  for (let i = 0; i < 2000; i++) {
    const len = (i * 7) % (tx.maxMessageSize + 1);
    const m = Buffer.alloc(len, i & 0xff);
    assert.equal(tx.trySend(m), true);
    if (i % 3 === 0) assert.equal(tx.trySend(Buffer.from([i & 0xff])), true);
    assert.deepEqual(rx.tryReceive(), m);
    if (i % 3 === 0) assert.deepEqual(rx.tryReceive(), Buffer.from([i & 0xff]));
    assert.equal(rx.tryReceive(), null);
  }
});

test('trySend reports a full ring; draining makes room; over the limit is ERR_IPC_MESSAGE_TOO_LARGE', () => {
  const { tx, rx } = ring(1024);
  let n = 0;
  while (tx.trySend(Buffer.alloc(100, n))) n++;
  assert.equal(n, Math.floor(1024 / 112));
  // The consumer publishes its position per batch, at the latest once a quarter of the ring is read
  // (docs/ring-format.md, "Consuming"): three records of 112 bytes are past 1024 / 4.
  for (let i = 0; i < 3; i++) assert.deepEqual(rx.tryReceive(), Buffer.alloc(100, i));
  assert.equal(tx.trySend(Buffer.alloc(100, 99)), true);
  assert.throws(() => tx.trySend(Buffer.alloc(tx.maxMessageSize + 1)), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
});

test('tryWrite runs ahead of publication: the consumer sees a batch only at flush()', () => {
  const { tx, rx, i32 } = ring(1024);
  for (let i = 0; i < 5; i++) assert.equal(tx.tryWrite(Buffer.from([i, i])), true);
  assert.equal(i32[OFF_HEAD / 4], 0, 'nothing published yet');
  assert.equal(rx.tryReceive(), null);
  tx.flush();
  assert.equal(i32[OFF_HEAD / 4], 5 * 16);
  for (let i = 0; i < 5; i++) assert.deepEqual(rx.tryReceive(), Buffer.from([i, i]));
  assert.equal(rx.tryReceive(), null);
  // A full ring: tryWrite says so; what was written is published by flush() (and by close()).
  let n = 0;
  while (tx.tryWrite(Buffer.alloc(100, n))) n++;
  assert.equal(n, 8, 'from offset 80: eight records before the end, then no room for padding and a ninth');
  assert.equal(rx.tryReceive(), null);
  tx.close();
  for (let i = 0; i < n; i++) assert.deepEqual(rx.tryReceive(), Buffer.alloc(100, i));
  assert.equal(rx.ended, true);
});

test('tryReceiveInto copies into a reused buffer; trySend(bytes, length) sends a prefix', () => {
  const { tx, rx } = ring(1024);
  const buf = Buffer.alloc(64, 0xee);
  assert.equal(rx.tryReceiveInto(buf), -1);
  assert.equal(tx.trySend(Buffer.from('hello, world'), 5), true);
  assert.equal(tx.trySend(Buffer.alloc(0)), true);
  assert.equal(tx.trySend(Buffer.alloc(65, 1)), true);
  assert.equal(rx.tryReceiveInto(buf), 5);
  assert.equal(buf.subarray(0, 5).toString(), 'hello');
  assert.equal(rx.tryReceiveInto(buf), 0);
  // Too long for the buffer: an error, and the message stays for a larger one.
  assert.throws(() => rx.tryReceiveInto(buf), { code: 'ERR_OUT_OF_RANGE' });
  assert.deepEqual(rx.tryReceive(), Buffer.alloc(65, 1));
  assert.throws(() => tx.trySend(Buffer.alloc(4), 5), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => tx.trySend(Buffer.alloc(4), -1), { code: 'ERR_OUT_OF_RANGE' });
  // Every length around the word and short-copy boundaries, into aligned and unaligned buffers.
  const backing = new Uint8Array(400);
  for (const dst of [backing.subarray(0, 300), backing.subarray(1, 301), backing.subarray(4, 304), Buffer.alloc(300)]) {
    for (let len = 0; len <= 300; len++) {
      const m = Buffer.alloc(len);
      for (let i = 0; i < len; i++) m[i] = (i * 31 + len) & 0xff;
      dst.fill(0xaa);
      assert.equal(tx.trySend(m), true);
      assert.equal(rx.tryReceiveInto(dst), len);
      assert.deepEqual(Buffer.from(dst.subarray(0, len)), m, `length ${len} at byteOffset ${dst.byteOffset}`);
      assert.ok(dst.subarray(len).every((b) => b === 0xaa), 'nothing written past the message');
    }
  }
  // One send buffer reused (aligned and not) with prefixes of every length and new contents each time.
  for (const src of [Buffer.alloc(300), backing.subarray(3, 303), backing.subarray(8, 308)]) {
    for (let len = 0; len <= 300; len++) {
      for (let i = 0; i < src.length; i++) src[i] = (i * 7 + len) & 0xff;
      const want = Buffer.from(src.subarray(0, len));
      assert.equal(tx.trySend(src, len), true);
      assert.deepEqual(rx.tryReceive(), want, `prefix of ${len} from byteOffset ${src.byteOffset}`);
    }
  }
});

test('a large record wraps early to offset 0 when the ring is empty past its middle; never when it is not', () => {
  const cap = 1 << 20;
  const { tx, rx } = ring(cap);
  const big = Buffer.alloc(300_000, 3);
  const rec = 300_008;
  const at = (v: Uint8Array) => v.byteOffset - RING_HEADER;
  const roundTrip = () => {
    assert.equal(tx.trySend(big), true);
    const v = rx.peek()!;
    const o = at(v);
    assert.deepEqual(Buffer.from(v), big);
    rx.release();
    return o;
  };
  assert.equal(roundTrip(), 8);
  assert.equal(roundTrip(), 8 + rec, 'before the middle: records follow each other');
  assert.equal(roundTrip(), 8, 'past the middle and empty: back to offset 0');
  assert.equal(roundTrip(), 8 + rec);
  // Not empty past the middle: no early wrap, and a second record still fits behind the first.
  assert.equal(roundTrip(), 8);
  assert.equal(tx.trySend(big), true);
  assert.equal(tx.trySend(big), true);
  assert.equal(at(rx.peek()!), 8 + rec);
  rx.release();
  assert.equal(at(rx.peek()!), 8 + 2 * rec);
  rx.release();
  // After an early wrap, half the ring is still free: two records in flight.
  assert.equal(tx.trySend(big), true);
  assert.equal(tx.trySend(big), true);
  assert.equal(at(rx.peek()!), 8);
  rx.release();
  assert.equal(at(rx.peek()!), 8 + rec);
  rx.release();
  assert.equal(rx.tryReceive(), null);
});

test('the largest message fits whatever the position (half the capacity less a header)', () => {
  const { tx, rx } = ring(128);
  for (let skew = 0; skew < 16; skew++) {
    tx.trySend(Buffer.alloc(skew)); // move the positions around
    rx.tryReceive();
    assert.equal(tx.trySend(Buffer.alloc(tx.maxMessageSize, 7)), true, `fits at skew ${skew}`);
    assert.equal(rx.tryReceive()!.length, tx.maxMessageSize);
  }
});

test('peek() lends a view into the ring until release()', () => {
  const { tx, rx } = ring(256);
  tx.trySend(Buffer.from('zero-copy'));
  tx.trySend(Buffer.from('next'));
  const v = rx.peek()!;
  assert.equal(Buffer.from(v).toString(), 'zero-copy');
  assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_UNSUPPORTED' });
  rx.release();
  assert.equal(String(rx.tryReceive()), 'next');
});

test('loan() lends the ring\'s own bytes for the next message; commit() publishes it (zero-copy send)', () => {
  const { tx, rx, i32 } = ring(1024);
  for (let i = 0; i < 50; i++) {
    const len = (i * 37) % 300;
    const view = tx.loan(len)!;
    assert.equal(view.byteLength, len);
    view.fill(i & 0xff);
    assert.throws(() => tx.trySend(Buffer.from('x')), { code: 'ERR_IPC_UNSUPPORTED' }, 'no other send while a loan is out');
    const head = i32[OFF_HEAD / 4];
    if (i % 5 === 0) {
      tx.commit(len >> 1); // a shorter message than lent
      assert.deepEqual(rx.tryReceive(), Buffer.alloc(len >> 1, i & 0xff));
    } else {
      tx.commit();
      assert.notEqual(i32[OFF_HEAD / 4], head, 'published at commit');
      assert.deepEqual(rx.tryReceive(), Buffer.alloc(len, i & 0xff));
    }
  }
  assert.throws(() => tx.commit(), { code: 'ERR_IPC_UNSUPPORTED' }, 'commit without a loan');
  assert.ok(tx.loan(10));
  assert.throws(() => tx.commit(11), { code: 'ERR_OUT_OF_RANGE' });
  tx.abandon();
  assert.equal(rx.tryReceive(), null, 'an abandoned loan sends nothing');
  assert.throws(() => tx.loan(tx.maxMessageSize + 1), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
  while (tx.trySend(Buffer.alloc(100)));
  assert.equal(tx.loan(100), null, 'a full ring lends nothing');
});

test('sendMany() sends a batch in order, waiting for room when the ring fills', async () => {
  const { tx, rx } = ring(256, { spinMicros: 0 });
  const batch = Array.from({ length: 200 }, (_, i) => Buffer.alloc(i % 40, i & 0xff));
  const sending = tx.sendMany(batch, { timeout: 5000 });
  for (let i = 0; i < batch.length; i++) assert.deepEqual(await rx.receive({ timeout: 5000 }), batch[i], `message ${i}`);
  await sending;
  await tx.sendMany([]);
  await assert.rejects(tx.sendMany([Buffer.alloc(tx.maxMessageSize + 1)]), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
});

test('closing the producer: the consumer drains, then receive() resolves null', async () => {
  const { tx, rx } = ring(256);
  tx.trySend(Buffer.from('a'));
  tx.trySend(Buffer.from('b'));
  tx.close();
  assert.equal(String(await rx.receive()), 'a');
  assert.equal(String(await rx.receive()), 'b');
  assert.equal(await rx.receive(), null);
  assert.equal(rx.ended, true);
});

test('closing the consumer: the producer\'s next send fails with ERR_IPC_PEER_DEAD', async () => {
  const { tx, rx } = ring(256);
  rx.close();
  assert.throws(() => tx.trySend(Buffer.from('x')), { code: 'ERR_IPC_PEER_DEAD' });
  assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_CLOSED' });
});

// Liveness comes from whoever made the pair (the kernel, through its socket), never from shared memory.
function mortal(capacity: number) {
  const sab = new SharedArrayBuffer(ringBytes(capacity));
  initRing(sab, 0, capacity);
  let dead: IpcError | undefined;
  const mem = { shared: sab, offset: 0, parker: threadParker, peer: () => dead };
  const tx = new RingProducer(mem);
  const rx = new RingConsumer(mem, { spinMicros: 0 });
  const kill = (word: number) => {
    dead = new IpcError('ERR_IPC_PEER_DEAD', 'gone');
    threadParker.wakeSelf(new Int32Array(sab), word); // what the pair's owner does when the kernel says so (word: the parked side's flag)
  };
  return { tx, rx, kill };
}

test('a producer reported dead: a parked receive() fails with ERR_IPC_PEER_DEAD at once', async () => {
  const { rx, kill } = mortal(256);
  const p = rx.receive();
  await new Promise((r) => setImmediate(r));
  const t0 = performance.now();
  kill(OFF_CONSUMER_SLEEPING / 4);
  await assert.rejects(p, { code: 'ERR_IPC_PEER_DEAD' });
  assert.ok(performance.now() - t0 < 50);
});

test('a consumer reported dead: a send waiting for room fails with ERR_IPC_PEER_DEAD at once', async () => {
  const { tx, kill } = mortal(256);
  while (tx.trySend(Buffer.alloc(64)));
  const p = tx.send(Buffer.alloc(64), { spinMicros: 0 });
  await new Promise((r) => setImmediate(r));
  kill(OFF_PRODUCER_WAITING / 4);
  await assert.rejects(p, { code: 'ERR_IPC_PEER_DEAD' });
});

test('messages published before the producer died are delivered first, then ERR_IPC_PEER_DEAD', async () => {
  const { tx, rx, kill } = mortal(256);
  tx.trySend(Buffer.from('last words'));
  kill(OFF_CONSUMER_SLEEPING / 4);
  assert.equal(String(await rx.receive()), 'last words');
  await assert.rejects(rx.receive(), { code: 'ERR_IPC_PEER_DEAD' });
});

test('an abort wakes only the waiting side: the peer\'s word is not notified', async () => {
  const { sab, rx } = ring(256);
  const woken: number[] = [];
  const spy = { ...threadParker, wakePeer: (i: Int32Array, w: number) => woken.push(w) };
  const rx2 = new RingConsumer({ shared: sab, offset: 0, parker: spy }, { spinMicros: 0 });
  void rx;
  const ac = new AbortController();
  const p = rx2.receive({ signal: ac.signal });
  setImmediate(() => ac.abort());
  await assert.rejects(p, { name: 'AbortError' });
  assert.deepEqual(woken, []);
});

test('close() ends this side\'s own parked receive with ERR_IPC_CLOSED', async () => {
  const { rx } = ring(256, { spinMicros: 0 });
  const p = rx.receive();
  await new Promise((r) => setImmediate(r));
  rx.close();
  await assert.rejects(p, { code: 'ERR_IPC_CLOSED' });
});

test('receive() honours timeout and AbortSignal', async () => {
  const { rx } = ring(256);
  await assert.rejects(rx.receive({ timeout: 20, spinMicros: 0 }), { code: 'ERR_IPC_TIMEOUT' });
  const ac = new AbortController();
  const p = rx.receive({ signal: ac.signal });
  setImmediate(() => ac.abort());
  await assert.rejects(p, { name: 'AbortError' });
});

test('hostile positions and lengths yield ERR_IPC_CORRUPT, never a hang or an out-of-bounds read', async (t) => {
  await t.test('a producer position beyond the capacity', async () => {
    const { i32, rx } = ring(256);
    Atomics.store(i32, OFF_HEAD / 4, 256 + 8);
    await assert.rejects(rx.receive({ timeout: 1000 }), { code: 'ERR_IPC_CORRUPT' });
    assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_CORRUPT' }, 'the ring stays failed');
  });
  await t.test('a misaligned producer position', () => {
    const { i32, rx } = ring(256);
    Atomics.store(i32, OFF_HEAD / 4, 12);
    assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_CORRUPT' });
  });
  await t.test('a record longer than what was published', () => {
    const { i32, tx, rx } = ring(256);
    tx.trySend(Buffer.alloc(8));
    i32[RING_HEADER / 4] = 64; // the record now claims 64 bytes; only 16 were published
    assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_CORRUPT' });
  });
  await t.test('a record length of 2 GiB', () => {
    const { i32, tx, rx } = ring(256);
    tx.trySend(Buffer.alloc(8));
    i32[RING_HEADER / 4] = 0x7ffffff0;
    assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_CORRUPT' });
  });
  await t.test('a wrap marker with nothing after it', () => {
    const { i32, tx, rx } = ring(256);
    tx.trySend(Buffer.alloc(8));
    i32[RING_HEADER / 4] = -1;
    assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_CORRUPT' });
  });
  await t.test('a consumer position the producer cannot have given', () => {
    const { i32, tx } = ring(256);
    Atomics.store(i32, OFF_TAIL / 4, 1000);
    // The producer reads the consumer's position once the room it last saw runs out.
    assert.throws(() => {
      for (let i = 0; i < 64; i++) tx.trySend(Buffer.from('x'));
    }, { code: 'ERR_IPC_CORRUPT' });
  });
  await t.test('a bad magic or capacity in the header', () => {
    const { sab, i32 } = ring(256);
    const mem = { shared: sab, offset: 0, parker: threadParker };
    Atomics.store(i32, OFF_CAPACITY / 4, 1 << 20);
    assert.throws(() => new RingConsumer(mem), { code: 'ERR_IPC_CORRUPT' });
    Atomics.store(i32, OFF_CAPACITY / 4, 100);
    assert.throws(() => new RingConsumer(mem), { code: 'ERR_IPC_CORRUPT' });
    Atomics.store(i32, OFF_MAGIC / 4, 0);
    assert.throws(() => new RingProducer(mem), { code: 'ERR_IPC_CORRUPT' });
  });
  await t.test('a capacity rewritten to reach into the next ring: refused by the ring\'s own slot', () => {
    // Two rings back to back; the peer doubles the first one's capacity after making it. The segment
    // is big enough for that capacity, but the first ring's slot is not.
    const cap = 256;
    const slot = ringBytes(cap);
    const sab = new SharedArrayBuffer(2 * slot + 4 * cap);
    initRing(sab, 0, cap);
    initRing(sab, slot, cap);
    const i32 = new Int32Array(sab);
    Atomics.store(i32, OFF_CAPACITY / 4, 2 * cap);
    const mem = { shared: sab, offset: 0, parker: threadParker, bytes: slot };
    assert.throws(() => new RingConsumer(mem), { code: 'ERR_IPC_CORRUPT' });
    assert.throws(() => new RingProducer(mem), { code: 'ERR_IPC_CORRUPT' });
    assert.throws(() => checkRing(sab, 0, slot), { code: 'ERR_IPC_CORRUPT' });
    assert.equal(checkRing(sab, 0), 2 * cap, 'without a slot the whole buffer bounds it (and it fits)');
    assert.equal(checkRing(sab, slot, slot), cap, 'the neighbour is intact');
    assert.throws(() => checkRing(sab, slot, 4 * slot), { code: 'ERR_IPC_CORRUPT' }, 'a slot past the buffer');
  });
  await t.test('a receiver limit below the incoming record: ERR_IPC_MESSAGE_TOO_LARGE', () => {
    const { sab, tx } = ring(256);
    const rx = new RingConsumer({ shared: sab, offset: 0, parker: threadParker }, { maxMessageSize: 16 });
    tx.trySend(Buffer.alloc(17));
    assert.throws(() => rx.tryReceive(), { code: 'ERR_IPC_MESSAGE_TOO_LARGE' });
  });
});

function worker(data: object): Worker {
  return new Worker(childScript('ring-worker'), { workerData: data });
}

// Both threads park (spinMicros 0, a ring much smaller than the traffic). This once lost a wake-up on Node
// 24 under load, when each side parked on the other's position word: see the next test. Every receive is
// bounded and the worker is terminated at the end, so a lost wake-up fails the test, never hangs it.
test('a producer thread and a consumer thread: 20000 messages intact and in order, parking both ways', async (t) => {
  const capacity = 4096; // small: the producer keeps running out of room and parks
  const sab = new SharedArrayBuffer(ringBytes(capacity));
  initRing(sab, 0, capacity);
  const rx = new RingConsumer({ shared: sab, offset: 0, parker: threadParker }, { spinMicros: 0 });
  const w = worker({ sab, mode: 'produce', count: 20000, seed: 42, spinMicros: 0, a: 0 });
  t.after(() => w.terminate());
  const exited = new Promise((resolve, reject) => w.once('exit', resolve).once('error', reject));
  let i = 0;
  for (const want of messages(20000, 42, Math.min(rx.maxMessageSize, 3000))) {
    const got = await rx.receive({ timeout: 10_000 });
    assert.ok(got && got.equals(want), `message ${i} intact`);
    i++;
  }
  assert.equal(await rx.receive({ timeout: 10_000 }), null);
  assert.equal(await exited, 0);
});

test('a late ring from an earlier park cannot swallow the next wake-up (the flag is the futex word)', async () => {
  // The interleaving that lost a wake-up, made deterministic: the consumer raised its flag and re-checked,
  // and before its futex wait is queued a waker that read the flag during an earlier park sets it to
  // RUNG and notifies nobody. The next message's producer then sees RUNG ("rung already") and stays
  // silent. The wait must return on the changed flag instead of sleeping through that message.
  const capacity = 256;
  const sab = new SharedArrayBuffer(ringBytes(capacity));
  initRing(sab, 0, capacity);
  const i32 = new Int32Array(sab);
  let tx: RingProducer | undefined;
  let late = true;
  const parker = {
    ...threadParker,
    wait(a: Int32Array, index: number, expected: number, timeoutMs: number) {
      if (late) {
        late = false;
        assert.equal(index, OFF_CONSUMER_SLEEPING / 4, 'the consumer parks on its own flag');
        assert.equal(Atomics.compareExchange(a, index, expected, RUNG), expected, 'the late waker rings the raised flag');
        Atomics.notify(a, index); // nobody waits yet: this wake-up is gone
        setImmediate(() => assert.equal(tx!.trySend(Buffer.from('after the late ring')), true));
      }
      return threadParker.wait(a, index, expected, timeoutMs);
    },
  };
  const mem = { shared: sab, offset: 0, parker };
  tx = new RingProducer(mem);
  const rx = new RingConsumer(mem, { spinMicros: 0 });
  assert.deepEqual(await rx.receive({ timeout: 5000 }), Buffer.from('after the late ring'));
  assert.equal(late, false);
  assert.equal(i32[OFF_CONSUMER_SLEEPING / 4], 0, 'the flag is down once the receive is done');
  // A close that lands between the consumer's re-check and its wait is not lost either.
  let closing = true;
  const rx2mem = { shared: sab, offset: 0, parker: { ...threadParker, wait(a: Int32Array, index: number, expected: number, ms: number) {
    if (closing) {
      closing = false;
      tx!.close();
    }
    return threadParker.wait(a, index, expected, ms);
  } } };
  const rx2 = new RingConsumer(rx2mem, { spinMicros: 0 });
  assert.equal(await rx2.receive({ timeout: 5000 }), null);
});

test('an echo thread over two small rings, every side parking both ways: 5000 round trips in bursts', async (t) => {
  const capacity = 512;
  const b = ringBytes(capacity);
  const sab = new SharedArrayBuffer(2 * b);
  initRing(sab, 0, capacity);
  initRing(sab, b, capacity);
  const tx = new RingProducer({ shared: sab, offset: 0, parker: threadParker, bytes: b }, { spinMicros: 0 });
  const rx = new RingConsumer({ shared: sab, offset: b, parker: threadParker, bytes: b }, { spinMicros: 0 });
  const w = worker({ sab, mode: 'echo', spinMicros: 0, a: 0, b });
  t.after(() => w.terminate());
  const exited = new Promise((resolve, reject) => w.once('exit', resolve).once('error', reject));
  let sent = 0;
  let got = 0;
  const want = (i: number) => Buffer.alloc(8 + (i % 200), i & 0xff);
  while (got < 5000) {
    // A burst of up to 16 ahead: both rings fill, so both producers park for room as well as for data.
    const sending = (async () => {
      for (const end = Math.min(5000, sent + 16); sent < end; sent++) await tx.send(want(sent), { timeout: 10_000 });
    })();
    for (const end = Math.min(5000, got + 16); got < end; got++) {
      const m = await rx.receive({ timeout: 10_000 });
      assert.ok(m && m.equals(want(got)), `reply ${got} intact`);
    }
    await sending;
  }
  tx.close();
  assert.equal(await rx.receive({ timeout: 10_000 }), null);
  assert.equal(await exited, 0);
});

test('ping-pong with an echo thread over two rings, spinning', async (t) => {
  const capacity = 1 << 16;
  const b = ringBytes(capacity);
  const sab = new SharedArrayBuffer(2 * b);
  initRing(sab, 0, capacity);
  initRing(sab, b, capacity);
  const tx = new RingProducer({ shared: sab, offset: 0, parker: threadParker });
  const rx = new RingConsumer({ shared: sab, offset: b, parker: threadParker }, { spinMicros: 1000 });
  const w = worker({ sab, mode: 'echo', spinMicros: 1000, a: 0, b });
  t.after(() => w.terminate()); // a lost wake-up fails the test instead of holding the file open
  const exited = new Promise((resolve, reject) => w.once('exit', resolve).once('error', reject));
  for (let i = 0; i < 2000; i++) {
    const m = Buffer.from(`ping ${i}`);
    await tx.send(m);
    assert.deepEqual(await rx.receive({ timeout: 10_000 }), m);
  }
  tx.close();
  assert.equal(await rx.receive({ timeout: 10_000 }), null);
  assert.equal(await exited, 0);
});

test('tryReceiveMany: runs of short records in one copy, large ones on their own, across wraps; the copies outlive the ring space', () => {
  const { tx, rx } = ring(1 << 16);
  const sent: Buffer[] = [];
  const got: Buffer[] = [];
  let n = 0;
  for (let round = 0; round < 300; round++) {
    // Sizes from 0 to past RUN_RECORD (4096), so batches mix runs and large records, and the ring wraps.
    for (let i = 0; i < 7; i++) {
      const len = (n * 997) % 9000;
      const m = Buffer.alloc(len, n & 0xff);
      if (len > 3) m.writeUInt32LE(n, 0);
      if (!tx.trySend(m)) break;
      sent.push(m);
      n++;
    }
    const before = got.length;
    const k = rx.tryReceiveMany(got, 1 + (round % 5));
    assert.equal(k, got.length - before);
    assert.ok(k >= 1 && k <= 1 + (round % 5));
  }
  while (rx.tryReceiveMany(got, 100) > 0);
  assert.equal(rx.tryReceiveMany(got, 100), 0);
  // Every message intact at the end, long after the producer wrote over the ring space it came from.
  assert.equal(got.length, sent.length);
  got.forEach((m, i) => assert.ok(m.equals(sent[i]!), `message ${i} (${sent[i]!.length} B)`));
  const pools = new Set(got.filter((m) => m.length < 4096).map((m) => m.buffer));
  assert.ok(pools.size < got.filter((m) => m.length < 4096).length, 'short messages share their run\'s buffer');
});
