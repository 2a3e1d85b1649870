// internal/slab.ts, the receive slab under sockets and POSIX message queues: what it hands out is never
// written again, and a receive that must offer more room than a slab holds (mq_receive offers
// mq_msgsize) does not cost a new slab of that room for every message it views.
import test from 'node:test';
import assert from 'node:assert/strict';
import { copyWords, ReceiveSlab, WORD_COPY_MAX } from '../src/internal/slab.js';

test('views of a slab are never written again, and a headroom past the slab size still packs many views into one slab', () => {
  const headroom = 128 * 1024;
  const slab = new ReceiveSlab(64 * 1024);
  const got: Buffer[] = [];
  for (let i = 0; i < 16; i++) {
    const free = slab.free(headroom);
    assert.ok(free.length >= headroom);
    free.fill(i, 0, 5000); // the receive
    free.fill(0xee, 5000); // and scribbles over what it did not use
    got.push(slab.take(0, 5000));
    slab.commit();
  }
  got.forEach((d, i) => assert.ok(d.equals(Buffer.alloc(5000, i)), `view ${i} intact`));
  const slabs = new Set(got.map((d) => d.buffer)).size;
  assert.ok(slabs <= 2, `16 views of 5000 bytes in ${slabs} slabs`);
});

test('copyWords: each copy has its own bytes, whatever its length, across pool boundaries; the word read past len is not part of it', () => {
  // A source of distinct bytes: copying from the wrong place, or a copy that shares a slot, shows.
  const src = new Int32Array(1024);
  const srcBytes = new Uint8Array(src.buffer);
  for (let i = 0; i < srcBytes.length; i++) srcBytes[i] = (i * 7 + 3) & 0xff;
  const copies: [Buffer, number, number][] = [];
  // Enough copies of every length 0..WORD_COPY_MAX to fill several 16 KiB pools.
  for (let round = 0; round < 3; round++) {
    for (let len = 0; len <= WORD_COPY_MAX; len++) {
      const word = (len * 5 + round) % 700;
      copies.push([copyWords(src, word, len), word, len]);
    }
  }
  const pools = new Set(copies.map(([b]) => b.buffer));
  assert.ok(pools.size > 1, 'the copies span more than one pool');
  for (const [b, word, len] of copies) {
    assert.equal(b.length, len);
    assert.deepEqual(b, Buffer.from(srcBytes.subarray(word * 4, word * 4 + len)));
  }
  // Fill each copy with a value of its own, in order: a copy that shared a byte with a later one
  // would find the later one's value there.
  copies.forEach(([b], i) => b.fill((i % 251) + 1));
  copies.forEach(([b, , len], i) => assert.deepEqual(b, Buffer.alloc(len, (i % 251) + 1), `copy ${i}`));
});
