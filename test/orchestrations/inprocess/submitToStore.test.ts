/**
 * The run's decisions, phase by phase, on fabricated histories: the real orchestrator and the
 * real durable-functions library, activities answered by a script. Each test names what the
 * Store (or storage) answered and asserts on the actions the orchestrator returned.
 */
import { InputError, UploadError } from '../../../lib/errors';
import type { UploadSummary } from '../../../orchestrations/activities/uploadPackageZip';
import { STEP_RETRY } from '../../../lib/polling';
import type { RunState } from '../../../lib/run';
import { submitToStoreOrchestrator } from '../../../orchestrations/submitToStore';
import { fail, names, ok, play, timerWaits, type Action, type Played } from './replay';
import {
  PENDING_ID,
  PRODUCT,
  PUBLISHED_ID,
  RUN_ID,
  RUN_INPUT,
  SUBMISSION_ID,
  followed,
  resolved,
  store,
  storeError,
  validated,
} from './store';

const START = new Date('2024-05-01T10:00:00.000Z');

function run(script: ReturnType<typeof store>, input = RUN_INPUT): Promise<Played> {
  return play(submitToStoreOrchestrator, input, script, { instanceId: RUN_ID, start: START });
}

/** The steps before the Store is touched on a run that finds its product's queue empty. */
const QUEUED = ['getRunSettings', 'validateZip', 'takeTurn', '(timer)', 'takeTurn'];
/** Reporting and leaving the product's queue: how every run ends. */
const FINISH = ['writeReport', 'leaveTurn'];

/** The run's shape from the first call of `name` on. */
function from(played: Played, name: string): string[] {
  const shape = names(played.actions);
  if (!shape.includes(name)) throw new Error(`${name} was not called: ${shape.join(', ')}`);
  return shape.slice(shape.indexOf(name));
}

function inputOf(played: Played, name: string, nth = 1): Record<string, unknown> {
  const found = played.actions.filter((a): a is Extract<Action, { kind: 'activity' }> => a.kind === 'activity');
  const call = found.filter((a) => a.name === name)[nth - 1];
  if (!call) throw new Error(`${name} was not called ${nth} time(s): ${names(played.actions).join(', ')}`);
  return call.input as Record<string, unknown>;
}

function lastStatus(played: Played): RunState {
  return played.statuses.at(-1) as RunState;
}

/** The state the report was written with: what the run knew when it ended. */
function reported(played: Played): RunState {
  return inputOf(played, 'writeReport').state as RunState;
}

