import { config } from '../../lib/config';
import { readingInput } from '../../lib/errors';
import {
  isPackageFileName,
  MANIFEST_NAME,
  mergeSubmission,
  pendingUploads,
  readSubmissionZip,
} from '../../lib/manifest';
import type { BlobIdentity, ValidatedZip } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import { defineActivity, type ActivityInput } from './activity';

export interface ValidateZipInput extends ActivityInput {
  blob: BlobIdentity;
  overrides?: unknown;
}

/**
 * Reads the zip's central directory and manifest with range reads pinned to the run's
 * ETag, and validates both, before anything touches the Store.
 */
export async function validateZipStep(input: ValidateZipInput): Promise<ValidatedZip> {
  const blob = blobServiceFor(config().submissionsStorage)
    .getContainerClient(input.blob.container)
    .getBlobClient(input.blob.name);
  const { manifest, entries, stats } = await readSubmissionZip(blob, input.blob.etag, input.overrides);
  // Merging onto an empty clone tells which files the submission will upload.
  const files = readingInput(MANIFEST_NAME, () =>
    pendingUploads(manifest.target.kind, mergeSubmission(manifest.target.kind, {}, manifest, entries)),
  );
  return {
    target: manifest.target,
    options: manifest.options,
    entryCount: entries.length,
    packageFiles: files.filter(isPackageFileName),
    readStats: stats,
  };
}

export const validateZip = defineActivity('validateZip', async (input: ValidateZipInput, scope) => {
  const result = await validateZipStep(input);
  scope.log(
    `manifest valid: ${result.target.kind}, ${result.entryCount} entries, ${result.packageFiles.length} packages;` +
      ` read in ${result.readStats.requests} requests / ${result.readStats.bytes} bytes`,
  );
  return result;
});
