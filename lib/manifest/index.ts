/**
 * The manifest (submission.json) of a submission zip: reading it from the blob, validating it
 * against the zip, and merging it onto the Store's cloned submission.
 */
import type { BlobClient } from '@azure/storage-blob';
import { InputError, readingInput } from '../errors';
import { BlobZip, openBlobZip, ReadStats, ZipEntryInfo, type ZipLimits } from '../zip/blobZip';
import { displayName } from '../zip/format';
import { win32ContentProblems } from '../win32/content';
import { win32Uploads } from '../win32/manifest';
import { mergeSubmission, pendingUploads } from './merge';
import { decodeManifest, JsonSyntaxError, parseJson } from './text';
import { isPackageFileName, MANIFEST_NAME, Manifest, MAX_MANIFEST_BYTES } from './types';
import { validateManifest } from './validate';

export type {
  AddonSpec,
  AddonTarget,
  AppTarget,
  FlightSpec,
  FlightTarget,
  Manifest,
  ManifestOptions,
  Target,
  TargetKind,
  Win32Target,
} from './types';
export {
  DEFAULT_OPTIONS,
  INSTALLER_EXTENSIONS,
  isInstallerFileName,
  isPackageFileName,
  MANIFEST_NAME,
  MAX_MANIFEST_BYTES,
  MAX_PACKAGES,
  PACKAGE_EXTENSIONS,
  packagesKey,
  zipPath,
} from './types';
export { mergeSubmission, pendingUploads } from './merge';
/** `fieldPath('submission.listings', 'en-us')`: field paths as problems name them. */
export { join as fieldPath, SUBMISSION_SCHEMA } from './schema';
/** Decodes a text file a person wrote as the manifest is decoded: UTF-8, or UTF-16 with its byte order mark. */
export { decodeManifest as decodeText } from './text';
export { fileReferences, START_REQUEST, validateManifest, validateOptions } from './validate';

/**
 * The bytes of a JSON file a person wrote beside the manifest (the CLI's store.json) as a value,
 * or why they are not one, in the manifest's words: the encoding, or the line and column where
 * the JSON breaks (a duplicate key too).
 */
export function parseJsonFile(bytes: Buffer): { value: unknown } | { error: string } {
  const decoded = decodeManifest(bytes);
  if ('error' in decoded) return { error: decoded.error };
  try {
    return { value: parseJson(decoded.text) };
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { error: e.message };
  }
}

/** How a submission zip is opened: the manifest is judged by its own size limit, not as a bomb. */
export const SUBMISSION_ZIP_LIMITS: Partial<ZipLimits> = { entryLimits: { [MANIFEST_NAME]: MAX_MANIFEST_BYTES } };

/**
 * What a run takes from the zip, as zip entry paths: the packages (installers, for win32) and the
 * other files (images, icons, trailers).
 */
export function filesToUpload(manifest: Manifest, entries: ZipEntryInfo[]): { packages: string[]; others: string[] } {
  if (manifest.target.kind === 'win32') {
    const { installers, images } = win32Uploads(manifest);
    return { packages: installers, others: images };
  }
  // Merging onto an empty clone tells which files the submission will upload.
  const all = readingInput(MANIFEST_NAME, () =>
    pendingUploads(manifest.target.kind, mergeSubmission(manifest.target.kind, {}, manifest, entries)),
  );
  return { packages: all.filter(isPackageFileName), others: all.filter((f) => !isPackageFileName(f)) };
}

/** openBlobZip + read submission.json + validateManifest: the one call the pipeline makes. */
export async function readSubmissionZip(
  blob: BlobClient,
  etag: string,
  overrides?: unknown,
): Promise<{ manifest: Manifest; entries: ZipEntryInfo[]; stats: ReadStats }> {
  return readSubmission(await openBlobZip(blob, etag, SUBMISSION_ZIP_LIMITS), overrides);
}

/** The checks of `readSubmissionZip` over a zip opened from any source (the CLI's local file). */
export async function readSubmission(
  zip: BlobZip,
  overrides?: unknown,
): Promise<{ manifest: Manifest; entries: ZipEntryInfo[]; stats: ReadStats }> {
  const entry = zip.entries.find((e) => e.name === MANIFEST_NAME);
  if (!entry || entry.directory) {
    throw new InputError([{ file: MANIFEST_NAME, message: missingManifest(zip.entries) }], 'InvalidManifest');
  }
  const bytes = await zip.readEntryText(MANIFEST_NAME, MAX_MANIFEST_BYTES);
  const manifest = readingInput(MANIFEST_NAME, () => validateManifest(bytes, zip.entries, overrides));
  if (manifest.target.kind === 'win32') {
    const problems = await win32ContentProblems(zip, manifest);
    if (problems.length) throw new InputError(problems, 'InvalidManifest');
  }
  return { manifest, entries: zip.entries, stats: { ...zip.stats } };
}

function missingManifest(entries: ZipEntryInfo[]): string {
  const base = `is not at the root of the zip; add a ${MANIFEST_NAME} that names the target (see lib/manifest/submission.schema.json)`;
  const near = entries.find((e) => !e.directory && e.name.toLowerCase().endsWith(MANIFEST_NAME));
  if (!near) return entries.length ? base : `is missing: the zip is empty; ${base.slice(base.indexOf('add'))}`;
  if (near.name.toLowerCase() === MANIFEST_NAME)
    return `is missing; the zip has "${displayName(near.name)}" (the name must be lower-case ${MANIFEST_NAME})`;
  return `is not at the root of the zip; found "${displayName(near.name)}": zip the folder's contents, not the folder itself`;
}