describe('submitToStore in process: a plain run', () => {
  it('goes through every step once, in order, and returns the final state', async () => {
    const played = await run(store());
    expect(played.error).toBeUndefined();
    expect(names(played.actions)).toEqual([
      ...QUEUED,
      'checkCredential',
      'resolveProduct',
      'createSubmission',
      'updateSubmission',
      'previewSubmission',
      'uploadPackageZip',
      'commitSubmission',
      'followSubmission',
      ...FINISH,
    ]);
    const state = played.output as RunState;
    expect(state).toMatchObject({
      phase: 'Succeeded',
      outcome: 'Succeeded',
      kind: 'app',
      product: PRODUCT,
      submissionId: SUBMISSION_ID,
      storeStatus: 'PreProcessing',
      polls: 3,
      dryRun: false,
      queueKey: `app-${PRODUCT.applicationId}`,
      upload: { bytes: 2048, blocks: 1, method: 'stream', durationMs: 120 },
      reportBlob: `${RUN_INPUT.blob.name}/${RUN_ID}.json`,
    });
    expect(lastStatus(played)).toMatchObject({ phase: 'Succeeded' });
    expect(state.failure).toBeUndefined();
  });

  it('names the run in every activity input and hands each step what the previous one found', async () => {
    const played = await run(store());
    for (const a of played.actions) if (a.kind === 'activity') expect(a.input).toMatchObject({ instanceId: RUN_ID });
    expect(inputOf(played, 'validateZip')).toMatchObject({ blob: RUN_INPUT.blob });
    expect(inputOf(played, 'resolveProduct')).toMatchObject({ target: validated().target });
    expect(inputOf(played, 'createSubmission')).toMatchObject({ product: PRODUCT });
    expect(inputOf(played, 'createSubmission').knownPendingId).toBeUndefined();
    for (const step of ['updateSubmission', 'uploadPackageZip', 'commitSubmission'])
      expect(inputOf(played, step)).toMatchObject({ product: PRODUCT, submissionId: SUBMISSION_ID });
    expect(inputOf(played, 'updateSubmission')).toMatchObject({ blob: RUN_INPUT.blob });
    expect(inputOf(played, 'uploadPackageZip')).toMatchObject({ blob: RUN_INPUT.blob });
  });

  it('keeps a timeline of the steps with their correlation ids, and the report gets it', async () => {
    const played = await run(store());
    const timeline = (played.output as RunState).timeline;
    expect(timeline.map((s) => s.step)).toEqual([
      'getRunSettings',
      'validateZip',
      'waitForTurn',
      'checkCredential',
      'resolveProduct',
      'createSubmission',
      'updateSubmission',
      'previewSubmission',
      'uploadPackageZip',
      'commitSubmission',
      'waitFor:commit',
      'writeReport',
      'leaveTurn',
    ]);
    expect(timeline.every((s) => s.result === 'ok' && s.endedAt)).toBe(true);
    expect(timeline.find((s) => s.step === 'updateSubmission')?.correlationIds).toEqual(['cid-get', 'cid-put']);
    expect(timeline.find((s) => s.step === 'waitFor:commit')).toMatchObject({
      correlationIds: ['cid-poll'],
      detail: '3 polls, last status PreProcessing',
    });
    // The report is written with the timeline as it stood then: its own step begun, the queue not yet left.
    expect(reported(played).timeline.map((s) => s.step)).toEqual(timeline.map((s) => s.step).slice(0, -1));
    expect(reported(played).timeline.at(-1)?.step).toBe('writeReport');
    expect(reported(played).timeline.at(-1)?.endedAt).toBeUndefined();
    expect(inputOf(played, 'writeReport')).toMatchObject({
      createdTime: START.toISOString(),
      endedTime: expect.any(String),
    });
  });

  it('starts the follower under the run-derived id with the deadline the settings give', async () => {
    const played = await run(store());
    const follow = played.actions.find((a) => a.kind === 'subOrchestration');
    expect(follow).toMatchObject({ name: 'followSubmission', instanceId: `${RUN_ID}-follow` });
    const input = (follow as { input: Record<string, unknown> }).input;
    expect(input).toMatchObject({
      runId: RUN_ID,
      product: PRODUCT,
      submissionId: SUBMISSION_ID,
      waitFor: 'commit',
      polls: 0,
      intervalSeconds: 0,
      targetPublishMode: 'Immediate',
      firstIntervalSeconds: 30,
      maxIntervalSeconds: 600,
    });
    // Sixty minutes (COMMIT_DEADLINE_MINUTES) from the moment the follower starts, on the orchestration's clock.
    const commitAnswered = played.actions.findIndex((a) => a.kind === 'subOrchestration');
    expect(commitAnswered).toBeGreaterThan(0);
    const deadline = Date.parse(input.deadline as string);
    expect(deadline - START.getTime()).toBeGreaterThan(60 * 60_000);
    expect(deadline - START.getTime()).toBeLessThan(62 * 60_000);
  });

  it('waits for published with the publish deadline when the manifest asks for it', async () => {
    const played = await run(store({ validateZip: () => ok(validated({ waitFor: 'published' })) }));
    const follow = played.actions.find((a) => a.kind === 'subOrchestration') as { input: Record<string, unknown> };
    expect(follow.input.waitFor).toBe('published');
    const hours = (Date.parse(follow.input.deadline as string) - START.getTime()) / 3_600_000;
    expect(hours).toBeGreaterThan(72);
    expect(hours).toBeLessThan(72.1);
    expect((played.output as RunState).timeline.map((s) => s.step)).toContain('waitFor:published');
  });
});

