// A message transport over a record-preserving carrier (AF_UNIX seqpacket and datagram sockets): each
// record is one tag byte and the payload. Tag 0 is a message, tag 1 the goodbye (the peer closed on
// purpose), tag 2 alone a refusal (a listener that already has its peer says so to another sender); the
// tag also makes an empty message a non-empty record (a 0-byte seqpacket record reads like
// the peer's shutdown). An end of records without the goodbye means the peer died.
import { closedError, IpcError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { tooLarge } from '../internal/framing.js';
import { bounded } from '../internal/wait.js';
import { isPeerGone, peerDead, type Transport } from './transport.js';
import { Inbox } from './inbox.js';

export interface RecordCarrier {
  /** Largest record the carrier takes. */
  readonly maxRecord: number;
  send(record: Uint8Array, opts?: WaitOptions): Promise<void>;
  /** Sends the goodbye without waiting for a peer that never came (default: send). */
  goodbye?(record: Uint8Array): Promise<void>;
  /**
   * The next record, or null at the end of the carrier (orderly or not). A carrier that knows the peer
   * closed on purpose (a removed queue) returns a goodbye record.
   */
  receive(opts: WaitOptions): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/**
 * A record longer than the receive buffer: the kernel cut it (MSG_TRUNC). Never delivered cut; the
 * channel is failed, since the peer sends records this end cannot take.
 */
export function cutRecord(got: number): IpcError {
  return new IpcError('ERR_IPC_MESSAGE_TOO_LARGE', `an incoming record was longer than the ${got}-byte receive buffer and was cut by the kernel (MSG_TRUNC); not delivered`, { size: got, limit: got - 1 });
}

const DATA = 0;
const BYE = 1;
/** Sent by a listener to a connector it will not serve (it already has its peer). */
export const REFUSED = 2;

export class RecordTransport implements Transport {
  readonly canSend = true;
  readonly canReceive = true;
  readonly maxMessageSize: number;
  readonly url?: string;
  readonly #what: string;
  #carrier: RecordCarrier | undefined;
  readonly #ready: Promise<RecordCarrier>;
  readonly #release: (() => Promise<void>) | undefined;
  readonly #inbox: Inbox;
  #closing: Promise<void> | undefined;

  /** `carrier` may still be coming (a listener waiting for its peer); `release` frees the rest. */
  constructor(what: string, carrier: RecordCarrier | Promise<RecordCarrier>, max: number, maxRecord: number, release?: () => Promise<void>) {
    this.#what = what;
    this.#inbox = new Inbox(what);
    this.maxMessageSize = Math.min(max, maxRecord - 1);
    if (carrier instanceof Promise) {
      this.#ready = carrier;
      carrier.then((c) => (this.#carrier = c), () => {});
    } else {
      this.#carrier = carrier;
      this.#ready = Promise.resolve(carrier);
    }
    this.#ready.catch(() => {});
    this.#release = release;
  }

  #peer(opts: WaitOptions): Promise<RecordCarrier> {
    return this.#carrier ? Promise.resolve(this.#carrier) : bounded(this.#ready, opts, this.#what);
  }

  async send(bytes: Uint8Array, opts: WaitOptions = {}): Promise<void> {
    // Closed and size: checked by the Channel.
    const inbox = this.#inbox;
    if (inbox.error) throw inbox.error;
    if (inbox.ended) throw inbox.gone();
    const c = await this.#peer(opts);
    const rec = Buffer.allocUnsafe(bytes.byteLength + 1);
    rec[0] = DATA;
    rec.set(bytes, 1);
    try {
      await c.send(rec, opts);
    } catch (err) {
      if (this.#closing) throw closedError(this.#what, 'send');
      throw isPeerGone(err) ? inbox.gone(err) : err;
    }
  }

  async receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    // Pull: a record is read only while somebody receives; what it was goes into the inbox.
    while (!this.#inbox.ready) await this.#read(opts);
    return this.#inbox.next();
  }

  async #read(opts: WaitOptions): Promise<void> {
    const inbox = this.#inbox;
    const c = await this.#peer(opts);
    let rec: Uint8Array | null;
    try {
      rec = await c.receive(opts);
    } catch (err) {
      if (this.#closing) return; // the inbox is closed
      const code = (err as { code?: string }).code;
      if (code === 'ERR_IPC_CLOSED') throw closedError(this.#what, 'receive');
      // The carrier's own verdict (a refused record, a peer it knows is gone) stays the channel's.
      if (code === 'ERR_IPC_MESSAGE_TOO_LARGE' || code === 'ERR_IPC_PEER_DEAD') return inbox.fail(err as Error);
      if (isPeerGone(err)) return inbox.fail(peerDead(this.#what, err));
      throw err; // a wait given up (AbortError, ERR_IPC_TIMEOUT): nothing happened to the channel
    }
    if (this.#closing) return;
    if (rec === null) return inbox.fail(peerDead(this.#what));
    if (rec.byteLength === 1 && rec[0] === REFUSED) return inbox.fail(new IpcError('ERR_IPC_BUSY', `${this.#what}: the listener already has its one peer and refused this end (nothing it sent was delivered)`));
    if (rec.byteLength === 0 || rec[0]! > BYE) return inbox.fail(new IpcError('ERR_IPC_CORRUPT', `${this.#what}: a record without a valid tag`));
    if (rec[0] === BYE) return inbox.end();
    if (rec.byteLength - 1 > this.maxMessageSize) {
      return inbox.fail(tooLarge(rec.byteLength - 1, this.maxMessageSize, { incoming: true }));
    }
    inbox.push(rec.subarray(1));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#inbox.close();
      const c = this.#carrier;
      if (c && !this.#inbox.error) {
        // Bounded: a peer whose queue is full and who no longer reads must not hold close() forever.
        const bye = (c.goodbye ?? c.send).call(c, Buffer.from([BYE]));
        await bounded(bye, { timeout: 1000 }, `goodbye on ${this.#what}`).catch(() => {});
      }
      await c?.close();
      await this.#release?.();
    })();
    return this.#closing;
  }
}
