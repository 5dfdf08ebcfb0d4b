/**
 * The Store steps of a run, each one call (or a few) on the typed client plus the
 * decisions that make it safe to repeat: the Durable host may run an activity again
 * after it already succeeded, and the Store's create and commit are not idempotent.
 */
import { StoreOutcomeError, StoreRequestError, isStoreRequestError } from './errors';
import type { Target } from './manifest';
import { publishedUnitsOf, type AppIdentity, type PublishedUnit } from './package/check';
import { isCommitted } from './polling';
import { pricingRefusal } from './pricing';
import type { CreatedSubmission, ResolvedProduct, StatusPoll } from './run';
import type { StoreClient } from './store/client';
import { kindInfo, submissionIdIn, type ProductRef } from './store/kinds';
import type { SubmissionStatus } from './store/types';

type Json = Record<string, unknown>;

/** Finds the product the manifest targets, creating the flight or add-on it names when there is none. */
export async function resolveProduct(
  store: StoreClient,
  target: Target,
  /** The manifest names `pricing.priceId`: the price is the user's to set, nothing to keep. */
  manifestNamesPriceId = false,
): Promise<ResolvedProduct> {
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
      let found = flightNamed(flights.value, wanted.friendlyName);
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
    let found = addonNamed(addons.value, wanted.applicationId, wanted.productId);
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
  let pendingStatus: SubmissionStatus | undefined;
  let pendingTargetPublishMode: string | undefined;
  if (pendingSubmissionId) {
    const pending = await store.getSubmission(ref, pendingSubmissionId);
    correlationIds.push(pending.correlationId);
    const value = pending.value as Json;
    pendingMadeInPortal = !value.fileUploadUrl;
    // What the run may do with it depends on its status: one the Store is processing cannot be deleted.
    if (typeof value.status === 'string') pendingStatus = value.status as SubmissionStatus;
    if (typeof value.targetPublishMode === 'string') pendingTargetPublishMode = value.targetPublishMode;
  }

  // The package identity the Store checks new packages against (PreProcessing): the app's.
  let appIdentity: AppIdentity | undefined;
  if (ref.kind !== 'addon') {
    let app = body;
    if (ref.kind === 'flight') {
      const read = await store.getProduct({ kind: 'app', applicationId: ref.applicationId });
      correlationIds.push(read.correlationId);
      app = read.value;
    }
    appIdentity = {
      applicationId: ref.applicationId,
      packageIdentityName: typeof app.packageIdentityName === 'string' ? app.packageIdentityName : undefined,
      publisherName: typeof app.publisherName === 'string' ? app.publisherName : undefined,
    };
  }

  let rolloutInProgress: boolean | undefined;
  let publishedUnits: PublishedUnit[] | undefined;
  const checkPrice = ref.kind !== 'flight' && !manifestNamesPriceId;
  if (publishedSubmissionId && (ref.kind !== 'addon' || checkPrice)) {
    const published = await store.getSubmission(ref, publishedSubmissionId);
    correlationIds.push(published.correlationId);
    const value = published.value as Json;
    if (ref.kind !== 'addon') {
      publishedUnits = publishedUnitsOf(value[ref.kind === 'flight' ? 'flightPackages' : 'applicationPackages']);
      const rollout = (value.packageDeliveryOptions as Json | undefined)?.packageRollout as Json | undefined;
      rolloutInProgress =
        rollout?.isPackageRollout === true && rollout.packageRolloutStatus === 'PackageRolloutInProgress';
    }
    // The clone carries this price and the run sends it back: stop now if the Store cannot take it back.
    const pricing = value.pricing as Json | undefined;
    const refusal = checkPrice
      ? pricingRefusal(
          target.kind,
          ref.kind === 'addon' ? `add-on ${ref.inAppProductId}` : `app ${ref.applicationId}`,
          { submissionId: publishedSubmissionId, priceId: pricing?.priceId as string | null | undefined },
          manifestNamesPriceId,
        )
      : undefined;
    if (refusal) throw refusal;
  }

  return {
    product: ref,
    pendingSubmissionId,
    pendingMadeInPortal,
    pendingStatus,
    pendingTargetPublishMode,
    publishedSubmissionId,
    rolloutInProgress,
    created,
    appIdentity,
    publishedUnits,
    correlationIds,
  };
}

