// A message transport over a byte stream (FIFO, TCP, AF_UNIX stream): frames of a 4-byte little-endian
// length and the payload, plus one control frame: the length 0xFFFFFFFF means "goodbye" (the sender
// closed on purpose). Payloads are therefore at most 0xFFFFFFFE bytes. A stream that ends without the
// goodbye means the peer died (the kernel closes a killed process's descriptors, which looks like an
// orderly end of stream to the reader: only the goodbye tells the two apart).
//
// Receiving pulls: bytes are read from the stream only while somebody waits for a message, so an
// unread channel leaves the data in the stream's and the kernel's buffers and the sender's writes stall
// (backpressure end to end, no unbounded queue in JS).
import type { Readable, Writable } from 'node:stream';
import { AbortError, closedError, IpcError, timeoutError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { FrameDecoder, tooLarge } from '../internal/framing.js';
import { isPeerGone, peerDead, type Transport } from './transport.js';
import { Waker } from '../internal/wait.js';

export const GOODBYE = 0xffffffff;
/** The largest payload a stream frame can carry (0xFFFFFFFF is the goodbye). */
export const STREAM_MAX = 0xfffffffe;

const HDR = 4;

export interface StreamEnds {
  readable?: Readable;
  writable?: Writable;
  /** Releases whatever else this transport holds (a server, a FIFO's name). */
  release?: () => Promise<void> | void;
}

/** `p`, given up on `{ signal, timeout }` (AbortError, ERR_IPC_TIMEOUT); `p` itself goes on. */
function bounded<T>(p: Promise<T>, { signal, timeout }: WaitOptions, what: string): Promise<T> {
  if (!signal && timeout === undefined) return p;
  if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish(() => reject(new AbortError(undefined, { cause: signal!.reason })));
    const finish = (f: () => void) => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout !== undefined) timer = setTimeout(() => finish(() => reject(timeoutError(`send on ${what}`, timeout))), timeout);
    p.then((v) => finish(() => resolve(v)), (e) => finish(() => reject(e)));
  });
}

export class StreamTransport implements Transport {
  readonly canSend: boolean;
  readonly canReceive: boolean;
  readonly maxMessageSize: number;
  readonly #what: string;
  readonly #r: Readable | undefined;
  readonly #w: Writable | undefined;
  readonly #release: (() => Promise<void> | void) | undefined;
  readonly #decoder: FrameDecoder;
  #queue: Buffer[] = [];
  #goodbye = false; // the peer said goodbye (after its last message in #queue)
  #saidGoodbye = false; // the decoder met the goodbye; it takes effect after the frames decoded with it
  #eof = false;
  #error: Error | undefined;
  readonly #waker: Waker;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(what: string, ends: StreamEnds, maxMessageSize: number) {
    this.#what = what;
    this.#waker = new Waker(this.#what);
    this.#r = ends.readable;
    this.#w = ends.writable;
    this.#release = ends.release;
    this.canSend = !!ends.writable;
    this.canReceive = !!ends.readable;
    this.maxMessageSize = maxMessageSize;
    this.#decoder = new FrameDecoder(maxMessageSize, { control: GOODBYE, onControl: () => (this.#saidGoodbye = true) });
    const r = this.#r;
    if (r) {
      r.on('readable', () => this.#pump());
      r.on('end', () => {
        this.#eof = true;
        this.#wake();
      });
      r.on('error', (err) => this.#fail(err));
      r.on('close', () => {
        this.#eof = true;
        this.#wake();
      });
    }
    if (this.#w && this.#w !== (r as unknown)) this.#w.on('error', (err) => this.#fail(err));
  }

  #fail(err: Error): void {
    this.#error ??= isPeerGone(err) ? peerDead(this.#what, err) : err;
    this.#wake();
  }

  #wake(): void {
    this.#waker.wake();
  }

