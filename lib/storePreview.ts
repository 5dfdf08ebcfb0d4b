/**
 * What a zip would change against the Store, before anything is sent (POST /api/preview,
 * `store-submitter validate --against-store`): the product is found as a run finds it
 * (findProduct, the lookup of resolveProduct without its creates), the published submission is
 * read, and the manifest is merged onto it as the run merges it onto the Store's clone. Read
 * only by type: the Store client it takes has no call that writes.
 */
import { isInputError } from './errors';
import { isObject } from './json';
import { mergeSubmission, type Manifest } from './manifest';
import { readPackageInfo, storeArchitecture } from './package/identity';
import { previewChanges, type PackageFacts, type SubmissionPreview } from './preview';
import { findProduct, type ReadOnlyStore } from './storeSteps';
import { kindInfo, submissionIdIn, type ProductKind, type ProductRef } from './store/kinds';
import type { BlobZip } from './zip/blobZip';

type Json = Record<string, unknown>;

/** The largest zip POST /api/preview takes in its body: the Functions host's default request limit (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, 100 MiB). */
export const MAX_PREVIEW_ZIP_BYTES = 100 * 1024 * 1024;

export interface StorePreview {
  /** The product the zip targets; absent when a run would create it (`creates`). */
  product?: ProductRef;
  /** A flight or add-on named by name that does not exist yet: a run creates it; everything is new. */
  creates?: 'flight' | 'addon';
  publishedSubmissionId?: string;
  /** A pending submission a run would meet (options.pendingSubmission decides what it does). */
  pendingSubmissionId?: string;
  preview: SubmissionPreview;
  correlationIds: string[];
}

/** The package rollout of a new submission: none started, whatever the published one had. */
export const ROLLOUT_NOT_STARTED = Object.freeze({
  isPackageRollout: false,
  packageRolloutPercentage: 0,
  packageRolloutStatus: 'PackageRolloutNotStarted',
  fallbackSubmissionId: '0',
});

/**
 * The submission the Store creates from the published one: a deep copy whose files are all
 * `Uploaded` (store-fidelity.md, fileStatus) and whose package rollout has not started (as the
 * emulator's create answers, so a run's preview shows a published rollout going back unless
 * the manifest sets one). Store-managed fields (id, status, upload URL, friendly name) differ
 * too, and the preview leaves those out.
 */
export function storeClone(published: Json): Json {
  const copy = structuredClone(published);
  const delivery = copy.packageDeliveryOptions;
  if (isObject(delivery) && isObject(delivery.packageRollout)) delivery.packageRollout = { ...ROLLOUT_NOT_STARTED };
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (isObject(value)) {
      if (typeof value.fileStatus === 'string') value.fileStatus = 'Uploaded';
      Object.values(value).forEach(walk);
    }
  };
  walk(copy);
  return copy;
}

/** Version and architecture of the packages `proposed` adds, read from the zip; a package that cannot be read has none. */
export async function packageFactsIn(zip: BlobZip, kind: ProductKind, proposed: Json): Promise<PackageFacts> {
  const field = kindInfo(kind).packagesField;
  const list = field && Array.isArray(proposed[field]) ? (proposed[field] as Json[]) : [];
  const adding = list.filter((p) => p.fileStatus === 'PendingUpload').map((p) => String(p.fileName));
  const facts: PackageFacts = {};
  for (const file of adding) {
    const entry = zip.entries.find((e) => e.name === file || e.name === file.replace(/\\/g, '/'));
    if (!entry) continue;
    try {
      const info = await readPackageInfo(zip, entry.name);
      const units = info.units;
      facts[file] = {
        version: info.identity.version,
        ...(units.length
          ? { architecture: [...new Set(units.map((u) => storeArchitecture(u.architecture)))].join(', ') }
          : {}),
      };
    } catch (e) {
      // A package that is not one: the Store's own validation names what is wrong with it, at commit.
      if (!isInputError(e)) throw e;
    }
  }
  return facts;
}

/** The preview of `manifest` (read from `zip`) against the Store's published submission, with GET requests only. */
export async function previewAgainstStore(
  store: ReadOnlyStore,
  manifest: Manifest,
  zip: BlobZip,
): Promise<StorePreview> {
  const found = await findProduct(store, manifest.target);
  const correlationIds = [...found.correlationIds];
  const kind: ProductKind = found.product?.kind ?? (manifest.target.kind as ProductKind);
  let published: Json | undefined;
  let publishedSubmissionId: string | undefined;
  let pendingSubmissionId: string | undefined;
  if (found.product) {
    const info = kindInfo(found.product.kind);
    const product = await store.getProduct(found.product);
    correlationIds.push(product.correlationId);
    publishedSubmissionId = submissionIdIn(product.value, info.publishedField);
    pendingSubmissionId = submissionIdIn(product.value, info.pendingField);
    if (publishedSubmissionId) {
      const read = await store.getSubmission(found.product, publishedSubmissionId);
      correlationIds.push(read.correlationId);
      published = read.value;
    }
  }
  const proposed = mergeSubmission(kind, published ? storeClone(published) : {}, manifest, zip.entries);
  const preview = previewChanges(kind, published, proposed, await packageFactsIn(zip, kind, proposed));
  return {
    ...(found.product ? { product: found.product } : {}),
    ...(found.creates ? { creates: found.creates } : {}),
    ...(publishedSubmissionId ? { publishedSubmissionId } : {}),
    ...(pendingSubmissionId ? { pendingSubmissionId } : {}),
    preview,
    correlationIds,
  };
}
