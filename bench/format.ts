// Number and size formats of the bench tables, shared by bench/index.ts and the CLI's compact table
// (a module of its own, so that the CLI does not load the bench to format its figures).

/** 1048576 → '1 MiB', 4096 → '4 KiB', 64 → '64 B'. */
export function fmtSize(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}

/** A figure with a K/M suffix from 10 000 on, whole from 100 on, else `digits` decimals; '' for none. */
export function fmtNum(n: number | undefined, digits = 2): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)} K`;
  if (n >= 100) return String(Math.round(n));
  return n.toFixed(digits);
}