describe('submitToStore in process: validation and the product queue', () => {
  it('stops before the queue and the Store when the zip is invalid, and still reports', async () => {
    const problems = [{ file: 'submission.json', field: '/target/applicationId', message: 'must match pattern' }];
    const played = await run(store({ validateZip: () => fail(new InputError(problems, 'InvalidManifest')) }));
    expect(names(played.actions)).toEqual(['getRunSettings', 'validateZip', 'writeReport']);
    expect(played.error).toContain('submission.json /target/applicationId: must match pattern');
    const state = reported(played);
    expect(state).toMatchObject({
      outcome: 'Failed',
      failure: { step: 'validateZip', facts: { code: 'InvalidManifest' } },
    });
    expect(state.failure?.facts.problems).toEqual(problems);
    expect(lastStatus(played)).toMatchObject({ phase: 'Failed', outcome: 'Failed' });
  });

  it('waits on durable timers behind an earlier run of the same product, and says whom it waited for', async () => {
    const played = await run(
      store({
        takeTurn: (_input, call) =>
          ok(call <= 3 ? { mine: false, position: 1, behind: 'zip-earlier' } : { mine: true, position: 0 }),
      }),
    );
    expect(names(played.actions).slice(0, 11)).toEqual([
      'getRunSettings',
      'validateZip',
      'takeTurn',
      '(timer)',
      'takeTurn',
      '(timer)',
      'takeTurn',
      '(timer)',
      'takeTurn',
      'checkCredential',
      'resolveProduct',
    ]);
    // The settle time, then a poll of the queue every QUEUE_POLL_SECONDS, as the run's settings say.
    expect(timerWaits(played.actions)).toEqual([10, 15, 15]);
    expect(inputOf(played, 'takeTurn', 1)).toMatchObject({
      key: `app-${PRODUCT.applicationId}`,
      uploadedAt: RUN_INPUT.uploadedAt,
      mayStart: false,
    });
    expect(inputOf(played, 'takeTurn', 2)).toMatchObject({ mayStart: true });
    const state = played.output as RunState;
    expect(state.waitedFor).toEqual(['zip-earlier']);
    expect(state.queuedBehind).toBeUndefined();
    expect(state.timeline.find((s) => s.step === 'waitForTurn')?.detail).toBe('waited for zip-earlier');
    // While it waited, custom status said whom for.
    expect(played.statuses.some((s) => (s as RunState | undefined)?.queuedBehind === 'zip-earlier')).toBe(true);
  });
});

