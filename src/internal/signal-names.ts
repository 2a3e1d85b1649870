// Signal names and numbers, shared by signals (src/signal.ts) and process management (src/process.ts).
import os from 'node:os';
import { native } from '../native.js';
import { invalidArgType, outOfRange } from '../errors.js';
import { validateInteger } from './validate.js';

/**
 * The first realtime signal of this process (glibc keeps 32 and 33 for itself: 34 on Linux).
 *
 * @example
 * ```ts
 * signals.send(pid, signals.SIGRTMIN + 2, { value: 1 }); // the same as 'SIGRTMIN+2'
 * ```
 */
export const SIGRTMIN: number = native.SIGRTMIN;
/**
 * The last realtime signal (64 on Linux); reserved by ipckit's waiter threads, so it cannot be watched.
 *
 * @example
 * ```ts
 * signals.watch(signals.SIGRTMAX - 1); // the highest one a watcher may take
 * ```
 */
export const SIGRTMAX: number = native.SIGRTMAX;

// ---- names ---------------------------------------------------------------------------------------

export const standardSignals = os.constants.signals as Record<string, number>;
const ALIASES = new Set(['SIGIOT', 'SIGPOLL', 'SIGUNUSED', 'SIGCLD']);
const stdName = new Map<number, string>();
for (const [name, num] of Object.entries(standardSignals)) if (!ALIASES.has(name) && !stdName.has(num)) stdName.set(num, name);

/**
 * A signal as a name (`'SIGUSR2'`, `'USR2'`, `'SIGRTMIN+3'`, `'SIGRTMAX-1'`) or a number.
 *
 * @example
 * ```ts
 * signals.send(pid, 'SIGUSR2'); signals.send(pid, 'USR2'); signals.send(pid, 12); signals.send(pid, 'SIGRTMIN+3');
 * ```
 */
export type SignalSpec = string | number;

export function unknownSignal(sig: unknown): TypeError {
  const err = new TypeError(`Unknown signal: ${String(sig)}`) as TypeError & { code: string };
  err.code = 'ERR_UNKNOWN_SIGNAL'; // Node's own code for process.kill(pid, 'SIGNOPE')
  return err;
}

/**
 * The number of a signal. Realtime names are computed from this process's SIGRTMIN and SIGRTMAX, as
 * glibc and the shell do: `'SIGRTMIN+n'` and `'SIGRTMAX-n'`.
 *
 * @example
 * ```ts
 * signals.number('SIGRTMIN+3'); // 37 with glibc
 * signals.number('USR2');       // 12
 * ```
 */
export function signalNumber(sig: SignalSpec): number {
  return toSigno(sig, false);
}

export function toSigno(sig: SignalSpec, allowZero: boolean): number {
  if (typeof sig === 'number') return validateInteger('signal', sig, allowZero ? 0 : 1, SIGRTMAX);
  if (typeof sig !== 'string') throw invalidArgType('signal', 'of type string or number', sig);
  let s = sig.trim().toUpperCase();
  if (!s.startsWith('SIG')) s = 'SIG' + s;
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d{1,3}))?$/.exec(s);
  if (rt) {
    const [, base, op, digits] = rt;
    const n = digits === undefined ? 0 : Number(digits);
    if (digits !== undefined && ((base === 'MIN' && op !== '+') || (base === 'MAX' && op !== '-'))) throw unknownSignal(sig);
    const num = base === 'MIN' ? SIGRTMIN + n : SIGRTMAX - n;
    if (num < SIGRTMIN || num > SIGRTMAX) throw outOfRange('signal', `within SIGRTMIN..SIGRTMAX (${SIGRTMIN}..${SIGRTMAX})`, sig);
    return num;
  }
  const num = standardSignals[s];
  if (num === undefined) throw unknownSignal(sig);
  return num;
}

/**
 * The canonical name of a signal number: `'SIGTERM'`, `'SIGRTMIN+3'`, `'SIGRTMAX-2'` (the lower half of
 * the realtime range counts up from SIGRTMIN, the upper half down from SIGRTMAX, like `kill -l`).
 *
 * @example
 * ```ts
 * signals.name(37); // 'SIGRTMIN+3'
 * ```
 */
export function signalName(signo: number): string {
  validateInteger('signo', signo, 1, SIGRTMAX);
  const s = stdName.get(signo);
  if (s !== undefined) return s;
  if (signo < SIGRTMIN) return `SIG${signo}`; // 32, 33: glibc's own (NPTL cancellation and setxid)
  const n = signo - SIGRTMIN;
  if (n === 0) return 'SIGRTMIN';
  if (signo === SIGRTMAX) return 'SIGRTMAX';
  return n <= (SIGRTMAX - SIGRTMIN) >> 1 ? `SIGRTMIN+${n}` : `SIGRTMAX-${SIGRTMAX - signo}`;
}


/** The si_code values every signal can carry (siginfo(2)), by name. */
const SI_CODES = new Map<number, string>([
  [0, 'SI_USER'],
  [0x80, 'SI_KERNEL'],
  [-1, 'SI_QUEUE'],
  [-2, 'SI_TIMER'],
  [-3, 'SI_MESGQ'],
  [-4, 'SI_ASYNCIO'],
  [-5, 'SI_SIGIO'],
  [-6, 'SI_TKILL'],
  [-7, 'SI_DETHREAD'],
  [-60, 'SI_ASYNCNL'],
]);

/** The name of a generic si_code ('SI_USER', 'SI_QUEUE', ...), or its number as text. */
export function siCodeName(code: number): string {
  return SI_CODES.get(code) ?? String(code);
}
