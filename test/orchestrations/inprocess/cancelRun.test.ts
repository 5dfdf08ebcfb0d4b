/**
 * The cleanup of a canceled run on fabricated histories: what it deletes, when it waits for a
 * Store call still in flight, and that it ends as every run ends (report, leaving the queue).
 */
import type { CancelInput, RunState } from '../../../lib/run';
import { cancelRunOrchestrator } from '../../../orchestrations/cancelRun';
import { fail, names, ok, play, type Action, type Played } from './replay';
import { PRODUCT, RUN_ID, RUN_INPUT, SUBMISSION_ID, store, storeError } from './store';

const START = new Date('2024-05-01T10:00:00.000Z');

function canceled(state: Partial<RunState>): CancelInput {
  return {
    runId: RUN_ID,
    reason: 'canceled through the API',
    state: {
      blob: RUN_INPUT.blob,
      queueKey: `app-${PRODUCT.applicationId}`,
      timeline: [{ step: 'validateZip', startedAt: START.toISOString(), result: 'ok' }],
      phase: 'Queued',
      ...state,
    },
    createdTime: '2024-05-01T09:58:00.000Z',
    settleSeconds: 35,
  };
}

function cleanup(input: CancelInput, script = store()): Promise<Played> {
  return play(cancelRunOrchestrator, input, script, { instanceId: `${RUN_ID}-cancel`, start: START });
}

function activityInput(played: Played, name: string): Record<string, unknown> {
  const found = played.actions.find((a) => a.kind === 'activity' && a.name === name) as
    Extract<Action, { kind: 'activity' }> | undefined;
  if (!found) throw new Error(`${name} was not called: ${names(played.actions).join(', ')}`);
  return found.input as Record<string, unknown>;
}

describe('cancelRun in process', () => {
  it('waits for a Store call in flight to land, deletes the uncommitted submission, then reports and leaves', async () => {
    const played = await cleanup(canceled({ phase: 'Uploading', product: PRODUCT, submissionId: SUBMISSION_ID }));
    expect(names(played.actions)).toEqual(['(timer)', 'discardSubmission', 'writeReport', 'leaveTurn']);
    const timer = played.actions[0] as Extract<Action, { kind: 'timer' }>;
    expect(timer.fireAt.getTime() - START.getTime()).toBe(35_000);
    // The activities work for the canceled run, not for the cleanup instance.
    expect(activityInput(played, 'discardSubmission')).toEqual({
      instanceId: RUN_ID,
      product: PRODUCT,
      submissionId: SUBMISSION_ID,
    });
    expect(activityInput(played, 'leaveTurn')).toEqual({ instanceId: RUN_ID, key: `app-${PRODUCT.applicationId}` });
    expect(activityInput(played, 'writeReport')).toMatchObject({
      instanceId: RUN_ID,
      createdTime: '2024-05-01T09:58:00.000Z',
      state: { outcome: 'Canceled' },
    });
    const state = played.output as RunState;
    expect(state).toMatchObject({ phase: 'Canceled', outcome: 'Canceled', submissionId: SUBMISSION_ID });
    expect(state.failure).toBeUndefined();
    expect(state.timeline.map((s) => s.step)).toEqual([
      'validateZip',
      'canceled: canceled through the API',
      'discardSubmission',
      'writeReport',
      'leaveTurn',
    ]);
  });

  it('reports what the cancel stopped: the step it cut is interrupted, and the note names the submission', async () => {
    const input = canceled({ phase: 'Uploading', product: PRODUCT, submissionId: SUBMISSION_ID });
    input.state.timeline.push({ step: 'uploadPackageZip', startedAt: START.toISOString(), result: 'ok' });
    const played = await cleanup(input);
    const reported = activityInput(played, 'writeReport').state as RunState;
    const cut = { step: 'uploadPackageZip', result: 'interrupted', endedAt: START.toISOString() };
    const note = {
      reason: 'canceled through the API',
      committed: false,
      submissionId: SUBMISSION_ID,
      message: `Submission ${SUBMISSION_ID} was not committed; it is deleted.`,
    };
    expect(reported.timeline.find((s) => s.step === 'uploadPackageZip')).toMatchObject(cut);
    expect(reported.canceled).toEqual(note);
    expect(played.output).toMatchObject({ canceled: note, phase: 'Canceled' });
    expect(played.statuses.at(-1)).toMatchObject({ canceled: note, phase: 'Canceled' });
  });

  it('deletes nothing for a run that had not reached the Store, and waits for nothing', async () => {
    const played = await cleanup(canceled({ phase: 'Queued' }));
    expect(names(played.actions)).toEqual(['writeReport', 'leaveTurn']);
    expect(played.output).toMatchObject({ phase: 'Canceled', outcome: 'Canceled' });
  });

  it('deletes nothing when the run knew its product but had made no submission', async () => {
    const played = await cleanup(canceled({ phase: 'ResolvingProduct', product: PRODUCT }));
    expect(names(played.actions)).toEqual(['writeReport', 'leaveTurn']);
  });

  it('for a run caught creating, looks for the pending submission the create made and keeps its id', async () => {
    const played = await cleanup(canceled({ phase: 'CreatingSubmission', product: PRODUCT }));
    expect(names(played.actions)).toEqual(['(timer)', 'discardSubmission', 'writeReport', 'leaveTurn']);
    expect(activityInput(played, 'discardSubmission').submissionId).toBeUndefined();
    expect(played.output).toMatchObject({ submissionId: SUBMISSION_ID, outcome: 'Canceled' });
  });

  it('records a delete that failed, and still ends Canceled with a report', async () => {
    const played = await cleanup(
      canceled({ phase: 'Committing', product: PRODUCT, submissionId: SUBMISSION_ID }),
      store({ discardSubmission: () => fail(storeError(400, 'InvalidState')) }),
    );
    expect(names(played.actions)).toEqual(['(timer)', 'discardSubmission', 'writeReport', 'leaveTurn']);
    const state = played.output as RunState;
    expect(state).toMatchObject({ phase: 'Canceled', outcome: 'Canceled' });
    expect(state.failure).toMatchObject({ step: 'discardSubmission', facts: { code: 'InvalidState', status: 400 } });
    expect((activityInput(played, 'writeReport').state as RunState).failure?.step).toBe('discardSubmission');
  });

  it('does not leave a queue the run never joined', async () => {
    const input = canceled({ phase: 'Validating' });
    delete input.state.queueKey;
    const played = await cleanup(input, store({ writeReport: () => ok({ reportBlob: 'r.json' }) }));
    expect(names(played.actions)).toEqual(['writeReport']);
    expect(played.output).toMatchObject({ reportBlob: 'r.json', phase: 'Canceled' });
  });
});
