// A shm: channel segment's doorbells: two FIFOs beside it in /dev/shm, NAME.PID.bell-l and NAME.PID.bell-c
// (src/channel/shm.ts, docs/ring-format.md "Doorbells"), PID being the listener's. A listener killed
// before its peer came leaves them with the segment; `ls` shows them with it and `rm shm:/NAME` removes
// them with it. Only FIFOs of exactly that form are ever touched.
import fs from 'node:fs';

const SHM_DIR = '/dev/shm';

/** The doorbell FIFOs of segment `name` ('/x'), as paths. */
export function doorbellsOf(name: string): string[] {
  const base = name.slice(1);
  let entries: string[];
  try {
    entries = fs.readdirSync(SHM_DIR);
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.startsWith(`${base}.`) && /^\.\d+\.bell-[lc]$/.test(f.slice(base.length)))
    .map((f) => `${SHM_DIR}/${f}`)
    .filter((p) => {
      try {
        return fs.lstatSync(p).isFIFO();
      } catch {
        return false;
      }
    });
}

/** Every doorbell FIFO in /dev/shm, by the segment name it belongs to. */
export function allDoorbells(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let entries: string[];
  try {
    entries = fs.readdirSync(SHM_DIR);
  } catch {
    return out;
  }
  for (const f of entries) {
    const m = /^(.+)\.\d+\.bell-[lc]$/.exec(f);
    if (!m) continue;
    try {
      if (!fs.lstatSync(`${SHM_DIR}/${f}`).isFIFO()) continue;
    } catch {
      continue;
    }
    const name = `/${m[1]}`;
    out.set(name, [...(out.get(name) ?? []), `${SHM_DIR}/${f}`]);
  }
  return out;
}

/** Unlinks the doorbells of `name`; how many went. */
export function removeDoorbells(name: string): number {
  let n = 0;
  for (const p of doorbellsOf(name)) {
    try {
      fs.unlinkSync(p);
      n++;
    } catch {
      // gone already (its listener or peer unlinked it)
    }
  }
  return n;
}
