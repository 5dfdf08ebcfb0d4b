/**
 * The Store steps of a run, each one call (or a few) on the typed client plus the
 * decisions that make it safe to repeat: the Durable host may run an activity again
 * after it already succeeded, and the Store's create and commit are not idempotent.
 */
import { StoreOutcomeError, StoreRequestError, isStoreRequestError } from './errors';
import type { Target } from './manifest';
import { isCommitted } from './polling';
import type { CreatedSubmission, ResolvedProduct, StatusPoll } from './run';
import type { StoreClient } from './store/client';
import { kindInfo, submissionIdIn, type ProductRef } from './store/kinds';
import type { SubmissionStatus } from './store/types';

type Json = Record<string, unknown>;

/** Finds the product the manifest targets, creating the flight or add-on it names when there is none. */
export async function resolveProduct(store: StoreClient, target: Target): Promise<ResolvedProduct> {
  // MSI/EXE apps live in another API (lib/win32); nothing of the v1.0 API applies to them.
  if (target.kind === 'win32') throw new TypeError('a win32 target is not a product of the v1.0 submission API');
  const correlationIds: string[] = [];
  let ref: ProductRef;
  let created: ResolvedProduct['created'];

  if (target.kind === 'app') {
    ref = { kind: 'app', applicationId: target.applicationId };
  } else if (target.kind === 'flight') {
    if (target.flightId) {
      ref = { kind: 'flight', applicationId: target.applicationId, flightId: target.flightId };
    } else {
      const wanted = target.flight!;
      // Listing first on every attempt makes a retried create find the flight an earlier attempt made.
      const flights = await store.listFlights(target.applicationId).catch(refusedApp(target.applicationId));
      correlationIds.push(flights.correlationId);
      let found = byName(flights.value, (f) => f.friendlyName, wanted.friendlyName);
      if (!found) {
        const made = await store.createFlight(target.applicationId, {
          friendlyName: wanted.friendlyName,
          groupIds: wanted.groupIds,
          rankHigherThan: wanted.rankHigherThan,
        });
        correlationIds.push(made.correlationId);
        found = made.value;
        created = 'flight';
      }
      ref = { kind: 'flight', applicationId: target.applicationId, flightId: found.flightId };
    }
  } else if (target.inAppProductId) {
    ref = { kind: 'addon', inAppProductId: target.inAppProductId };
  } else {
    const wanted = target.addon!;
    const addons = await store.listInAppProducts();
    correlationIds.push(addons.correlationId);
    // productIds are unique per app only: another app's add-on with the same productId is not ours.
    const ofApp = addons.value.filter(
      (a) =>
        !a.applications?.value ||
        a.applications.value.some((app) => app.id.toUpperCase() === wanted.applicationId.toUpperCase()),
    );
    let found = byName(ofApp, (a) => a.productId, wanted.productId);
    if (!found) {
      const made = await store.createInAppProduct({
        applicationIds: [wanted.applicationId],
        productId: wanted.productId,
        productType: wanted.productType,
      });
      correlationIds.push(made.correlationId);
      found = made.value;
      created = 'addon';
    }
    ref = { kind: 'addon', inAppProductId: found.id };
  }

  const info = kindInfo(ref.kind);
  const product = await store.getProduct(ref).catch(refusedApp(ref.kind === 'addon' ? undefined : ref.applicationId));
  correlationIds.push(product.correlationId);
  const body = product.value as Json;
  const pendingSubmissionId = submissionIdIn(body, info.pendingField);
  const publishedSubmissionId = submissionIdIn(body, info.publishedField);

  let pendingMadeInPortal: boolean | undefined;
  if (pendingSubmissionId) {
    const pending = await store.getSubmission(ref, pendingSubmissionId);
    correlationIds.push(pending.correlationId);
    pendingMadeInPortal = !(pending.value as Json).fileUploadUrl;
  }

  let rolloutInProgress: boolean | undefined;
  if (publishedSubmissionId && ref.kind !== 'addon') {
    const published = await store.getSubmission(ref, publishedSubmissionId);
    correlationIds.push(published.correlationId);
    const rollout = ((published.value as Json).packageDeliveryOptions as Json | undefined)?.packageRollout as
      Json | undefined;
    rolloutInProgress =
      rollout?.isPackageRollout === true && rollout.packageRolloutStatus === 'PackageRolloutInProgress';
  }

  return {
    product: ref,
    pendingSubmissionId,
    pendingMadeInPortal,
    publishedSubmissionId,
    rolloutInProgress,
    created,
    correlationIds,
  };
}

