import { config } from '../../lib/config';
import { filesToUpload, readSubmission, SUBMISSION_ZIP_LIMITS } from '../../lib/manifest';
import { highestPackageVersion } from '../../lib/package/identity';
import type { BlobIdentity, ValidatedZip } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import { openBlobZip } from '../../lib/zip/blobZip';
import { defineActivity, type ActivityInput } from './activity';

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export interface ValidateZipInput extends ActivityInput {
  blob: BlobIdentity;
  overrides?: unknown;
}

/**
 * Reads the zip's central directory and manifest with range reads pinned to the run's
 * ETag, and validates both, before anything touches the Store; then the version of the
 * packages it will upload, which decides whether a newer release supersedes this one.
 */
export async function validateZipStep(input: ValidateZipInput): Promise<ValidatedZip> {
  const blob = blobServiceFor(config().submissionsStorage)
    .getContainerClient(input.blob.container)
    .getBlobClient(input.blob.name);
  const zip = await openBlobZip(blob, input.blob.etag, SUBMISSION_ZIP_LIMITS);
  const { manifest, entries } = await readSubmission(zip, input.overrides);
  const files = filesToUpload(manifest, entries);
  const packageFiles = files.packages;
  // MSI/EXE installers carry no MSIX package identity: a win32 run has no release version to compare.
  const packageVersion = manifest.target.kind === 'win32' ? undefined : await highestPackageVersion(zip, packageFiles);
  return {
    target: manifest.target,
    options: manifest.options,
    entryCount: entries.length,
    packageFiles,
    ...(packageVersion ? { packageVersion } : {}),
    namesPriceId: isObject(manifest.submission.pricing) && manifest.submission.pricing.priceId !== undefined,
    readStats: { ...zip.stats },
  };
}

export const validateZip = defineActivity('validateZip', async (input: ValidateZipInput, scope) => {
  const result = await validateZipStep(input);
  scope.log(
    `manifest valid: ${result.target.kind}, ${result.entryCount} entries, ${result.packageFiles.length} packages` +
      `${result.packageVersion ? ` (version ${result.packageVersion})` : ''};` +
      ` read in ${result.readStats.requests} requests / ${result.readStats.bytes} bytes`,
  );
  return result;
});
