// Output helpers shared by the subcommands: aligned tables for people, JSON for machines, and the
// error convention (message on stderr, exit code 1 for failures, 2 for usage).
export function table(rows: string[][], head: string[]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const right = head.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.,]+( [KMG]i?B)?$|^[-?]$/.test(r[i] ?? '')));
  return all
    .map((r) =>
      r
        .map((c, i) => (right[i] ? (c ?? '').padStart(widths[i]!) : (c ?? '').padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GiB`;
}

/** A failure the user should read: printed without a stack, exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { code?: string };
  if (e && typeof e === 'object' && 'message' in e) return e.code && !e.message.startsWith(e.code) ? `${e.code}: ${e.message}` : e.message;
  return String(err);
}

/** A usage error: printed without a stack, exit code 2 (the arguments were wrong; nothing was tried). */
export function usageError(message: string): CliError {
  return new CliError(message, 2);
}

/**
 * Runs `f` (parsing of an argument), turning what it throws into a usage error: an endpoint, an object
 * name or a signal that does not parse is the caller's mistake (exit 2), not a failed operation (exit 1).
 */
export function parsed<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    const why = describeError(err);
    throw usageError(why.includes(what) ? why : `${what}: ${why}`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes as JSON: text when they are valid UTF-8, base64 otherwise, with `encoding` saying which (the form
 * `recv --json` prints and `send --json` reads back).
 */
export function jsonData(data: Buffer): { data: string; encoding: 'utf8' | 'base64'; bytes: number } {
  try {
    return { data: utf8.decode(data), encoding: 'utf8', bytes: data.length };
  } catch {
    return { data: data.toString('base64'), encoding: 'base64', bytes: data.length };
  }
}

/**
 * What an open that was refused for its owner (ERR_IPC_FOREIGN_OWNER) tells a CLI user: the reason, and
 * the flag that adopts the object anyway. Anything else is returned as it is.
 */
export function foreignOwnerHint(err: unknown): unknown {
  if ((err as { code?: unknown })?.code !== 'ERR_IPC_FOREIGN_OWNER') return err;
  return new CliError(`${describeError(err)}; --allow-foreign-owner uses it anyway`, 1);
}
