import { config } from '../../lib/config';
import { InputError } from '../../lib/errors';
import { packageProblems, type AppIdentity, type PublishedUnit } from '../../lib/package/check';
import { packageSummary, readPackageInfos, type PackageSummary } from '../../lib/package/identity';
import type { BlobIdentity } from '../../lib/run';
import { blobServiceFor } from '../../lib/storage';
import { openBlobZip } from '../../lib/zip/blobZip';
import { defineActivity, type ActivityInput } from './activity';

export interface CheckPackagesInput extends ActivityInput {
  blob: BlobIdentity;
  /** The package files the submission adds (from validateZip). */
  packageFiles: string[];
  app: AppIdentity;
  published: PublishedUnit[];
}

export interface CheckedPackages {
  packages: PackageSummary[];
  /** How the packages were read: in place (stored) or inflated once (deflated), and the range reads made. */
  read: { inPlace: number; inflated: number; rangeReads: number };
}

/**
 * The Store's package validation, before the Store sees the packages: each package's identity
 * is read from the zip (range reads; a deflated package is inflated as a stream) and compared
 * with the app's identity and its published packages (lib/package/check.ts). A wrong identity
 * name or publisher, a version not higher than the published one, or a file that is not an
 * MSIX/APPX package fails the run here, naming the file, the field and both values, and the
 * run has created nothing.
 */
export const checkPackages = defineActivity(
  'checkPackages',
  async (input: CheckPackagesInput, scope): Promise<CheckedPackages> => {
    const blob = blobServiceFor(config().submissionsStorage)
      .getContainerClient(input.blob.container)
      .getBlobClient(input.blob.name);
    const zip = await openBlobZip(blob, input.blob.etag);
    const { infos, problems: unreadable } = await readPackageInfos(zip, input.packageFiles);
    const problems = [...unreadable, ...packageProblems(infos, input.app, input.published)];
    if (problems.length > 0) throw new InputError(problems, 'PackageRefused');
    const read = { inPlace: 0, inflated: 0, rangeReads: 0 };
    for (const info of infos) {
      if (info.read.method === 'stored') read.inPlace++;
      else read.inflated++;
      read.rangeReads += info.read.rangeReads;
    }
    scope.log(
      `${infos.length} package(s) match app ${input.app.applicationId}: ${read.inPlace} read in place, ${read.inflated} inflated, ${read.rangeReads} range reads`,
    );
    return {
      packages: infos.map(packageSummary),
      read,
    };
  },
);
