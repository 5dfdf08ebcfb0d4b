/**
 * What a submission changes against the published one, before it is committed: per language
 * the text fields that differ, images and packages added or marked for deletion, and every
 * other field (pricing, visibility, publish mode, rollout and mandatory-update settings,
 * device families...). Pure: the run computes it from the published submission and the one it
 * is about to send; the status shows a bounded part of it, the report all of it.
 */
import { isObject } from './json';
import { utf16Bytes } from './statusBound';
import type { ProductKind } from './store/kinds';
import { kindInfo } from './store/kinds';

type Json = Record<string, unknown>;

export type PreviewArea = 'language' | 'text' | 'image' | 'package' | 'setting';

/** One change. `before` and `after` are shortened to `MAX_VALUE` characters (JSON for non-text values). */
export interface PreviewChange {
  area: PreviewArea;
  change: 'added' | 'removed' | 'changed';
  /** The listing language, for language, text and image changes. */
  language?: string;
  /** The field: `description`, `platformOverrides.Windows81.title`, `pricing.priceId`, ... */
  field?: string;
  before?: string;
  after?: string;
  /** Images and packages. */
  fileName?: string;
  imageType?: string;
  version?: string;
  architecture?: string;
}

export interface SubmissionPreview {
  /** The published submission compared against; absent for a product's first submission. */
  against?: string;
  /** How many changes of each area; `changes` may hold fewer once bounded. */
  counts: Record<PreviewArea, number>;
  changes: PreviewChange[];
  /** Set by `boundPreview` when changes were left out; the report has them all. */
  omitted?: number;
}

/** What a package brings, read from the package in the zip (the Store fills these only after processing). */
export type PackageFacts = Record<string, { version?: string; architecture?: string }>;

/** Characters of a value kept in a change. */
export const MAX_VALUE = 120;

/**
 * Fields the Store sets itself, or resets on every new submission, and a user cannot change:
 * a difference there says nothing about what the manifest asks (manage-app-submissions.md:
 * `packageRolloutStatus` and `fallbackSubmissionId` are ignored in a request;
 * `isAdvancedPricingModel` is read-only, msstore-cli PR #175; `friendlyName` numbers each
 * submission).
 */
const STORE_MANAGED = new Set([
  'id',
  'status',
  'statusDetails',
  'fileUploadUrl',
  'friendlyName',
  'flightId',
  'pricing.isAdvancedPricingModel',
  'packageDeliveryOptions.packageRollout.packageRolloutStatus',
  'packageDeliveryOptions.packageRollout.fallbackSubmissionId',
]);

/** Fields of a listing that are files, not text. */
const FILE_FIELDS = new Set(['images', 'icon', 'trailers']);

export function shorten(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text.length <= MAX_VALUE) return text;
  // Never half a surrogate pair: JSON would carry it as a six-character \udxxx escape.
  const end = /[\uD800-\uDBFF]/.test(text[MAX_VALUE - 2] ?? '') ? MAX_VALUE - 2 : MAX_VALUE - 1;
  return `${text.slice(0, end)}…`;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Key order never makes two values differ. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical(value[k])]),
  );
}

/**
 * The differing leaves of two values, as dotted paths: objects are walked key by key; arrays
 * and scalars are compared whole (a keyword list that changed is one change).
 */
function diffFields(before: unknown, after: unknown, path: string, skip: (path: string) => boolean): PreviewChange[] {
  if (skip(path)) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffFields(before[k], after[k], path ? `${path}.${k}` : k, skip));
  }
  if (same(before, after)) return [];
  // A field the Store shows as null or empty and the manifest leaves unset is no change.
  if (isEmpty(before) && isEmpty(after)) return [];
  return [
    {
      area: 'setting',
      change: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed',
      field: path,
      before: shorten(before),
      after: shorten(after),
    },
  ];
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

/** A listing's fields: an app's `baseListing` with its `platformOverrides`, or an add-on's listing itself. */
function listingFields(listing: unknown): Json {
  if (!isObject(listing)) return {};
  if (!isObject(listing.baseListing)) return listing;
  const fields: Json = { ...listing.baseListing };
  if (isObject(listing.platformOverrides) && Object.keys(listing.platformOverrides).length)
    fields.platformOverrides = listing.platformOverrides;
  return fields;
}

function filesOf(listing: Json): Json[] {
  const files: Json[] = [];
  if (Array.isArray(listing.images)) files.push(...listing.images.filter(isObject));
  if (isObject(listing.icon)) files.push({ ...listing.icon, imageType: listing.icon.imageType ?? 'Icon' });
  if (Array.isArray(listing.trailers))
    for (const t of listing.trailers.filter(isObject))
      if (typeof t.videoFileName === 'string') files.push({ fileName: t.videoFileName, imageType: 'Trailer' });
  return files;
}

function fileChange(
  area: 'image' | 'package',
  change: 'added' | 'removed',
  entry: Json,
  extra: Partial<PreviewChange>,
) {
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  return {
    area,
    change,
    ...extra,
    fileName: String(entry.fileName),
    ...(text(entry.imageType) ? { imageType: text(entry.imageType) } : {}),
    ...(text(entry.version) ? { version: text(entry.version) } : {}),
    ...(text(entry.architecture) ? { architecture: text(entry.architecture) } : {}),
  } satisfies PreviewChange;
}

/**
 * Files of a new submission against the published ones: `PendingUpload` entries are added,
 * `PendingDelete` ones removed; a published file missing from the new submission is removed too.
 */
