import * as df from 'durable-functions';
import type { ManifestOptions } from '../lib/manifest';
import { isCommitted, judgeStatus } from '../lib/polling';
import { productKey, type Turn } from '../lib/productQueue';
import type {
  CreatedSubmission,
  FollowResult,
  ResolvedProduct,
  RunInput,
  RunState,
  StatusPoll,
  UpdatedSubmission,
  ValidatedZip,
} from '../lib/run';
import type { ProductRef } from '../lib/store/kinds';
import type { SubmissionStatus } from '../lib/store/types';
import { dryRunBlockedByPending, pendingSubmissionRefused, rolloutRefused } from '../lib/storeSteps';
import { checkCredential } from './activities/checkCredential';
import { leaveTurn, takeTurn } from './activities/productQueue';
import { getRunSettings, type RunSettings } from './activities/getRunSettings';
import { resolveProduct } from './activities/resolveProduct';
import {
  commitSubmission,
  createSubmission,
  deletePendingSubmission,
  discardSubmission,
  settleRollout,
} from './activities/storeSubmissionSteps';
import { updateSubmission } from './activities/updateSubmission';
import { uploadPackageZip, type UploadSummary } from './activities/uploadPackageZip';
import { validateZip } from './activities/validateZip';
import { writeReport } from './activities/writeReport';
import { followSubmission, type FollowOrchestrationInput } from './followSubmission';
import { failureOf, RunStopped, RunTracker, stopRun } from './run';

/** The follower's instance id is derived from the run's, so the status endpoint can find it. */
export function followerIdOf(runId: string): string {
  return `${runId}-follow`;
}

/**
 * One Store submission, for an app, a flight or an add-on, from a zip in storage:
 * validate, check the credential, resolve the product, clear the way (rollout, pending
 * submission), create, update, upload, commit, then follow the Store's status until the
 * manifest's goal. Any failure after create deletes our uncommitted submission, so the
 * product is never left half-made; every run ends with a report.
 */
