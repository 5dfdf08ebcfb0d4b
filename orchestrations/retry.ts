import type * as df from 'durable-functions';
import { parseActivityFailure, type ActivityFailure } from '../lib/errors';
import { retryDelayMs, STEP_RETRY, type RetryPolicy } from '../lib/polling';
import type { Activity, ActivityInput } from './activities/activity';

/** An activity failed and no further attempt can help (or the budget is spent). */
export class StepFailed extends Error {
  override readonly name = 'StepFailed';
  constructor(
    readonly activityName: string,
    readonly failure: ActivityFailure,
    /** Attempts made, the failed last one included. */
    readonly attempts: number,
  ) {
    super(failure.message);
  }
}

export interface RetryObserver {
  /** Attempt `attempt` failed; the next one is scheduled after `delayMs` on a durable timer. */
  retrying?(failure: ActivityFailure, attempt: number, delayMs: number): void;
}

/**
 * The orchestration's one retry loop (the budget is in docs/architecture.md): an activity
 * failure that says a retry can help is tried again after a durable timer — the Store's
 * `Retry-After` when it gave one, exponential backoff otherwise (`retryDelayMs`) — and one that
 * says the request is wrong, or the last allowed attempt, throws `StepFailed` at once.
 *
 * Durable's own `callActivityWithRetry` cannot do this: it retries every failure on a fixed
 * schedule, with no way to honour `Retry-After` or to stop on a 400.
 */
export function* callActivity<I extends ActivityInput, O>(
  context: df.OrchestrationContext,
  activity: Activity<I, O>,
  input: I,
  observer: RetryObserver = {},
  policy: RetryPolicy = STEP_RETRY,
): Generator<df.Task, O, unknown> {
  for (let attempt = 1; ; attempt++) {
    let failure: ActivityFailure;
    try {
      return (yield activity(input)) as O;
    } catch (e) {
      failure = parseActivityFailure(e);
    }
    const delayMs = failure.retriable ? retryDelayMs(attempt, failure.retryAfterMs, policy) : undefined;
    if (delayMs === undefined) throw new StepFailed(activity.activityName, failure, attempt);
    observer.retrying?.(failure, attempt, delayMs);
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delayMs));
  }
}
