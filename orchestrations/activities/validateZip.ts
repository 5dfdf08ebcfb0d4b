import { readSubmissionZip } from '../../lib/manifest';
import type { BlobIdentity, ValidatedZip } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import { config } from '../../lib/config';
import { kindInfo } from '../../lib/store/kinds';
import { pendingUploads, mergeSubmission } from '../../lib/manifest';
import { defineActivity, type ActivityInput } from './activity';

export interface ValidateZipInput extends ActivityInput {
  blob: BlobIdentity;
  overrides?: unknown;
}

/** Reads the zip's central directory and manifest with range reads pinned to the run's ETag, and validates both. */
export async function validateZipStep(input: ValidateZipInput): Promise<ValidatedZip> {
  const blob = blobServiceFor(config().submissionsStorage).getContainerClient(input.blob.container).getBlobClient(input.blob.name);
  const { manifest, entries, stats } = await readSubmissionZip(blob, input.blob.etag, input.overrides);
  // Merging onto an empty clone shows which package files the submission will add.
  const preview = mergeSubmission(manifest.target.kind, {}, manifest, entries);
  const packagesField = kindInfo(manifest.target.kind).packagesField;
  return {
    target: manifest.target,
    options: manifest.options,
    size: entries.length === 0 ? 0 : stats.bytes,
    entryCount: entries.length,
    packageFiles: packagesField ? pendingUploads(manifest.target.kind, preview).filter((f) => /\.(msix|appx)(bundle|upload)?$/i.test(f)) : [],
    readStats: stats,
  };
}

export const validateZip = defineActivity('validateZip', async (input: ValidateZipInput, scope) => {
  const result = await validateZipStep(input);
  scope.log(`manifest valid: ${result.target.kind}, ${result.entryCount} entries, read in ${result.readStats.requests} requests / ${result.readStats.bytes} bytes`);
  return result;
});
