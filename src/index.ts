/**
 * ipckit: every Unix IPC mechanism as real kernel objects, for Node.js.
 * @module
 */
export { IpcError, AbortError, errnoException, type IpcErrorCode } from './errors.js';
export type { WaitOptions } from './internal/validate.js';
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

// 3. message queues

// 4. shared memory

// 5. semaphores

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

// channels

// inventory (ipckit ls / rm)
