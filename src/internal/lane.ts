// One ordered lane of pending operations (sends on a full queue or socket, receives on an empty queue):
// served strictly in submission order, each with its own { signal, timeout }, waiting for readiness one
// head at a time.
import type { WaitOptions } from './validate.js';
import { waitUntil, type Readiness } from './wait.js';

/** A wait of its own for one operation (until it may try again); the lane aborts `signal` when the head goes. */
export type LaneWait = (signal: AbortSignal) => Promise<unknown>;

/**
 * A pending operation. `attempt` makes the non-blocking call once: it settles the operation and returns
 * true, or returns false on EAGAIN. `wait` replaces the lane's own wait for this operation (a datagram
 * to a destination of its own waits for that destination's room, not ours).
 */
interface LaneOp {
  attempt(): boolean;
  /** Settles it (waitUntil's reject: a second settle does nothing), and takes it out of the lane. */
  reject(err: Error): void;
  wait: LaneWait | undefined;
}

/**
 * The pending operations of one direction of one object, served strictly in submission order: only the
 * head attempts the syscall, so two sends from this process can never overtake each other, and a wake-up
 * is never given to a later receive while an earlier one waits. One readiness wait at a time, for the
 * head; a head that aborts or times out hands the wait on to the next, and a failed wait (the object
 * closed under it) rejects every operation in the lane.
 *
 * The caller keeps a fast path of its own: while the lane is `idle`, trying the syscall at once keeps the
 * order and costs no promise; only an operation that would block is `run` through the lane.
 */
export class Lane {
  readonly #readiness: Readiness;
  readonly #events: number;
  #ops: LaneOp[] = [];
  #running = false;
  #wake: AbortController | undefined;

  /**
   * The lane waits for `events` on `readiness`. (Not a callback made by the owner's constructor: an
   * arrow there capturing `this` would share its context with the leak guard's cleanup, and the owner
   * could never be collected.)
   */
  constructor(readiness: Readiness, events: number) {
    this.#readiness = readiness;
    this.#events = events;
  }

  /** Nothing is pending: an operation tried now cannot overtake one of ours. */
  get idle(): boolean {
    return this.#ops.length === 0;
  }

  /**
   * Queues an operation behind the pending ones. `attempt(settle, fail)` is called when it is the head
   * (at once when the lane is idle) and again after each wait, until it settles or returns true. The
   * signal and timeout cover the time spent queued as well; an operation given up is never attempted
   * again. `what` names it in the timeout error.
   */
  run<T>(opts: WaitOptions, what: string, attempt: (settle: (v: T) => void, fail: (e: Error) => void) => boolean, wait?: LaneWait): Promise<T> {
    return waitUntil<T>(opts, what, (resolve, reject) => {
      const op: LaneOp = { wait, attempt: () => attempt(resolve, reject), reject };
      this.#ops.push(op);
      if (!this.#running) void this.#pump();
      // Settled (or given up): never attempted again.
      return () => this.#remove(op);
    });
  }

  /** Rejects every pending operation with `err` (the object closed). */
  rejectAll(err: Error): void {
    const ops = this.#ops;
    this.#ops = [];
    this.#wake?.abort();
    for (const op of ops) op.reject(err);
  }

  #remove(op: LaneOp): void {
    const i = this.#ops.indexOf(op);
    if (i < 0) return;
    this.#ops.splice(i, 1);
    if (i === 0) this.#wake?.abort();
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      while (this.#ops.length > 0) {
        const op = this.#ops[0]!;
        let settled: boolean;
        try {
          settled = op.attempt();
        } catch (err) {
          op.reject(err as Error);
          settled = true;
        }
        if (settled) {
          if (this.#ops[0] === op) this.#ops.shift();
          continue;
        }
        const wake = new AbortController();
        this.#wake = wake;
        try {
          if (op.wait) await op.wait(wake.signal);
          else await this.#readiness.wait(this.#events, { signal: wake.signal });
        } catch (err) {
          // An abort of our own means the head went (aborted, timed out, or the object closed): look again.
          if (!wake.signal.aborted) this.rejectAll(err as Error);
        } finally {
          this.#wake = undefined;
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
