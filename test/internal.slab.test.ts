// internal/slab.ts, the receive slab under sockets and POSIX message queues: what it hands out is never
// written again, and a receive that must offer more room than a slab holds (mq_receive offers
// mq_msgsize) does not cost a new slab of that room for every message it views.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveSlab } from '../src/internal/slab.js';

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
