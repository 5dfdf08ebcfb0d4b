/**
 * Section reader: the packages. The package files at the folder's root become the manifest's
 * package list, unless store.json lists the packages itself (to give their options), the
 * target is an add-on (which has none) or an MSI/EXE app (store.json lists its installers), or
 * store.json asks for an update of the listings only.
 */
import { INSTALLER_EXTENSIONS, PACKAGE_EXTENSIONS, packagesKey } from '../../lib/manifest';
import { CONFIG_FILE } from './convention';
import { isObject, type StoreConfig } from './config';
import type { Findings } from './findings';

type Json = Record<string, unknown>;

/** Adds the packages to `submission` (and the zip), or reports why the folder's packages do not fit. */
export function readPackages(
  config: Pick<StoreConfig, 'kind' | 'listingOnly' | 'submission'> | undefined,
  packages: string[],
  submission: Json,
  findings: Findings,
): void {
  const kind = config?.kind;
  const listingOnly = config?.listingOnly ?? false;
  const key = kind ? packagesKey(kind) : undefined;
  if (listingOnly && kind && kind !== 'app' && kind !== 'flight')
    findings.problem(
      CONFIG_FILE,
      'is for app and flight submissions only (a submission without packages, which keeps the published ones)',
      'listingOnly',
    );
  if (kind === 'addon') {
    for (const p of packages)
      findings.problem(p, 'add-ons have no packages; remove it, or set target.kind in store.json');
    return;
  }
  if (kind === 'win32') {
    // An MSI/EXE app's installers are the ones store.json lists (with their switches), taken from the folder by path.
    for (const p of packages)
      findings.problem(
        p,
        `an MSI/EXE app takes installers (${INSTALLER_EXTENSIONS.join(', ')}), not MSIX packages; remove it, or set target.kind in store.json`,
      );
    const listed = config?.submission.packages;
    findings.summary.packages = Array.isArray(listed) ? listed.filter(isObject).map((p) => String(p.fileName)) : [];
    return;
  }
  if (!key) return;
  const listed = config?.submission[key];
  if (listingOnly && packages.length)
    findings.problem(
      CONFIG_FILE,
      `is true, but the folder has ${packages.length} package(s) at its root; remove them, or listingOnly`,
      'listingOnly',
    );
  if (Array.isArray(listed)) {
    // store.json lists the packages (to give their options): a package file it does not name is a mistake.
    for (const p of packages)
      findings.problem(
        p,
        `is not in ${CONFIG_FILE} submission.${key}, which lists the packages to upload; add it there or remove the file`,
      );
    findings.summary.packages = listed.filter(isObject).map((p) => String(p.fileName));
  } else if (!packages.length && !listingOnly) {
    findings.problem(
      '',
      kind === 'flight'
        ? `has no package: a flight submission needs at least one package file (${PACKAGE_EXTENSIONS.join(', ')}) at the folder's root`
        : `has no package: put the app's package files (${PACKAGE_EXTENSIONS.join(', ')}) at the folder's root; for an update of the listings only, which keeps the published packages, set "listingOnly": true in ${CONFIG_FILE}`,
    );
  } else if (packages.length) {
    submission[key] = packages.map((fileName) => ({ fileName }));
    packages.forEach((p, i) => {
      findings.cameFrom(`submission.${key}[${i}]`, p);
      findings.addFile(p);
    });
    findings.cameFrom(`submission.${key}`, '');
    findings.summary.packages = packages;
  }
}
