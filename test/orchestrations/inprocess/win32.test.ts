/**
 * The MSI/EXE run's decisions on fabricated histories: the real orchestrator (and its cleanup)
 * on the real durable-functions library, the MSI/EXE API's activities answered by a script.
 */
import { StoreRequestError } from '../../../lib/errors';
import { DEFAULT_OPTIONS, type ManifestOptions } from '../../../lib/manifest';
import type { CancelInput, RunState, ValidatedZip } from '../../../lib/run';
import { SUBMISSION_IN_PROGRESS } from '../../../lib/store/win32Client';
import type { Win32Change } from '../../../lib/win32/plan';
import type { DraftState, SubmissionPoll } from '../../../lib/win32/steps';
import { cancelRunOrchestrator } from '../../../orchestrations/cancelRun';
import type { Win32FollowResult } from '../../../orchestrations/followWin32Submission';
import { submitToStoreOrchestrator } from '../../../orchestrations/submitToStore';
import { fail, names, ok, play, type Action, type Answer, type Played, type Script } from './replay';
import { RUN_ID, RUN_INPUT, store } from './store';

const START = new Date('2024-05-01T10:00:00.000Z');
const PRODUCT_ID = '3e31a9f9-84e8-4d2d-9eba-487878d02ebf';
const ONGOING = '1152921504749845281';
const OURS = '1152921504749845999';
const QUEUED = ['getRunSettings', 'validateZip', 'takeTurn', '(timer)', 'takeTurn'];
const FINISH = ['writeReport', 'leaveTurn'];
const PLAN: Win32Change[] = [{ change: 'packages' }, { change: 'listing', language: 'en-us', add: false }];

function zip(options: Partial<ManifestOptions> = {}): ValidatedZip {
  return {
    target: { kind: 'win32', productId: PRODUCT_ID.toUpperCase() },
    options: { ...DEFAULT_OPTIONS, waitFor: 'published', ...options },
    entryCount: 2,
    packageFiles: [],
    readStats: { requests: 2, bytes: 4096 },
  };
}

const ready = (extra: Partial<DraftState> = {}): Answer =>
  ok({ isReady: true, errors: [], correlationIds: ['cid-state'], ...extra } satisfies DraftState);

const draft = (extra: Record<string, unknown> = {}): Answer =>
  ok({
    isReady: true,
    errors: [],
    correlationIds: ['cid-draft'],
    languages: ['en-us'],
    packageCount: 1,
    plan: PLAN,
    ...extra,
  });

const refusal = (status: number, code: string): StoreRequestError =>
  new StoreRequestError(`The Store answered ${status} ${code}.`, { code, status, retriable: false });

type Answers = Record<string, (input: unknown, call: number) => Answer>;

/** A win32 run whose Store answers as a quiet product would, with `overrides` in their place. */
function win32Store(
  overrides: Answers & { follow?: (input: unknown, instanceId?: string) => Answer } = {},
  options: Partial<ManifestOptions> = {},
): Script {
  const { follow, ...activities } = overrides;
  const base = store({
    validateZip: () => ok(zip(options)),
    checkWin32Credential: () => ok({ expiresOn: '2024-05-01T11:00:00.000Z' }),
    readWin32Draft: () => draft(),
    stageWin32Installers: () =>
      ok({
        installers: [
          { fileName: 'installers/app.msi', blobName: `${PRODUCT_ID}/${RUN_ID}/installers/app.msi`, bytes: 9 },
        ],
        bytes: 9,
        correlationIds: [],
      }),
    applyWin32Change: () => ok({ correlationIds: ['cid-apply'] }),
    restoreWin32Change: () => ok({ correlationIds: ['cid-restore'] }),
    getWin32DraftState: () => ready(),
    submitWin32Draft: () => ok({ submissionId: OURS, adopted: false, correlationIds: ['cid-submit'] }),
    cleanUpWin32Run: () => ok({ correlationIds: [] }),
    checkWin32InstallerUrls: () => ok({ correlationIds: [] }),
    ...activities,
  });
  return {
    ...base,
    subOrchestration: (name, input, instanceId) =>
      name === 'followWin32Submission'
        ? (follow?.(input, instanceId) ?? ok(followed('PUBLISHED')))
        : fail(new Error(`no scripted answer for sub-orchestration ${name}`)),
  };
}

