/**
 * The cleanup of a canceled MSI/EXE run: before its submit, its changes to the draft are put
 * back; a submission it made stays with the Store (the API can neither delete nor cancel one),
 * and the timeline says so.
 */
import type * as df from 'durable-functions';
import type { Phase } from '../../lib/run';
import { getRunSettings } from '../activities/getRunSettings';
import { getWin32DraftState } from '../activities/win32';
import type { RunTracker } from '../tracker';
import { putBackDraft } from './win32Draft';

export function* cancelWin32(
  context: df.OrchestrationContext,
  run: RunTracker,
  productId: string,
  phaseWhenCanceled: Phase,
): Generator<df.Task, void, unknown> {
  const record = run.record('putBackDraft');
  if (!run.state.submissionId && phaseWhenCanceled === 'Submitting') {
    // The submit may have been in flight: a submission in progress the run did not wait for is its own.
    const state = yield* run.step('CleaningUp', getWin32DraftState, { productId });
    const waited = run.state.win32?.waitedForSubmissions ?? [];
    if (state.ongoingSubmissionId && !waited.includes(state.ongoingSubmissionId))
      run.show({ submissionId: state.ongoingSubmissionId });
  }
  if (run.state.submissionId) {
    record.endedAt = run.now.toISOString();
    record.detail = `submission ${run.state.submissionId} was made before the cancel; it stays with the Store (the API cannot cancel it: Partner Center can)`;
    run.publish();
    return;
  }
  const settings = yield* run.step('CleaningUp', getRunSettings, {});
  const said = yield* putBackDraft({ context, run, productId, settings, ongoingSubmission: 'fail' });
  record.endedAt = run.now.toISOString();
  record.detail = said ?? 'the run had not changed the draft';
  if (run.state.win32?.restored === false) record.result = 'failed';
  run.publish();
}
