import { config } from '../../lib/config';
import { StoreRequestError, UploadError } from '../../lib/errors';
import { APP_FUNCTION_TIMEOUT_MS, uploadSliceMs } from '../../lib/hostPlan';
import { registerSecret } from '../../lib/redact';
import type { BlobIdentity } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import type { ProductRef } from '../../lib/store/kinds';
import { blockDeadlineMs, uploadZip } from '../../lib/upload';
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
  /**
   * False: this call's time slice ended before every block was staged; nothing is committed and
   * the orchestration calls again (absent in outputs recorded before slices existed: complete).
   */
  complete?: boolean;
  /** Blocks this call staged. */
  stagedBlocks?: number;
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
    const options = {
      blockSizeBytes: c.upload.blockSizeBytes,
      method: c.upload.method,
      requestTimeoutMs: c.store.requestTimeoutMs,
    };
    // One call stays within the host's functionTimeout on every plan (lib/hostPlan.ts): it begins
    // blocks for one slice only, and the orchestration calls again for the rest.
    const slice = new AbortController();
    const sliceMs = uploadSliceMs(APP_FUNCTION_TIMEOUT_MS, blockDeadlineMs(options));
    const timer = setTimeout(() => slice.abort(), sliceMs);
    timer.unref();
    let result;
    try {
      result = await uploadZip({
        ...options,
        source,
        sourceEtag: input.blob.etag,
        destinationUrl,
        concurrency: c.upload.concurrency,
        sliceSignal: slice.signal,
        onProgress: (done, total) => {
          // A line per tenth keeps long uploads visible without flooding the log.
          if (total > 0 && done - lastReported >= total / 10) {
            lastReported = done;
            scope.log(`uploaded ${Math.round((done / total) * 100)}% (${done} of ${total} bytes)`);
          }
        },
      });
    } finally {
      clearTimeout(timer);
    }
    if (!result.complete) {
      if (result.stagedBlocks === 0) {
        throw new UploadError(
          `The upload staged no block within its ${Math.round(sliceMs / 1000)} s slice.`,
          'Timeout',
          true,
        );
      }
      scope.log(
        `upload slice over after ${result.durationMs} ms: ${result.stagedBlocks} blocks staged now, ${result.resumedBlocks} before, of ${result.blocks}; continuing in the next call`,
      );
    } else {
      scope.log(
        `upload done: ${result.bytes} bytes in ${result.blocks} blocks (${result.resumedBlocks} staged by an earlier call) by ${result.method} in ${result.durationMs} ms`,
      );
    }
    return { ...result, correlationIds: [submission.correlationId] };
  },
);
