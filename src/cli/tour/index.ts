// The sections of `ipckit tour`, one import and one entry each; the tour numbers them 1, 2, 3, ... in
// the order of `order` (then of this list).
import type { TourSection } from './section.js';
import { section as pipes } from './pipes.js';
import { section as signals } from './signals.js';
import { section as messageQueues } from './message-queues.js';
import { section as sharedMemory } from './shared-memory.js';
import { section as sockets } from './sockets.js';
import { section as channels } from './channels.js';

export const sections: TourSection[] = [
  pipes,
  signals,
  messageQueues,
  sharedMemory,
  sockets,
  channels,
];
