import { config } from '../../lib/config';
import { SUBMISSION_ZIP_LIMITS } from '../../lib/manifest';
import { boundPreview, previewChanges, type PackageFacts, type SubmissionPreview } from '../../lib/preview';
import type { BlobIdentity } from '../../lib/run';
import { blobServiceFor, reportsContainer } from '../../lib/storage';
import { packageFactsIn } from '../../lib/storePreview';
import { kindInfo, type ProductRef } from '../../lib/store/kinds';
import { openBlobZip } from '../../lib/zip/blobZip';
import { defineActivity, type ActivityInput } from './activity';

export interface PreviewInput extends ActivityInput {
  blob: BlobIdentity;
  product: ProductRef;
  submissionId: string;
  /** The product's published submission, the one the preview compares against; none for a first submission. */
  publishedSubmissionId?: string;
}

/** Where the whole preview waits for the report: beside it, under the zip's name. */
export function previewBlobName(zipName: string, instanceId: string): string {
  return `${zipName}/${instanceId}.preview.json`;
}

/**
 * Compares the updated submission, as the Store now holds it, with the published one. The
 * whole preview goes to a blob beside the report (the report then carries it); the run's
 * status gets its first changes, up to PREVIEW_STATUS_UTF16_BYTES of UTF-16.
 */
export const previewSubmission = defineActivity(
  'previewSubmission',
  async (
    input: PreviewInput,
    scope,
  ): Promise<{ preview: SubmissionPreview; previewBlob: string; correlationIds: string[] }> => {
    const store = scope.store();
    const proposed = await store.getSubmission(input.product, input.submissionId);
    const published = input.publishedSubmissionId
      ? await store.getSubmission(input.product, input.publishedSubmissionId)
      : undefined;
    const facts = await packageFacts(input, proposed.value);
    const full = previewChanges(input.product.kind, published?.value, proposed.value, facts);
    const name = previewBlobName(input.blob.name, input.instanceId);
    const reports = reportsContainer();
    await reports.createIfNotExists();
    const body = JSON.stringify(full, null, 2);
    await reports.getBlockBlobClient(name).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json; charset=utf-8' },
    });
    scope.log(
      `submission ${input.submissionId} against ${input.publishedSubmissionId ?? 'nothing published'}: ${full.changes.length} change(s), in ${config().reportsContainer}/${name}`,
    );
    return {
      preview: boundPreview(full),
      previewBlob: name,
      correlationIds: [proposed.correlationId, ...(published ? [published.correlationId] : [])],
    };
  },
);

/** Version and architecture of the packages the submission adds, read from the zip (only opened when it adds some). */
async function packageFacts(input: PreviewInput, proposed: Record<string, unknown>): Promise<PackageFacts> {
  const field = kindInfo(input.product.kind).packagesField;
  const list = field && Array.isArray(proposed[field]) ? (proposed[field] as Array<Record<string, unknown>>) : [];
  if (!list.some((p) => p.fileStatus === 'PendingUpload')) return {};
  const blob = blobServiceFor(config().submissionsStorage)
    .getContainerClient(input.blob.container)
    .getBlobClient(input.blob.name);
  return packageFactsIn(await openBlobZip(blob, input.blob.etag, SUBMISSION_ZIP_LIMITS), input.product.kind, proposed);
}