describe('submitToStore in process: the newest release wins', () => {
  const versioned = (extra: Partial<ReturnType<typeof validated>> = {}) =>
    ok({ ...validated(), packageVersion: '1.2.3.0', ...extra });

  it('joins the queue with its blob name and release, and records the release when it reaches its goal', async () => {
    const played = await run(store({ validateZip: () => versioned() }));
    const release = { line: 'app', version: '1.2.3.0' };
    expect(inputOf(played, 'takeTurn', 1)).toMatchObject({ blobName: RUN_INPUT.blob.name, release });
    expect(inputOf(played, 'leaveTurn')).toEqual({
      instanceId: RUN_ID,
      key: `app-${PRODUCT.applicationId}`,
      delivered: release,
    });
    expect(played.output).toMatchObject({ outcome: 'Succeeded', release });
  });

  it('records nothing for a run that did not reach its goal, nor for a dry run', async () => {
    const failed = await run(
      store({
        validateZip: () => versioned(),
        createSubmission: () => fail(storeError(400, 'InvalidParameterValue')),
      }),
    );
    expect(inputOf(failed, 'leaveTurn')).not.toHaveProperty('delivered');
    const dry = await run(store({ validateZip: () => versioned({ options: validated({ dryRun: true }).options }) }));
    expect(inputOf(dry, 'takeTurn', 1)).not.toHaveProperty('release');
    expect(inputOf(dry, 'leaveTurn')).not.toHaveProperty('delivered');
  });

  it('superseded at its turn: touches nothing in the Store, says which run won and why, and leaves', async () => {
    const supersededBy = { instanceId: 'zip-newer', version: '1.3.0.0', because: 'committed' as const };
    const played = await run(
      store({
        validateZip: () => versioned(),
        takeTurn: (_input, call) =>
          ok(call === 1 ? { mine: true, position: 0 } : { mine: true, position: 0, supersededBy }),
      }),
    );
    expect(names(played.actions)).toEqual([...QUEUED, ...FINISH]);
    expect(played.error).toBeUndefined();
    const message =
      "Not submitted: this zip's packages have version 1.2.3.0, and run zip-newer already brought version 1.3.0.0 of this product to the Store. The Store takes only a version higher than the one it has; to submit this zip, give its packages a higher version.";
    expect(played.output).toMatchObject({
      phase: 'Succeeded',
      outcome: 'Superseded',
      supersededBy: { ...supersededBy, message },
    });
    expect(reported(played)).toMatchObject({ outcome: 'Superseded', supersededBy: { instanceId: 'zip-newer' } });
    expect((played.output as RunState).timeline.find((s) => s.step === 'superseded')).toMatchObject({
      result: 'ok',
      detail: message,
    });
    expect(inputOf(played, 'leaveTurn')).not.toHaveProperty('delivered');
  });

  it('names a newer run still waiting behind it, when that is what supersedes it', async () => {
    const supersededBy = { instanceId: 'zip-behind', version: '2.0.0.0', because: 'queued' as const };
    const played = await run(
      store({ validateZip: () => versioned(), takeTurn: () => ok({ mine: true, position: 0, supersededBy }) }),
    );
    expect((played.output as RunState).supersededBy?.message).toContain(
      'run zip-behind, queued behind this one, carries the newer version 2.0.0.0',
    );
  });
});

