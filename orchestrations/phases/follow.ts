import type * as df from 'durable-functions';
import { followerIdOf } from '../../lib/instanceId';
import type { ManifestOptions } from '../../lib/manifest';
import { isCommitted, judgeStatus } from '../../lib/polling';
import type { FollowResult } from '../../lib/run';
import type { SubmissionStatus } from '../../lib/store/types';
import type { RunSettings } from '../activities/getRunSettings';
import { followSubmission, type FollowOrchestrationInput } from '../followSubmission';
import { stopRun, type RunStopped, type RunTracker } from '../tracker';
import { discardAfter, orDiscard, type Draft } from './draft';

/**
 * Follows the committed submission in a sub-orchestration until the manifest's goal, its
 * failure or the deadline. A submission the Store hands back uncommitted (CommitFailed, or
 * fallen back to PendingCommit) is ours again and is deleted when the run fails.
 */
export function* followToGoal(
  run: RunTracker,
  settings: RunSettings,
  options: ManifestOptions,
  draft: Draft,
  commitStatus: SubmissionStatus,
): Generator<df.Task, void, unknown> {
  const waitFor = options.waitFor ?? 'commit';
  const deadlineMs =
    waitFor === 'published' ? settings.publishDeadlineHours * 3_600_000 : settings.commitDeadlineMinutes * 60_000;
  const input: FollowOrchestrationInput = {
    runId: run.runId,
    product: draft.product,
    submissionId: draft.submissionId,
    waitFor,
    deadline: new Date(run.now.getTime() + deadlineMs).toISOString(),
    polls: 0,
    intervalSeconds: 0,
    targetPublishMode: draft.targetPublishMode,
    firstIntervalSeconds: settings.firstIntervalSeconds,
    maxIntervalSeconds: settings.maxIntervalSeconds,
  };
  const record = run.record(`waitFor:${waitFor}`);
  run.enter('WaitingForStore');
  yield* run.notify();
  // The follower sees each Store status and emits its change; it numbers on from the run's count.
  input.notify = run.notifyContext;
  const followed = yield* orDiscard(run, isCommitted(commitStatus) ? undefined : draft, follower(input, run.runId));
  record.endedAt = run.now.toISOString();
  record.correlationIds = followed.correlationIds;
  record.detail = `${followed.polls} polls, last status ${followed.status}`;
  run.followed(followed.notified, followed.status);
  run.show({ storeStatus: followed.status, statusDetails: followed.statusDetails, polls: followed.polls });
  yield* run.notify();

  const stop = stopOf(followed, input);
  if (stop) {
    record.result = 'failed';
    if (!isCommitted(followed.status)) yield* discardAfter(run, draft, stop);
    throw stop;
  }
}

function* follower(input: FollowOrchestrationInput, runId: string): Generator<df.Task, FollowResult, unknown> {
  return (yield followSubmission(input, followerIdOf(runId))) as FollowResult;
}

/** Why following ended short of the goal, or nothing when the goal was reached. */
function stopOf(followed: FollowResult, input: FollowOrchestrationInput): RunStopped | undefined {
  const verdict = judgeStatus(followed.status, input.waitFor, input.targetPublishMode, true);
  if (verdict.verdict === 'failed' || verdict.verdict === 'commitFellBack') {
    const details = followed.statusDetails;
    const code =
      verdict.verdict === 'commitFellBack' ? 'CommitFellBack' : (details?.errors?.[0]?.code ?? 'StoreRejected');
    return stopRun(
      'waitForStore',
      verdict.reason,
      { code, retriable: false, storeErrors: details?.errors ?? [] },
      verdict.advice,
    );
  }
  if (followed.timedOut) {
    return stopRun(
      'waitForStore',
      `The Store status stayed ${followed.status} until the run's deadline (${input.deadline}); the run stopped following it.`,
      { code: 'DeadlineExceeded', retriable: false },
      'The submission is still in the Store: check it in Partner Center. Raise COMMIT_DEADLINE_MINUTES or PUBLISH_DEADLINE_HOURS if the Store is just slow.',
    );
  }
  return undefined;
}
