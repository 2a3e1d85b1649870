/// <reference types="node" preserve="true" />
// The reference is kept in index.d.ts so that a consumer gets Node's types (Buffer, AbortSignal,
// AsyncDisposable...) from its own @types/node even when its tsconfig lists no "types" (TypeScript 6
// and later include none by default).
/**
 * ipckit: every Unix IPC mechanism as real kernel objects, for Node.js.
 * @module ipckit
 */
export { IpcError, AbortError, errnoException, type IpcErrorCode } from './errors.js';
export type { WaitOptions } from './internal/validate.js';
export type { AdoptOptions } from './internal/owner.js';
export { FrameDecoder, encodeFrame, DEFAULT_MAX_FRAME } from './internal/framing.js';

// 1. pipes
export {
  pipe,
  pipeCapacity,
  Fifo,
  PipeReader,
  PipeWriter,
  writeFrame,
  readFrames,
  type Pipe,
  type FifoCreateOptions,
  type FifoReaderOptions,
  type FrameOptions,
} from './pipe.js';

// 2. signals
export {
  signals,
  SignalWatcher,
  type SignalEvent,
  type SignalSpec,
  type SendOptions,
  type WatchOptions,
} from './signal.js';

// 3. message queues
export {
  MessageQueue,
  SystemVMessageQueue,
  ftok,
  limits as messageQueueLimits,
  MQ_PRIO_MAX,
  type Message,
  type TypedMessage,
  type MessageQueueAttributes,
  type MessageQueueCreateOptions,
  type MessageQueueOpenOptions,
  type MessageQueueLimits,
  type SendOptions as MessageQueueSendOptions,
  type SystemVCreateOptions,
  type SystemVReceiveOptions,
  type SystemVSendOptions,
  type SystemVMessageQueueStat,
} from './message-queue.js';

// 4. shared memory
export {
  SharedMemory,
  SystemVSharedMemory,
  MAX_SHARED_MEMORY_SIZE,
  type SharedSegment,
  type SharedMemoryCreateOptions,
  type SharedMemoryOpenOptions,
  type SystemVSharedMemoryCreateOptions,
  type SystemVSharedMemoryStat,
  type FutexWaitResult,
} from './shared-memory.js';

// 5. semaphores
export {
  Semaphore,
  SystemVSemaphoreSet,
  type SemaphoreCreateOptions,
  type SemaphoreInMemoryOptions,
  type SemaphoreOperation,
  type SemaphoreSetCreateOptions,
  type SemaphoreOpOptions,
  type SystemVSemaphoreSetStat,
} from './semaphore.js';
export { Mutex, type MutexInMemoryOptions, type LockResult } from './mutex.js';

// 6. sockets
export {
  UnixSocket,
  UnixServer,
  ReceivedFd,
  parseUnixEndpoint,
  UNIX_PATH_MAX,
  MAX_FDS_PER_MESSAGE,
  type UnixSocketType,
  type UnixAddress,
  type UnixAddressLike,
  type UnixMessage,
  type UnixEndpoint,
  type Credentials,
  type AllowRule,
  type UnixSocketOptions,
  type ConnectOptions,
  type BindOptions,
  type ListenOptions,
  type SendOptions as UnixSendOptions,
} from './socket.js';

// process management
export {
  processes,
  Tracer,
  ProcessWatcher,
  type ProcessEvent,
  type ProcessWatchOptions,
  type ExitStatus,
  type TraceEvent,
  type SignalStop,
  type ExitStop,
  type TracerOptions,
  type TracerSpawnOptions,
  type TracerStdio,
} from './process.js';

// channels
export {
  connect,
  listen,
  Channel,
  parseEndpoint,
  socketAddress,
  transports,
  type ChannelOptions,
  type ChannelOptionsFor,
  type CommonChannelOptions,
  type TransportOptions,
  type TransportOwnOptions,
  type TransportOfScheme,
  type CodecName,
  type Endpoint,
  type EndpointOf,
  type SocketTransport,
  type SocketAddress,
  type TransportName,
  type PathEndpoint,
  type NameEndpoint,
  type SocketEndpoint,
  type HostEndpoint,
} from './channel/index.js';

// shared-memory ring servers (docs/channels.md, "shm+unix: ring servers")
export { RingServer, type RingServerOptions } from './channel/shm-server.js';
export { fork, spawn, spawnWorker, parentChannel, CHANNEL_FD, CHANNEL_FD_ENV, type ChildChannelOptions, type ChildWithChannel, type WorkerWithChannel, type RingChannelOptions } from './channel/fork.js';

// inventory (ipckit ls / rm)
export {
  listIpcObjects,
  listRingServers,
  removeIpcObject,
  parseIpcObjectRef,
  type IpcObject,
  type IpcObjectKind,
  type IpcObjectRef,
  type Inventory,
  type RingServerEntry,
  type RingServerInventory,
  type RingClient,
} from './inventory.js';
