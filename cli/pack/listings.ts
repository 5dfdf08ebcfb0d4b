/**
 * Section reader: listings/<language>/, one text file per listing field and the images (an
 * app's baseListing, an MSI/EXE app's listingAssets) or the icon (an add-on's listing).
 */
import type { Dirent } from 'node:fs';
import { fieldPath, type TargetKind } from '../../lib/manifest';
import {
  ADDON_ICON,
  ADDON_ICON_SIZE,
  ADDON_LISTING_FIELDS,
  APP_LISTING_FIELDS,
  IMAGES_DIR,
  LISTINGS_DIR,
  nearest,
  RELEASE_NOTES_DIR,
  type TextField,
  WIN32_IMAGE_FOLDERS,
  WIN32_LISTING_FIELDS,
} from './convention';
import type { Findings } from './findings';
import { checkPng, readImages } from './images';
import { byName, type FolderSource } from './scan';
import { readListingText } from './text';
import { compareVersions } from '../../lib/package/identity';

type Json = Record<string, unknown>;

interface Listing {
  value: Json;
  fields: string[];
  images: number;
}

export interface ListingOptions {
  /** The release's package version: it picks listings/<language>/releaseNotes/<version>.txt. */
  version?: string;
}

/** The manifest's `listings`, language by language, for an app or an add-on. */
export async function readListings(
  source: FolderSource,
  findings: Findings,
  kind: TargetKind,
  options: ListingOptions = {},
): Promise<Json> {
  const out: Json = {};
  for await (const { lang, rel, at } of languageFolders(source, findings)) {
    const listing =
      kind === 'addon'
        ? await readAddonListing(source, findings, rel, at)
        : await readAppListing(source, findings, rel, at, options);
    if (!listing) continue;
    out[lang] = listing.value;
    findings.summary.listings[lang] = { fields: listing.fields, images: listing.images };
  }
  return out;
}

/**
 * The language folders under listings/, one at a time (so what each reader finds inside stays in
 * folder order), each with its field path in the manifest, recorded as coming from the folder;
 * anything else there is a problem.
 */
async function* languageFolders(
  source: FolderSource,
  findings: Findings,
): AsyncGenerator<{ lang: string; rel: string; at: string }> {
  for (const { entry, rel } of await source.entries(LISTINGS_DIR)) {
    const lang = entry.name;
    if (!entry.isDirectory()) {
      findings.problem(
        rel,
        `is not a language folder: listings go in ${LISTINGS_DIR}/<language>/, e.g. ${LISTINGS_DIR}/en-us/`,
      );
      continue;
    }
    const at = fieldPath(fieldPath('submission', 'listings'), lang);
    findings.cameFrom(at, rel);
    yield { lang, rel, at };
  }
}

async function readAppListing(
  source: FolderSource,
  findings: Findings,
  rel: string,
  at: string,
  options: ListingOptions,
): Promise<Listing | undefined> {
  const base: Json = {};
  const fields: string[] = [];
  let images = 0;
  const baseAt = fieldPath(at, 'baseListing');
  const more = `, and images in ${IMAGES_DIR}/<image type>/`;
  let notesDir: string | undefined;
  let notesFile: Dirent | undefined;
  for (const { entry, rel: fileRel } of await source.entries(rel)) {
    const name = entry.name;
    if (entry.isDirectory() && name === RELEASE_NOTES_DIR) {
      notesDir = fileRel;
      continue;
    }
    if (entry.isFile() && name === `${RELEASE_NOTES_DIR}.txt`) {
      // Read once the per-version notes are known: it is their fallback.
      notesFile = entry;
      continue;
    }
    if (entry.isDirectory() && name === IMAGES_DIR) {
      const list = await readImages(source, findings, fileRel, fieldPath(baseAt, 'images'));
      if (list.length) {
        base.images = list;
        images = list.length;
      }
      continue;
    }
    await readTextField(source, findings, entry, fileRel, { known: APP_LISTING_FIELDS, more }, base, baseAt, fields);
  }
  const chosen = notesDir ? await releaseNotesOf(source, findings, notesDir, options.version) : undefined;
  if (chosen) {
    base.releaseNotes = chosen.value;
    fields.push('releaseNotes');
    findings.cameFrom(fieldPath(baseAt, 'releaseNotes'), chosen.file);
    (findings.summary.releaseNotes ??= { version: options.version, files: [] }).files.push(chosen.file);
  } else if (notesFile) {
    const fileRel = `${rel}/${notesFile.name}`;
    await readTextField(
      source,
      findings,
      notesFile,
      fileRel,
      { known: APP_LISTING_FIELDS, more },
      base,
      baseAt,
      fields,
    );
  }
  if (!fields.length && !images) return emptyListing(source, findings, rel);
  // In file name order, as the other fields are read (the release notes were read last).
  fields.sort(byName);
  return { value: { baseListing: base }, fields, images };
}

