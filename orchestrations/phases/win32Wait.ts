/**
 * How an MSI/EXE run waits on the Store's draft: until its modules are ready (after a change,
 * the Store processes it; after a packages commit, it downloads the installers), and until
 * someone else's submission in progress has ended (the Store refuses every change to the draft
 * while one runs, and the API cannot cancel it).
 */
import type * as df from 'durable-functions';
import { ongoingWaiterIdOf } from '../../lib/instanceId';
import type { ManifestOptions } from '../../lib/manifest';
import type { Win32RunView } from '../../lib/run';
import { SUBMISSION_IN_PROGRESS } from '../../lib/store/win32Client';
import { PACKAGE_UPLOAD_ERROR } from '../../lib/win32/steps';
import type { RunSettings } from '../activities/getRunSettings';
import { getWin32DraftState } from '../activities/win32';
import { followWin32Submission, type Win32FollowInput, type Win32FollowResult } from '../followWin32Submission';
import { RunStopped, stopRun, type RunTracker } from '../tracker';

/** What every win32 phase works with. */
export interface Win32Run {
  context: df.OrchestrationContext;
  run: RunTracker;
  /** The product's Partner Center id, lower case. */
  productId: string;
  settings: RunSettings;
  /** What to do about a submission in progress: wait it out (default) or stop. */
  ongoingSubmission: NonNullable<ManifestOptions['ongoingSubmission']>;
}

/** The run's view of its work on the draft, as the status shows it. */
export function win32View(run: RunTracker): Win32RunView {
  return run.state.win32 ?? { plan: [], applied: [] };
}

/** Shows `change` in the run's view of the draft (a new object each time: the status is never edited in place). */
export function showWin32(run: RunTracker, change: Partial<Win32RunView>): void {
  const next: Record<string, unknown> = { ...win32View(run) };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  run.show({ win32: next as unknown as Win32RunView });
}

/** First wait between module status polls; it grows by half up to the cap. */
const DRAFT_POLL_FIRST_S = 2;
const DRAFT_POLL_MAX_S = 30;
/** Polls before a run that replaces the packages goes on with a draft whose packages are not ready. */
const BEFORE_POLLS = 5;

function isInProgress(e: unknown): boolean {
  return e instanceof RunStopped && e.failure.facts.code === SUBMISSION_IN_PROGRESS;
}

/**
 * Runs `body`; when the Store refuses it because a submission is in progress (someone submitted
 * in Partner Center meanwhile), waits that submission out (or stops, as the options say) and
 * runs `body` again.
 */
export function* whenFree<T>(w: Win32Run, body: () => Generator<df.Task, T, unknown>): Generator<df.Task, T, unknown> {
  for (;;) {
    try {
      return yield* body();
    } catch (e) {
      if (!isInProgress(e)) throw e;
    }
    const state = yield* w.run.step('WaitingForOngoingSubmission', getWin32DraftState, { productId: w.productId });
    if (state.ongoingSubmissionId) yield* waitOutSubmission(w, state.ongoingSubmissionId);
  }
}

/** Follows someone else's submission in progress until it ends (published or failed), or stops the run. */
export function* waitOutSubmission(w: Win32Run, ongoing: string): Generator<df.Task, void, unknown> {
  const { run } = w;
  if (w.ongoingSubmission === 'fail') {
    throw stopRun(
      'readWin32Draft',
      `Submission ${ongoing} of this product is in progress (in certification, or made in Partner Center), and the Store refuses every change to the draft until it is published or has failed; submission.json options.ongoingSubmission is "fail".`,
      { code: SUBMISSION_IN_PROGRESS, retriable: false },
      'Upload the zip again once that submission has ended, or set options.ongoingSubmission to "wait". The Store API cannot cancel a submission; Partner Center can.',
    );
  }
  const waited = [...(win32View(run).waitedForSubmissions ?? []), ongoing];
  showWin32(run, { waitedForSubmissions: waited });
  const record = run.record(`waitForSubmission:${ongoing}`);
  record.detail = `submission ${ongoing} is in progress; the draft can change once it is published or has failed`;
  run.enter('WaitingForOngoingSubmission');
  yield* run.notify();
  const input: Win32FollowInput = {
    runId: run.runId,
    productId: w.productId,
    submissionId: ongoing,
    waitFor: 'ended',
    deadline: new Date(run.now.getTime() + w.settings.publishDeadlineHours * 3_600_000).toISOString(),
    polls: 0,
    intervalSeconds: 0,
    firstIntervalSeconds: w.settings.firstIntervalSeconds,
    maxIntervalSeconds: w.settings.maxIntervalSeconds,
  };
  const ended = (yield followWin32Submission(input, ongoingWaiterIdOf(run.runId, waited.length))) as Win32FollowResult;
  record.endedAt = run.now.toISOString();
  record.correlationIds = ended.correlationIds;
  if (ended.timedOut) {
    record.result = 'failed';
    throw stopRun(
      'waitForSubmission',
      `Submission ${ongoing} was still ${ended.status} at the run's deadline; the draft could not be changed.`,
      { code: 'DeadlineExceeded', retriable: false },
      'Upload the zip again once that submission has ended, or raise PUBLISH_DEADLINE_HOURS.',
    );
  }
  record.detail = `waited ${ended.polls} polls for submission ${ongoing}, which ended ${ended.status}`;
  run.publish();
}