/**
 * The item named `name`. The Store refuses two flight names or productIds differing only in
 * case, so an item matching but for case is the one meant (creating it anew would get 409).
 */
function byName<T>(items: T[], nameOf: (item: T) => string | undefined, name: string): T | undefined {
  return items.find((i) => nameOf(i) === name) ?? items.find((i) => nameOf(i)?.toLowerCase() === name.toLowerCase());
}

/**
 * A 409 on reading an app can only mean one thing: the app uses Partner Center features the
 * submission API does not support, and the API refuses every call on it. Retrying cannot help;
 * the user must know that, whatever the Store's own message says.
 */
function refusedApp(applicationId: string | undefined): (e: unknown) => never {
  return (e) => {
    if (!applicationId || !isStoreRequestError(e) || e.status !== 409) throw e;
    throw new StoreRequestError(
      `The Store API refuses every call on application ${applicationId} (409 ${e.code}): it uses Partner Center features the submission API does not support. ` +
        `Submit it in Partner Center; this tool cannot. (${e.message})`,
      {
        code: e.code,
        status: e.status,
        correlationId: e.correlationId,
        retriable: false,
        storeErrors: e.storeErrors,
      },
    );
  };
}

/** Deletes a pending submission; one that is already gone counts as deleted. */
export async function deleteSubmissionIfPresent(
  store: StoreClient,
  ref: ProductRef,
  submissionId: string,
): Promise<string[]> {
  try {
    const result = await store.deleteSubmission(ref, submissionId);
    return [result.correlationId];
  } catch (e) {
    if (isStoreRequestError(e) && e.status === 404) return e.correlationId ? [e.correlationId] : [];
    if (isStoreRequestError(e) && e.code === 'InvalidOperation') {
      throw new StoreRequestError(
        `The pending submission ${submissionId} was created in Partner Center, and the Store API cannot delete it. ` +
          'Delete it in Partner Center (or finish it there), then upload the zip again.',
        { code: 'PendingSubmissionMadeInPortal', status: e.status, correlationId: e.correlationId, retriable: false },
      );
    }
    throw e;
  }
}

/**
 * Creates the submission. The Store's create is not idempotent: it has answered 503 after
 * creating (the retry then gets 409), so after an ambiguous failure the product is read
 * again and a new pending submission the API made is adopted as ours.
 */
export async function createOrAdoptSubmission(
  store: StoreClient,
  ref: ProductRef,
  knownPendingId: string | undefined,
): Promise<CreatedSubmission> {
  try {
    const created = await store.createSubmission(ref);
    return { submissionId: String(created.value.id), correlationIds: [created.correlationId] };
  } catch (e) {
    if (!isStoreRequestError(e) || !(e.retriable || e.status === 409)) throw e;
    const correlationIds = e.correlationId ? [e.correlationId] : [];
    const product = await store.getProduct(ref);
    correlationIds.push(product.correlationId);
    const pendingId = submissionIdIn(product.value, kindInfo(ref.kind).pendingField);
    if (pendingId && pendingId !== knownPendingId) {
      const pending = await store.getSubmission(ref, pendingId);
      correlationIds.push(pending.correlationId);
      const value = pending.value as Json;
      if (value.fileUploadUrl && value.status === 'PendingCommit') {
        return { submissionId: pendingId, correlationIds, adopted: true };
      }
    }
    throw e;
  }
}

/**
 * Commits the submission. A commit answered with an error may still have started (a 500
 * after the commit began has been seen), so the status decides: anything past
 * PendingCommit means the commit took.
 */
export async function commitOrConfirm(
  store: StoreClient,
  ref: ProductRef,
  submissionId: string,
): Promise<{ status: SubmissionStatus; correlationIds: string[] }> {
  try {
    const result = await store.commitSubmission(ref, submissionId);
    return {
      status: (result.value.status as SubmissionStatus) ?? 'CommitStarted',
      correlationIds: [result.correlationId],
    };
  } catch (e) {
    if (!isStoreRequestError(e) || !(e.retriable || e.status === 409)) throw e;
    const status = await store.getSubmissionStatus(ref, submissionId);
    const correlationIds = [e.correlationId, status.correlationId].filter((c): c is string => !!c);
    if (status.value.status !== 'PendingCommit') return { status: status.value.status, correlationIds };
    throw e;
  }
}

