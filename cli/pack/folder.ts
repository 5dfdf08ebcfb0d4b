/**
 * Reads a release folder (see README "Command line") into the manifest and the list of files
 * the zip will hold, in four steps: scan the root, read each section (store.json, packages,
 * listings with their images), assemble the manifest, and validate it with the pipeline's own
 * `validateManifest`. Every problem found on the way is collected, each naming the folder file
 * it is about; validation problems are traced back to the file that produced the field.
 */
import { stat } from 'node:fs/promises';
import { readStoreJson } from './config';
import { assemble } from './assemble';
import { Findings, folderError, type ReleaseFolder } from './findings';
import { readListings, readWin32Listings } from './listings';
import { readPackages } from './packages';
import { FolderSource, scanRoot } from './scan';
import { validateFolderManifest } from './validate';
import { LISTINGS_DIR } from './convention';
import { checkListedImages, readImageList } from './imageList';
import { localPackageVersion } from '../localZip';
import { isObject } from '../../lib/json';

export type { PackedFile, ReleaseFolder } from './findings';

/**
 * Reads `dir` into a manifest and its files; throws InputError (code InvalidFolder) naming every
 * problem, with `file` relative to the folder as `label` shows it.
 */
export async function readReleaseFolder(dir: string, label = dir): Promise<ReleaseFolder> {
  const findings = new Findings(dir, label.replace(/[\\/]+$/, '') || '.');
  const root = await stat(dir).catch(() => undefined);
  if (!root?.isDirectory()) {
    throw folderError([
      { file: findings.show(''), message: root ? 'is a file, not a release folder' : 'does not exist' },
    ]);
  }
  const source = new FolderSource(dir);

  const config = await readStoreJson(source, findings);
  const scan = await scanRoot(source, findings, config?.referenced ?? new Set(), config?.kind);

  const listed = await readImageList(source, findings);
  const submission: Record<string, unknown> = {};
  readPackages(config, scan.packages, submission, findings);
  // The release's version picks per-version release notes: the packages' own Identity/@Version.
  const version = await localPackageVersion(
    findings.summary.packages.map((name) => ({ name, path: source.path(name) })),
  );
  if (scan.listings) {
    if (config?.kind === 'flight')
      findings.problem(
        LISTINGS_DIR,
        'flights have no Store listings; remove the folder, or set target.kind in store.json',
      );
    else if (config?.kind === 'win32') {
      const built = await readWin32Listings(source, findings);
      if (Object.keys(built.listings).length) submission.listings = built.listings;
      if (Object.keys(built.assets).length) submission.listingAssets = built.assets;
    } else if (config?.kind) {
      const listings = await readListings(source, findings, config.kind, { version });
      if (Object.keys(listings).length) submission.listings = listings;
    }
  }
  if (listed.length) {
    const present = new Set<string>();
    for (const image of listed) if ((await source.kind(image.fileName)) === 'file') present.add(image.fileName);
    checkListedImages(listed, imagesGiven(submission.listings), (p) => present.has(p), findings);
  }

  const manifest = await assemble(source, findings, config, submission);
  if (config) validateFolderManifest(manifest, findings);

  if (findings.problems.length) throw folderError(findings.problems);
  findings.summary.kind = config?.kind;
  return { manifest, files: [...findings.files.values()], summary: findings.summary };
}

/** The image files each language of the manifest's listings gives (an app's images, an add-on's icon). */
function imagesGiven(listings: unknown): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [lang, listing] of Object.entries(isObject(listings) ? listings : {})) {
    const files = new Set<string>();
    const base = isObject(listing) && isObject(listing.baseListing) ? listing.baseListing : undefined;
    for (const image of Array.isArray(base?.images) ? base.images : [])
      if (isObject(image) && typeof image.fileName === 'string') files.add(image.fileName);
    if (isObject(listing) && isObject(listing.icon) && typeof listing.icon.fileName === 'string')
      files.add(listing.icon.fileName);
    out.set(lang, files);
  }
  return out;
}
