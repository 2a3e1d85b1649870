// The one openOrCreate loop of every named kernel object (iceoryx2's creation verbs): create
// exclusively; on EEXIST open what is there; on ENOENT it was removed between the two calls, so create
// again. A peer that keeps creating and removing the name could keep us looping: the retries are bounded.
import { errno, errnoException } from '../errors.js';

const EEXIST = errno('EEXIST');
const ENOENT = errno('ENOENT');

/** How often a name removed between our create and our open is tried again before ENOENT is thrown. */
export const OPEN_OR_CREATE_TRIES = 8;

/**
 * Runs the loop. `create()` makes the object exclusively and returns it, or -errno; `open()` opens the
 * existing one and returns it, or -errno. Each may also throw (a kernel limit explained, a foreign
 * owner refused). Any -errno but the two the loop handles is thrown as a system error of `syscall` on
 * `path`.
 */
export function openOrCreate<T extends object>(create: () => T | number, open: () => T | number, syscall: string, path?: string): T {
  for (let tries = 1; ; tries++) {
    const made = create();
    if (typeof made !== 'number') return made;
    if (made !== EEXIST) throw errnoException(made, syscall, path);
    const opened = open();
    if (typeof opened !== 'number') return opened;
    if (opened !== ENOENT || tries >= OPEN_OR_CREATE_TRIES) throw errnoException(opened, syscall, path);
  }
}
