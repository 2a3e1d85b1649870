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
import fs from 'node:fs';
import { SystemVMessageQueue } from '../message-queue.js';
import { RecordTransport, type RecordCarrier } from './record.js';
import { adoptOptions, busy, registerAdapter } from './transport.js';

const TO_LISTENER = 1;
const TO_CONNECTOR = 2;
const CLAIM = 3;
const BYE = Buffer.from([1]);

function carrier(q: SystemVMessageQueue, mine: number, theirs: number, maxRecord: number): RecordCarrier {
  return {
    maxRecord,
    send: (rec) => q.send(mine, rec),
    async receive(opts) {
      try {
        return (await q.receive({ ...opts, type: theirs })).data;
      } catch (err) {
        // The listener removed the queue on close: that is its goodbye.
        const code = (err as { code?: string }).code;
        if (code === 'EIDRM' || code === 'EINVAL') return BYE;
        throw err;
      }
    },
    close: async () => q.close(),
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
  async listen(ep, opts) {
    const q = await SystemVMessageQueue.create(ep.key, { removeOnClose: true });
    if (!q.trySend(CLAIM, Buffer.from([0]))) {
      q.close();
      throw new Error(`sysvmq ${ep.url}: a new queue has no room for its claim token`);
    }
    const max = msgmax();
    return new RecordTransport(`channel ${ep.url}`, carrier(q, TO_CONNECTOR, TO_LISTENER, max), opts.maxMessageSize, max);
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
    return new RecordTransport(`channel ${ep.url}`, carrier(q, TO_LISTENER, TO_CONNECTOR, max), opts.maxMessageSize, max);
  },
});