describe('submitToStore in process: preparing the product', () => {
  it('stops before the Store changes when no token can be had', async () => {
    const played = await run(
      store({
        checkCredential: () => fail(storeError(401, 'invalid_client', { message: 'The client secret is wrong.' })),
      }),
    );
    expect(from(played, 'checkCredential')).toEqual(['checkCredential', ...FINISH]);
    expect(reported(played).failure).toMatchObject({ step: 'checkCredential', facts: { retriable: false } });
    expect(played.error).toContain('The client secret is wrong.');
  });

  it('deletes a pending submission before creating, and tells create which one it was', async () => {
    const played = await run(store({ resolveProduct: () => ok(resolved({ pendingSubmissionId: PENDING_ID })) }));
    const shape = names(played.actions);
    expect(shape.slice(shape.indexOf('resolveProduct'), shape.indexOf('updateSubmission'))).toEqual([
      'resolveProduct',
      'deletePendingSubmission',
      'createSubmission',
    ]);
    expect(inputOf(played, 'deletePendingSubmission')).toMatchObject({ product: PRODUCT, submissionId: PENDING_ID });
    expect(inputOf(played, 'createSubmission')).toMatchObject({ knownPendingId: PENDING_ID });
    expect(played.output).toMatchObject({ outcome: 'Succeeded' });
  });

  it('waits for a pending submission the Store is processing, never deletes it, then reads the product again', async () => {
    const played = await run(
      store({
        resolveProduct: (_input, call) =>
          ok(call === 1 ? resolved({ pendingSubmissionId: PENDING_ID, pendingStatus: 'Certification' }) : resolved()),
        followSubmission: (input) =>
          ok(followed((input as { othersSubmission?: boolean }).othersSubmission ? 'Published' : 'PreProcessing')),
      }),
    );
    const shape = names(played.actions);
    expect(shape.slice(shape.indexOf('resolveProduct'), shape.indexOf('updateSubmission'))).toEqual([
      'resolveProduct',
      'followSubmission',
      'resolveProduct',
      'createSubmission',
    ]);
    expect(shape).not.toContain('deletePendingSubmission');
    const wait = played.actions.find((a) => a.kind === 'subOrchestration')!;
    expect(wait).toMatchObject({
      instanceId: `${RUN_ID}-pending-1`,
      input: { submissionId: PENDING_ID, waitFor: 'published', othersSubmission: true },
    });
    // While it waited, the status said what for.
    const waiting = played.statuses.map((s) => s as RunState).find((s) => s.phase === 'WaitingForPendingSubmission');
    expect(waiting?.pendingWait).toMatchObject({ submissionId: PENDING_ID, storeStatus: 'Certification' });
    expect(reported(played)).toMatchObject({ waitedForSubmissions: [PENDING_ID], outcome: 'Succeeded' });
    expect(reported(played).pendingWait).toBeUndefined();
    expect(inputOf(played, 'createSubmission').knownPendingId).toBeUndefined();
  });

  it('fails when the pending submission is still processing at the deadline, and creates nothing', async () => {
    const played = await run(
      store({
        resolveProduct: () => ok(resolved({ pendingSubmissionId: PENDING_ID, pendingStatus: 'Certification' })),
        followSubmission: () => ok(followed('Certification', { timedOut: true })),
      }),
    );
    expect(from(played, 'followSubmission')).toEqual(['followSubmission', ...FINISH]);
    expect(reported(played).failure).toMatchObject({
      step: 'waitForPendingSubmission',
      facts: { code: 'PendingSubmissionStillProcessing', retriable: false },
    });
    expect(played.error).toContain(`${PENDING_ID} (Store status Certification)`);
  });

  it('refuses to replace a pending submission when the manifest says "fail", touching nothing', async () => {
    const played = await run(
      store({
        validateZip: () => ok(validated({ pendingSubmission: 'fail' })),
        resolveProduct: () => ok(resolved({ pendingSubmissionId: PENDING_ID, pendingMadeInPortal: true })),
      }),
    );
    expect(from(played, 'resolveProduct')).toEqual(['resolveProduct', ...FINISH]);
    expect(played.error).toMatch(/already has a pending submission.*made in Partner Center/);
    expect(reported(played).failure).toMatchObject({
      step: 'resolveProduct',
      facts: { code: 'PendingSubmissionExists', retriable: false },
    });
  });

  it('replaces the pending submission of a flight it has just created, even under "fail"', async () => {
    const played = await run(
      store({
        validateZip: () => ok(validated({ pendingSubmission: 'fail' })),
        resolveProduct: () => ok(resolved({ pendingSubmissionId: PENDING_ID, created: 'flight' })),
      }),
    );
    expect(names(played.actions)).toContain('deletePendingSubmission');
    expect(played.output).toMatchObject({ outcome: 'Succeeded' });
  });

  it('refuses a dry run while the product has a pending submission', async () => {
    const played = await run(
      store({
        validateZip: () => ok(validated({ dryRun: true })),
        resolveProduct: () => ok(resolved({ pendingSubmissionId: PENDING_ID })),
      }),
    );
    expect(from(played, 'resolveProduct')).toEqual(['resolveProduct', ...FINISH]);
    expect(reported(played)).toMatchObject({
      dryRun: true,
      outcome: 'Failed',
      failure: { step: 'resolveProduct', facts: { code: 'PendingSubmissionExists' } },
    });
  });

  it('fails on a rollout in progress unless the manifest says what to do with it', async () => {
    const played = await run(
      store({ resolveProduct: () => ok(resolved({ rolloutInProgress: true, publishedSubmissionId: PUBLISHED_ID })) }),
    );
    expect(from(played, 'resolveProduct')).toEqual(['resolveProduct', ...FINISH]);
    expect(reported(played).failure).toMatchObject({ step: 'resolveProduct', facts: { code: 'RolloutInProgress' } });
    expect(played.error).toContain(PUBLISHED_ID);
  });

  it.each(['halt', 'finalize'] as const)('settles a rollout in progress with "%s" before creating', async (action) => {
    const played = await run(
      store({
        validateZip: () => ok(validated({ existingRollout: action })),
        resolveProduct: () => ok(resolved({ rolloutInProgress: true, publishedSubmissionId: PUBLISHED_ID })),
      }),
    );
    const shape = names(played.actions);
    expect(shape.slice(shape.indexOf('resolveProduct'), shape.indexOf('createSubmission') + 1)).toEqual([
      'resolveProduct',
      'settleRollout',
      'createSubmission',
    ]);
    expect(inputOf(played, 'settleRollout')).toMatchObject({ product: PRODUCT, submissionId: PUBLISHED_ID, action });
    expect(played.output).toMatchObject({ outcome: 'Succeeded' });
  });
});