  /** Decodes what the stream has buffered, but only while the queue is empty (pull, for backpressure). */
  #pump(): void {
    const r = this.#r!;
    if (this.#queue.length > 0 && !this.#waker.waiting) return;
    try {
      while (this.#queue.length === 0 && !this.#goodbye) {
        // A decoder that failed after handing out the frames before the bad header: its error is next.
        if (this.#decoder.failed) throw this.#decoder.failed;
        const chunk = r.read() as Buffer | null;
        if (chunk === null) break;
        // A peer sends nothing after its goodbye, so the frames of this chunk all came before it.
        for (const m of this.#decoder.push(chunk)) this.#queue.push(m);
        if (this.#saidGoodbye) this.#goodbye = true;
      }
    } catch (err) {
      this.#error ??= err as Error;
      r.destroy();
    }
    if (this.#queue.length > 0 || this.#goodbye) this.#wake();
  }

  async send(bytes: Uint8Array, opts: WaitOptions = {}): Promise<void> {
    if (this.#closed) throw closedError(this.#what, 'send');
    const w = this.#w;
    if (!w) throw new IpcError('ERR_IPC_UNSUPPORTED', `${this.#what} is the receiving end; it cannot send`);
    if (bytes.byteLength > this.maxMessageSize) throw tooLarge(bytes.byteLength, this.maxMessageSize);
    if (this.#error && this.#error instanceof IpcError && this.#error.code === 'ERR_IPC_PEER_DEAD') throw this.#error;
    if (w.destroyed || w.writableEnded) throw peerDead(this.#what);
    // A stream buffer already full (earlier frames waiting for a stalled reader): wait for it to drain
    // before this frame goes in, so that giving up ({ signal, timeout }) sends nothing.
    if (w.writableNeedDrain) await bounded(new Promise<void>((resolve) => {
      const done = () => {
        w.off('drain', done);
        w.off('close', done);
        resolve();
      };
      w.on('drain', done);
      w.on('close', done);
    }), opts, this.#what);
    if (this.#closed) throw closedError(this.#what, 'send');
    if (w.destroyed || w.writableEnded) throw peerDead(this.#what);
    const header = Buffer.allocUnsafe(HDR);
    header.writeUInt32LE(bytes.byteLength, 0);
    // Resolve when the stream has handed the frame to the kernel (the write callback), not merely when it
    // sat in the stream's JS buffer: the kernel's buffer is the backpressure, a dead peer's EPIPE reaches
    // this very send, and a loop of sends cannot run on microtasks alone while the event loop starves.
    // A frame handed to the stream goes whole (cutting it would corrupt the stream): a send given up
    // while its own frame waits for the kernel rejects, and that frame is still delivered if the peer
    // reads again.
    const written = new Promise<void>((resolve, reject) => {
      w.cork();
      w.write(header);
      w.write(bytes, (err) => {
        if (!err) return resolve();
        if (this.#closed) reject(closedError(this.#what, 'send'));
        else reject(isPeerGone(err) ? peerDead(this.#what, err) : err);
      });
      w.uncork();
    });
    written.catch(() => {});
    await bounded(written, opts, this.#what);
  }

  async receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    if (!this.#r) throw new IpcError('ERR_IPC_UNSUPPORTED', `${this.#what} is the sending end; it cannot receive`);
    for (;;) {
      if (this.#closed) throw closedError(this.#what, 'receive');
      const m = this.#queue.shift();
      if (m) return m;
      if (this.#goodbye) return null;
      if (this.#error) throw this.#error;
      if (this.#eof) {
        if (this.#decoder.inFrame) throw new IpcError('ERR_IPC_PEER_DEAD', `the peer of ${this.#what} died inside a message`);
        throw peerDead(this.#what);
      }
      this.#pump();
      if (this.#queue.length > 0 || this.#goodbye) continue;
      await this.#waker.wait(opts);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<void> {
    this.#closed = true;
    this.#waker.wake(closedError(this.#what, 'receive'));
    const w = this.#w;
    if (w && !w.destroyed && !w.writableEnded) {
      const bye = Buffer.allocUnsafe(HDR);
      bye.writeUInt32LE(GOODBYE, 0);
      // Flush what was sent, then the goodbye, then the end of stream; a peer already gone only
      // makes this fail, which close() does not report (there is nobody left to tell).
      await new Promise<void>((resolve) => {
        w.once('error', () => resolve());
        w.end(bye, () => resolve());
      });
    }
    w?.destroy();
    this.#r?.destroy();
    await this.#release?.();
  }
}
