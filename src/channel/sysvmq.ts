// sysvmq:0x1234 — a System V message queue (svipc(7)) carries both directions, told apart by the message
// type: 1 from the connector to the listener, 2 back (msgrcv with an exact type). `listen` creates the
// queue (exclusive, 0600) and removes it on close (IPC_RMID); `connect` opens it. Each message is a tag
// byte and the payload (record.ts), so the largest message is kernel.msgmax less one. A full queue
// (msg_qbytes) makes send wait, on a waiter thread. The queue is a kernel object with no owner process:
// a peer that dies is not noticed, and a listener killed before close leaves its queue behind
// (`ipckit rm`, ipcrm). When the listener closes, the queue goes with it: the connector sees the end.
//
// One connector: the listener puts one claim token in the new queue (a message of type 3); a connector
// takes it (msgrcv of exactly type 3, without waiting) before it sends anything, and a second
// connector, finding none, fails at connect with ERR_IPC_BUSY. (Without this, a second connector's
// messages would interleave with the first's and the first goodbye would end the stream for both.) A
// token taken is never given back: the channel is over when its connector says goodbye, and a
// connector that died is not noticed by the listener anyway.
//
// After a crash: the listener keeps a liveness token, a System V semaphore set under the same key
// (semaphore keys are a namespace of their own) that it raises by one with SEM_UNDO, so the kernel
// lowers it again when the listener's process dies. A listen that finds the key's queue taken (EEXIST)
// while that token is ours and down knows the listener is gone, and replaces the queue, as UnixServer
// replaces a socket file nobody listens on; with the token up (a live listener), or no token at all
// (not a channel's queue), or another user's, the queue is left alone (EEXIST). `ipcrm -S KEY` removes a
// token left with nothing else.
import fs from 'node:fs';
import { SystemVMessageQueue } from '../message-queue.js';
import { SystemVSemaphoreSet } from '../semaphore.js';
import { euid } from '../internal/owner.js';
import { RecordTransport, type RecordCarrier } from './record.js';
import { adoptOptions, busy, peerClosed, registerAdapter } from './transport.js';

const TO_LISTENER = 1;
const TO_CONNECTOR = 2;
const CLAIM = 3;
const BYE = Buffer.from([1]);

interface Token {
  set: SystemVSemaphoreSet;
  /** It was there before us: a listener made it, and is dead since the token was down. */
  stale: boolean;
}

/** Raises the key's liveness token; null when a live listener holds it, or it is not ours. */
async function takeToken(key: number): Promise<Token | null> {
  let set: SystemVSemaphoreSet;
  let stale = false;
  try {
    set = await SystemVSemaphoreSet.create(key, { count: 1, unlinkOnClose: false });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
    try {
      set = await SystemVSemaphoreSet.open(key);
    } catch {
      return null; // removed meanwhile, or not ours to open
    }
    const st = set.stat();
    if (st.uid !== euid() || st.count !== 1) {
      set.close();
      return null;
    }
    stale = true;
  }
  // "Wait for zero, then add one", at once and without waiting: of two listeners racing, one wins.
  if (!set.tryOp([{ index: 0, delta: 0 }, { index: 0, delta: 1 }], { undo: true })) {
    set.close();
    return null;
  }
  return { set, stale };
}

function dropToken(t: Token | null): void {
  if (!t) return;
  try {
    t.set.remove();
  } catch {
    // Removed by somebody else (ipcrm): nothing left to do.
  }
  t.set.close();
}

/** The queue was removed (msgsnd/msgrcv: EIDRM while waiting, EINVAL after): the listener closed it. */
function removed(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'EIDRM' || code === 'EINVAL';
}

function carrier(what: string, q: SystemVMessageQueue, mine: number, theirs: number, maxRecord: number, token: Token | null = null): RecordCarrier {
  return {
    maxRecord,
    async send(rec, opts) {
      try {
        await q.send(mine, rec, { signal: opts?.signal, timeout: opts?.timeout });
      } catch (err) {
        if (removed(err)) throw peerClosed(what, err);
        throw err;
      }
    },
    async receive(opts) {
      try {
        return (await q.receive({ ...opts, type: theirs })).data;
      } catch (err) {
        // The listener removed the queue on close: that is its goodbye.
        if (removed(err)) return BYE;
        throw err;
      }
    },
    close: async () => {
      q.close();
      dropToken(token);
    },
  };
}

function msgmax(): number {
  try {
    return Number(fs.readFileSync('/proc/sys/kernel/msgmax', 'utf8')) || 8192;
  } catch {
    return 8192;
  }
}

registerAdapter('sysvmq', {
  options: ['allowForeignOwner'],
  async listen(ep, opts) {
    const token = await takeToken(ep.key);
    let q: SystemVMessageQueue;
    try {
      try {
        q = await SystemVMessageQueue.create(ep.key, { removeOnClose: true });
      } catch (err) {
        if ((err as { code?: string }).code !== 'EEXIST' || !token?.stale) throw err;
        // The token was ours and down: its listener died and left this queue. Replace it.
        (await SystemVMessageQueue.open(ep.key)).remove();
        q = await SystemVMessageQueue.create(ep.key, { removeOnClose: true });
      }
    } catch (err) {
      // Lower what we raised; remove the token only if we made it (a stale one stays for the next try).
      if (token) {
        token.set.tryOp([{ index: 0, delta: -1 }], { undo: true });
        if (token.stale) token.set.close();
        else dropToken(token);
      }
      throw err;
    }
    if (!q.trySend(CLAIM, Buffer.from([0]))) {
      q.close();
      dropToken(token);
      throw new Error(`sysvmq ${ep.url}: a new queue has no room for its claim token`);
    }
    const max = msgmax();
    return new RecordTransport(`channel ${ep.url}`, carrier(`channel ${ep.url}`, q, TO_CONNECTOR, TO_LISTENER, max, token), opts.maxMessageSize, max);
  },
  async connect(ep, opts) {
    const q = await SystemVMessageQueue.open(ep.key, adoptOptions(opts));
    let claimed;
    try {
      claimed = q.tryReceive({ type: CLAIM });
    } catch (err) {
      q.close();
      throw err;
    }
    if (!claimed) {
      q.close();
      throw busy(ep.url, 'its claim token is taken');
    }
    const max = msgmax();
    return new RecordTransport(`channel ${ep.url}`, carrier(`channel ${ep.url}`, q, TO_LISTENER, TO_CONNECTOR, max), opts.maxMessageSize, max);
  },
});