describe('submitToStore in process: the submission', () => {
  it('on a dry run creates and updates, then deletes the submission: nothing uploaded or committed', async () => {
    const played = await run(store({ validateZip: () => ok(validated({ dryRun: true })) }));
    expect(from(played, 'createSubmission')).toEqual([
      'createSubmission',
      'updateSubmission',
      'previewSubmission',
      'discardSubmission',
      ...FINISH,
    ]);
    expect(inputOf(played, 'discardSubmission')).toMatchObject({ product: PRODUCT, submissionId: SUBMISSION_ID });
    expect(played.output).toMatchObject({ outcome: 'DryRunSucceeded', phase: 'Succeeded', dryRun: true });
    // A dry run shows what the submission would have changed.
    expect((played.output as RunState).preview?.counts.text).toBe(1);
  });

  it('previews the updated submission against the published one, and a failed preview deletes the submission', async () => {
    const played = await run(store());
    expect(inputOf(played, 'previewSubmission')).toMatchObject({
      blob: RUN_INPUT.blob,
      product: PRODUCT,
      submissionId: SUBMISSION_ID,
      publishedSubmissionId: PUBLISHED_ID,
    });
    expect(played.output).toMatchObject({
      preview: { against: PUBLISHED_ID, changes: [{ area: 'text', field: 'title' }] },
      previewBlob: `${RUN_INPUT.blob.name}/${RUN_ID}.preview.json`,
    });
    const failed = await run(store({ previewSubmission: () => fail(storeError(400, 'InvalidParameterValue')) }));
    expect(from(failed, 'previewSubmission')).toEqual(['previewSubmission', 'discardSubmission', ...FINISH]);
    expect(failed.output).toBeUndefined();
  });

  it('retries a transient failure after a durable timer that honours Retry-After, and records the attempts', async () => {
    const played = await run(
      store({
        updateSubmission: (_input, call) =>
          call === 1
            ? fail(storeError(429, 'TooManyRequests', { retryAfterMs: 45_000 }))
            : call === 2
              ? fail(storeError(503, 'ServiceUnavailable'))
              : ok({ pendingUploads: 1, pendingDeletes: 0, languages: [], correlationIds: ['cid-put'] }),
      }),
    );
    const shape = names(played.actions);
    expect(shape.slice(shape.indexOf('updateSubmission'), shape.indexOf('uploadPackageZip'))).toEqual([
      'updateSubmission',
      '(timer)',
      'updateSubmission',
      '(timer)',
      'updateSubmission',
      'previewSubmission',
    ]);
    // The queue's settle timer, then the Store's 45 s after the 429, then the backoff's second step after the 503.
    expect(timerWaits(played.actions)).toEqual([10, 45, 10]);
    const state = played.output as RunState;
    const record = state.timeline.find((s) => s.step === 'updateSubmission')!;
    expect(record).toMatchObject({ result: 'ok', attempts: 3 });
    expect(record.correlationIds).toEqual(['cid-TooManyRequests', 'cid-ServiceUnavailable', 'cid-put']);
    expect(played.statuses.some((s) => (s as RunState).timeline?.some((r) => r.result === 'retrying'))).toBe(true);
  });

  it('gives a step 8 attempts on durable timers (5 s doubling, at most 5 min), then stops the run', async () => {
    const played = await run(store({ createSubmission: () => fail(storeError(503, 'ServiceUnavailable')) }));
    expect(from(played, 'createSubmission').filter((n) => n === 'createSubmission')).toHaveLength(
      STEP_RETRY.maxAttempts,
    );
    // After the queue's settle timer: one wait between each two attempts.
    expect(timerWaits(played.actions).slice(1)).toEqual([5, 10, 20, 40, 80, 160, 300]);
    // Nothing was created, so there is nothing to delete.
    expect(from(played, 'createSubmission').slice(-3)).toEqual(['createSubmission', ...FINISH]);
    const failure = reported(played).failure!;
    expect(failure).toMatchObject({ step: 'createSubmission', facts: { code: 'ServiceUnavailable', retriable: true } });
    expect(reported(played).timeline.find((s) => s.step === 'createSubmission')).toMatchObject({
      result: 'failed',
      attempts: STEP_RETRY.maxAttempts,
    });
  });

  it('stops at once on a 400 after creating, and deletes the submission it made', async () => {
    const played = await run(store({ updateSubmission: () => fail(storeError(400, 'InvalidParameterValue')) }));
    expect(from(played, 'updateSubmission')).toEqual(['updateSubmission', 'discardSubmission', ...FINISH]);
    expect(inputOf(played, 'discardSubmission')).toMatchObject({ product: PRODUCT, submissionId: SUBMISSION_ID });
    expect(played.error).toContain('400 InvalidParameterValue');
    const state = reported(played);
    expect(state.failure).toMatchObject({
      step: 'updateSubmission',
      facts: {
        code: 'InvalidParameterValue',
        status: 400,
        retriable: false,
        correlationId: 'cid-InvalidParameterValue',
      },
    });
    expect(state.timeline.find((s) => s.step === 'updateSubmission')).toMatchObject({ result: 'failed' });
    expect(state.timeline.find((s) => s.step === 'discardSubmission')).toMatchObject({ result: 'ok' });
    expect(lastStatus(played)).toMatchObject({ phase: 'Failed', outcome: 'Failed' });
  });

  it('calls the upload again while a call reports its time slice over, and commits only once it is complete', async () => {
    const slice = (call: number) =>
      ok({
        bytes: 3 * 2048,
        blocks: 3,
        resumedBlocks: call - 1,
        stagedBlocks: 1,
        complete: call === 3,
        method: 'stream',
        durationMs: 100,
        correlationIds: [`cid-upload-${call}`],
      } satisfies UploadSummary);
    const played = await run(store({ uploadPackageZip: (_input, call) => slice(call) }));
    expect(played.error).toBeUndefined();
    expect(from(played, 'uploadPackageZip')).toEqual([
      'uploadPackageZip',
      'uploadPackageZip',
      'uploadPackageZip',
      'commitSubmission',
      'followSubmission',
      ...FINISH,
    ]);
    expect(inputOf(played, 'uploadPackageZip', 3)).toEqual(inputOf(played, 'uploadPackageZip', 1));
    const state = played.output as RunState;
    expect(state.upload).toEqual({ bytes: 3 * 2048, blocks: 3, method: 'stream', durationMs: 300 });
    // One timeline entry for the upload, however many slices it took.
    expect(state.timeline.filter((s) => s.step === 'uploadPackageZip')).toHaveLength(1);
  });

  it('fails the step (no endless loop) when a slice stages nothing: the activity throws a retriable Timeout', async () => {
    const played = await run(
      store({
        uploadPackageZip: () =>
          fail(new UploadError('The upload staged no block within its 380 s slice.', 'Timeout', true)),
      }),
    );
    const shape = from(played, 'uploadPackageZip');
    expect(shape.filter((n) => n === 'uploadPackageZip')).toHaveLength(STEP_RETRY.maxAttempts);
    expect(shape).not.toContain('commitSubmission');
    expect(reported(played).failure).toMatchObject({ step: 'uploadPackageZip' });
  });

  it('says so in the advice when it cannot delete its submission after a failure', async () => {
    const played = await run(
      store({
        uploadPackageZip: () => fail(storeError(403, 'UploadUrlRejected')),
        discardSubmission: () => fail(storeError(400, 'InvalidState')),
      }),
    );
    expect(from(played, 'uploadPackageZip')).toEqual(['uploadPackageZip', 'discardSubmission', ...FINISH]);
    const failure = reported(played).failure!;
    expect(failure.step).toBe('uploadPackageZip');
    expect(failure.advice).toContain(`could not delete its uncommitted submission ${SUBMISSION_ID}`);
    expect(failure.advice).toContain('400 InvalidState');
  });

  it('deletes the submission when the commit itself fails for good', async () => {
    const played = await run(store({ commitSubmission: () => fail(storeError(409, 'InvalidState')) }));
    expect(from(played, 'commitSubmission')).toEqual(['commitSubmission', 'discardSubmission', ...FINISH]);
    expect(reported(played).failure).toMatchObject({ step: 'commitSubmission' });
  });
});

