// Review regressions of socket.cc: the native sendmsg must not hold a pointer into a buffer across
// JavaScript it runs itself (reading the descriptor list can call getters).
import test from 'node:test';
import assert from 'node:assert/strict';
import { native } from '../src/native.js';
import { errno } from '../src/errors.js';

test('sendmsg reads the data after the descriptor list, so a getter that detaches the buffer cannot make it send freed memory', (t) => {
  const pair = native.socketpair(2 /* dgram */);
  assert.ok(Array.isArray(pair));
  t.after(() => pair.forEach((fd) => native.close(fd)));
  const data = new Uint8Array(new ArrayBuffer(64)).fill(0x5a);
  const fds: number[] = [];
  Object.defineProperty(fds, 0, {
    enumerable: true,
    get() {
      // Transfers (detaches) the data's buffer; the clone is dropped at once.
      structuredClone(data.buffer, { transfer: [data.buffer] });
      return pair[0];
    },
  });
  assert.equal(data.byteLength, 64);
  const rc = native.sendmsg(pair[0], data, 0, 64, fds, null);
  assert.equal(data.byteLength, 0, 'the getter ran and detached the buffer');
  assert.equal(rc, errno('EINVAL'), 'nothing was sent from the detached buffer');
  const K = native.socketConstants;
  const meta = new Int32Array(K.BATCH_RECORDS + 8);
  assert.equal(native.recvmsgBatch(pair[1], new Uint8Array(128), meta, new Uint8Array(K.SUN_PATH_MAX), 4, true, 1, 128, 128), errno('EAGAIN'));
});
