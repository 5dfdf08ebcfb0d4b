import type * as df from 'durable-functions';
import type { ResolvedProduct, RunInput, ValidatedZip } from '../../lib/run';
import type { ProductRef } from '../../lib/store/kinds';
import { rolloutRefused } from '../../lib/storeSteps';
import { checkCredential } from '../activities/checkCredential';
import { checkPackages } from '../activities/checkPackages';
import type { RunSettings } from '../activities/getRunSettings';
import { resolveProduct } from '../activities/resolveProduct';
import { deletePendingSubmission, settleRollout } from '../activities/storeSubmissionSteps';
import { stopRun, type RunStopped, type RunTracker } from '../tracker';
import { waitOutPending } from './pending';

export interface PreparedProduct {
  product: ProductRef;
  /** The pending submission the run found (and deleted): create must never mistake it for its own. */
  clearedPendingId?: string;
  /** The product's published submission: what the preview compares against. */
  publishedSubmissionId?: string;
}

/**
 * Makes the product ready for a new submission: a Store token can be had, the product is
 * found (or, for a flight or add-on named by name, created) and its published price checked
 * (resolveProduct); a pending submission the Store is processing is waited for (phases/pending.ts);
 * the packages are checked as the Store's PreProcessing would; then a rollout in progress is
 * settled and an editable or ended pending submission deleted, each only as the manifest allows.
 * Every refusal comes before anything of the user's changed.
 */
export function* prepareProduct(
  run: RunTracker,
  settings: RunSettings,
  input: RunInput,
  zip: ValidatedZip,
): Generator<df.Task, PreparedProduct, unknown> {
  const { options } = zip;
  yield* run.step('CheckingCredential', checkCredential, {});
  const resolve = () =>
    run.step('ResolvingProduct', resolveProduct, {
      target: zip.target,
      manifestNamesPriceId: zip.namesPriceId === true,
    });
  const first = yield* resolve();
  run.show({ product: first.product });
  const { resolved, deletePending } = yield* waitOutPending(run, settings, options, first, resolve);
  const { product } = resolved;

  yield* checkPackagesOf(run, input, zip, resolved);

  const publishedId = resolved.publishedSubmissionId;
  if (resolved.rolloutInProgress && publishedId) {
    const action = options.existingRollout;
    if (action === 'fail' || !action) throw stopFor('resolveProduct', rolloutRefused(publishedId));
    yield* run.step('SettlingRollout', settleRollout, { product, submissionId: publishedId, action });
  }
  if (deletePending) {
    yield* run.step('ClearingPendingSubmission', deletePendingSubmission, { product, submissionId: deletePending });
  }
  return { product, clearedPendingId: deletePending, publishedSubmissionId: publishedId };
}

/**
 * The Store's PreProcessing checks, before the Store sees the packages and before anything is
 * created: against the product as last read (its published packages may have changed while the
 * run waited for a pending submission).
 */
function* checkPackagesOf(
  run: RunTracker,
  input: RunInput,
  zip: ValidatedZip,
  resolved: ResolvedProduct,
): Generator<df.Task, void, unknown> {
  if (!resolved.appIdentity || zip.packageFiles.length === 0) return;
  yield* run.step('CheckingPackages', checkPackages, {
    blob: input.blob,
    packageFiles: zip.packageFiles,
    app: resolved.appIdentity,
    published: resolved.publishedUnits ?? [],
  });
}

function stopFor(step: string, error: { message: string; code: string; retriable: boolean }): RunStopped {
  return stopRun(step, error.message, { code: error.code, retriable: error.retriable });
}
