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

export function tooLarge(size: number, limit: number): IpcError {
  return new IpcError('ERR_IPC_MESSAGE_TOO_LARGE', `message of ${size} bytes exceeds the limit of ${limit} bytes`, {
    size,
    limit,
  });
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
 * Incremental decoder: push() chunks as they arrive, get back whole frames. Frames that arrive whole
 * inside one chunk are returned as views of it (no copy).
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder(1 << 20);
 * for await (const chunk of socket) for (const frame of decoder.push(chunk)) handle(frame);
 * decoder.end(); // ERR_IPC_CORRUPT if the stream ended inside a frame
 * ```
 */
export interface FrameDecoderOptions {
  /**
   * A length value that is not a frame but a control word with no payload (the Channel layer's
   * "goodbye", 0xFFFFFFFF): `onControl` is called where it stands in the stream, and it is not checked
   * against the size limit.
   */
  control?: number;
  onControl?: () => void;
}

export class FrameDecoder {
  readonly maxFrameSize: number;
  readonly #control: number | undefined;
  readonly #onControl: (() => void) | undefined;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #need = -1; // payload length of the frame in progress, -1 while its header is incomplete

  constructor(maxFrameSize = DEFAULT_MAX_FRAME, opts: FrameDecoderOptions = {}) {
    this.maxFrameSize = maxFrameSize;
    this.#control = opts.control;
    this.#onControl = opts.onControl;
  }

  /** Bytes held for a frame not yet complete. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Whether the stream so far ends inside a frame (its header or its payload). */
  get inFrame(): boolean {
    return this.#buffered > 0 || this.#need >= 0;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (this.#buffered === 0 && this.#need < 0) {
      // Fast path: whole frames straight out of the chunk.
      let off = 0;
      while (chunk.length - off >= FRAME_HEADER) {
        const len = chunk.readUInt32LE(off);
        if (len === this.#control) {
          this.#onControl?.();
          off += FRAME_HEADER;
          continue;
        }
        this.#checkLength(len);
        if (chunk.length - off - FRAME_HEADER < len) break;
        out.push(chunk.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len));
        off += FRAME_HEADER + len;
      }
      if (off === chunk.length) return out;
      chunk = chunk.subarray(off);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < FRAME_HEADER) break;
        const len = this.#take(FRAME_HEADER).readUInt32LE(0);
        if (len === this.#control) {
          this.#onControl?.();
          continue;
        }
        this.#checkLength(len);
        this.#need = len;
      }
      if (this.#buffered < this.#need) break;
      out.push(this.#take(this.#need));
      this.#need = -1;
    }
    return out;
  }

  /** Call at end of stream: throws ERR_IPC_CORRUPT if it ended inside a frame. */
  end(): void {
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

  #checkLength(len: number): void {
    if (len > this.maxFrameSize) {
      throw new IpcError(
        'ERR_IPC_MESSAGE_TOO_LARGE',
        `incoming frame of ${len} bytes exceeds the limit of ${this.maxFrameSize} bytes`,
        { size: len, limit: this.maxFrameSize },
      );
    }
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
