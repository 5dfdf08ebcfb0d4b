/**
 * What the Store checks in a submission's data when it is committed, after the files: the
 * limits of the resource pages and the account state that the API cannot show. A failure ends
 * the commit in CommitFailed with the Store's own codes. Also the warnings the Store attaches.
 */
import { isRecord } from './http';
import type { Application, Issue, Json, Submission } from './state';

/** manage-app-submissions.md, base listing resource: "up to 20 strings", "up to 11 strings". */
const MAX_FEATURES = 20;
const MAX_HARDWARE = 11;
/** manage-app-submissions.md, trailers: "An array that contains up to 15 trailer resources". */
export const MAX_TRAILERS = 15;

/** The data problems that fail a commit, in the order the Store reports them. */
export function commitDataProblems(sub: Submission, app: Application | undefined): Issue[] {
  const problems: Issue[] = [];
  if (sub.kind !== 'application') return problems;
  if (app && !app.ageRatingsCompleted) {
    // Seen by msstore-cli (IStorePackagedAPIExtensions HandleLastSubmissionStatusAsync): the age
    // rating questionnaire of the app was never completed in Partner Center.
    problems.push({
      code: 'InvalidMicrosoftAgeRating',
      details:
        'The Microsoft age rating of this app is not complete. Complete the age ratings questionnaire in Partner Center.',
    });
  }
  if (app?.activeValidationErrors) {
    // StoreBroker#129/#249, msstore-cli: errors only Partner Center shows.
    problems.push({
      code: 'InvalidState',
      details:
        'Submission has active validation errors which cannot be exposed via API, please visit https://developer.microsoft.com to see the issue.',
    });
  }
  const listings = isRecord(sub.data.listings) ? sub.data.listings : {};
  for (const [lang, listing] of Object.entries(listings)) {
    if (!isRecord(listing)) continue;
    const parts: Array<[string, unknown]> = [[`listings.${lang}.baseListing`, listing.baseListing]];
    if (isRecord(listing.platformOverrides)) {
      for (const [platform, o] of Object.entries(listing.platformOverrides)) {
        parts.push([`listings.${lang}.platformOverrides.${platform}`, o]);
      }
    }
    for (const [where, part] of parts) {
      if (!isRecord(part)) continue;
      limit(problems, `${where}.features`, part.features, MAX_FEATURES);
      limit(problems, `${where}.recommendedHardware`, part.recommendedHardware, MAX_HARDWARE);
      limit(problems, `${where}.minimumHardware`, part.minimumHardware, MAX_HARDWARE);
    }
  }
  // "An array that contains one gaming options resource"; more than one fails the commit (StoreBroker#135).
  if (Array.isArray(sub.data.gamingOptions) && sub.data.gamingOptions.length > 1) {
    problems.push({
      code: 'MultipleInstancesOfGamingOptions',
      details: `Only one gaming options object is allowed per submission; the submission has ${sub.data.gamingOptions.length}.`,
    });
  }
  if (Array.isArray(sub.data.trailers)) limit(problems, 'trailers', sub.data.trailers, MAX_TRAILERS);
  return problems;
}

function limit(problems: Issue[], field: string, list: unknown, max: number): void {
  if (Array.isArray(list) && list.length > max) {
    problems.push({
      code: 'InvalidParameterValue',
      details: `Invalid value for '${field}': at most ${max} items are allowed, got ${list.length}.`,
    });
  }
}

/** File names of the trailers that are new in this submission (no id yet): their video and thumbnails must be in the zip. */
export function newTrailerFiles(sub: Submission): string[] {
  if (!Array.isArray(sub.data.trailers)) return [];
  const files: string[] = [];
  for (const t of sub.data.trailers as unknown[]) {
    if (!isRecord(t) || (typeof t.id === 'string' && t.id !== '')) continue;
    if (typeof t.videoFileName === 'string') files.push(t.videoFileName);
    if (isRecord(t.trailerAssets)) {
      for (const asset of Object.values(t.trailerAssets)) {
        if (!isRecord(asset) || !Array.isArray(asset.imageList)) continue;
        for (const img of asset.imageList as unknown[]) {
          if (isRecord(img) && typeof img.fileName === 'string') files.push(img.fileName);
        }
      }
    }
  }
  return files;
}

/**
 * Warnings the Store attaches to a committed submission: SalesUnsupportedWarning on
 * practically every app submission (msstore-cli#50, #29), ListingOptOutWarning when a listing
 * language of the published submission is gone (status codes of manage-app-submissions.md;
 * the add-on page shows "You have removed listing language(s): []").
 */
export function commitWarnings(sub: Submission, published: Json | undefined): Issue[] {
  const warnings: Issue[] = [];
  if (sub.kind === 'application') {
    warnings.push({
      code: 'SalesUnsupportedWarning',
      details:
        'The sales resource is no longer supported. To view or edit the sales data for this submission, use the Dev Center dashboard.',
    });
  }
  if (published && sub.kind !== 'flight') {
    const before = isRecord(published.listings) ? Object.keys(published.listings) : [];
    const now = isRecord(sub.data.listings) ? Object.keys(sub.data.listings) : [];
    const removed = before.filter((l) => !now.includes(l));
    if (removed.length > 0) {
      warnings.push({
        code: 'ListingOptOutWarning',
        details: `You have removed listing language(s): [${removed.join(', ')}]`,
      });
    }
  }
  return warnings;
}