describe('submitToStore in process: following the commit', () => {
  it('commits, then follows; a commit the Store gave back (CommitFailed) is deleted', async () => {
    const played = await run(
      store({
        followSubmission: () =>
          ok(
            followed('CommitFailed', {
              statusDetails: {
                errors: [{ code: 'MissingFiles', details: 'packages/x.msix' }],
                warnings: [],
                certificationReports: [],
              },
            }),
          ),
      }),
    );
    expect(from(played, 'commitSubmission')).toEqual([
      'commitSubmission',
      'followSubmission',
      'discardSubmission',
      ...FINISH,
    ]);
    const state = reported(played);
    expect(state.failure).toMatchObject({
      step: 'waitForStore',
      facts: {
        code: 'MissingFiles',
        retriable: false,
        storeErrors: [{ code: 'MissingFiles', details: 'packages/x.msix' }],
      },
    });
    expect(state.failure?.advice).toContain('MissingFiles');
    expect(state.storeStatus).toBe('CommitFailed');
    expect(state.timeline.find((s) => s.step === 'waitFor:commit')).toMatchObject({ result: 'failed' });
  });

  it('a commit that fell back to PendingCommit is ours again: reported as CommitFellBack and deleted', async () => {
    const played = await run(store({ followSubmission: () => ok(followed('PendingCommit')) }));
    expect(names(played.actions).slice(-4)).toEqual(['followSubmission', 'discardSubmission', ...FINISH]);
    expect(reported(played).failure).toMatchObject({ step: 'waitForStore', facts: { code: 'CommitFellBack' } });
  });

  it('keeps a submission the Store holds (failed certification): nothing to delete', async () => {
    const played = await run(
      store({
        validateZip: () => ok(validated({ waitFor: 'published' })),
        followSubmission: () => ok(followed('CertificationFailed')),
      }),
    );
    expect(names(played.actions).slice(-3)).toEqual(['followSubmission', ...FINISH]);
    expect(reported(played).failure).toMatchObject({ step: 'waitForStore', facts: { code: 'StoreRejected' } });
    expect(played.error).toContain('failed certification');
  });

  it('fails with DeadlineExceeded when the Store stayed in a status until the deadline, keeping the submission', async () => {
    const played = await run(store({ followSubmission: () => ok(followed('CommitStarted', { timedOut: true })) }));
    expect(names(played.actions).slice(-3)).toEqual(['followSubmission', ...FINISH]);
    const failure = reported(played).failure!;
    expect(failure).toMatchObject({ step: 'waitForStore', facts: { code: 'DeadlineExceeded', retriable: false } });
    expect(failure.message).toContain('stayed CommitStarted');
    expect(failure.advice).toContain('COMMIT_DEADLINE_MINUTES');
  });

  it('keeps the committed submission when the follower itself fails', async () => {
    const played = await run(store({ followSubmission: () => fail(new Error('the follower broke')) }));
    expect(names(played.actions).slice(-3)).toEqual(['followSubmission', ...FINISH]);
    expect(reported(played)).toMatchObject({ outcome: 'Failed', storeStatus: 'CommitStarted' });
    expect(reported(played).failure?.message).toContain('the follower broke');
  });

  it('still ends when the report cannot be written, and still leaves the queue', async () => {
    const played = await run(store({ writeReport: () => fail(storeError(403, 'AuthorizationFailure')) }));
    expect(names(played.actions).slice(-2)).toEqual(FINISH);
    expect(played.output).toMatchObject({ outcome: 'Succeeded', phase: 'Succeeded' });
    expect((played.output as RunState).reportBlob).toBeUndefined();
  });
});
