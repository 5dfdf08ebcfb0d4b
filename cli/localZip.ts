/**
 * A zip on the local disk, read through the same reader and checks the pipeline applies to a
 * zip in blob storage (`openZip` + `readSubmission`): `validate` and `pack` then judge a zip
 * exactly as a run will.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { filesToUpload, readSubmission, SUBMISSION_ZIP_LIMITS } from '../lib/manifest';
import { InputError } from '../lib/errors';
import { consistencyProblems } from '../lib/package/check';
import {
  compareVersions,
  packageSummary,
  readPackageFile,
  readPackageInfos,
  type PackageSummary,
} from '../lib/package/identity';
import { openZip, type BlobZip, type RangeReader, type ReadStats } from '../lib/zip/blobZip';
import { zipError } from '../lib/zip/format';
import type { Manifest } from '../lib/manifest';
import type { ZipEntryInfo } from '../lib/zip/format';

export class FileRangeReader implements RangeReader {
  readonly stats: ReadStats = { requests: 0, bytes: 0 };
  constructor(
    private readonly file: FileHandle,
    readonly size: number,
    private readonly label: string,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (offset < 0 || offset + length > this.size) {
      throw zipError([
        { file: this.label, message: 'the zip is truncated or corrupt: it points past the end of the file' },
      ]);
    }
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.file.read(out, done, length - done, offset + done);
      if (bytesRead === 0)
        throw zipError([{ file: this.label, message: 'the file got shorter while it was being read' }]);
      done += bytesRead;
    }
    this.stats.requests++;
    this.stats.bytes += length;
    return out;
  }

  /** A long range straight from the file, nothing kept (a deflated package is inflated from it). */
  async *stream(offset: number, length: number): AsyncGenerator<Buffer> {
    if (length <= 0) return;
    this.stats.requests++;
    const stream = this.file.createReadStream({
      start: offset,
      end: offset + length - 1,
      autoClose: false,
      highWaterMark: 1024 * 1024,
    });
    let received = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      received += chunk.length;
      this.stats.bytes += chunk.length;
      yield chunk;
    }
    if (received !== length)
      throw zipError([{ file: this.label, message: 'the file got shorter while it was being read' }]);
  }
}

export interface LocalSubmission {
  manifest: Manifest;
  entries: ZipEntryInfo[];
  size: number;
}

async function withLocalZip<T>(
  path: string,
  label: string,
  use: (zip: BlobZip, size: number) => Promise<T>,
): Promise<T> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    return await use(await openZip(new FileRangeReader(file, size, label), label, SUBMISSION_ZIP_LIMITS), size);
  } finally {
    await file.close();
  }
}

/** Reads and validates `path` as the pipeline would; throws the pipeline's InputError listing the problems. */
export async function readLocalSubmission(path: string, label = path): Promise<LocalSubmission> {
  return withLocalZip(path, label, async (zip, size) => {
    const { manifest, entries } = await readSubmission(zip);
    return { manifest, entries, size };
  });
}

export interface LocalPackageCheck {
  packages: PackageSummary[];
  /** What only the Store can tell, so an offline check did not. */
  notChecked: string[];
}

/** What an offline check cannot know: the run checks these against the Store before it creates anything. */
export const NOT_CHECKED_OFFLINE = [
  "that each package's identity name and publisher are the app's (Partner Center, Product identity)",
  'that each version is higher than the published package of the same architecture',
];

/**
 * The package checks a run makes before it creates anything (lib/package/check.ts), with what can
 * be known offline: each package must be an MSIX/APPX package whose manifest can be read, and the
 * packages of one submission must share one identity and publisher and not repeat a version per
 * architecture. Throws InputError (`PackageRefused`) naming file, field and values.
 */
export async function checkLocalPackages(path: string, files: string[], label = path): Promise<LocalPackageCheck> {
  if (files.length === 0) return { packages: [], notChecked: [] };
  return withLocalZip(path, label, async (zip) => {
    const { infos, problems } = await readPackageInfos(zip, files);
    problems.push(...consistencyProblems(infos));
    if (problems.length > 0) throw new InputError(problems, 'PackageRefused');
    return {
      packages: infos.map(packageSummary),
      notChecked: NOT_CHECKED_OFFLINE,
    };
  });
}

/**
 * The offline check of the packages a submission read by `readSubmission` uploads. An MSI/EXE
 * app's installers are no MSIX/APPX packages and have no package identity (the Store checks none
 * of them), so a win32 submission has nothing to check here.
 */
export async function checkSubmissionPackages(
  path: string,
  submission: Pick<LocalSubmission, 'manifest' | 'entries'>,
  label = path,
): Promise<LocalPackageCheck> {
  if (submission.manifest.target.kind === 'win32') return { packages: [], notChecked: [] };
  return checkLocalPackages(path, filesToUpload(submission.manifest, submission.entries).packages, label);
}

/**
 * The release version of the package files `paths` (the highest `Identity/@Version`), read as
 * the pipeline reads them; undefined when there is none or one cannot be read (the pipeline's
 * own checks say why when the zip is validated).
 */
export async function localPackageVersion(paths: Array<{ path: string; name: string }>): Promise<string | undefined> {
  let highest: string | undefined;
  for (const { path, name } of paths) {
    let file: FileHandle | undefined;
    try {
      file = await open(path, 'r');
      const { size } = await file.stat();
      const version = (await readPackageFile(new FileRangeReader(file, size, name), name)).identity.version;
      if (!highest || compareVersions(version, highest) > 0) highest = version;
    } catch (e) {
      if (e instanceof InputError || (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    } finally {
      await file?.close();
    }
  }
  return highest;
}
