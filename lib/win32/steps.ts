/**
 * The Store steps of a win32 run, each a call or a few on the MSI/EXE client, with what makes
 * them safe to repeat: the Durable host may run an activity again after it succeeded, and the
 * API's packages commit, asset create and submit are not idempotent.
 *
 * Nothing returned from here holds a URL: package URLs carry a SAS (ours or an earlier run's),
 * asset upload URLs the Store's. What the orchestration sees is ids, counts, languages, statuses.
 */
import { BlockBlobClient } from '@azure/storage-blob';
import { isStoreRequestError, StoreRequestError, UploadError } from '../errors';
import { redact } from '../redact';
import { fixUploadUrl } from '../upload';
import { SUBMISSION_IN_PROGRESS, SubmissionInProgressError, type Win32StoreClient } from '../store/win32Client';
import type {
  Win32LanguageAssets,
  Win32Listing,
  Win32Metadata,
  Win32NewAsset,
  Win32Package,
  Win32PublishingStatus,
  Win32ResponseError,
} from '../store/win32Types';

/** The code a module status error has when the Store could not download a package (documented, D samples). */
export const PACKAGE_UPLOAD_ERROR = 'packageuploaderror';

/** What a run keeps of the draft before changing it, to put it back if the run cannot finish. */
export interface DraftSnapshot {
  productId: string;
  takenAt: string;
  packages: Win32Package[];
  properties: Record<string, unknown>;
  availability: Record<string, unknown>;
  listings: Win32Listing[];
  assets: Win32LanguageAssets[];
}

export interface DraftState {
  isReady: boolean;
  /** The submission in progress, when there is one. */
  ongoingSubmissionId?: string;
  /** Module status errors, as `code: message` (package upload errors name the URL without its query). */
  errors: Array<{ code: string; details: string }>;
  correlationIds: string[];
}

export interface DraftView extends DraftState {
  languages: string[];
  packageCount: number;
}

function errorsOf(errors: Win32ResponseError[]): Array<{ code: string; details: string }> {
  return errors.map((e) => ({ code: e.code, details: redact(e.target ? `${e.target}: ${e.message}` : e.message) }));
}

/** The module status: readiness, the submission in progress, errors. */
export async function draftState(client: Win32StoreClient, productId: string): Promise<DraftState> {
  const status = await client.getModuleStatus(productId);
  return {
    isReady: status.value.isReady,
    ongoingSubmissionId: status.value.ongoingSubmissionId || undefined,
    errors: errorsOf(status.errors),
    correlationIds: [status.correlationId],
  };
}

/** Reads the draft; returns what the orchestration may know of it, and the full draft to keep aside. */
export async function readDraft(
  client: Win32StoreClient,
  productId: string,
): Promise<{ view: DraftView; snapshot: DraftSnapshot }> {
  const state = await draftState(client, productId);
  const packages = await client.getPackages(productId);
  const metadata = await client.getMetadata(productId, { includeLanguageList: true });
  const assets = await client.getListingAssets(productId);
  const listings = metadata.value.listings ?? [];
  return {
    view: {
      ...state,
      languages: listings.map((l) => l.language.toLowerCase()),
      packageCount: packages.value.length,
      correlationIds: [...state.correlationIds, packages.correlationId, metadata.correlationId, assets.correlationId],
    },
    snapshot: {
      productId,
      takenAt: new Date().toISOString(),
      packages: packages.value,
      properties: metadata.value.properties ?? {},
      availability: metadata.value.availability ?? {},
      listings,
      assets: assets.value,
    },
  };
}

/** A full package set for PUT: the Store gives every package a new id, so ids are left out. */
export function withoutIds(packages: Win32Package[]): Win32Package[] {
  return packages.map(({ packageId: _id, ...rest }) => rest);
}

export async function putPackages(
  client: Win32StoreClient,
  productId: string,
  packages: Win32Package[],
): Promise<string[]> {
  const result = await client.updatePackages(productId, withoutIds(packages));
  return [result.correlationId];
}

/**
 * Commits the package changes. A commit answered with an error may have started the Store's
 * download: then a second commit meets modules that are not ready, which the status confirms,
 * and that is the commit having taken.
 */