async function readAddonListing(
  source: FolderSource,
  findings: Findings,
  rel: string,
  at: string,
): Promise<Listing | undefined> {
  const listing: Json = {};
  const fields: string[] = [];
  let images = 0;
  for (const { entry, rel: fileRel } of await source.entries(rel)) {
    const name = entry.name;
    if (entry.isFile() && name === ADDON_ICON) {
      if (await checkPng(source, findings, fileRel, ADDON_ICON_SIZE)) {
        listing.icon = { fileName: fileRel };
        images = 1;
        findings.cameFrom(fieldPath(at, 'icon'), fileRel);
        findings.addFile(fileRel);
      }
      continue;
    }
    if (entry.isDirectory() && name === IMAGES_DIR) {
      findings.problem(
        fileRel,
        `add-on listings have no images but one icon: ${rel}/${ADDON_ICON} (a ${ADDON_ICON_SIZE}x${ADDON_ICON_SIZE} PNG)`,
      );
      continue;
    }
    const more = `, and the icon ${ADDON_ICON}`;
    await readTextField(source, findings, entry, fileRel, { known: ADDON_LISTING_FIELDS, more }, listing, at, fields);
  }
  if (!fields.length && !images) return emptyListing(source, findings, rel);
  return { value: listing, fields, images };
}

/**
 * An MSI/EXE app's listings: text files per field in the MSI/EXE API's names, and the listing
 * assets in images/screenshots/ and images/storeLogos/ (the manifest's `listingAssets`).
 */
export async function readWin32Listings(
  source: FolderSource,
  findings: Findings,
): Promise<{ listings: Json; assets: Json }> {
  const listings: Json = {};
  const assets: Json = {};
  for await (const { lang, rel, at } of languageFolders(source, findings)) {
    const assetsAt = fieldPath(fieldPath('submission', 'listingAssets'), lang);
    const listing: Json = {};
    const images: Json = {};
    const fields: string[] = [];
    let count = 0;
    for (const { entry, rel: fileRel } of await source.entries(rel)) {
      if (entry.isDirectory() && entry.name === IMAGES_DIR) {
        count += await readWin32Images(source, findings, fileRel, assetsAt, images);
        continue;
      }
      const more = `, and images in ${IMAGES_DIR}/screenshots/ and ${IMAGES_DIR}/storeLogos/`;
      await readTextField(source, findings, entry, fileRel, { known: WIN32_LISTING_FIELDS, more }, listing, at, fields);
    }
    if (fields.length) listings[lang] = listing;
    if (Object.keys(images).length) assets[lang] = images;
    if (!fields.length && !count) {
      await emptyListing(source, findings, rel);
      continue;
    }
    findings.summary.listings[lang] = { fields, images: count };
  }
  return { listings, assets };
}

/** images/screenshots/ and images/storeLogos/ of one language into `into`; returns how many images it took. */
async function readWin32Images(
  source: FolderSource,
  findings: Findings,
  rel: string,
  assetsAt: string,
  into: Json,
): Promise<number> {
  const kinds = Object.keys(WIN32_IMAGE_FOLDERS);
  let count = 0;
  for (const { entry: folder, rel: folderRel } of await source.entries(rel)) {
    if (!folder.isDirectory() || !kinds.includes(folder.name)) {
      const near = nearest(folder.name, kinds);
      findings.problem(
        folderRel,
        `is not an image folder of an MSI/EXE listing${near ? `; did you mean "${near}"?` : `; they are ${kinds.join(' and ')}`}`,
      );
      continue;
    }
    const kind = folder.name as keyof typeof WIN32_IMAGE_FOLDERS;
    const pngs = await source.entries(folderRel);
    const list: Json[] = [];
    for (const { entry: png, rel: pngRel } of pngs) {
      if (!png.isFile() || !/\.png$/i.test(png.name)) {
        findings.problem(pngRel, 'is not a PNG image; the Store takes .png files');
        continue;
      }
      if (!(await checkPng(source, findings, pngRel))) continue;
      findings.cameFrom(`${fieldPath(assetsAt, kind)}[${list.length}]`, pngRel);
      list.push({ fileName: pngRel });
      findings.addFile(pngRel);
    }
    if (list.length > WIN32_IMAGE_FOLDERS[kind])
      findings.problem(
        folderRel,
        `has ${list.length} images; the Store takes at most ${WIN32_IMAGE_FOLDERS[kind]} ${kind}`,
      );
    if (list.length) {
      into[kind] = list;
      count += list.length;
    } else if (!pngs.length) findings.problem(folderRel, 'is empty: put the images in it, or remove the folder');
  }
  return count;
}

