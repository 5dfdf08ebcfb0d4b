import type * as df from 'durable-functions';
import { pendingFollowerIdOf } from '../../lib/instanceId';
import { decidePending, pendingWaitExpired, waitingFor, type PendingFacts } from '../../lib/pending';
import type { FollowResult, ResolvedProduct } from '../../lib/run';
import type { ProductRef } from '../../lib/store/kinds';
import type { RunSettings } from '../activities/getRunSettings';
import { followSubmission, type FollowOrchestrationInput } from '../followSubmission';
import { stopRun, type RunStopped, type RunTracker } from '../tracker';

/** What the product's pending submission means for this run, as lib/pending.ts decides it. */
export function pendingFacts(resolved: ResolvedProduct): PendingFacts | undefined {
  if (!resolved.pendingSubmissionId) return undefined;
  return {
    submissionId: resolved.pendingSubmissionId,
    // Read with the submission; a run started before the status was read treats it as editable, as it did.
    status: resolved.pendingStatus ?? 'PendingCommit',
    madeInPortal: resolved.pendingMadeInPortal,
    targetPublishMode: resolved.pendingTargetPublishMode,
    createdWithProduct: !!resolved.created,
  };
}

/**
 * Decides on the product's pending submission, and while the Store is processing it, waits:
 * it is never deleted (the Store refuses, and it may be a release in certification). The wait
 * runs in the follower sub-orchestration (durable timers, poll backoff within the rate limit,
 * continue-as-new, so a wait of days keeps a small history), until that submission is published,
 * fails, is canceled or deleted in Partner Center, or the deadline passes (then the run fails
 * and says what it waited for). After a wait the product is read again (`resolveAgain`: it may
 * now have a rollout, another pending submission, new published packages) and decided anew.
 * Returns the product as last read and the decision on it: nothing pending, or delete it.
 */
export function* waitOutPending(
  run: RunTracker,
  settings: Pick<RunSettings, 'publishDeadlineHours' | 'firstIntervalSeconds' | 'maxIntervalSeconds'>,
  options: { pendingSubmission?: 'replace' | 'fail'; dryRun?: boolean },
  first: ResolvedProduct,
  resolveAgain: () => Generator<df.Task, ResolvedProduct, unknown>,
): Generator<df.Task, { resolved: ResolvedProduct; deletePending?: string }, unknown> {
  const deadline = new Date(run.now.getTime() + settings.publishDeadlineHours * 3_600_000).toISOString();
  let resolved = first;
  for (let waits = 1; ; waits++) {
    const pending = pendingFacts(resolved);
    const decision = decidePending(pending, options);
    // The read that showed the pending submission is what support needs to see.
    if (decision.action === 'fail') throw stopFor('resolveProduct', decision.error, resolved.correlationIds.at(-1));
    if (decision.action === 'delete') return { resolved, deletePending: pending!.submissionId };
    if (decision.action === 'none' || !pending) return { resolved };
    yield* waitFor(run, settings, resolved.product, pending, deadline, pendingFollowerIdOf(run.runId, waits));
    resolved = yield* resolveAgain();
  }
}

/**
 * Follows another's submission until it is published, fails, is deleted, or the deadline. The
 * status shows all along which submission the run waits for and its Store status (the
 * follower's custom status has the latest one; the status endpoint reads it).
 */
function* waitFor(
  run: RunTracker,
  settings: Pick<RunSettings, 'firstIntervalSeconds' | 'maxIntervalSeconds'>,
  product: ProductRef,
  pending: PendingFacts,
  deadline: string,
  followerId: string,
): Generator<df.Task, void, unknown> {
  if (run.now.toISOString() >= deadline)
    throw stopFor('waitForPendingSubmission', pendingWaitExpired(pending, deadline));
  const record = run.record('waitFor:pendingSubmission');
  record.detail = `waiting for ${waitingFor(pending)}`;
  run.show({
    phase: 'WaitingForPendingSubmission',
    pendingWait: {
      submissionId: pending.submissionId,
      storeStatus: pending.status,
      targetPublishMode: pending.targetPublishMode,
      since: run.now.toISOString(),
      deadline,
      followerId,
    },
  });
  yield* run.notify();
  const input: FollowOrchestrationInput = {
    runId: run.runId,
    product,
    submissionId: pending.submissionId,
    waitFor: 'published',
    deadline,
    polls: 0,
    intervalSeconds: 0,
    // Not ours: its Release in Manual mode is no goal reached, so the wait goes on until it is published.
    targetPublishMode: undefined,
    othersSubmission: true,
    firstIntervalSeconds: settings.firstIntervalSeconds,
    maxIntervalSeconds: settings.maxIntervalSeconds,
  };
  const followed = (yield followSubmission(input, followerId)) as FollowResult;
  record.endedAt = run.now.toISOString();
  record.correlationIds = followed.correlationIds;
  if (followed.timedOut) {
    record.result = 'failed';
    record.detail = `${pending.submissionId} still ${followed.status} at the deadline, after ${followed.polls} polls`;
    run.show({ pendingWait: undefined });
    throw stopFor('waitForPendingSubmission', pendingWaitExpired({ ...pending, status: followed.status }, deadline));
  }
  record.detail = followed.gone
    ? `${pending.submissionId} was deleted (in Partner Center) after ${followed.polls} polls`
    : `${pending.submissionId} ended ${followed.status} after ${followed.polls} polls`;
  run.show({
    pendingWait: undefined,
    waitedForSubmissions: [...(run.state.waitedForSubmissions ?? []), pending.submissionId],
  });
}

function stopFor(
  step: string,
  error: { message: string; code: string; retriable: boolean },
  correlationId?: string,
): RunStopped {
  return stopRun(step, error.message, { code: error.code, retriable: error.retriable, correlationId });
}
