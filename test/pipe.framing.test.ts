// Length-prefixed frames over byte streams: boundaries kept, size limits on both sides, truncation and
// oversized headers detected.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { FrameDecoder, pipe, readFrames, writeFrame } from '../src/index.js';

test('frames of every size keep their boundaries through a pipe', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  const sizes = [0, 1, 3, 4, 5, 4095, 4096, 65537, 1 << 20, 7];
  const sent = sizes.map((n, i) => Buffer.alloc(n, i + 1));
  const got: Buffer[] = [];
  const reading = (async () => {
    for await (const f of readFrames(reader)) got.push(Buffer.from(f));
  })();
  for (const f of sent) await writeFrame(writer, f);
  await writer.close();
  await reading;
  assert.deepEqual(got.map((b) => b.length), sizes);
  got.forEach((b, i) => assert.ok(b.equals(sent[i]!)));
});

test('a frame over maxFrameSize is refused with ERR_IPC_MESSAGE_TOO_LARGE before any byte is written', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  await assert.rejects(writeFrame(writer, Buffer.alloc(1025), { maxFrameSize: 1024 }), {
    code: 'ERR_IPC_MESSAGE_TOO_LARGE',
    size: 1025,
    limit: 1024,
  });
  await writer.close();
  const left: Buffer[] = [];
  for await (const c of reader) left.push(c as Buffer);
  assert.equal(Buffer.concat(left).length, 0, 'nothing reached the pipe');
});

test('a stream that ends inside a frame is ERR_IPC_CORRUPT', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  const header = Buffer.alloc(4);
  header.writeUInt32LE(100);
  fs.writeSync(writer.fd, Buffer.concat([header, Buffer.alloc(10)]));
  await writer.close();
  await assert.rejects(async () => {
    for await (const _ of readFrames(reader));
  }, { code: 'ERR_IPC_CORRUPT', received: 10, expected: 100 });
});

test('a header announcing more than maxFrameSize is refused before buffering it', async (t) => {
  const { reader, writer } = pipe();
  t.after(() => Promise.all([reader.close(), writer.close()]));
  const header = Buffer.alloc(4);
  header.writeUInt32LE(0x40000000); // 1 GiB
  fs.writeSync(writer.fd, header);
  await assert.rejects(async () => {
    for await (const _ of readFrames(reader, { maxFrameSize: 1 << 20 }));
  }, { code: 'ERR_IPC_MESSAGE_TOO_LARGE', size: 0x40000000, limit: 1 << 20 });
});

test('the decoder reassembles frames split at every byte boundary', () => {
  const frames = [Buffer.from('alpha'), Buffer.alloc(0), Buffer.from('omega!')];
  const wire = Buffer.concat(
    frames.flatMap((f) => {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(f.length);
      return [h, f];
    }),
  );
  for (let cut = 0; cut <= wire.length; cut++) {
    const d = new FrameDecoder();
    const out = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))].map(String);
    d.end();
    assert.deepEqual(out, ['alpha', '', 'omega!'], `cut at ${cut}`);
  }
});

test('a control word is reported where it stands, without a payload and outside the size limit', () => {
  const seen: string[] = [];
  const d = new FrameDecoder(8, { control: 0xffffffff, onControl: () => seen.push('control') });
  const frame = (s: string) => {
    const h = Buffer.alloc(4);
    h.writeUInt32LE(s.length);
    return Buffer.concat([h, Buffer.from(s)]);
  };
  const ctl = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  for (const f of d.push(Buffer.concat([frame('a'), frame('bc')]))) seen.push(String(f));
  assert.equal(d.inFrame, false);
  for (const f of d.push(Buffer.concat([ctl.subarray(0, 2)]))) seen.push(String(f));
  assert.equal(d.inFrame, true, 'half a header is inside a frame');
  for (const f of d.push(ctl.subarray(2))) seen.push(String(f));
  assert.deepEqual(seen, ['a', 'bc', 'control']);
  assert.equal(d.inFrame, false);
  d.end();
});