export function* submitToStoreOrchestrator(context: df.OrchestrationContext): Generator<df.Task, RunState, unknown> {
  const input = context.df.getInput<RunInput>();
  const instanceId = context.df.instanceId;
  const run = new RunTracker(context, { phase: 'Validating', blob: input.blob, timeline: [] });
  const state = run.state;
  const createdTime = context.df.currentUtcDateTime.toISOString();
  let ours: { product: ProductRef; submissionId: string } | undefined;
  let committed = false;

  try {
    const settings = yield* run.step<RunSettings>('Validating', 'getRunSettings', () => getRunSettings({ instanceId }));
    const zip = yield* run.step<ValidatedZip>('Validating', 'validateZip', () =>
      validateZip({ instanceId, blob: input.blob, overrides: input.overrides }),
    );
    const options: ManifestOptions = zip.options;
    state.kind = zip.target.kind;
    state.options = options;
    state.dryRun = options.dryRun === true;

    state.queueKey = productKey(zip.target);
    yield* waitForTurn(context, run, state.queueKey, input.uploadedAt ?? createdTime, settings);

    yield* run.step('CheckingCredential', 'checkCredential', () => checkCredential({ instanceId }));

    const resolved = yield* run.step<ResolvedProduct>('ResolvingProduct', 'resolveProduct', () =>
      resolveProduct({ instanceId, target: zip.target }),
    );
    const product = resolved.product;
    state.product = product;

    if (resolved.rolloutInProgress && resolved.publishedSubmissionId) {
      if (options.existingRollout === 'fail' || !options.existingRollout)
        throw stopFor('resolveProduct', rolloutRefused(resolved.publishedSubmissionId));
      const action = options.existingRollout;
      yield* run.step('SettlingRollout', 'settleRollout', () =>
        settleRollout({ instanceId, product, submissionId: resolved.publishedSubmissionId!, action }),
      );
    }

    if (resolved.pendingSubmissionId) {
      // A flight created a moment ago comes with a pending submission of its own: ours to replace.
      // A dry run must not destroy anything, and the Store allows one pending submission only.
      if (state.dryRun && !resolved.created) {
        throw stopFor('resolveProduct', dryRunBlockedByPending(resolved.pendingSubmissionId));
      }
      if (options.pendingSubmission === 'fail' && !resolved.created) {
        throw stopFor(
          'resolveProduct',
          pendingSubmissionRefused(resolved.pendingSubmissionId, resolved.pendingMadeInPortal),
        );
      }
      const pendingId = resolved.pendingSubmissionId;
      yield* run.step('ClearingPendingSubmission', 'deletePendingSubmission', () =>
        deletePendingSubmission({ instanceId, product, submissionId: pendingId }),
      );
    }

    const created = yield* run.step<CreatedSubmission>('CreatingSubmission', 'createSubmission', () =>
      createSubmission({ instanceId, product, knownPendingId: resolved.pendingSubmissionId }),
    );
    ours = { product, submissionId: created.submissionId };
    state.submissionId = created.submissionId;

    const updated = yield* run.step<UpdatedSubmission & { targetPublishMode?: string }>(
      'UpdatingSubmission',
      'updateSubmission',
      () =>
        updateSubmission({
          instanceId,
          blob: input.blob,
          overrides: input.overrides,
          product,
          submissionId: created.submissionId,
        }),
    );

    if (state.dryRun) {
      yield* run.step('CleaningUp', 'discardSubmission', () => discardSubmission({ instanceId, ...ours! }));
      ours = undefined;
      state.outcome = 'DryRunSucceeded';
    } else {
      const upload = yield* run.step<UploadSummary>('Uploading', 'uploadPackageZip', () =>
        uploadPackageZip({ instanceId, blob: input.blob, product, submissionId: created.submissionId }),
      );
      state.upload = {
        bytes: upload.bytes,
        blocks: upload.blocks,
        method: upload.method,
        durationMs: upload.durationMs,
      };

      const commit = yield* run.step<{ status: SubmissionStatus }>('Committing', 'commitSubmission', () =>
        commitSubmission({ instanceId, product, submissionId: created.submissionId }),
      );
      committed = isCommitted(commit.status);
      state.storeStatus = commit.status;

      const waitFor = options.waitFor ?? 'commit';
      const deadlineMs =
        waitFor === 'published' ? settings.publishDeadlineHours * 3_600_000 : settings.commitDeadlineMinutes * 60_000;
      const followInput: FollowOrchestrationInput = {
        runId: instanceId,
        product,
        submissionId: created.submissionId,
        waitFor,
        deadline: new Date(run.now.getTime() + deadlineMs).toISOString(),
        polls: 0,
        intervalSeconds: 0,
        targetPublishMode: updated.targetPublishMode,
        firstIntervalSeconds: settings.firstIntervalSeconds,
        maxIntervalSeconds: settings.maxIntervalSeconds,
      };
      const followRecord = run.record(`waitFor:${waitFor}`);
      run.enter('WaitingForStore');
      const followed = (yield followSubmission(followInput, followerIdOf(instanceId))) as FollowResult;
      followRecord.endedAt = run.now.toISOString();
      followRecord.correlationIds = followed.correlationIds;
      followRecord.detail = `${followed.polls} polls, last status ${followed.status}`;
      state.storeStatus = followed.status;
      state.statusDetails = followed.statusDetails;
      state.polls = followed.polls;
      committed = isCommitted(followed.status);

      const verdict = judgeStatus(followed.status, waitFor, updated.targetPublishMode, true);
      if (verdict.verdict === 'failed' || verdict.verdict === 'commitFellBack') {
        followRecord.result = 'failed';
        throw stopRun(
          'waitForStore',
          verdict.reason,
          storeFacts(followed.statusDetails, verdict.verdict),
          verdict.advice,
        );
      }
      if (followed.timedOut) {
        followRecord.result = 'failed';
        throw stopRun(
          'waitForStore',
          `The Store status stayed ${followed.status} until the run's deadline (${followInput.deadline}); the run stopped following it.`,
          { code: 'DeadlineExceeded', retriable: false },
          'The submission is still in the Store: check it in Partner Center. Raise COMMIT_DEADLINE_MINUTES or PUBLISH_DEADLINE_HOURS if the Store is just slow.',
        );
      }
      state.outcome = 'Succeeded';
    }
  } catch (e) {
    state.failure = failureOf(e, state.phase);
    state.outcome = 'Failed';
    run.publish();
    if (ours && !committed) {
      const toDiscard = ours;
      try {
        yield* run.step('CleaningUp', 'discardSubmission', () => discardSubmission({ instanceId, ...toDiscard }));
      } catch (cleanup) {
        state.failure.advice =
          `${state.failure.advice ?? ''} The run could not delete its uncommitted submission ${toDiscard.submissionId}: delete it in Partner Center. (${failureOf(cleanup, 'discardSubmission').message})`.trim();
      }
    }
  }

  try {
    const report = yield* run.step<{ reportBlob: string }>('WritingReport', 'writeReport', () =>
      writeReport({ instanceId, state: { ...state }, createdTime, endedTime: run.now.toISOString() }),
    );
    state.reportBlob = report.reportBlob;
  } catch (e) {
    run.log(`the report could not be written: ${failureOf(e, 'writeReport').message}`);
  }

  if (state.queueKey) {
    const key = state.queueKey;
    try {
      yield* run.step('WritingReport', 'leaveTurn', () => leaveTurn({ instanceId, key }));
    } catch (e) {
      // A run that could not leave is removed by the next run, which sees it has ended.
      run.log(`could not leave the ${key} queue: ${failureOf(e, 'leaveTurn').message}`);
    }
  }

  if (state.outcome === 'Failed') {
    state.phase = 'Failed';
    run.publish();
    throw new Error(state.failure?.message ?? 'The run failed.');
  }
  state.phase = 'Succeeded';
  run.publish();
  return state;
}

