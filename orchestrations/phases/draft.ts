import type * as df from 'durable-functions';
import type { RunInput } from '../../lib/run';
import type { ProductRef } from '../../lib/store/kinds';
import { createSubmission, discardSubmission } from '../activities/storeSubmissionSteps';
import { previewSubmission } from '../activities/previewSubmission';
import { updateSubmission } from '../activities/updateSubmission';
import { failureOf, RunStopped, type RunTracker } from '../tracker';
import type { PreparedProduct } from './product';

/**
 * The submission the run made, from create until the Store holds it as committed: if the
 * run fails in between, it is deleted, so the product is never left with a half-made one.
 */
export interface Draft {
  product: ProductRef;
  submissionId: string;
  /** As the Store answered the update: decides where following may stop. */
  targetPublishMode?: string;
}

/** Creates the submission and updates it from the manifest; a failed update deletes it again. */
export function* createDraft(
  run: RunTracker,
  input: RunInput,
  prepared: PreparedProduct,
): Generator<df.Task, Draft, unknown> {
  const { product } = prepared;
  const created = yield* run.step('CreatingSubmission', createSubmission, {
    product,
    knownPendingId: prepared.clearedPendingId,
  });
  const draft: Draft = { product, submissionId: created.submissionId };
  run.show({ submissionId: draft.submissionId });
  const updated = yield* orDiscard(
    run,
    draft,
    run.step('UpdatingSubmission', updateSubmission, {
      blob: input.blob,
      overrides: input.overrides,
      product,
      submissionId: draft.submissionId,
    }),
  );
  // What it changes against the published submission, before anything is committed (a dry run shows it too).
  const previewed = yield* orDiscard(
    run,
    draft,
    run.step('UpdatingSubmission', previewSubmission, {
      blob: input.blob,
      product,
      submissionId: draft.submissionId,
      publishedSubmissionId: prepared.publishedSubmissionId,
    }),
  );
  run.show({ preview: previewed.preview, previewBlob: previewed.previewBlob });
  return { ...draft, targetPublishMode: updated.targetPublishMode };
}

/** A dry run's end: the Store has validated the update; the submission goes again. */
export function* discardDryRun(run: RunTracker, draft: Draft): Generator<df.Task, void, unknown> {
  // Should the delete fail, the cleanup of the failed run tries once more, and its advice says
  // to delete the submission by hand if that fails too.
  yield* orDiscard(run, draft, run.step('CleaningUp', discardSubmission, submissionOf(draft)));
}

/**
 * Runs `phase`, which works on `draft` while it is ours; if it fails, the run's failure is
 * recorded and the draft deleted before the failure goes on. Without a draft (the Store holds
 * the submission as committed), it just runs the phase.
 */
export function* orDiscard<T>(
  run: RunTracker,
  draft: Draft | undefined,
  phase: Generator<df.Task, T, unknown>,
): Generator<df.Task, T, unknown> {
  try {
    return yield* phase;
  } catch (e) {
    if (!draft) throw e;
    return yield* discardAfter(run, draft, e);
  }
}

/** Records `e` as the run's failure, deletes the draft, and throws the failure on. */
export function* discardAfter(run: RunTracker, draft: Draft, e: unknown): Generator<df.Task, never, unknown> {
  const failure = run.fail(e);
  try {
    yield* run.step('CleaningUp', discardSubmission, submissionOf(draft));
  } catch (cleanup) {
    failure.advice =
      `${failure.advice ?? ''} The run could not delete its uncommitted submission ${draft.submissionId}: delete it in Partner Center. (${failureOf(cleanup, 'discardSubmission').message})`.trim();
  }
  throw new RunStopped(failure);
}

function submissionOf(draft: Draft): { product: ProductRef; submissionId: string } {
  return { product: draft.product, submissionId: draft.submissionId };
}
