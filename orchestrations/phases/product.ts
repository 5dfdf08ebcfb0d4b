import type * as df from 'durable-functions';
import type { ValidatedZip } from '../../lib/run';
import type { ProductRef } from '../../lib/store/kinds';
import { dryRunBlockedByPending, pendingSubmissionRefused, rolloutRefused } from '../../lib/storeSteps';
import { checkCredential } from '../activities/checkCredential';
import { resolveProduct } from '../activities/resolveProduct';
import { deletePendingSubmission, settleRollout } from '../activities/storeSubmissionSteps';
import { stopRun, type RunStopped, type RunTracker } from '../tracker';

export interface PreparedProduct {
  product: ProductRef;
  /** The pending submission the run found (and deleted): create must never mistake it for its own. */
  clearedPendingId?: string;
}

/**
 * Makes the product ready for a new submission: a Store token can be had, the product is
 * found (or, for a flight or add-on named by name, created), a rollout in progress is settled
 * and a pending submission deleted, each only as the manifest allows. Refusals stop the run
 * before anything of the user's changed.
 */
export function* prepareProduct(run: RunTracker, zip: ValidatedZip): Generator<df.Task, PreparedProduct, unknown> {
  const { options } = zip;
  yield* run.step('CheckingCredential', checkCredential, {});
  const resolved = yield* run.step('ResolvingProduct', resolveProduct, { target: zip.target });
  const { product } = resolved;
  run.show({ product });

  const publishedId = resolved.publishedSubmissionId;
  if (resolved.rolloutInProgress && publishedId) {
    const action = options.existingRollout;
    if (action === 'fail' || !action) throw stopFor('resolveProduct', rolloutRefused(publishedId));
    yield* run.step('SettlingRollout', settleRollout, { product, submissionId: publishedId, action });
  }

  const pendingId = resolved.pendingSubmissionId;
  if (pendingId) {
    // A flight created a moment ago comes with a pending submission of its own: ours to replace.
    // A dry run must not destroy anything, and the Store allows one pending submission only.
    if (options.dryRun === true && !resolved.created)
      throw stopFor('resolveProduct', dryRunBlockedByPending(pendingId));
    if (options.pendingSubmission === 'fail' && !resolved.created) {
      throw stopFor('resolveProduct', pendingSubmissionRefused(pendingId, resolved.pendingMadeInPortal));
    }
    yield* run.step('ClearingPendingSubmission', deletePendingSubmission, { product, submissionId: pendingId });
  }
  return { product, clearedPendingId: pendingId };
}

function stopFor(step: string, error: { message: string; code: string; retriable: boolean }): RunStopped {
  return stopRun(step, error.message, { code: error.code, retriable: error.retriable });
}