export async function commitPackagesOrConfirm(client: Win32StoreClient, productId: string): Promise<string[]> {
  try {
    return [(await client.commitPackages(productId)).correlationId];
  } catch (e) {
    if (!isStoreRequestError(e) || e.code === SUBMISSION_IN_PROGRESS) throw e;
    const refusedInA200 = e.status !== undefined && e.status >= 200 && e.status < 300;
    if (!e.retriable && !refusedInA200) throw e;
    const state = await draftState(client, productId);
    const ids = [e.correlationId, ...state.correlationIds].filter((c): c is string => !!c);
    if (state.ongoingSubmissionId) throw inProgress(state.ongoingSubmissionId, e);
    if (!state.isReady && !state.errors.some((x) => x.code === PACKAGE_UPLOAD_ERROR)) return ids;
    throw e;
  }
}

function inProgress(ongoing: string, cause: StoreRequestError): SubmissionInProgressError {
  return new SubmissionInProgressError(
    `Submission ${ongoing} is in progress; the draft cannot change until it is published or has failed.`,
    ongoing,
    { code: SUBMISSION_IN_PROGRESS, status: cause.status, correlationId: cause.correlationId, retriable: false },
  );
}

/**
 * A refusal of a change, read back against the module status: the Store's codes for "in progress"
 * and "not ready" are not documented, the status is. Not ready is worth a retry once the modules
 * are; in progress is for the orchestration to decide on.
 */
export async function explainRefusal(client: Win32StoreClient, productId: string, e: unknown): Promise<never> {
  if (!isStoreRequestError(e) || e.code === SUBMISSION_IN_PROGRESS) throw e;
  const refusedInA200 = e.status !== undefined && e.status >= 200 && e.status < 300;
  if (!refusedInA200) throw e;
  const state = await draftState(client, productId);
  if (state.ongoingSubmissionId) throw inProgress(state.ongoingSubmissionId, e);
  if (!state.isReady) {
    throw new StoreRequestError(`${e.message} The draft's modules are not ready yet; trying again once they are.`, {
      code: 'ModulesNotReady',
      status: e.status,
      correlationId: e.correlationId,
      retriable: true,
      storeErrors: e.storeErrors,
    });
  }
  throw e;
}

/** One change of the draft, its refusal explained. */
export async function change(
  client: Win32StoreClient,
  productId: string,
  call: () => Promise<{ correlationId: string }>,
): Promise<string[]> {
  try {
    return [(await call()).correlationId];
  } catch (e) {
    return explainRefusal(client, productId, e);
  }
}

/** The listing of one language: PATCH with only the fields given; a language the draft lacks is added in the same call. */
export function listingUpdate(
  language: string,
  fields: Record<string, unknown>,
  add: boolean,
): Parameters<Win32StoreClient['patchMetadata']>[1] {
  return { listings: { ...fields, language }, ...(add ? { listingsToAdd: [language] } : {}) };
}

export interface ListingImages {
  language: string;
  screenshots?: Buffer[];
  storeLogos?: Buffer[];
}

/**
 * Replaces the screenshots and/or logos of a language with the images given: new asset slots,
 * each image PUT to its upload URL, then one commit naming the new ids (a type not given is left
 * out of the commit and keeps its images). Asset slots of an attempt that failed are never
 * committed, so they are dropped by the Store; a retry makes new ones.
 */
export async function replaceImages(
  client: Win32StoreClient,
  productId: string,
  images: ListingImages,
): Promise<string[]> {
  const screenshots = images.screenshots ?? [];
  const logos = images.storeLogos ?? [];
  const ids: string[] = [];
  const created = await client
    .createListingAssets(productId, images.language, { screenshots: screenshots.length, logos: logos.length })
    .catch((e: unknown) => explainRefusal(client, productId, e));
  ids.push(created.correlationId);
  const slots = { screenshots: created.value.screenshots, storeLogos: created.value.storeLogos };
  if (slots.screenshots.length !== screenshots.length || slots.storeLogos.length !== logos.length) {
    throw new StoreRequestError(
      `The Store made ${slots.screenshots.length} screenshot and ${slots.storeLogos.length} logo slots for ${images.language}, not the ${screenshots.length} and ${logos.length} asked for.`,
      { code: 'InvalidResponse', correlationId: created.correlationId, retriable: true },
    );
  }
  const pairs: Array<[Win32NewAsset, Buffer]> = [
    ...slots.screenshots.map((s, i): [Win32NewAsset, Buffer] => [s, screenshots[i]!]),
    ...slots.storeLogos.map((s, i): [Win32NewAsset, Buffer] => [s, logos[i]!]),
  ];
  for (const [slot, data] of pairs) await uploadImage(slot, data);
  const commit: Parameters<Win32StoreClient['commitListingAssets']>[1] = { language: images.language };
  if (images.screenshots)
    commit.screenshots = slots.screenshots.map((s) => ({ id: s.id, assetUrl: s.primaryAssetUploadUrl }));
  if (images.storeLogos)
    commit.storeLogos = slots.storeLogos.map((s) => ({ id: s.id, assetUrl: s.primaryAssetUploadUrl }));
  ids.push(...(await change(client, productId, () => client.commitListingAssets(productId, commit))));
  return ids;
}

