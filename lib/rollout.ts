/**
 * Package rollouts of a published app or flight submission, read and changed on their own,
 * outside any run: the decisions (which request means which Store call) as plain functions,
 * and the two Store steps. lib/productRoute.ts reads the product from the route.
 *
 * The Store changes a rollout only on the published submission while the rollout is in
 * progress, and answers 409 otherwise (update-the-package-rollout-percentage-for-an-app-submission.md,
 * halt-the-package-rollout-for-an-app-submission.md, finalize-the-package-rollout-for-an-app-submission.md
 * in MicrosoftDocs/windows-dev-docs uwp/monetize/). Reading answers 200 on any submission,
 * with NotStarted values when it has no rollout (get-package-rollout-info-for-an-app-submission.md).
 */
import { isStoreRequestError } from './errors';
import type { StoreClient } from './store/client';
import { describeProduct, kindInfo, submissionIdIn, type ProductRef } from './store/kinds';
import type { PackageRollout } from './store/types';

/** What a POST asks for: a new percentage, a halt or a finalize. */
export type RolloutChange = { percentage: number } | { halt: true } | { finalize: true };

/** `NotStarted`, `InProgress`, `Stopped` or `Complete` (a string: the Store may add values). */
export type RolloutStatus = string;

/** A rollout as the API and the CLI show it. */
export interface RolloutView {
  product: ProductRef;
  /** The published submission the rollout belongs to. */
  submissionId: string;
  isPackageRollout: boolean;
  percentage: number;
  /** The Store's `packageRolloutStatus` without its `PackageRollout` prefix. */
  status: RolloutStatus;
  /** The submission customers outside the rollout get; `0` when there is none. */
  fallbackSubmissionId?: string;
  /** `MS-CorrelationId`s of the Store calls that read or changed it. */
  correlationIds: string[];
}

/** Why a request cannot be served; `status` is the HTTP status the API answers with. */
export class RolloutRequestError extends Error {
  override readonly name = 'RolloutRequestError';
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: string,
    message: string,
    readonly correlationId?: string,
  ) {
    super(message);
  }
}

/** The body of a POST: exactly one of `{"percentage": N}` (0 to 100), `{"halt": true}`, `{"finalize": true}`. */
export function rolloutChangeOf(body: unknown): RolloutChange {
  const usage = 'The body must be one of {"percentage": <0 to 100>}, {"halt": true} or {"finalize": true}.';
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new RolloutRequestError(400, 'InvalidBody', usage);
  const fields = Object.keys(body);
  if (fields.length !== 1) throw new RolloutRequestError(400, 'InvalidBody', usage);
  const record = body as Record<string, unknown>;
  if ('percentage' in record) {
    const value = record.percentage;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100)
      throw new RolloutRequestError(400, 'InvalidBody', `percentage must be a number from 0 to 100. ${usage}`);
    return { percentage: value };
  }
  if (record.halt === true) return { halt: true };
  if (record.finalize === true) return { finalize: true };
  throw new RolloutRequestError(400, 'InvalidBody', usage);
}

/** The change as a word for logs and timelines: `percentage 20`, `halt`, `finalize`. */
export function describeChange(change: RolloutChange): string {
  return 'percentage' in change ? `percentage ${change.percentage}` : 'halt' in change ? 'halt' : 'finalize';
}

export function rolloutStatusOf(rollout: PackageRollout | undefined): RolloutStatus {
  const raw = typeof rollout?.packageRolloutStatus === 'string' ? rollout.packageRolloutStatus : '';
  return raw.replace(/^PackageRollout/, '') || 'NotStarted';
}

function view(product: ProductRef, submissionId: string, rollout: PackageRollout, ids: string[]): RolloutView {
  return {
    product,
    submissionId,
    isPackageRollout: rollout.isPackageRollout === true,
    percentage: typeof rollout.packageRolloutPercentage === 'number' ? rollout.packageRolloutPercentage : 0,
    status: rolloutStatusOf(rollout),
    ...(typeof rollout.fallbackSubmissionId === 'string' ? { fallbackSubmissionId: rollout.fallbackSubmissionId } : {}),
    correlationIds: ids,
  };
}

/** The product's last published submission id; a 404 from the Store or no published submission is a 404 here. */
async function publishedSubmission(store: StoreClient, product: ProductRef, ids: string[]): Promise<string> {
  const found = await store.getProduct(product).catch((e: unknown) => {
    if (isStoreRequestError(e) && e.status === 404)
      throw new RolloutRequestError(404, 'ProductNotFound', `The Store has no ${describeProduct(product)}.`);
    throw e;
  });
  ids.push(found.correlationId);
  const id = submissionIdIn(found.value, kindInfo(product.kind).publishedField);
  if (!id)
    throw new RolloutRequestError(
      404,
      'NoPublishedSubmission',
      `The ${describeProduct(product)} has no published submission, so it has no package rollout.`,
    );
  return id;
}

/** The rollout of the product's published submission. */
export async function readRollout(store: StoreClient, product: ProductRef): Promise<RolloutView> {
  const ids: string[] = [];
  const submissionId = await publishedSubmission(store, product, ids);
  const answer = await store.getPackageRollout(product, submissionId);
  ids.push(answer.correlationId);
  return view(product, submissionId, answer.value ?? {}, ids);
}

/** The Store call a change is. */
export async function applyRolloutChange(
  store: StoreClient,
  product: ProductRef,
  submissionId: string,
  change: RolloutChange,
): Promise<{ value: PackageRollout; correlationId: string }> {
  if ('percentage' in change) return store.updatePackageRolloutPercentage(product, submissionId, change.percentage);
  if ('halt' in change) return store.haltPackageRollout(product, submissionId);
  return store.finalizePackageRollout(product, submissionId);
}

/**
 * Changes the rollout of the product's published submission. The Store's 409 (nothing in
 * progress: not rolled out gradually, halted or finalized) becomes a 409 that says so, with
 * the rollout as it is.
 */
export async function changeRollout(
  store: StoreClient,
  product: ProductRef,
  change: RolloutChange,
): Promise<RolloutView> {
  const ids: string[] = [];
  const submissionId = await publishedSubmission(store, product, ids);
  try {
    const answer = await applyRolloutChange(store, product, submissionId, change);
    ids.push(answer.correlationId);
    // The Store's answer is the rollout after the change; an empty one is read back.
    if (answer.value && typeof answer.value.packageRolloutStatus === 'string')
      return view(product, submissionId, answer.value, ids);
    const read = await store.getPackageRollout(product, submissionId);
    ids.push(read.correlationId);
    return view(product, submissionId, read.value ?? {}, ids);
  } catch (e) {
    if (!isStoreRequestError(e) || e.status !== 409) throw e;
    const now = await store.getPackageRollout(product, submissionId).catch(() => undefined);
    const status = now ? rolloutStatusOf(now.value) : 'unknown';
    throw new RolloutRequestError(
      409,
      'RolloutNotInProgress',
      `The Store refused to ${describeChange(change)} the package rollout of submission ${submissionId} of the ${describeProduct(product)}: ` +
        `only a rollout in progress can be changed, and this one is ${status}${now && now.value?.isPackageRollout !== true ? ' (the submission was not rolled out gradually)' : ''}.`,
      e.correlationId,
    );
  }
}
