import { config } from '../../lib/config';
import { InputError, readingInput } from '../../lib/errors';
import {
  isPackageFileName,
  MANIFEST_NAME,
  mergeSubmission,
  pendingUploads,
  readSubmission,
  SUBMISSION_ZIP_LIMITS,
} from '../../lib/manifest';
import { compareVersions, readPackageInfo } from '../../lib/package/identity';
import type { BlobIdentity, ValidatedZip } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import { openBlobZip, type BlobZip } from '../../lib/zip/blobZip';
import { defineActivity, type ActivityInput } from './activity';

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
  // Merging onto an empty clone tells which files the submission will upload.
  const files = readingInput(MANIFEST_NAME, () =>
    pendingUploads(manifest.target.kind, mergeSubmission(manifest.target.kind, {}, manifest, entries)),
  );
  const packageFiles = files.filter(isPackageFileName);
  const packageVersion = await highestPackageVersion(zip, packageFiles);
  return {
    target: manifest.target,
    options: manifest.options,
    entryCount: entries.length,
    packageFiles,
    ...(packageVersion ? { packageVersion } : {}),
    readStats: { ...zip.stats },
  };
}

/**
 * The highest identity version among the packages (a package's or a bundle's `Identity/@Version`).
 * A package whose identity cannot be read gives the run no version: it is then only never
 * superseded, and the Store's own package validation refuses the file (PackageValidationFailed).
 * Storage failures (the zip changed or went) pass through.
 */
async function highestPackageVersion(zip: BlobZip, packageFiles: string[]): Promise<string | undefined> {
  let highest: string | undefined;
  for (const file of packageFiles) {
    let version: string;
    try {
      version = (await readPackageInfo(zip, file)).identity.version;
    } catch (e) {
      if (e instanceof InputError) return undefined;
      throw e;
    }
    if (!highest || compareVersions(version, highest) > 0) highest = version;
  }
  return highest;
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
