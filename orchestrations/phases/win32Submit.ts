/**
 * The MSI/EXE run's submit and its following: the submission, adopted when an ambiguous answer
 * hid it, then followWin32Submission until the manifest's goal. After the submit, the submission
 * is the Store's (the API can neither delete nor cancel one): a failure from here on says so.
 */
import type * as df from 'durable-functions';
import { followerIdOf } from '../../lib/instanceId';
import type { ManifestOptions } from '../../lib/manifest';
import { judgeWin32Status } from '../../lib/win32/polling';
import { cleanUpWin32Run, submitWin32Draft } from '../activities/win32';
import { followWin32Submission, type Win32FollowInput, type Win32FollowResult } from '../followWin32Submission';
import { failureOf, stopRun } from '../tracker';
import { untilDraftReady, whenFree, win32View, type Win32Run } from './win32Wait';

/** Submits the draft once it is ready; returns the submission's id. */
export function* submitDraft(w: Win32Run): Generator<df.Task, string, unknown> {
  const { run, productId } = w;
  const submitted = yield* whenFree(w, function* () {
    yield* untilDraftReady(w);
    // A submission the run waited out is never taken for its own after an ambiguous submit.
    const before = win32View(run).waitedForSubmissions?.at(-1);
    return yield* run.step('Submitting', submitWin32Draft, { productId, before });
  });
  run.show({ submissionId: submitted.submissionId });
  // The submission holds the installers its packages point at; only the kept draft goes.
  try {
    yield* run.step('WaitingForStore', cleanUpWin32Run, { productId, installers: false });
  } catch (e) {
    run.log(`the kept draft could not be removed: ${failureOf(e, 'cleanUpWin32Run').message}`);
  }
  return submitted.submissionId;
}

/** Follows the run's submission to its goal in a sub-orchestration, judging where it ended. */
export function* followSubmissionToGoal(
  w: Win32Run,
  options: ManifestOptions,
  submissionId: string,
): Generator<df.Task, void, unknown> {
  const { run, settings } = w;
  const waitFor = options.waitFor ?? 'commit';
  const deadlineMs =
    waitFor === 'published' ? settings.publishDeadlineHours * 3_600_000 : settings.commitDeadlineMinutes * 60_000;
  const input: Win32FollowInput = {
    runId: run.runId,
    productId: w.productId,
    submissionId,
    waitFor,
    deadline: new Date(run.now.getTime() + deadlineMs).toISOString(),
    polls: 0,
    intervalSeconds: 0,
    firstIntervalSeconds: settings.firstIntervalSeconds,
    maxIntervalSeconds: settings.maxIntervalSeconds,
  };
  const record = run.record(`waitFor:${waitFor}`);
  run.enter('WaitingForStore');
  yield* run.notify();
  input.notify = run.notifyContext;
  const followed = (yield followWin32Submission(input, followerIdOf(run.runId))) as Win32FollowResult;
  record.endedAt = run.now.toISOString();
  record.correlationIds = followed.correlationIds;
  record.detail = `${followed.polls} polls, last status ${followed.status}`;
  run.followed(followed.notified, followed.status);
  run.show({ storeStatus: followed.status, statusDetails: followed.statusDetails, polls: followed.polls });
  yield* run.notify();
  const verdict = judgeWin32Status({ publishingStatus: followed.status, hasFailed: followed.hasFailed }, waitFor);
  if (verdict.verdict === 'failed') {
    record.result = 'failed';
    const errors = followed.statusDetails?.errors ?? [];
    throw stopRun(
      'waitForStore',
      verdict.reason,
      { code: errors[0]?.code ?? 'SubmissionFailed', retriable: false, storeErrors: errors },
      verdict.advice,
    );
  }
  if (followed.timedOut) {
    record.result = 'failed';
    throw stopRun(
      'waitForStore',
      `The Store status stayed ${followed.status} until the run's deadline (${input.deadline}); the run stopped following it.`,
      { code: 'DeadlineExceeded', retriable: false },
      'The submission is still with the Store: check it in Partner Center. Raise COMMIT_DEADLINE_MINUTES or PUBLISH_DEADLINE_HOURS if the Store is just slow.',
    );
  }
}