/**
 * Polls the module status until the draft is ready. A package the Store could not download
 * stops the run with the Store's message (the URL, never its query). `replacingPackages`: the
 * run is about to replace the packages, so packages not ready from before the run (a failed
 * upload, changes never committed) do not stop it: after a few polls it goes on, and its own
 * packages fix them.
 */
export function* untilDraftReady(
  w: Win32Run,
  how: { replacingPackages?: boolean } = {},
): Generator<df.Task, void, unknown> {
  const replacingPackages = how.replacingPackages === true;
  const { run, context } = w;
  const deadline = run.now.getTime() + w.settings.commitDeadlineMinutes * 60_000;
  const record = run.record('waitForDraft');
  let interval = DRAFT_POLL_FIRST_S;
  const ended = (detail: string, result?: 'failed'): void => {
    record.endedAt = run.now.toISOString();
    record.detail = detail;
    if (result) record.result = result;
    run.publish();
  };
  for (let polls = 1; ; polls++) {
    const state = yield* run.step('WaitingForDraft', getWin32DraftState, { productId: w.productId }, { quiet: true });
    record.correlationIds = [...(record.correlationIds ?? []), ...state.correlationIds].slice(-5);
    if (state.ongoingSubmissionId) {
      ended(`submission ${state.ongoingSubmissionId} started meanwhile`);
      throw stopRun(
        'waitForDraft',
        `Submission ${state.ongoingSubmissionId} was started while the run was changing the draft.`,
        { code: SUBMISSION_IN_PROGRESS, retriable: false },
      );
    }
    const uploadErrors = state.errors.filter((e) => e.code === PACKAGE_UPLOAD_ERROR);
    if (state.isReady || (replacingPackages && (uploadErrors.length > 0 || polls >= BEFORE_POLLS))) {
      ended(`ready after ${polls} poll${polls === 1 ? '' : 's'}`);
      return;
    }
    if (uploadErrors.length) {
      const said = uploadErrors.map((e) => e.details).join('; ');
      ended(said, 'failed');
      throw stopRun(
        'waitForDraft',
        `The Store could not download an installer: ${said}`,
        { code: 'PackageUploadFailed', retriable: false, storeErrors: uploadErrors },
        'The Store downloads each installer from the URL the run gave it: check that the packages storage (WIN32_PACKAGES_STORAGE) is reachable from the internet and that its SAS can be made (an account key, or an identity with WIN32_PACKAGE_URL_DAYS of 7 or fewer), then upload the zip again.',
      );
    }
    if (run.now.getTime() >= deadline) {
      ended(`not ready after ${polls} polls`, 'failed');
      throw stopRun(
        'waitForDraft',
        `The draft's modules were still not ready after ${polls} polls, at the run's deadline.`,
        { code: 'DeadlineExceeded', retriable: false },
        'Check the product in Partner Center; raise COMMIT_DEADLINE_MINUTES if the Store is just slow.',
      );
    }
    record.detail = `not ready yet (${polls} poll${polls === 1 ? '' : 's'})`;
    run.publish();
    yield context.df.createTimer(new Date(run.now.getTime() + interval * 1000));
    interval = Math.min(DRAFT_POLL_MAX_S, Math.ceil(interval * 1.5));
  }
}