function followed(
  status: SubmissionPoll['publishingStatus'],
  extra: Partial<Win32FollowResult> = {},
): Win32FollowResult {
  return { status, hasFailed: false, polls: 3, timedOut: false, correlationIds: ['cid-poll'], ...extra };
}

function run(script: Script): Promise<Played> {
  return play(submitToStoreOrchestrator, RUN_INPUT, script, { instanceId: RUN_ID, start: START });
}

function from(played: Played, name: string): string[] {
  const shape = names(played.actions);
  if (!shape.includes(name)) throw new Error(`${name} was not called: ${shape.join(', ')}`);
  return shape.slice(shape.indexOf(name));
}

function inputsOf(played: Played, name: string): Array<Record<string, unknown>> {
  return played.actions
    .filter((a): a is Extract<Action, { kind: 'activity' | 'subOrchestration' }> => 'name' in a && a.name === name)
    .map((a) => a.input as Record<string, unknown>);
}

function reported(played: Played): RunState {
  return inputsOf(played, 'writeReport')[0]!.state as RunState;
}

describe('an MSI/EXE run in process', () => {
  it('changes the draft one change at a time, each followed by the draft being ready, then submits and follows', async () => {
    const played = await run(win32Store());
    expect(played.error).toBeUndefined();
    expect(names(played.actions)).toEqual([
      ...QUEUED,
      'checkWin32Credential',
      'readWin32Draft',
      'stageWin32Installers',
      'applyWin32Change',
      'getWin32DraftState',
      'applyWin32Change',
      'getWin32DraftState',
      'getWin32DraftState',
      'submitWin32Draft',
      'cleanUpWin32Run',
      'followWin32Submission',
      ...FINISH,
    ]);
    // The product queue is the product's own, whatever case its id came in.
    expect(inputsOf(played, 'takeTurn')[0]).toMatchObject({ key: `win32-${PRODUCT_ID}` });
    expect(inputsOf(played, 'applyWin32Change').map((i) => i.change)).toEqual(PLAN);
    expect(inputsOf(played, 'applyWin32Change')[0]).toMatchObject({
      productId: PRODUCT_ID,
      installers: [
        { fileName: 'installers/app.msi', blobName: `${PRODUCT_ID}/${RUN_ID}/installers/app.msi`, bytes: 9 },
      ],
    });
    expect(inputsOf(played, 'cleanUpWin32Run')).toEqual([
      { instanceId: RUN_ID, productId: PRODUCT_ID, installers: false },
    ]);
    const follower = played.actions.find((a) => a.kind === 'subOrchestration') as Extract<
      Action,
      { kind: 'subOrchestration' }
    >;
    expect(follower.instanceId).toBe(`${RUN_ID}-follow`);
    expect(follower.input).toMatchObject({ productId: PRODUCT_ID, submissionId: OURS, waitFor: 'published' });
    expect(played.output).toMatchObject({
      phase: 'Succeeded',
      outcome: 'Succeeded',
      kind: 'win32',
      product: { kind: 'win32', productId: PRODUCT_ID },
      submissionId: OURS,
      storeStatus: 'PUBLISHED',
      win32: { plan: ['packages', 'listing en-us'], applied: PLAN },
    });
  });

  it('puts the draft back, last change first, when a change is refused, and says so; nothing is submitted', async () => {
    const played = await run(
      win32Store({
        applyWin32Change: (_input, call) =>
          call === 2 ? fail(refusal(400, 'badrequest')) : ok({ correlationIds: [] }),
      }),
    );
    expect(from(played, 'applyWin32Change')).toEqual([
      'applyWin32Change',
      'getWin32DraftState',
      'applyWin32Change',
      // put back: the change in flight, then the packages, each once the draft is ready
      'getWin32DraftState',
      'restoreWin32Change',
      'getWin32DraftState',
      'restoreWin32Change',
      'getWin32DraftState',
      'cleanUpWin32Run',
      ...FINISH,
    ]);
    expect(inputsOf(played, 'restoreWin32Change').map((i) => i.change)).toEqual([PLAN[1], PLAN[0]]);
    expect(inputsOf(played, 'cleanUpWin32Run')[0]).toMatchObject({ installers: true });
    expect(names(played.actions)).not.toContain('submitWin32Draft');
    expect(played.error).toMatch(/badrequest/);
    const state = reported(played);
    expect(state.failure).toMatchObject({ step: 'applyWin32Change', facts: { code: 'badrequest' } });
    expect(state.failure?.advice).toBe(
      "The run put the product's draft back as it was before it (listing en-us, packages).",
    );
    expect(state.win32).toMatchObject({ restored: true, applied: [] });
  });

  it('says what the draft still holds when putting it back is refused too', async () => {
    const played = await run(
      win32Store({
        applyWin32Change: (_input, call) =>
          call === 2 ? fail(refusal(400, 'badrequest')) : ok({ correlationIds: [] }),
        restoreWin32Change: () => fail(refusal(400, 'badrequest')),
      }),
    );
    const state = reported(played);
    expect(state.win32?.restored).toBe(false);
    expect(state.failure?.advice).toMatch(
      new RegExp(`the draft of product ${PRODUCT_ID} still holds these changes of the run: listing en-us, packages`),
    );
    expect(state.failure?.advice).toMatch(/cannot delete a draft/);
  });

  it('waits out a submission in progress in a sub-orchestration of its own, then reads the draft again', async () => {
    const played = await run(
      win32Store({
        readWin32Draft: (_input, call) =>
          call === 1 ? draft({ isReady: false, ongoingSubmissionId: ONGOING }) : draft(),
        follow: () => ok(followed('PUBLISHED')),
      }),
    );
    expect(played.error).toBeUndefined();
    const subs = played.actions.filter(
      (a): a is Extract<Action, { kind: 'subOrchestration' }> => a.kind === 'subOrchestration',
    );
    expect(subs.map((s) => [s.instanceId, (s.input as { submissionId: string; waitFor: string }).waitFor])).toEqual([
      [`${RUN_ID}-ongoing-1`, 'ended'],
      [`${RUN_ID}-follow`, 'published'],
    ]);
    expect(subs[0]!.input).toMatchObject({ submissionId: ONGOING });
    expect(from(played, 'followWin32Submission').slice(0, 2)).toEqual(['followWin32Submission', 'readWin32Draft']);
    // After an ambiguous submit, the submission waited out is never taken for the run's own.
    expect(inputsOf(played, 'submitWin32Draft')[0]).toMatchObject({ before: ONGOING });
    expect((played.output as RunState).timeline.map((s) => s.step)).toContain(`waitForSubmission:${ONGOING}`);
  });

  it('with options.ongoingSubmission "fail", stops at the draft read and changes nothing', async () => {
    const played = await run(
      win32Store({ readWin32Draft: () => draft({ ongoingSubmissionId: ONGOING }) }, { ongoingSubmission: 'fail' }),
    );
    expect(from(played, 'readWin32Draft')).toEqual(['readWin32Draft', ...FINISH]);
    expect(reported(played).failure).toMatchObject({ facts: { code: SUBMISSION_IN_PROGRESS } });
    expect(reported(played).failure?.message).toContain(ONGOING);
  });

  it('waits out a submission someone started while it changed the draft, then makes the refused change again', async () => {
    const inProgress = new StoreRequestError('A submission is in progress.', {
      code: SUBMISSION_IN_PROGRESS,
      retriable: false,
    });
    const played = await run(
      win32Store({
        applyWin32Change: (_input, call) => (call === 2 ? fail(inProgress) : ok({ correlationIds: [] })),
        getWin32DraftState: (_input, call) =>
          call === 2 ? ready({ isReady: false, ongoingSubmissionId: ONGOING }) : ready(),
      }),
    );
    expect(played.error).toBeUndefined();
    expect(from(played, 'applyWin32Change').slice(0, 6)).toEqual([
      'applyWin32Change',
      'getWin32DraftState',
      'applyWin32Change',
      'getWin32DraftState',
      'followWin32Submission',
      'applyWin32Change',
    ]);
    expect(inputsOf(played, 'applyWin32Change').map((i) => i.change)).toEqual([PLAN[0], PLAN[1], PLAN[1]]);
    expect(inputsOf(played, 'restoreWin32Change')).toEqual([]);
  });

  it('stops with the Store message when it cannot download an installer, and puts the packages back', async () => {
    const played = await run(
      win32Store({
        getWin32DraftState: (_input, call) =>
          call === 1
            ? ready({
                isReady: false,
                errors: [{ code: 'packageuploaderror', details: 'packages: https://x.example/app.msi: HTTP 403' }],
              })
            : ready(),
      }),
    );
    const state = reported(played);
    expect(state.failure).toMatchObject({ step: 'waitForDraft', facts: { code: 'PackageUploadFailed' } });
    expect(state.failure?.message).toContain('https://x.example/app.msi: HTTP 403');
    expect(state.failure?.advice).toMatch(
      /WIN32_PACKAGES_STORAGE.*put the product's draft back as it was before it \(packages\)/,
    );
    expect(inputsOf(played, 'restoreWin32Change').map((i) => i.change)).toEqual([PLAN[0]]);
  });

  it("a failed certification stops the run with the Store errors; the submission is the Store's, nothing is put back", async () => {
    const played = await run(
      win32Store({
        follow: () =>
          ok(
            followed('FAILED', {
              hasFailed: true,
              statusDetails: {
                errors: [{ code: 'CertificationFailed', details: 'policy 10.1' }],
                warnings: [],
                certificationReports: [],
              },
            }),
          ),
      }),
    );
    expect(reported(played).failure).toMatchObject({ step: 'waitForStore', facts: { code: 'CertificationFailed' } });
    expect(names(played.actions)).not.toContain('restoreWin32Change');
  });

  it('a dry run stages the installers, proves their URLs and removes them; the draft is not touched', async () => {
    const played = await run(win32Store({}, { dryRun: true }));
    expect(from(played, 'readWin32Draft')).toEqual([
      'readWin32Draft',
      'stageWin32Installers',
      'checkWin32InstallerUrls',
      'cleanUpWin32Run',
      ...FINISH,
    ]);
    expect(played.output).toMatchObject({ outcome: 'DryRunSucceeded', phase: 'Succeeded' });
  });

  it('a canceled run before its submit: the cleanup waits for a call in flight, then puts the draft back', async () => {
    const input: CancelInput = {
      runId: RUN_ID,
      reason: 'canceled through the API',
      state: {
        blob: RUN_INPUT.blob,
        phase: 'UpdatingDraft',
        kind: 'win32',
        product: { kind: 'win32', productId: PRODUCT_ID },
        queueKey: `win32-${PRODUCT_ID}`,
        timeline: [],
        win32: { plan: ['packages', 'listing en-us'], applied: [PLAN[0]!], applying: PLAN[1] },
      },
      createdTime: '2024-05-01T09:58:00.000Z',
      settleSeconds: 35,
    };
    const played = await play(cancelRunOrchestrator, input, win32Store(), {
      instanceId: `${RUN_ID}-cancel`,
      start: START,
    });
    expect(names(played.actions)).toEqual([
      '(timer)',
      'getRunSettings',
      'getWin32DraftState',
      'restoreWin32Change',
      'getWin32DraftState',
      'restoreWin32Change',
      'getWin32DraftState',
      'cleanUpWin32Run',
      ...FINISH,
    ]);
    const state = played.output as RunState;
    expect(state).toMatchObject({ outcome: 'Canceled', win32: { restored: true } });
    expect(state.canceled?.message).toMatch(/put back/);
    expect(state.timeline.find((s) => s.step === 'putBackDraft')?.detail).toMatch(/put the product's draft back/);
  });

  it('a canceled run after its submit leaves the submission with the Store and says so', async () => {
    const input: CancelInput = {
      runId: RUN_ID,
      reason: 'canceled through the API',
      state: {
        blob: RUN_INPUT.blob,
        phase: 'WaitingForStore',
        kind: 'win32',
        product: { kind: 'win32', productId: PRODUCT_ID },
        submissionId: OURS,
        timeline: [{ step: 'submitWin32Draft', startedAt: START.toISOString(), result: 'ok' }],
        win32: { plan: ['packages'], applied: [PLAN[0]!] },
      },
      createdTime: '2024-05-01T09:58:00.000Z',
      settleSeconds: 35,
    };
    const played = await play(cancelRunOrchestrator, input, win32Store(), {
      instanceId: `${RUN_ID}-cancel`,
      start: START,
    });
    expect(names(played.actions)).toEqual(['writeReport']);
    const state = played.output as RunState;
    expect(state.canceled).toMatchObject({ committed: true, submissionId: OURS });
    expect(state.timeline.find((s) => s.step === 'putBackDraft')?.detail).toMatch(/stays with the Store/);
  });
});
