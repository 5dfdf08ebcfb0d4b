/**
 * Waiting, in tests, for something the system under test will do. A busy machine (CI shares
 * two cores with other builds) makes everything slower but must never change a verdict, so a
 * wait has one deadline for the whole suite, far above the slowest honest run: running out of
 * it means the awaited thing is not going to happen, not that the machine was slow. Assert on
 * what happened (states, logs, counts), never on how long it took.
 *
 * The jest test timeout (jest.config.js) is longer still, so a wait that runs out fails with its
 * own message and the last thing it saw.
 */
export const PATIENCE_MS = 5 * 60_000;

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `probe` until it returns something other than undefined, null or false, and returns
 * that. A probe that throws fails the wait at once, unless `retryErrors` says the error may pass
 * (a service still starting, a 5xx a client would retry): then the last error is in the
 * timeout's message, as is `lastSeen()` if given.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: { everyMs?: number; retryErrors?: boolean | ((e: unknown) => boolean); lastSeen?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (e) {
      const retry = typeof options.retryErrors === 'function' ? options.retryErrors(e) : !!options.retryErrors;
      if (!retry) throw e;
      lastError = e;
    }
    if (Date.now() > deadline) {
      const seen = options.lastSeen ? `; last seen: ${JSON.stringify(options.lastSeen(), null, 2)}` : '';
      const error = lastError
        ? `; last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`
        : '';
      throw new Error(`timed out after ${PATIENCE_MS / 1000} s waiting for ${what}${error}${seen}`);
    }
    await pause(options.everyMs ?? 50);
  }
}
