import { config } from '../../lib/config';
import { mergeSubmission, pendingUploads, readSubmissionZip } from '../../lib/manifest';
import type { BlobIdentity, UpdatedSubmission } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import type { ProductRef } from '../../lib/store/kinds';
import { countFileStatus } from '../../lib/storeSteps';
import { defineActivity, type ActivityInput } from './activity';

export interface UpdateInput extends ActivityInput {
  blob: BlobIdentity;
  overrides?: unknown;
  product: ProductRef;
  submissionId: string;
}

/**
 * Merges the manifest onto the Store's clone and PUTs it back. The manifest is read again
 * from the pinned blob rather than carried through the orchestration history.
 */
export const updateSubmission = defineActivity(
  'updateSubmission',
  async (input: UpdateInput, scope): Promise<UpdatedSubmission & { targetPublishMode?: string }> => {
    const store = scope.store();
    const blob = blobServiceFor(config().submissionsStorage)
      .getContainerClient(input.blob.container)
      .getBlobClient(input.blob.name);
    const { manifest, entries } = await readSubmissionZip(blob, input.blob.etag, input.overrides);
    const current = await store.getSubmission(input.product, input.submissionId);
    const merged = mergeSubmission(input.product.kind, current.value, manifest, entries);
    const updated = await store.updateSubmission(input.product, input.submissionId, merged);
    const pending = pendingUploads(input.product.kind, merged);
    const deletes = countFileStatus(merged, 'PendingDelete');
    const listings = (merged.listings ?? {}) as Record<string, unknown>;
    scope.log(
      `submission ${input.submissionId} updated: ${pending.length} files to upload, ${deletes} marked for deletion`,
    );
    return {
      pendingUploads: pending.length,
      pendingDeletes: deletes,
      languages: Object.keys(listings),
      targetPublishMode:
        typeof updated.value.targetPublishMode === 'string' ? updated.value.targetPublishMode : undefined,
      correlationIds: [current.correlationId, updated.correlationId],
    };
  },
);
