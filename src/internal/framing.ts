// Length-prefixed frames for byte streams (pipes, FIFOs, stream sockets, TCP): a 4-byte little-endian
// length, then that many bytes. The maximum frame size is enforced on both sides: the sender refuses
// before writing anything (so a stream is never left with half a frame), the receiver refuses a header
// announcing more than it accepts (a corrupt or hostile peer cannot make it buffer gigabytes), and a
// stream that ends inside a frame is reported as truncated.
import { IpcError } from '../errors.js';
import { toBytes, validateInteger } from './validate.js';

export const FRAME_HEADER = 4;
/**
 * Default maximum payload of one frame: 64 MiB.
 *
 * @example
 * ```ts
 * for await (const f of readFrames(reader, { maxFrameSize: DEFAULT_MAX_FRAME / 4 })) handle(f);
 * ```
 */
export const DEFAULT_MAX_FRAME = 64 * 1024 * 1024;
/** The largest payload the 4-byte header can describe. */
export const ABSOLUTE_MAX_FRAME = 0xffffffff;

/**
 * The one ERR_IPC_MESSAGE_TOO_LARGE, for a message refused before it is sent and for one received over
 * the limit (`incoming`): `size` and `limit` in bytes as properties, and in the message, which names
 * the limit when it has a name (`kernel.msgmax`).
 */
export function tooLarge(size: number, limit: number, opts: { incoming?: boolean; what?: string; limitName?: string } = {}): IpcError {
  const { incoming = false, what = 'message', limitName } = opts;
  const exceeds = limitName === undefined ? `the limit of ${limit} bytes` : `${limitName} (${limit} bytes)`;
  return new IpcError('ERR_IPC_MESSAGE_TOO_LARGE', `${incoming ? 'incoming ' : ''}${what} of ${size} bytes exceeds ${exceeds}`, { size, limit });
}

/**
 * The header and the payload of one frame, for a vectored write.
 *
 * @example
 * ```ts
 * const [header, body] = encodeFrame(Buffer.from('hello'));
 * stream.write(header); stream.write(body);
 * ```
 */
export function encodeFrame(payload: Uint8Array | string, maxFrameSize = DEFAULT_MAX_FRAME): [Buffer, Uint8Array] {
  // Validated here: a payload without a byteLength would get a header of 0 and corrupt the stream.
  payload = toBytes('payload', payload);
  validateInteger('maxFrameSize', maxFrameSize, 0, ABSOLUTE_MAX_FRAME);
  if (payload.byteLength > maxFrameSize) throw tooLarge(payload.byteLength, maxFrameSize);
  const header = Buffer.allocUnsafe(FRAME_HEADER);
  header.writeUInt32LE(payload.byteLength, 0);
  return [header, payload];
}

/**
 * Options of `new FrameDecoder()`.
 *
 * @inline
 */
export interface FrameDecoderOptions {
  /**
   * A length value that is not a frame but a control word with no payload (the Channel layer's
   * "goodbye", 0xFFFFFFFF): `onControl` is called where it stands in the stream, and it is not checked
   * against the size limit.
   */
  control?: number;
  /**
   * Called at each control word. Returning `true` (exactly) says the control word ends the stream: push()
   * returns the frames before it, and every byte after it (in this chunk or later ones) is ignored, so
   * that junk after a goodbye is not mistaken for a frame; end() then reports a clean end.
   */
  onControl?: () => unknown;
}

/**
 * Incremental decoder: push() chunks as they arrive, get back whole frames. Frames that arrive whole
 * inside one chunk are returned as views of it (no copy).
 *
 * A header announcing more than `maxFrameSize` leaves the stream out of step for good, so the decoder
 * fails and stays failed: every later push() and end() throws the same ERR_IPC_MESSAGE_TOO_LARGE. The
 * frames that came before the bad header are never lost: when a chunk holds both, push() returns those
 * frames, and the next push() (an empty chunk will do) or end() throws (check `failed` to know early).
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder(1 << 20);
 * for await (const chunk of socket) for (const frame of decoder.push(chunk)) handle(frame);
 * decoder.end(); // ERR_IPC_CORRUPT if the stream ended inside a frame
 * ```
 */
