/**
 * Following a run through `GET /api/submissions/{id}` until it ends. A run that does not exist
 * yet (the blob trigger has not fired) is waited for; a Functions app that stops answering is
 * given `unreachableGraceMs` to come back before the CLI gives up on it.
 */
import type { StatusDocument } from '../lib/statusDocument';
import { ServiceError } from './errors';
import type { FunctionsClient } from './functionsClient';
import { isFinished } from './view';

export interface FollowOptions {
  pollIntervalMs: number;
  /** Stop waiting after this long (undefined: until the run ends). */
  timeoutMs?: number;
  unreachableGraceMs?: number;
  /** Every answer, and undefined while the run does not exist yet. */
  onPoll?: (doc: StatusDocument | undefined) => void;
  /** A failed poll that will be retried. */
  onRetry?: (error: ServiceError) => void;
}

export async function followRun(
  client: Pick<FunctionsClient, 'status'>,
  instanceId: string,
  options: FollowOptions,
): Promise<{ doc?: StatusDocument; timedOut: boolean }> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const grace = options.unreachableGraceMs ?? 60_000;
  let failingSince: number | undefined;
  let last: StatusDocument | undefined;
  for (;;) {
    try {
      last = await client.status(instanceId);
      failingSince = undefined;
      options.onPoll?.(last);
      if (last && isFinished(last)) return { doc: last, timedOut: false };
    } catch (e) {
      if (!(e instanceof ServiceError) || !e.retriable) throw e;
      failingSince ??= Date.now();
      if (Date.now() - failingSince >= grace) throw e;
      options.onRetry?.(e);
    }
    const wait = Math.min(options.pollIntervalMs, deadline - Date.now());
    if (wait <= 0) return { doc: last, timedOut: true };
    await new Promise((r) => setTimeout(r, wait));
  }
}
