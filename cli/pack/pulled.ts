/**
 * The inverse of reading a release folder: a product's published submission written as a
 * folder of this convention, so that `pack` of it, unchanged, asks the Store for no change.
 *
 * - store.json names the target; an app or flight gets `listingOnly: true` (the folder has no
 *   packages: the API cannot download them, and the published ones stay until the user adds
 *   new ones and removes the flag), and `notesForCertification` when the submission has any.
 * - Each listing text field goes into its own file, when the file reads back as exactly the
 *   published value (pack trims text and normalizes line ends); a value that would not (a
 *   description with CRLF line ends, a keyword with a line break) goes into store.json's
 *   `submission` instead, verbatim. Empty fields get no file: they stay as published.
 * - Images cannot be downloaded through the API: images.json lists each with its language,
 *   type and where its PNG goes; the caption is written beside it. Until a language's images
 *   are all in place, pack gives none for it, and the Store keeps the published ones.
 * Fields the folder does not carry (pricing, availability, websiteUrl...) are left out: a
 * submission keeps them as published, so a later pack of the folder never puts back an old value.
 */
import { isObject } from '../../lib/json';
import type { ProductRef } from '../../lib/store/kinds';
import {
  ADDON_ICON,
  ADDON_LISTING_FIELDS,
  APP_LISTING_FIELDS,
  CONFIG_FILE,
  IMAGE_LIST_FILE,
  IMAGE_TYPES,
  LISTINGS_DIR,
  type TextField,
} from './convention';
import { imagePath, type ListedImage } from './imageList';
import { checkListingText } from './text';

type Json = Record<string, unknown>;

export interface PulledFolder {
  /** Folder-relative path → content. */
  files: Map<string, string>;
  images: ListedImage[];
  /** Listing fields kept verbatim in store.json because no text file reads back as their value. */
  inStoreJson: string[];
}

const CAPTION: TextField = { field: 'description', kind: 'text' };

/** The release folder for `ref`'s published `submission` (the API's JSON, secrets already removed). */
export function pulledFolder(ref: ProductRef, submission: Json): PulledFolder {
  const files = new Map<string, string>();
  const images: ListedImage[] = [];
  const inStoreJson: string[] = [];
  const extra: Json = {};
  const listings = isObject(submission.listings) ? submission.listings : {};

  for (const lang of Object.keys(listings).sort()) {
    const listing = listings[lang];
    if (!isObject(listing)) continue;
    if (ref.kind === 'addon') {
      const kept = writeFields(files, lang, listing, ADDON_LISTING_FIELDS);
      if (Object.keys(kept).length) setIn(extra, ['listings', lang], kept);
      inStoreJson.push(...Object.keys(kept).map((f) => `${lang}.${f}`));
      if (isObject(listing.icon) && typeof listing.icon.fileName === 'string')
        images.push({
          language: lang,
          imageType: 'Icon',
          fileName: imagePath(lang, 'Icon', ADDON_ICON),
          published: listing.icon.fileName,
        });
      continue;
    }
    const base = isObject(listing.baseListing) ? listing.baseListing : {};
    const kept = writeFields(files, lang, base, APP_LISTING_FIELDS);
    if (Object.keys(kept).length) setIn(extra, ['listings', lang, 'baseListing'], kept);
    inStoreJson.push(...Object.keys(kept).map((f) => `${lang}.${f}`));
    images.push(...listImages(files, lang, base.images));
  }

  if (typeof submission.notesForCertification === 'string' && submission.notesForCertification !== '')
    extra.notesForCertification = submission.notesForCertification;
  const config: Json = { target: targetOf(ref) };
  if (ref.kind !== 'addon') config.listingOnly = true;
  if (Object.keys(extra).length) config.submission = extra;
  files.set(CONFIG_FILE, `${JSON.stringify(config, null, 2)}\n`);
  if (images.length)
    files.set(
      IMAGE_LIST_FILE,
      `${JSON.stringify(
        {
          about:
            "The published images, which the Store's submission API cannot download. Put each PNG at its fileName (from Partner Center, or your own). Until all of a language's images are in place, pack gives none for it and the Store keeps the published ones. Take an entry off the list to drop that image.",
          images,
        },
        null,
        2,
      )}\n`,
    );
  return { files, images, inStoreJson };
}

function targetOf(ref: ProductRef): Json {
  if (ref.kind === 'app') return { kind: 'app', applicationId: ref.applicationId };
  if (ref.kind === 'flight') return { kind: 'flight', applicationId: ref.applicationId, flightId: ref.flightId };
  return { kind: 'addon', inAppProductId: ref.inAppProductId };
}

/**
 * Writes each field of `listing` that a text file carries exactly; returns the ones no file can
 * carry (to go into store.json as they are).
 */
function writeFields(files: Map<string, string>, lang: string, listing: Json, known: readonly TextField[]): Json {
  const kept: Json = {};
  for (const spec of known) {
    const value = listing[spec.field];
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) continue;
    const content = spec.kind === 'text' ? (typeof value === 'string' ? value : undefined) : linesOf(value);
    if (content !== undefined && sameValue(checkListingText(content, spec).value, value))
      files.set(`${LISTINGS_DIR}/${lang}/${spec.field}.txt`, `${content}\n`);
    else kept[spec.field] = value;
  }
  return kept;
}

function linesOf(value: unknown): string | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join('\n') : undefined;
}

function sameValue(read: unknown, published: unknown): boolean {
  return JSON.stringify(read) === JSON.stringify(published);
}

/** images.json entries for a language's published images, numbered in the Store's order within each type; captions beside. */
function listImages(files: Map<string, string>, lang: string, list: unknown): ListedImage[] {
  const out: ListedImage[] = [];
  const perType = new Map<string, number>();
  for (const image of Array.isArray(list) ? list.filter(isObject) : []) {
    const type = typeof image.imageType === 'string' ? image.imageType : '';
    const published = typeof image.fileName === 'string' ? image.fileName : '';
    // Only what pack can give back: a known type; an image the Store is deleting is no longer the listing's.
    if (!IMAGE_TYPES.includes(type) || image.fileStatus === 'PendingDelete') continue;
    const n = (perType.get(type) ?? 0) + 1;
    perType.set(type, n);
    const stem = (published.split('/').at(-1) ?? '').replace(/\.png$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
    const name = `${String(n).padStart(2, '0')}-${stem || type}.png`;
    const entry: ListedImage = { language: lang, imageType: type, fileName: imagePath(lang, type, name), published };
    const caption = typeof image.description === 'string' ? image.description : '';
    if (caption) {
      if (checkListingText(caption, CAPTION).value === caption)
        files.set(entry.fileName.replace(/\.png$/, '.txt'), `${caption}\n`);
      else entry.description = caption;
    }
    out.push(entry);
  }
  return out;
}

function setIn(target: Json, path: string[], value: Json): void {
  let at = target;
  for (const key of path.slice(0, -1)) at = at[key] = isObject(at[key]) ? at[key] : {};
  at[path.at(-1)!] = value;
}
