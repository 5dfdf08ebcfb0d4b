/**
 * The release folder convention `pack` reads: what may be where, and the Store's limits on
 * listing text that the submission API only enforces after a commit (or at certification).
 * Limits are Partner Center's documented ones, counted in UTF-16 code units as its forms do.
 */
import { SUBMISSION_SCHEMA } from '../../lib/manifest';

export const CONFIG_FILE = 'store.json';
export const LISTINGS_DIR = 'listings';
export const IMAGES_DIR = 'images';
export const ADDON_ICON = 'icon.png';
/**
 * Written by `pull`: the published images, which the submission API cannot download, each with
 * the path where the folder expects it; `pack` says which are still missing.
 */
export const IMAGE_LIST_FILE = 'images.json';
/** listings/<language>/releaseNotes/<version>.txt: release notes per package version. */
export const RELEASE_NOTES_DIR = 'releaseNotes';

/** Keys store.json may have. */
export const CONFIG_KEYS = ['$schema', 'target', 'options', 'submission', 'listingOnly'] as const;

/** Files every OS or editor leaves behind; never part of a release. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || /^(thumbs\.db|desktop\.ini|__macosx)$/i.test(name);
}

export interface TextField {
  /** The listing field, also the file name without `.txt`. */
  field: string;
  /** text: the whole file is the value; lines: one item per non-blank line. */
  kind: 'text' | 'lines';
  /** Characters of the text, or of each line. */
  maxLength?: number;
  maxItems?: number;
  /** Words across all lines (keywords). */
  maxWords?: number;
  /** What one line is, for messages. */
  item?: string;
}

export const APP_LISTING_FIELDS: readonly TextField[] = [
  { field: 'title', kind: 'text' },
  { field: 'description', kind: 'text', maxLength: 10_000 },
  { field: 'shortDescription', kind: 'text', maxLength: 1000 },
  { field: 'shortTitle', kind: 'text', maxLength: 50 },
  { field: 'sortTitle', kind: 'text', maxLength: 255 },
  { field: 'voiceTitle', kind: 'text', maxLength: 255 },
  { field: 'devStudio', kind: 'text', maxLength: 255 },
  { field: 'copyrightAndTrademarkInfo', kind: 'text', maxLength: 200 },
  { field: 'licenseTerms', kind: 'text', maxLength: 10_000 },
  { field: 'releaseNotes', kind: 'text', maxLength: 1500 },
  { field: 'features', kind: 'lines', maxItems: 20, maxLength: 200, item: 'feature' },
  { field: 'keywords', kind: 'lines', maxItems: 7, maxLength: 40, maxWords: 21, item: 'keyword' },
  { field: 'recommendedHardware', kind: 'lines', maxItems: 11, maxLength: 200, item: 'item' },
  { field: 'minimumHardware', kind: 'lines', maxItems: 11, maxLength: 200, item: 'item' },
];

/**
 * An MSI/EXE app's listing, in the MSI/EXE API's field names and limits (windows-dev-docs
 * hub/apps/publish/store-submission-api.md, "Request Parameters" of Update Current Draft Submission Metadata).
 */
export const WIN32_LISTING_FIELDS: readonly TextField[] = [
  { field: 'description', kind: 'text', maxLength: 10_000 },
  { field: 'whatsNew', kind: 'text', maxLength: 1500 },
  { field: 'shortDescription', kind: 'text', maxLength: 1000 },
  { field: 'additionalLicenseTerms', kind: 'text', maxLength: 10_000 },
  { field: 'copyright', kind: 'text', maxLength: 200 },
  { field: 'developedBy', kind: 'text', maxLength: 255 },
  { field: 'sortTitle', kind: 'text', maxLength: 255 },
  { field: 'contactInfo', kind: 'text', maxLength: 200 },
  { field: 'productFeatures', kind: 'lines', maxItems: 20, maxLength: 200, item: 'feature' },
  { field: 'searchTerms', kind: 'lines', maxItems: 7, maxLength: 30, maxWords: 21, item: 'search term' },
];

/** An MSI/EXE app's image folders under images/, named as the API names the two kinds of listing assets. */
export const WIN32_IMAGE_FOLDERS = { screenshots: 10, storeLogos: 2 } as const;

export const ADDON_LISTING_FIELDS: readonly TextField[] = [
  { field: 'title', kind: 'text', maxLength: 100 },
  { field: 'description', kind: 'text', maxLength: 200 },
];

/** Add-on icons are exactly this size. */
export const ADDON_ICON_SIZE = 300;

/** The image types the manifest schema knows (its `examples`): one folder per type under images/. */
export const IMAGE_TYPES: readonly string[] = (() => {
  const defs = SUBMISSION_SCHEMA.$defs as Record<string, { properties?: Record<string, { examples?: string[] }> }>;
  return defs.image?.properties?.imageType?.examples ?? [];
})();

export { PNG_SIGNATURE, pngSize } from '../../lib/images';

/** The known name closest to `name` (same letters in another case, or one or two typos), for "did you mean". */
export function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same) return same;
  const squash = (s: string): string => s.toLowerCase().replace(/[-_ .]/g, '');
  const squashed = known.find((k) => squash(k) === squash(name));
  if (squashed) return squashed;
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d <= 2 && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
