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
import { closedError, IpcError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { FrameDecoder } from '../internal/framing.js';
import { bounded } from '../internal/wait.js';
import { isPeerGone, peerDead, type Transport } from './transport.js';
import { Inbox } from './inbox.js';

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

export class StreamTransport implements Transport {
  readonly canSend: boolean;
  readonly canReceive: boolean;
  readonly maxMessageSize: number;
  readonly #what: string;
  readonly #r: Readable | undefined;
  readonly #w: Writable | undefined;
  readonly #release: (() => Promise<void> | void) | undefined;
  readonly #decoder: FrameDecoder;
  readonly #inbox: Inbox<Buffer>;
  #saidGoodbye = false; // the decoder met the goodbye; it takes effect after the frames decoded with it
  // The stream ended or failed. What that means is decided once everything it buffered before is
  // decoded: a goodbye in there was a close on purpose (the peer's exit, or its reset of our unread
  // sends, follows it), none a death.
  #eof = false;
  #streamError: Error | undefined;
  // A send met the peer gone (EPIPE, ECONNRESET). On a socket that destroys the stream, so the failure
  // reaches the reading side too; with no goodbye among what was buffered it proves nothing (the goodbye
  // may have been in the kernel's buffer still), so the reader is told the peer is gone, not that it died.
  #writeFailed = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(what: string, ends: StreamEnds, maxMessageSize: number) {
    this.#what = what;
    this.#inbox = new Inbox(what);
    this.#r = ends.readable;
    this.#w = ends.writable;
    this.#release = ends.release;
    this.canSend = !!ends.writable;
    this.canReceive = !!ends.readable;
    this.maxMessageSize = maxMessageSize;
    this.#decoder = new FrameDecoder(maxMessageSize, { control: GOODBYE, onControl: () => (this.#saidGoodbye = true) });
    const r = this.#r;
    const ended = () => {
      this.#eof = true;
      this.#pump();
    };
    if (r) {
      r.on('readable', () => this.#pump());
      r.on('end', ended);
      r.on('close', ended);
      r.on('error', (err) => {
        this.#streamError ??= err;
        this.#pump();
      });
    }
    if (this.#w && this.#w !== (r as unknown)) this.#w.on('error', () => {}); // reported by the send that met it
  }

  /**
   * Decodes what the stream has buffered, but only while nothing is queued (pull, for backpressure), or
   * all of it (`all`: a send learning whether the peer said goodbye). A destroyed stream still hands out
   * what it had buffered.
   */
  #pump(all = false): void {
    const r = this.#r;
    const inbox = this.#inbox;
    if (!r || (inbox.length > 0 && !all)) return;
    let empty = false;
    try {
      while ((all || inbox.length === 0) && !inbox.ended) {
        // A decoder that failed after handing out the frames before the bad header: its error is next.
        if (this.#decoder.failed) throw this.#decoder.failed;
        const chunk = r.read() as Buffer | null;
        if (chunk === null) {
          empty = true;
          break;
        }
        // A peer sends nothing after its goodbye, so the frames of this chunk all came before it.
        for (const m of this.#decoder.push(chunk)) inbox.push(m);
        if (this.#saidGoodbye) inbox.end();
      }
    } catch (err) {
      inbox.fail(err as Error);
      r.destroy();
      return;
    }
    if (!empty || inbox.ended || inbox.length > 0) return;
    const err = this.#streamError;
    if (err) inbox.fail(!isPeerGone(err) ? err : this.#writeFailed ? inbox.gone(err) : peerDead(this.#what, err));
    else if (this.#eof) {
      inbox.fail(this.#decoder.inFrame ? new IpcError('ERR_IPC_PEER_DEAD', `the peer of ${this.#what} died inside a message`) : peerDead(this.#what));
    }
  }

  /** What a send says of a peer that is gone: closed if its goodbye is in what the stream buffered. */
  #gone(cause?: unknown): Error {
    this.#pump(true);
    return this.#inbox.gone(cause);
  }

  async send(bytes: Uint8Array, opts: WaitOptions = {}): Promise<void> {
    // Closed, direction and size: checked by the Channel.
    const w = this.#w!;
    if (w.destroyed || w.writableEnded) throw this.#gone();
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
    }), opts, `send on ${this.#what}`);
    if (this.#closed) throw closedError(this.#what, 'send');
    if (w.destroyed || w.writableEnded) throw this.#gone();
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
        if (this.#closed) return reject(closedError(this.#what, 'send'));
        if (!isPeerGone(err)) return reject(err);
        this.#writeFailed = true;
        reject(this.#gone(err));
      });
      w.uncork();
    });
    written.catch(() => {});
    await bounded(written, opts, `send on ${this.#what}`);
  }

  receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    return this.#inbox.next(opts, () => this.#pump());
  }

  receiveMany(max: number, opts: WaitOptions = {}): Promise<Uint8Array[]> {
    return this.#inbox.nextMany(max, opts, () => this.#pump());
  }

  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async #doClose(): Promise<void> {
    this.#closed = true;
    this.#inbox.close();
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
