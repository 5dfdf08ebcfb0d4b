/**
 * An MSI or EXE app (target.kind win32) on the Store's MSI/EXE submission API, after the phases
 * every run shares (validate, the product's turn) and before the one that ends it (finishRun).
 * There is no submission to create and delete here: the product has one draft, which the run
 * changes step by step, then submits. Before the submit, a failure puts every change back from
 * the draft kept aside; after it, the submission is the Store's.
 */
import type * as df from 'durable-functions';
import type { ManifestOptions, Win32Target } from '../../lib/manifest';
import type { RunInput } from '../../lib/run';
import type { RunSettings } from '../activities/getRunSettings';
import type { RunTracker } from '../tracker';
import { changeDraft, dryRunDraft, orPutBack, readDraft } from './win32Draft';
import { followSubmissionToGoal, submitDraft } from './win32Submit';
import type { Win32Run } from './win32Wait';

export function* submitWin32(
  context: df.OrchestrationContext,
  run: RunTracker,
  input: RunInput,
  settings: RunSettings,
  target: Win32Target,
  options: ManifestOptions,
): Generator<df.Task, void, unknown> {
  const productId = target.productId.toLowerCase();
  const w: Win32Run = { context, run, productId, settings, ongoingSubmission: options.ongoingSubmission ?? 'wait' };
  run.show({ product: { kind: 'win32', productId } });
  const draft = yield* readDraft(w, input, options.dryRun === true);
  if (options.dryRun === true) {
    yield* dryRunDraft(w, input, draft);
    run.show({ outcome: 'DryRunSucceeded' });
    return;
  }
  const submissionId = yield* orPutBack(
    w,
    (function* () {
      yield* changeDraft(w, input, draft);
      return yield* submitDraft(w);
    })(),
  );
  yield* followSubmissionToGoal(w, options, submissionId);
  run.show({ outcome: 'Succeeded' });
}
