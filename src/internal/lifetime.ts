// Ownership and finalisation. An object that owns a kernel resource registers a cleanup here right
// after it acquires it; close() unregisters it. If the object is garbage-collected unclosed, the cleanup
// runs (closing fds, releasing mappings; never unlinking names: whether a name outlives its creator is
// the user's decision) and a warning says what was forgotten.
const registry = new FinalizationRegistry<Held>((held) => {
  process.emitWarning(`${held.what} was garbage-collected without close(); ipckit closed it`, {
    code: 'IPCKIT_UNCLOSED',
    type: 'ResourceWarning',
  });
  try {
    held.cleanup();
  } catch {
    // A finaliser has no caller to report to; the warning above is the report.
  }
});

interface Held {
  what: string;
  cleanup: () => void;
}

/**
 * Arms a leak guard for `owner`; `cleanup` must not reference `owner`, not even through its scope:
 * closures made in one function share that function's context, so a cleanup written in a constructor
 * beside an arrow that uses `this` keeps the owner alive for ever. Make it in a function of its own.
 * Returns the disarm token.
 */
export function guard(owner: object, what: string, cleanup: () => void): object {
  const token = {};
  registry.register(owner, { what, cleanup }, token);
  return token;
}

export function disarm(token: object | undefined): void {
  if (token) registry.unregister(token);
}

/**
 * What `accept()` gives, one after another, until the object closes (ERR_IPC_CLOSED ends the iteration;
 * any other error is thrown): the async iterator of every listener.
 */
export async function* untilClosed<T>(accept: () => Promise<T>): AsyncGenerator<T> {
  for (;;) {
    try {
      yield await accept();
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_IPC_CLOSED') return;
      throw err;
    }
  }
}