/** The flight of these that has this friendly name: the one resolveProduct uses, and findProduct. */
function flightNamed<T extends { friendlyName?: string }>(flights: T[], name: string): T | undefined {
  return byName(flights, (f) => f.friendlyName, name);
}

/** The add-on of this app with this productId: the one resolveProduct uses, and findProduct. */
function addonNamed<T extends { productId?: string; applications?: { value?: Array<{ id: string }> } }>(
  addons: T[],
  applicationId: string,
  productId: string,
): T | undefined {
  // productIds are unique per app only: another app's add-on with the same productId is not ours.
  const ofApp = addons.filter(
    (a) =>
      !a.applications?.value ||
      a.applications.value.some((app) => app.id.toUpperCase() === applicationId.toUpperCase()),
  );
  return byName(ofApp, (a) => a.productId, productId);
}

/** The Store calls that only read: what a preview may use (lib/storePreview.ts). */
export type ReadOnlyStore = Pick<StoreClient, 'getProduct' | 'getSubmission' | 'listFlights' | 'listInAppProducts'>;

/**
 * The product the manifest targets, as resolveProduct finds it, but read only: a flight or
 * add-on named by name that does not exist yet is not created; `creates` says a run would.
 */
export async function findProduct(
  store: ReadOnlyStore,
  target: Target,
): Promise<{ product?: ProductRef; creates?: 'flight' | 'addon'; correlationIds: string[] }> {
  if (target.kind === 'win32') throw new TypeError('a win32 target is not a product of the v1.0 submission API');
  const correlationIds: string[] = [];
  if (target.kind === 'app') return { product: { kind: 'app', applicationId: target.applicationId }, correlationIds };
  if (target.kind === 'flight') {
    if (target.flightId)
      return {
        product: { kind: 'flight', applicationId: target.applicationId, flightId: target.flightId },
        correlationIds,
      };
    const flights = await store.listFlights(target.applicationId).catch(refusedApp(target.applicationId));
    correlationIds.push(flights.correlationId);
    const found = flightNamed(flights.value, target.flight!.friendlyName);
    return found
      ? { product: { kind: 'flight', applicationId: target.applicationId, flightId: found.flightId }, correlationIds }
      : { creates: 'flight', correlationIds };
  }
  if (target.inAppProductId)
    return { product: { kind: 'addon', inAppProductId: target.inAppProductId }, correlationIds };
  const addons = await store.listInAppProducts();
  correlationIds.push(addons.correlationId);
  const found = addonNamed(addons.value, target.addon!.applicationId, target.addon!.productId);
  return found
    ? { product: { kind: 'addon', inAppProductId: found.id }, correlationIds }
    : { creates: 'addon', correlationIds };
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
    // A full answer clones the whole submission, which the Store has answered with a 500 for big
    // ones: StoreBroker and msstore-cli ask for the minimal answer and read the submission after
    // (StoreBroker ApplicationApi New-ApplicationSubmission, 1.19.0 for flights). The update step reads it.
    const created = await store.createSubmission(ref, { minimal: ref.kind !== 'addon' });
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

/**
 * The Store status of a submission. `othersSubmission`: the run follows a submission it did not
 * make (it waits for it), which someone may delete in Partner Center meanwhile: a 404 says it is gone.
 */
export async function pollStatus(
  store: StoreClient,
  ref: ProductRef,
  submissionId: string,
  othersSubmission = false,
): Promise<StatusPoll> {
  let result;
  try {
    result = await store.getSubmissionStatus(ref, submissionId);
  } catch (e) {
    if (othersSubmission && isStoreRequestError(e) && e.status === 404) {
      return { status: 'None', gone: true, correlationIds: e.correlationId ? [e.correlationId] : [] };
    }
    throw e;
  }
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
