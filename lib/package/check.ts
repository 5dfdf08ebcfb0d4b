/**
 * The Store's package validation, done before the Store sees the packages: PreProcessing refuses
 * a package whose identity name or publisher is not the app's, or whose version is not higher
 * than the published package of the same architecture, or that is not an MSIX/APPX package
 * (submission status codes of manage-app-submissions.md: PackageValidationFailed). Found first,
 * each is a problem with the file, the field and both values, and the run stops before it
 * creates anything. Pure: the identities are read by lib/package/identity.ts.
 */
import type { InputProblem } from '../errors';
import { BUNDLE_MANIFEST, compareVersions, PACKAGE_MANIFEST, type PackageInfo } from './identity';

/** What the Store says of the app (GET applications/{id}). */
export interface AppIdentity {
  applicationId: string;
  packageIdentityName?: string;
  publisherName?: string;
}

/** A package of the published submission, as the Store lists it (version, architecture). */
export interface PublishedUnit {
  fileName: string;
  /** Lower case: x64, arm64, neutral... */
  architecture: string;
  version: string;
}

/**
 * The architectures and versions of the published packages, from the submission's package list.
 * The Store spells architectures `X64`, `Arm`, `Neutral`; a bundle's may list several, comma-separated.
 */
export function publishedUnitsOf(packages: unknown): PublishedUnit[] {
  if (!Array.isArray(packages)) return [];
  const units: PublishedUnit[] = [];
  for (const p of packages) {
    if (!p || typeof p !== 'object') continue;
    const { fileName, version, architecture, fileStatus } = p as Record<string, unknown>;
    if (typeof version !== 'string' || typeof architecture !== 'string' || fileStatus === 'PendingDelete') continue;
    for (const arch of architecture.split(',')) {
      const a = arch.trim().toLowerCase();
      if (a) units.push({ fileName: typeof fileName === 'string' ? fileName : '', architecture: a, version });
    }
  }
  return units;
}

function versionField(info: PackageInfo, index: number): string {
  return info.kind === 'bundle'
    ? `${BUNDLE_MANIFEST} Packages/Package[${index + 1}]/@Version`
    : `${PACKAGE_MANIFEST} Identity/@Version`;
}

function identityField(info: PackageInfo, attribute: 'Name' | 'Publisher'): string {
  return `${info.kind === 'bundle' ? BUNDLE_MANIFEST : PACKAGE_MANIFEST} Identity/@${attribute}`;
}

/** The problems the Store's PreProcessing would find in these packages for this app. */
export function packageProblems(infos: PackageInfo[], app: AppIdentity, published: PublishedUnit[]): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const info of infos) {
    if (app.packageIdentityName && info.identity.name !== app.packageIdentityName) {
      problems.push({
        file: info.file,
        field: identityField(info, 'Name'),
        message: `is "${info.identity.name}", but app ${app.applicationId} has the package identity name "${app.packageIdentityName}": the Store refuses a package of another identity (this package belongs to another app, or was built with the wrong identity)`,
      });
    }
    if (app.publisherName && info.identity.publisher !== app.publisherName) {
      problems.push({
        file: info.file,
        field: identityField(info, 'Publisher'),
        message: `is "${info.identity.publisher}", but app ${app.applicationId} has the publisher "${app.publisherName}": set the package's Publisher to the app's (Partner Center, Product identity)`,
      });
    }
    info.units.forEach((unit, i) => {
      for (const old of published) {
        if (old.architecture === unit.architecture && compareVersions(unit.version, old.version) <= 0) {
          problems.push({
            file: info.file,
            field: versionField(info, i),
            message: `is ${unit.version} (${unit.architecture}), not higher than the published package ${old.fileName || '(unnamed)'} (${old.version}, ${old.architecture}): the Store takes only a higher version for the same architecture; raise the version`,
          });
        }
      }
    });
  }
  return problems.concat(consistencyProblems(infos));
}

/**
 * What can be checked without the Store: the packages of one submission must share one
 * identity name and publisher, and no architecture may come twice at the same version.
 */
export function consistencyProblems(infos: PackageInfo[]): InputProblem[] {
  const problems: InputProblem[] = [];
  const first = infos[0];
  if (!first) return problems;
  for (const info of infos.slice(1)) {
    if (info.identity.name !== first.identity.name) {
      problems.push({
        file: info.file,
        field: identityField(info, 'Name'),
        message: `is "${info.identity.name}", but ${first.file} has "${first.identity.name}": the packages of one submission must be of one app`,
      });
    }
    if (info.identity.publisher !== first.identity.publisher) {
      problems.push({
        file: info.file,
        field: identityField(info, 'Publisher'),
        message: `is "${info.identity.publisher}", but ${first.file} has "${first.identity.publisher}": the packages of one submission must have one publisher`,
      });
    }
  }
  const seen = new Map<string, string>();
  for (const info of infos) {
    info.units.forEach((unit, i) => {
      const key = `${unit.architecture}|${unit.version}`;
      const other = seen.get(key);
      if (other !== undefined && other !== info.file) {
        problems.push({
          file: info.file,
          field: versionField(info, i),
          message: `is ${unit.version} (${unit.architecture}), the same as ${other}: two packages of one submission cannot have the same version and architecture`,
        });
      } else seen.set(key, info.file);
    });
  }
  return problems;
}
