import { config } from '../../lib/config';
import { StoreRequestError } from '../../lib/errors';
import { registerSecret } from '../../lib/redact';
import type { BlobIdentity } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import type { ProductRef } from '../../lib/store/kinds';
import { uploadZip } from '../../lib/upload';
import { defineActivity, type ActivityInput } from './activity';

export interface UploadInput extends ActivityInput {
  blob: BlobIdentity;
  product: ProductRef;
  submissionId: string;
}

export interface UploadSummary {
  bytes: number;
  blocks: number;
  /** Blocks an earlier attempt had staged, not sent again. */
  resumedBlocks: number;
  method: string;
  probe?: string;
  durationMs: number;
  correlationIds: string[];
}

/**
 * Copies the zip from the user's container to the submission's upload URL. The URL is a
 * SAS (a secret): it is fetched here, used here and never leaves this activity.
 */
export const uploadPackageZip = defineActivity(
  'uploadPackageZip',
  async (input: UploadInput, scope): Promise<UploadSummary> => {
    const c = config();
    const submission = await scope.store().getSubmission(input.product, input.submissionId);
    const destinationUrl = submission.value.fileUploadUrl;
    if (typeof destinationUrl !== 'string' || !destinationUrl) {
      throw new StoreRequestError(
        `Submission ${input.submissionId} has no fileUploadUrl; it cannot receive files through the API.`,
        {
          code: 'NoUploadUrl',
          correlationId: submission.correlationId,
          retriable: false,
        },
      );
    }
    registerSecret(destinationUrl);
    const source = blobServiceFor(c.submissionsStorage)
      .getContainerClient(input.blob.container)
      .getBlobClient(input.blob.name);
    let lastReported = 0;
    const result = await uploadZip({
      source,
      sourceEtag: input.blob.etag,
      destinationUrl,
      blockSizeBytes: c.upload.blockSizeBytes,
      concurrency: c.upload.concurrency,
      method: c.upload.method,
      requestTimeoutMs: c.store.requestTimeoutMs,
      onProgress: (done, total) => {
        // A line per tenth keeps long uploads visible without flooding the log.
        if (total > 0 && done - lastReported >= total / 10) {
          lastReported = done;
          scope.log(`uploaded ${Math.round((done / total) * 100)}% (${done} of ${total} bytes)`);
        }
      },
    });
    scope.log(
      `upload done: ${result.bytes} bytes in ${result.blocks} blocks (${result.resumedBlocks} staged by an earlier attempt) by ${result.method} in ${result.durationMs} ms`,
    );
    return { ...result, correlationIds: [submission.correlationId] };
  },
);
