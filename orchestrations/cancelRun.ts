import * as df from 'durable-functions';
import { cancelNote, interruptedTimeline, type RunState } from '../lib/run';
import { leaveTurn } from './activities/productQueue';
import { discardSubmission } from './activities/storeSubmissionSteps';
import { writeReport } from './activities/writeReport';
import { failureOf, RunTracker } from './run';

export interface CancelInput {
  runId: string;
  reason: string;
  /** The canceled run's last custom status. */
  state: RunState;
  createdTime?: string;
  /** How long an activity of the terminated run may still be in flight. */
  settleSeconds: number;
}

export function cancelIdOf(runId: string): string {
  return `${runId}-cancel`;
}

/** Phases in which the terminated run may still have a Store call in flight. */
const IN_FLIGHT = new Set([
  'CreatingSubmission',
  'UpdatingSubmission',
  'Uploading',
  'Committing',
  'ClearingPendingSubmission',
]);

/**
 * Cleans up after a canceled run: terminating an orchestration stops it at once but
 * cannot undo what it did, so this deletes the Store submission it made and had not yet
 * committed, then writes the run's report with the outcome Canceled.
 */
export function* cancelRunOrchestrator(context: df.OrchestrationContext): Generator<df.Task, RunState, unknown> {
  const input = context.df.getInput<CancelInput>();
  const state: RunState = {
    ...input.state,
    timeline: interruptedTimeline(
      input.state.timeline,
      context.df.currentUtcDateTime.toISOString(),
      `interrupted: canceled (${input.reason})`,
    ),
    outcome: 'Canceled',
    phase: 'CleaningUp',
    canceled: cancelNote(input.state, input.reason),
  };
  const run = new RunTracker(context, state);
  const instanceId = input.runId;
  run.record(`canceled: ${input.reason}`).endedAt = run.now.toISOString();
  run.publish();

  if (state.product && IN_FLIGHT.has(input.state.phase)) {
    // Let a Store call the run had in flight land, so its result is seen and undone.
    yield context.df.createTimer(new Date(run.now.getTime() + input.settleSeconds * 1000));
  }
  // Without an id, only a run caught creating may own the product's pending submission.
  const knownId = input.state.submissionId;
  if (state.product && (knownId || input.state.phase === 'CreatingSubmission')) {
    const product = state.product;
    try {
      const result = yield* run.step<{ deleted: boolean; submissionId?: string }>(
        'CleaningUp',
        'discardSubmission',
        () => discardSubmission({ instanceId, product, submissionId: knownId }),
      );
      if (result.deleted) state.submissionId = result.submissionId;
    } catch (e) {
      state.failure = failureOf(e, 'discardSubmission');
    }
  }
  if (state.queueKey) {
    const key = state.queueKey;
    try {
      yield* run.step('CleaningUp', 'leaveTurn', () => leaveTurn({ instanceId, key }));
    } catch (e) {
      run.log(`could not leave the ${key} queue: ${failureOf(e, 'leaveTurn').message}`);
    }
  }
  try {
    const report = yield* run.step<{ reportBlob: string }>('WritingReport', 'writeReport', () =>
      writeReport({
        instanceId,
        state: { ...state },
        createdTime: input.createdTime,
        endedTime: run.now.toISOString(),
      }),
    );
    state.reportBlob = report.reportBlob;
  } catch (e) {
    run.log(`the report could not be written: ${failureOf(e, 'writeReport').message}`);
  }
  state.phase = 'Canceled';
  run.publish();
  return state;
}

export const cancelRun = df.app.orchestration('cancelRun', cancelRunOrchestrator);