/**
 * Waits, on durable timers, until no earlier upload for the same product is still running
 * (see lib/productQueue.ts). The status shows whom the run waits for, and the timeline
 * keeps it afterwards.
 */
function* waitForTurn(
  context: df.OrchestrationContext,
  run: RunTracker,
  key: string,
  uploadedAt: string,
  // The settle time lets zips uploaded a moment earlier, whose runs started a moment later, join the queue first.
  settings: Pick<RunSettings, 'queueSettleSeconds' | 'queuePollSeconds'>,
): Generator<df.Task, void, unknown> {
  // Runs started before these settings existed replay with the values they had then.
  const settleMs = (settings.queueSettleSeconds ?? 10) * 1000;
  const pollMs = (settings.queuePollSeconds ?? 15) * 1000;
  const instanceId = context.df.instanceId;
  const joinedAt = run.now.toISOString();
  const take = (mayStart: boolean) => () => takeTurn({ instanceId, key, uploadedAt, joinedAt, mayStart });
  const record = run.record('waitForTurn');
  yield* run.step<Turn>('Queued', 'takeTurn', take(false), { quiet: true });
  record.detail = `giving earlier uploads for this product ${settleMs / 1000} s to join the queue`;
  run.publish();
  yield context.df.createTimer(new Date(run.now.getTime() + settleMs));
  const waitedFor: string[] = [];
  for (;;) {
    const turn = yield* run.step<Turn>('Queued', 'takeTurn', take(true), { quiet: true });
    if (turn.mine) break;
    if (turn.behind && !waitedFor.includes(turn.behind)) waitedFor.push(turn.behind);
    run.state.queuedBehind = turn.behind;
    record.detail = `waiting for ${turn.behind} (${turn.position} ahead)`;
    run.publish();
    yield context.df.createTimer(new Date(run.now.getTime() + pollMs));
  }
  delete run.state.queuedBehind;
  if (waitedFor.length > 0) run.state.waitedFor = waitedFor;
  record.endedAt = run.now.toISOString();
  record.detail = waitedFor.length > 0 ? `waited for ${waitedFor.join(', ')}` : 'no earlier run for this product';
  run.publish();
}

function stopFor(step: string, error: { message: string; code: string; retriable: boolean }): RunStopped {
  return stopRun(step, error.message, { code: error.code, retriable: error.retriable });
}

function storeFacts(details: StatusPoll['statusDetails'], verdict: string) {
  return {
    code: verdict === 'commitFellBack' ? 'CommitFellBack' : (details?.errors?.[0]?.code ?? 'StoreRejected'),
    retriable: false,
    storeErrors: details?.errors ?? [],
  };
}

export const submitToStore = df.app.orchestration('submitToStore', submitToStoreOrchestrator);
