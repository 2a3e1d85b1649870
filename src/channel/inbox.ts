// The receiving side every message transport shares: the messages that arrived and wait to be read,
// the peer's goodbye after them, the first failure, this end's close, and the one receive() that may
// wait (through internal/wait.ts's Waker, with its { signal, timeout }). An adapter only says what
// happened on its carrier (push, end, fail); the order in which a reader learns it is kept here, the same
// for every transport: every message that came before the goodbye or the failure is read first, and a
// goodbye wins over a failure that follows it (a peer that said goodbye and then vanished closed on
// purpose: its process exiting, its socket resetting or its broker connection dropping is not a death).
import { closedError, IpcError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { Waker } from '../internal/wait.js';
import { peerClosed, peerGone } from './transport.js';

export class Inbox<M extends Uint8Array = Uint8Array> {
  readonly #what: string;
  readonly #waker: Waker;
  #queue: M[] = [];
  #ended = false;
  #error: Error | undefined;
  #closed = false;

  constructor(what: string) {
    this.#what = what;
    this.#waker = new Waker(what);
  }

  /** Messages queued and not read yet. */
  get length(): number {
    return this.#queue.length;
  }

  /** The peer said goodbye (messages sent before it may still be queued). */
  get ended(): boolean {
    return this.#ended;
  }

  /** The first failure reported, if any (read after the messages queued before it). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** next() would settle without waiting: a message is queued, or the end, a failure or close() is known. */
  get ready(): boolean {
    return this.#queue.length > 0 || this.#ended || this.#error !== undefined || this.#closed;
  }

  /** A receive() waits for something to arrive. */
  get waiting(): boolean {
    return this.#waker.waiting;
  }

  /** A message arrived. Nothing is queued after the goodbye or after close(). */
  push(m: M): void {
    if (this.#ended || this.#closed) return;
    this.#queue.push(m);
    this.#waker.wake();
  }

  /** The peer said goodbye, after the messages pushed so far. */
  end(): void {
    this.#ended = true;
    this.#waker.wake();
  }

  /** The carrier failed (the first failure is kept): read after the messages pushed so far. */
  fail(err: Error): void {
    this.#error ??= err;
    this.#waker.wake();
  }

  /** This end closed: a waiting receive() and every later one reject with ERR_IPC_CLOSED. */
  close(): void {
    this.#closed = true;
    this.#waker.wake(closedError(this.#what, 'receive'));
  }

  /**
   * What a send says when its carrier reports the peer gone (EPIPE, ECONNREFUSED, a removed queue): that
   * the peer closed, if its goodbye has arrived; the death already seen, if one was; else that it is
   * gone, without claiming which.
   */
  gone(cause?: unknown): IpcError {
    if (this.#ended) return peerClosed(this.#what, cause);
    const e = this.#error;
    if (e instanceof IpcError && e.code === 'ERR_IPC_PEER_DEAD') return e;
    return peerGone(this.#what, cause);
  }

  /**
   * The next message; null once the peer said goodbye and everything before it was read; the failure
   * once everything before it was read. `refill`, if given, runs when nothing is queued, before waiting
   * (a transport that pulls from its carrier only while somebody reads).
   */
  async next(opts: WaitOptions = {}, refill?: () => void): Promise<M | null> {
    for (;;) {
      if (this.#closed) throw closedError(this.#what, 'receive');
      const m = this.#queue.shift();
      if (m !== undefined) return m;
      if (this.#ended) return null;
      if (this.#error) throw this.#error;
      if (refill) {
        refill();
        if (this.#queue.length > 0 || this.#ended || this.#error) continue;
      }
      await this.#waker.wait(opts);
    }
  }

  /**
   * 1 to `max` messages: the next one as next() gives it (waiting, with `refill`), then those queued
   * behind it; [] where next() gives null. What a failure or the goodbye ends comes after them, at the
   * next call.
   */
  async nextMany(max: number, opts: WaitOptions = {}, refill?: () => void): Promise<M[]> {
    const first = await this.next(opts, refill);
    if (first === null) return [];
    const out = [first];
    while (out.length < max && this.#queue.length > 0 && !this.#closed) out.push(this.#queue.shift()!);
    return out;
  }
}
