// Output helpers shared by the subcommands: aligned tables for people, JSON for machines, and the
// error convention (message on stderr, exit code 1 for failures, 2 for usage).
export function table(rows: string[][], head: string[]): string {
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const right = head.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.,]+( [KMG]i?B)?$|^-$/.test(r[i] ?? '')));
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