/**
 * Puts a language's images back as the snapshot had them. A commit removes the images it
 * replaces ("previously uploaded Assets will be removed"), so the old ones cannot be named again:
 * each is fetched from its public `assetUrl` and uploaded anew, in the same order.
 */
export async function restoreImages(
  client: Win32StoreClient,
  productId: string,
  before: Win32LanguageAssets,
  kinds: Array<'screenshots' | 'storeLogos'> = ['screenshots', 'storeLogos'],
): Promise<string[]> {
  const images: ListingImages = { language: before.language };
  for (const kind of kinds) images[kind] = await Promise.all(before[kind].map((a) => fetchImage(a.assetUrl)));
  return replaceImages(client, productId, images);
}

async function fetchImage(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  } catch (e) {
    throw new UploadError(`Fetching a published image back failed: ${(e as Error).message}.`, 'ImageFetchFailed', true);
  }
  if (!response.ok)
    throw new UploadError(
      `Fetching a published image back failed: HTTP ${response.status}.`,
      'ImageFetchFailed',
      response.status >= 500,
    );
  return Buffer.from(await response.arrayBuffer());
}

/** "Put Blob" of one image to its upload URL, with the headers the Store asks for. */
async function uploadImage(slot: Win32NewAsset, data: Buffer): Promise<void> {
  const method = (slot.httpMethod || 'PUT').toUpperCase();
  if (method !== 'PUT')
    throw new StoreRequestError(`The Store asks for an image upload by ${method}; only PUT (Put Blob) is known.`, {
      code: 'InvalidResponse',
      retriable: false,
    });
  const url = fixUploadUrl(slot.primaryAssetUploadUrl);
  try {
    await new BlockBlobClient(url).upload(data, data.length, { blobHTTPHeaders: { blobContentType: 'image/png' } });
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    const retriable = status === undefined || status >= 500 || status === 408 || status === 429;
    throw new UploadError(
      `Uploading an image to the Store's asset URL failed: ${status ?? 'no answer'}${retriable ? '' : ' (the upload URL was refused; it may have expired)'}.`,
      retriable ? 'AssetUploadFailed' : 'AssetUploadRefused',
      retriable,
      status,
    );
  }
}

/**
 * Creates the submission from the draft. Submit is not idempotent and a failure may hide a
 * success, so after an ambiguous failure the module status is read: a submission in progress
 * that was not there before (`before`) is the one this call made, and is adopted.
 */
export async function submitOrAdopt(
  client: Win32StoreClient,
  productId: string,
  before: string | undefined,
): Promise<{ submissionId: string; adopted: boolean; correlationIds: string[] }> {
  try {
    const result = await client.submit(productId);
    return { submissionId: result.value.submissionId, adopted: false, correlationIds: [result.correlationId] };
  } catch (e) {
    if (!isStoreRequestError(e)) throw e;
    if (e instanceof SubmissionInProgressError && e.ongoingSubmissionId === before) throw e;
    const ambiguous = e.retriable || e.code === SUBMISSION_IN_PROGRESS;
    if (!ambiguous) return explainRefusal(client, productId, e);
    const state = await draftState(client, productId);
    const ids = [e.correlationId, ...state.correlationIds].filter((c): c is string => !!c);
    if (state.ongoingSubmissionId && state.ongoingSubmissionId !== before)
      return { submissionId: state.ongoingSubmissionId, adopted: true, correlationIds: ids };
    throw e;
  }
}

export interface SubmissionPoll {
  publishingStatus: Win32PublishingStatus;
  hasFailed: boolean;
  errors: Array<{ code: string; details: string }>;
  correlationIds: string[];
}

export async function submissionStatus(
  client: Win32StoreClient,
  productId: string,
  submissionId: string,
): Promise<SubmissionPoll> {
  const result = await client.getSubmissionStatus(productId, submissionId);
  return { ...result.value, errors: errorsOf(result.errors), correlationIds: [result.correlationId] };
}

/** The language codes the draft's metadata lists, lower-case. */
export function languagesOf(metadata: Win32Metadata): string[] {
  return (metadata.listings ?? []).map((l) => l.language.toLowerCase());
}
