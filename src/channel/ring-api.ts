/**
 * `ipckit/ring`: the shared-memory ring beneath `shm:`, `shm+unix:` and `fork()` channels, for code that
 * wants the synchronous fast path (docs/channels.md, "The rings directly"; the format in
 * docs/ring-format.md).
 *
 * @example
 * ```ts
 * import { connectRingPair } from 'ipckit/ring';
 * await using pair = await connectRingPair('shm+unix:@fast');
 * while (!pair.tx.trySend(Buffer.from('ping')));
 * console.log(await pair.rx.receive());
 * ```
 * @module ipckit/ring
 */
export {
  RingProducer,
  RingConsumer,
  initRing,
  checkRing,
  maxPayload,
  ringBytes,
  threadParker,
  RING_HEADER,
  RING_MAGIC,
  RING_VERSION,
  MIN_CAPACITY,
  MAX_CAPACITY,
  type Parker,
  type RingMemory,
  type RingOptions,
  type RingWaitOptions,
} from './ring.js';
export {
  RingPair,
  RingServer,
  connectRingPair,
  offerRingPair,
  joinRingPair,
  segmentBytes,
  DEFAULT_CAPACITY,
  SEGMENT_HEADER,
  SEGMENT_VERSION,
  type RingAddress,
  type RingPairOptions,
  type RingServerOptions,
} from './shm-server.js';