function fileChanges(
  area: 'image' | 'package',
  before: Json[],
  after: Json[],
  extra: Partial<PreviewChange>,
  facts: PackageFacts = {},
): PreviewChange[] {
  const changes: PreviewChange[] = [];
  const names = new Set(after.map((f) => String(f.fileName)));
  for (const f of after) {
    if (f.fileStatus === 'PendingUpload') {
      const known = facts[String(f.fileName)] ?? {};
      changes.push(fileChange(area, 'added', { ...known, ...f }, extra));
    } else if (f.fileStatus === 'PendingDelete') {
      changes.push(fileChange(area, 'removed', f, extra));
    }
  }
  for (const f of before) if (!names.has(String(f.fileName))) changes.push(fileChange(area, 'removed', f, extra));
  return changes;
}

/**
 * Every change `proposed` makes to `published` (undefined: the product has none yet, and
 * everything the submission holds is new). `packageFacts` gives the version and architecture
 * of packages read from the zip.
 */
export function previewChanges(
  kind: ProductKind,
  published: Json | undefined,
  proposed: Json,
  packageFacts: PackageFacts = {},
): SubmissionPreview {
  const base = published ?? {};
  const changes: PreviewChange[] = [];

  // Listings, language by language.
  const beforeListings = isObject(base.listings) ? base.listings : {};
  const afterListings = isObject(proposed.listings) ? proposed.listings : {};
  for (const language of [...new Set([...Object.keys(beforeListings), ...Object.keys(afterListings)])].sort()) {
    const inBefore = language in beforeListings;
    const inAfter = language in afterListings;
    if (inBefore !== inAfter) changes.push({ area: 'language', change: inAfter ? 'added' : 'removed', language });
    const before = listingFields(beforeListings[language]);
    const after = listingFields(afterListings[language]);
    if (inAfter) {
      for (const c of diffFields(before, after, '', (p) => FILE_FIELDS.has(p.split('.')[0] ?? '')))
        changes.push({ ...c, area: 'text', language });
    }
    changes.push(...fileChanges('image', filesOf(before), filesOf(after), { language }));
  }

  // Packages.
  const packagesField = kindInfo(kind).packagesField;
  if (packagesField) {
    const list = (s: Json): Json[] => (Array.isArray(s[packagesField]) ? s[packagesField].filter(isObject) : []);
    changes.push(...fileChanges('package', list(base), list(proposed), {}, packageFacts));
  }

  // Everything else.
  const skip = (path: string): boolean =>
    STORE_MANAGED.has(path) || path === 'listings' || (packagesField !== undefined && path === packagesField);
  changes.push(...diffFields(base, proposed, '', skip));

  const counts: Record<PreviewArea, number> = { language: 0, text: 0, image: 0, package: 0, setting: 0 };
  for (const c of changes) counts[c.area]++;
  return { ...(typeof base.id === 'string' && published ? { against: base.id } : {}), counts, changes };
}

/**
 * How much of the preview the run's status document carries, in bytes of UTF-16. The Durable
 * host refuses a custom status over 16 KB of UTF-16 and fails the instance
 * (DurableOrchestrationContext.cs SetCustomStatus, in Azure/azure-functions-durable-extension),
 * and the status carries the timeline and the rest besides the preview (lib/statusBound.ts
 * keeps all of it under its budget; the preview takes a third of it).
 */
export const PREVIEW_STATUS_UTF16_BYTES = 4096;

/** The part of a preview whose JSON fits `maxBytes` of UTF-16, the first changes kept; `omitted` says how many went. */
export function boundPreview(
  preview: SubmissionPreview,
  maxBytes: number = PREVIEW_STATUS_UTF16_BYTES,
): SubmissionPreview {
  const size = utf16Bytes;
  if (size(preview) <= maxBytes) return preview;
  const kept: PreviewChange[] = [];
  const shell: SubmissionPreview = { ...preview, changes: kept, omitted: preview.changes.length };
  for (const change of preview.changes) {
    kept.push(change);
    shell.omitted = preview.changes.length - kept.length;
    if (size(shell) > maxBytes) {
      kept.pop();
      shell.omitted = preview.changes.length - kept.length;
      break;
    }
  }
  return shell;
}

/** Lines for people: one per change, as `submit` and `status` print them. */
export function previewLines(preview: SubmissionPreview): string[] {
  if (!preview.changes.length && !preview.omitted)
    return [`No changes against ${preview.against ? `submission ${preview.against}` : 'the published submission'}.`];
  const head = preview.against
    ? `Changes against the published submission ${preview.against}:`
    : 'Changes (the product has no published submission yet):';
  const lines = [head];
  for (const c of preview.changes) {
    const where = c.language ? `[${c.language}] ` : '';
    if (c.area === 'language') lines.push(`  ${c.change} language ${c.language}`);
    else if (c.area === 'image' || c.area === 'package') {
      const facts = [c.imageType, c.version, c.architecture].filter(Boolean).join(', ');
      lines.push(`  ${where}${c.change} ${c.area} ${c.fileName}${facts ? ` (${facts})` : ''}`);
    } else {
      const values =
        c.change === 'added'
          ? `= ${JSON.stringify(c.after)}`
          : c.change === 'removed'
            ? `(was ${JSON.stringify(c.before)})`
            : `${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`;
      lines.push(`  ${where}${c.area === 'text' ? '' : 'setting '}${c.field} ${c.change} ${values}`);
    }
  }
  if (preview.omitted) lines.push(`  ... and ${preview.omitted} more (all of them are in the run's report)`);
  return lines;
}
