import * as df from 'durable-functions';
import { cancelNote, interruptedTimeline, type CancelInput, type Phase, type RunState } from '../lib/run';
import { CANCEL_ORCHESTRATION } from '../lib/runClient';
import { discardSubmission } from './activities/storeSubmissionSteps';
import { finishRun } from './phases/finish';
import { cancelWin32 } from './phases/win32Cancel';
import { failureOf, RunTracker } from './tracker';

/** Phases in which the terminated run may still have a Store call in flight. */
const IN_FLIGHT = new Set<Phase>([
  'CreatingSubmission',
  'UpdatingSubmission',
  'Uploading',
  'Committing',
  'ClearingPendingSubmission',
  // MSI/EXE apps:
  'CopyingInstallers',
  'UpdatingDraft',
  'Submitting',
  'RestoringDraft',
]);

/**
 * Cleans up after a canceled run: terminating an orchestration stops it at once but
 * cannot undo what it did, so this deletes the Store submission it made and had not yet
 * committed (or, for an MSI/EXE app, puts the draft back), then ends the run as every run ends (`finishRun`) with the outcome Canceled.
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
  const run = new RunTracker(context, state, input.runId);
  run.record(`canceled: ${input.reason}`).endedAt = run.now.toISOString();
  run.publish();
  yield* discardLeftover(context, run, input);
  return yield* finishRun(run, input.createdTime);
}

/** Deletes the submission the canceled run made and had not committed, if it made one. */
function* discardLeftover(
  context: df.OrchestrationContext,
  run: RunTracker,
  input: CancelInput,
): Generator<df.Task, void, unknown> {
  const product = input.state.product;
  if (!product) return;
  if (IN_FLIGHT.has(input.state.phase)) {
    // Let a Store call the run had in flight land, so its result is seen and undone.
    yield context.df.createTimer(new Date(run.now.getTime() + input.settleSeconds * 1000));
  }
  if (product.kind === 'win32') {
    try {
      yield* cancelWin32(context, run, product.productId, input.state.phase);
    } catch (e) {
      run.show({ failure: failureOf(e, 'putBackDraft') });
    }
    return;
  }
  // Without an id, only a run caught creating may own the product's pending submission.
  const knownId = input.state.submissionId;
  if (!knownId && input.state.phase !== 'CreatingSubmission') return;
  try {
    const result = yield* run.step('CleaningUp', discardSubmission, { product, submissionId: knownId });
    if (result.deleted) run.show({ submissionId: result.submissionId });
  } catch (e) {
    run.show({ failure: failureOf(e, 'discardSubmission') });
  }
}

export const cancelRun = df.app.orchestration(CANCEL_ORCHESTRATION, cancelRunOrchestrator);
