import { RestError, type PipelineRequest } from '@azure/core-rest-pipeline';

export const TIMEOUT_CODE = 'Timeout';

interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * Runs one attempt of an HTTP call under a client-side deadline that covers the body as well
 * as the headers: the HTTP clients' own timeouts stop at the headers (or, for storage's
 * `tryTimeoutInMs`, only ask the server to give up), so a connection that never answers would
 * hold a run forever. The attempt's abort signal is swapped for one the deadline can fire, and
 * a deadline that fires becomes a RestError with code `Timeout`, which retry policies retry
 * and tell apart from the caller cancelling.
 */
export async function withAttemptDeadline<T>(
  request: { abortSignal?: AbortSignalLike },
  timeoutMs: number,
  send: () => Promise<T>,
): Promise<T> {
  const outer = request.abortSignal;
  const controller = new AbortController();
  const forward = (): void => controller.abort();
  if (outer?.aborted) controller.abort();
  outer?.addEventListener('abort', forward);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  request.abortSignal = controller.signal;
  try {
    return await send();
  } catch (e) {
    // The request rides on the error because retry strategies decide by it (is it idempotent?).
    if (timedOut) {
      throw new RestError(`no answer within ${timeoutMs} ms`, {
        code: TIMEOUT_CODE,
        request: request as PipelineRequest,
      });
    }
    throw e;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
    request.abortSignal = outer;
  }
}