/**
 * The release notes of `version` from a language's releaseNotes/ folder (`<version>.txt`, the
 * version in two to four parts: 1.3.txt is 1.3.0.0), as fastlane's changelogs/<version code>.txt;
 * undefined when none is for that version (releaseNotes.txt is the fallback) or it has problems.
 */
async function releaseNotesOf(
  source: FolderSource,
  findings: Findings,
  dirRel: string,
  version: string | undefined,
): Promise<{ value: string; file: string } | undefined> {
  const matches: string[] = [];
  for (const { entry, rel: fileRel } of await source.entries(dirRel)) {
    const m = /^(\d+(?:\.\d+){1,3})\.txt$/.exec(entry.name);
    if (!entry.isFile() || !m) {
      findings.problem(
        fileRel,
        `is not release notes of a version: name each file after the package version it is for, e.g. ${dirRel}/1.3.0.0.txt (${RELEASE_NOTES_DIR}.txt beside the folder is for any other version)`,
      );
      continue;
    }
    if (version && compareVersions(m[1]!, version) === 0) matches.push(fileRel);
  }
  if (matches.length > 1) {
    findings.problem(dirRel, `has ${matches.join(' and ')}, both for version ${version}; keep one`);
    return undefined;
  }
  if (!matches[0]) return undefined;
  const spec = APP_LISTING_FIELDS.find((f) => f.field === 'releaseNotes')!;
  const value = await readListingText(source, findings, matches[0], spec);
  return typeof value === 'string' ? { value, file: matches[0] } : undefined;
}

/** A language folder that gave nothing: empty (a problem), or its files were all refused (reported already). */
async function emptyListing(source: FolderSource, findings: Findings, rel: string): Promise<undefined> {
  if (!(await source.entries(rel)).length)
    findings.problem(rel, 'is empty: give at least one listing file, or remove the folder');
  return undefined;
}

/**
 * A file of a language folder as the listing field it stands for: its value into `into` (the
 * listing object at field path `at`) and its field name into `read`, or a problem saying why it
 * is not one (`fields.more` ends the list of what a language folder holds).
 */
async function readTextField(
  source: FolderSource,
  findings: Findings,
  entry: Dirent,
  fileRel: string,
  fields: { known: readonly TextField[]; more: string },
  into: Json,
  at: string,
  read: string[],
): Promise<void> {
  const match = listingFieldOf(entry.name, entry.isFile(), fields.known);
  if (!('field' in match)) {
    const names = fields.known.map((f) => `${f.field}.txt`).join(', ');
    findings.problem(
      fileRel,
      match.near
        ? `is not a listing file; did you mean "${match.near}"?`
        : `is not a listing file; a language folder holds ${names}${fields.more}`,
    );
    return;
  }
  const value = await readListingText(source, findings, fileRel, match.field);
  if (value === undefined) return;
  into[match.field.field] = value;
  read.push(match.field.field);
  findings.cameFrom(fieldPath(at, match.field.field), fileRel);
}

/** Which listing field a file name stands for (`title.txt`: title), or the name it was probably meant to have. */
export function listingFieldOf(
  name: string,
  isFile: boolean,
  known: readonly TextField[],
): { field: TextField } | { near?: string } {
  const names = known.map((f) => `${f.field}.txt`);
  const index = isFile ? names.indexOf(name) : -1;
  if (index >= 0) return { field: known[index]! };
  return { near: nearest(name, names) ?? nearest(name.replace(/\.[^.]*$/, '.txt'), names) };
}
