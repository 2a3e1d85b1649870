// mq:/name — a POSIX message queue (mq_overview(7)) carries one direction, like a FIFO: `listen` is the
// receiving end (it creates the queue, exclusive, and removes it on close), `connect` the sending end
// (it opens the queue write-only). The queue keeps record boundaries and gives backpressure (a full queue
// makes send wait, on the event loop). Its mq_msgsize is the one limit of both ends: the listener sets it
// from `maxMessageSize` (default 8192, fs.mqueue.msgsize_default), and the connector adopts it, so an
// oversized message is refused by the sender. `maxMessages` (default 10) sets mq_maxmsg.
// Messages travel at priority 1; the goodbye is an empty message at priority 0, which the queue
// delivers after every message sent before it (a non-empty message at priority 0, which another program
// may send, is a message, not the goodbye). A queue has no connection: a peer that dies is not noticed
// (the queue simply stays empty, or full).
//
// One connector: a queue cannot tell its writers apart, so a second connector would interleave its
// messages with the first's and its goodbye would end the listener's stream for both. The connector
// therefore takes an exclusive lock on byte 1 of the queue (MessageQueue.tryLock, an OFD lock); a second
// one finds it taken and fails at connect with ERR_IPC_BUSY, before sending anything. The kernel drops
// the lock when the connector closes or dies (after a death, a new connector may carry on where the
// dead one stopped).
//
// After a crash: the listener holds the lock on byte 0 for as long as it lives, and makes its queue with
// the sticky bit (mode 1600) as the mark of a channel queue. A listen that finds the name taken (EEXIST)
// by a marked queue of ours whose byte 0 nobody holds knows its listener is gone, and replaces it, as
// UnixServer replaces a socket file nobody listens on; a live listener's queue, another user's, or a
// queue that is not a channel's is left alone (EEXIST).
import { IpcError } from '../errors.js';
import type { WaitOptions } from '../internal/validate.js';
import { tooLarge } from '../internal/framing.js';
import { MessageQueue } from '../message-queue.js';
import { Inbox } from './inbox.js';
import { adoptOptions, busy, registerAdapter, type Transport } from './transport.js';

const DATA = 1;
const BYE = 0;

class MqTransport implements Transport {
  readonly canSend: boolean;
  readonly canReceive: boolean;
  readonly maxMessageSize: number;
  readonly #what: string;
  readonly #q: MessageQueue;
  readonly #inbox: Inbox;
  #closed = false;

  constructor(url: string, q: MessageQueue, sending: boolean, max: number) {
    this.#what = `channel ${url}`;
    this.#q = q;
    this.#inbox = new Inbox(this.#what);
    this.canSend = sending;
    this.canReceive = !sending;
    this.maxMessageSize = Math.min(max, q.maxMessageSize);
  }

  async send(bytes: Uint8Array, opts: WaitOptions = {}): Promise<void> {
    // Closed, direction and size: checked by the Channel.
    await this.#q.send(bytes, { priority: DATA, signal: opts.signal, timeout: opts.timeout });
  }

  async receive(opts: WaitOptions = {}): Promise<Uint8Array | null> {
    const inbox = this.#inbox;
    while (!inbox.ready) {
      let m;
      try {
        m = await this.#q.receive(opts);
      } catch (err) {
        if (this.#closed) break; // the inbox is closed
        throw err;
      }
      if (m.priority === BYE && m.data.byteLength === 0) inbox.end();
      else if (m.data.byteLength > this.maxMessageSize) {
        throw tooLarge(m.data.byteLength, this.maxMessageSize, { incoming: true });
      } else inbox.push(m.data);
    }
    return inbox.next();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.close();
    // The goodbye must not wait forever on a full queue whose reader is gone.
    if (this.canSend) this.#q.trySend(Buffer.alloc(0), { priority: BYE }) || (await this.#q.send(Buffer.alloc(0), { priority: BYE, timeout: 1000 }).catch(() => {}));
    this.#q.close();
  }
}

const LISTENER_SLOT = 0;
const CONNECTOR_SLOT = 1;
/** 0600 and the sticky bit, which mq_open keeps (fstat shows it): the mark of a channel's queue. */
const CHANNEL_MODE = 0o1600;

/**
 * Removes a channel queue its listener left behind (killed, crashed): ours, marked, and with nobody on
 * the listener's lock. True if it did; false if the queue must be left alone.
 */
async function removeStale(name: string): Promise<boolean> {
  let old: MessageQueue;
  try {
    old = await MessageQueue.open(name); // read-write: a write lock needs a descriptor open for writing
  } catch {
    return false; // gone meanwhile (create again reports what is there), or another user's
  }
  try {
    if ((old.stat().mode & 0o7777) !== CHANNEL_MODE) return false;
    // Holding the lock while we unlink: a second listener racing us finds it taken and backs off.
    if (!old.tryLock(LISTENER_SLOT)) return false;
    await MessageQueue.unlink(name);
    return true;
  } finally {
    old.close();
  }
}

registerAdapter('mq', {
  options: ['maxMessages', 'allowForeignOwner'],
  async listen(ep, opts) {
    const create = () =>
      MessageQueue.create(ep.name, {
        maxMessageSize: opts.explicitMax === true ? opts.maxMessageSize : 8192,
        ...(typeof opts.maxMessages === 'number' ? { maxMessages: opts.maxMessages } : {}),
        mode: CHANNEL_MODE,
        unlinkOnClose: true,
      });
    let q: MessageQueue;
    try {
      q = await create();
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST' || !(await removeStale(ep.name))) throw err;
      q = await create();
    }
    // Nobody else can hold it yet: the queue is new, and ours.
    if (!q.tryLock(LISTENER_SLOT)) {
      q.close();
      throw new IpcError('ERR_IPC_BUSY', `${ep.url}: another listener took the new queue at once`, { url: ep.url });
    }
    return new MqTransport(ep.url, q, false, opts.maxMessageSize);
  },
  async connect(ep, opts) {
    const q = await MessageQueue.open(ep.name, { access: 'write', ...adoptOptions(opts) });
    let mine: boolean;
    try {
      mine = q.tryLock(CONNECTOR_SLOT);
    } catch (err) {
      q.close();
      throw err;
    }
    if (!mine) {
      q.close();
      throw busy(ep.url, 'another connector holds the queue');
    }
    return new MqTransport(ep.url, q, true, opts.maxMessageSize);
  },
});