export async function pollStatus(store: StoreClient, ref: ProductRef, submissionId: string): Promise<StatusPoll> {
  const result = await store.getSubmissionStatus(ref, submissionId);
  return {
    status: result.value.status,
    statusDetails: result.value.statusDetails,
    correlationIds: [result.correlationId],
  };
}

/**
 * Deletes our submission unless the Store holds it as committed. Without an id (a run
 * canceled while its create was in flight) it looks for the product's pending submission
 * and deletes it only if the API made it and it is still uncommitted.
 */
export async function discardUncommitted(
  store: StoreClient,
  ref: ProductRef,
  submissionId: string | undefined,
): Promise<{ deleted: boolean; submissionId?: string; status?: string; correlationIds: string[] }> {
  const correlationIds: string[] = [];
  let id = submissionId;
  if (!id) {
    const product = await store.getProduct(ref);
    correlationIds.push(product.correlationId);
    id = submissionIdIn(product.value, kindInfo(ref.kind).pendingField);
    if (!id) return { deleted: false, correlationIds };
    const pending = await store.getSubmission(ref, id);
    correlationIds.push(pending.correlationId);
    if (!(pending.value as Json).fileUploadUrl)
      return { deleted: false, submissionId: id, status: 'MadeInPortal', correlationIds };
  }
  let status: SubmissionStatus;
  try {
    const current = await store.getSubmissionStatus(ref, id);
    correlationIds.push(current.correlationId);
    status = current.value.status;
  } catch (e) {
    if (isStoreRequestError(e) && e.status === 404)
      return { deleted: false, submissionId: id, status: 'NotFound', correlationIds };
    throw e;
  }
  if (isCommitted(status)) return { deleted: false, submissionId: id, status, correlationIds };
  correlationIds.push(...(await deleteSubmissionIfPresent(store, ref, id)));
  return { deleted: true, submissionId: id, status, correlationIds };
}

/** The user's options refuse to replace a pending submission that is there. */
export function pendingSubmissionRefused(submissionId: string, madeInPortal: boolean | undefined): StoreOutcomeError {
  const where = madeInPortal ? 'made in Partner Center' : 'made through the API';
  // "replace" cannot help with a Partner Center submission: the API can neither change nor delete it.
  const advice = madeInPortal
    ? 'The Store API cannot delete it: delete it in Partner Center (or finish it there), then upload the zip again.'
    : 'Delete or finish that submission, or set options.pendingSubmission to "replace".';
  return new StoreOutcomeError(
    `The product already has a pending submission (${submissionId}, ${where}) and submission.json options.pendingSubmission is "fail". ${advice}`,
    'PendingSubmissionExists',
  );
}

/** A dry run deletes nothing of the user's, and the Store allows one pending submission per product. */
export function dryRunBlockedByPending(submissionId: string): StoreOutcomeError {
  return new StoreOutcomeError(
    `The product has a pending submission (${submissionId}); a dry run deletes nothing, and the Store allows only one pending submission, so there is nothing to validate against. ` +
      'Finish or delete that submission, then run the dry run again.',
    'PendingSubmissionExists',
  );
}

export function rolloutRefused(submissionId: string): StoreOutcomeError {
  return new StoreOutcomeError(
    `The published submission ${submissionId} still has a package rollout in progress, so the Store refuses a new submission. ` +
      'Finalize or halt the rollout in Partner Center, or set submission.json options.existingRollout to "finalize" or "halt".',
    'RolloutInProgress',
  );
}

/** How many packages, images and icons in a submission have the given fileStatus. */
export function countFileStatus(submission: unknown, status: string): number {
  if (Array.isArray(submission)) return submission.reduce((n: number, v) => n + countFileStatus(v, status), 0);
  if (!submission || typeof submission !== 'object') return 0;
  const own = (submission as Json).fileStatus === status ? 1 : 0;
  return Object.values(submission as Json).reduce((n: number, v) => n + countFileStatus(v, status), own);
}