export class FrameDecoder {
  /** The largest payload accepted; a header announcing more is ERR_IPC_MESSAGE_TOO_LARGE. */
  readonly maxFrameSize: number;
  readonly #control: number | undefined;
  readonly #onControl: (() => unknown) | undefined;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = -1; // payload length of the frame in progress, -1 while its header is incomplete
  #error: IpcError | undefined; // a header over the limit was met: thrown by every later push() and end()
  #ended = false; // a control word ended the stream: everything after it is ignored

  constructor(maxFrameSize = DEFAULT_MAX_FRAME, opts: FrameDecoderOptions = {}) {
    this.maxFrameSize = validateInteger('maxFrameSize', maxFrameSize, 0, ABSOLUTE_MAX_FRAME);
    this.#control = opts.control;
    this.#onControl = opts.onControl;
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Whether the stream so far ends inside a frame (its header or its payload), or past a bad header. */
  get inFrame(): boolean {
    return this.#error !== undefined || this.#buffered > 0 || this.#need >= 0;
  }

  /** The error the decoder failed with (a header over the limit), thrown by the next push() or end(). */
  get failed(): IpcError | undefined {
    return this.#error;
  }

  /** Whether a control word ended the stream (`onControl` returned true). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Takes the next chunk of the stream; returns the frames it completes, in order (often none). */
  push(chunk: Buffer): Buffer[] {
    if (this.#error) throw this.#error;
    const out: Buffer[] = [];
    if (this.#ended) return out;
    this.#decode(chunk, out);
    // Frames decoded before a bad header are delivered; the error waits for the next call.
    if (this.#error && out.length === 0) throw this.#error;
    return out;
  }

  /** Call at end of stream: throws ERR_IPC_CORRUPT if it ended inside a frame. */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.#buffered > 0 || this.#need >= 0) {
      const have = this.#buffered;
      const need = this.#need;
      this.#chunks = [];
      this.#buffered = 0;
      this.#need = -1;
      throw new IpcError(
        'ERR_IPC_CORRUPT',
        need >= 0
          ? `stream ended inside a frame: ${have} of ${need} payload bytes arrived`
          : `stream ended inside a frame header: ${have} of ${FRAME_HEADER} bytes arrived`,
        { received: have, expected: need >= 0 ? need : FRAME_HEADER },
      );
    }
  }

  #decode(chunk: Buffer, out: Buffer[]): void {
    if (this.#buffered === 0 && this.#need < 0) {
      // Fast path: whole frames straight out of the chunk.
      let off = 0;
      while (chunk.length - off >= FRAME_HEADER) {
        const len = chunk.readUInt32LE(off);
        off += FRAME_HEADER;
        if (len === this.#control) {
          if (this.#onControl?.() === true) return this.#end();
          continue;
        }
        if (!this.#accept(len)) return;
        if (chunk.length - off < len) {
          this.#need = len;
          break;
        }
        out.push(chunk.subarray(off, off + len));
        off += len;
      }
      if (off === chunk.length) return;
      chunk = chunk.subarray(off);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < FRAME_HEADER) break;
        const len = this.#take(FRAME_HEADER).readUInt32LE(0);
        if (len === this.#control) {
          if (this.#onControl?.() === true) return this.#end();
          continue;
        }
        if (!this.#accept(len)) return;
        this.#need = len;
      }
      if (this.#buffered < this.#need) break;
      out.push(this.#take(this.#need));
      this.#need = -1;
    }
  }

  #end(): void {
    this.#ended = true;
    this.#chunks = [];
    this.#buffered = 0;
    this.#need = -1;
  }

  /** Whether a header's length is within the limit; if not, the decoder fails (and drops what it held). */
  #accept(len: number): boolean {
    if (len <= this.maxFrameSize) return true;
    this.#error = tooLarge(len, this.maxFrameSize, { incoming: true, what: 'frame' });
    this.#chunks = [];
    this.#buffered = 0;
    this.#need = -1;
    return false;
  }

  #take(n: number): Buffer {
    let out: Buffer;
    const first = this.#chunks[0];
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.#chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.#buffered -= n;
    return out;
  }
}
