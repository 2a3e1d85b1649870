/**
 * Loads the compiled addon, once, on first call. Kept apart from native.ts so that errors.ts can reach
 * the addon lazily (for the few errno names Node does not know) without importing IpcError loading it.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let loaded: unknown;

/** The addon's exports (typed by native.ts); throws a clear error when it was never built. */
export function loadAddon(): unknown {
  if (loaded !== undefined) return loaded;
  // dist/src/addon.js and src/addon.ts both sit two levels below the package root.
  const candidates = ['../../build/Release/ipckit.node', '../build/Release/ipckit.node', '../../build/Debug/ipckit.node'];
  let first: unknown;
  for (const rel of candidates) {
    try {
      loaded = require(rel);
      return loaded;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
      first ??= err;
    }
  }
  throw new Error('ipckit: the native addon is not built; run `npm rebuild ipckit` (needs python3, make, g++)', {
    cause: first,
  });
}
