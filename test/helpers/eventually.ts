/**
 * Waiting, in tests, for something the system under test will do. A busy machine (CI shares
 * two cores with other builds) makes everything slower but must never change a verdict, so a
 * wait does not give up after a fixed time: it gives up after PATIENCE_MS in which nothing
 * moved. What counts as movement is the wait's `progress` (a run's status document changing,
 * the host writing log lines, the Store emulator taking requests): a system that is slow but
 * working keeps the wait alive, one that is stuck ends it with the last thing it saw. Assert on
 * what happened (states, logs, counts), never on how long it took.
 *
 * The jest test timeout (jest.config.js) caps every test, so a system that moves for ever
 * without getting there fails too, later. On the real Durable engine every step is a round
 * trip through storage queues, and the patience is stretched as helpers/engine.ts says.
 */
import { patience } from './engine';

export const PATIENCE_MS = patience(5 * 60_000);

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface EventuallyOptions {
  everyMs?: number;
  /** May a probe's error pass as "not yet" (a service still starting, a 5xx a client would retry)? */
  retryErrors?: boolean | ((e: unknown) => boolean);
  /** What the timeout's message shows. */
  lastSeen?: () => unknown;
  /** Anything whose change means the system moved; the patience starts again when it does. */
  progress?: () => unknown;
}

/**
 * Calls `probe` until it returns something other than undefined, null or false, and returns
 * that. A probe that throws fails the wait at once, unless `retryErrors` says the error may pass.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  options: EventuallyOptions = {},
): Promise<T> {
  const moved = movement(options.progress);
  let deadline = Date.now() + PATIENCE_MS;
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
    if (moved()) deadline = Date.now() + PATIENCE_MS;
    if (Date.now() > deadline) {
      const seen = options.lastSeen ? `; last seen: ${JSON.stringify(options.lastSeen(), null, 2)}` : '';
      const error = lastError
        ? `; last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`
        : '';
      const still = options.progress ? ' in which nothing moved' : '';
      throw new Error(`timed out after ${PATIENCE_MS / 1000} s${still} waiting for ${what}${error}${seen}`);
    }
    await pause(options.everyMs ?? 50);
  }
}

/** A function that says whether `progress()` changed since it was last asked. */
function movement(progress: (() => unknown) | undefined): () => boolean {
  if (!progress) return () => false;
  let last = JSON.stringify(progress());
  return () => {
    const now = JSON.stringify(progress());
    if (now === last) return false;
    last = now;
    return true;
  };
}
