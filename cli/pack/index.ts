/**
 * `pack`: a release folder becomes a submission zip — submission.json first, then the
 * packages and images as they are — written next to its final name and renamed only once the
 * pipeline's own reader and validation accept it.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, basename, join, relative, resolve, isAbsolute } from 'node:path';
import { MANIFEST_NAME } from '../../lib/manifest';
import { writeZip, type ZipWriterEntry } from '../../lib/zip/writer';
import { UsageError } from '../errors';
import {
  checkSubmissionPackages,
  readLocalSubmission,
  type LocalPackageCheck,
  type LocalSubmission,
} from '../localZip';
import { readReleaseFolder, type ReleaseFolder } from './folder';

export { readReleaseFolder } from './folder';
export type { PackedFile, ReleaseFolder } from './folder';

export interface PackResult {
  output: string;
  bytes: number;
  folder: ReleaseFolder;
  checked: LocalSubmission;
  /** The packages' identities, checked offline as far as that goes. */
  packages: LocalPackageCheck;
}

/** Builds `output` from the folder `dir`; throws InputError (the folder's problems) or UsageError. */
export async function packFolder(dir: string, output: string, label = dir): Promise<PackResult> {
  const out = resolve(output);
  const rel = relative(resolve(dir), out);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)))
    throw new UsageError(`the zip ${output} would be inside the release folder; write it elsewhere`, '--output');
  if (!out.toLowerCase().endsWith('.zip')) throw new UsageError(`${output} must end in .zip`, '--output');

  const folder = await readReleaseFolder(dir, label);
  const entries: ZipWriterEntry[] = [
    { name: MANIFEST_NAME, data: Buffer.from(`${JSON.stringify(folder.manifest, null, 2)}\n`), compress: true },
    // Packages and PNGs are compressed already: stored as they are, streamed from disk.
    ...folder.files.map((f) => ({ name: f.name, data: () => createReadStream(f.path), size: f.size })),
  ];
  const partial = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  try {
    const { bytes } = await writeZip(entries, createWriteStream(partial));
    const checked = await readLocalSubmission(partial, output);
    const packages = await checkSubmissionPackages(partial, checked, output);
    await rename(partial, out);
    return { output: out, bytes, folder, checked, packages };
  } finally {
    await rm(partial, { force: true });
  }
}
